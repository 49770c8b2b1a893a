"""Ensemble execution: the same bytes whatever the executor, a lost worker or an interruption."""

import json
from pathlib import Path

import numpy as np
import pytest
from conftest import SCENARIOS, bamboo, run_cli

from sim.runs.checkpoint import Checkpoint
from sim.runs.chunks import Chunk, chunks
from sim.runs.ensemble import FAULTS_ENV, execute, run_chunk
from sim.runs.scenario import load_scenario

STORM = SCENARIOS / "perfect_storm.yaml"  # events, and runs that fail
RUNS, SEED = 320, 5
RUN = ("run", STORM, "--runs", RUNS, "--seed", SEED)


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """Chunks of 64 runs, one after another in the test's own process tree."""
    out = tmp_path_factory.mktemp("ref") / "out"
    done = run_cli(*RUN, "--chunk", 64, "--out", out, "--quiet")
    assert done.returncode == 0, done.stderr
    return out


@pytest.fixture(scope="module")
def faults(tmp_path_factory):
    """The folder the workers' fault hook looks in; a file ``exit-<point>-<first_run>`` arms it once."""
    return tmp_path_factory.mktemp("faults")


@pytest.fixture(scope="module")
def cluster(faults):
    """A real Dask scheduler and two worker processes on this machine, shut down after the module."""
    distributed = pytest.importorskip("distributed")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(FAULTS_ENV, str(faults))  # inherited by the worker processes
        # the scheduler's HTTP server on a free port, not 8787: a second test session on the machine would
        # otherwise make it warn and move, and warnings are errors here
        with distributed.LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address=None,
            scheduler_kwargs={"dashboard_address": "127.0.0.1:0"},
        ) as local:
            yield local


def same_results(out: Path, reference: Path) -> None:
    """Every file the same bytes (the reference was made in chunks of 64, the others differently)."""
    assert sorted(p.name for p in out.iterdir()) == sorted(p.name for p in reference.iterdir())
    for path in reference.iterdir():
        assert (out / path.name).read_bytes() == path.read_bytes(), path.name


@pytest.mark.slow
def test_the_reference_has_failures_to_count(reference):
    summary = json.loads((reference / "summary.json").read_text())
    assert summary["runs"] == RUNS and 0 < sum(summary["failure_modes"].values()) <= 1


@pytest.mark.slow
def test_two_local_workers_give_the_same_bytes(tmp_path, reference):
    done = bamboo(*RUN, "--chunk", 100, "--workers", 2, "--out", tmp_path / "out", "--quiet")
    assert done.returncode == 0, done.stderr
    same_results(tmp_path / "out", reference)
    assert not (tmp_path / ".out.partial").exists()  # finished chunks are dropped once the result is in place


@pytest.mark.slow
def test_a_dask_cluster_gives_the_same_bytes(tmp_path, reference, cluster):
    done = bamboo(*RUN, "--chunk", 50, "--scheduler", cluster.scheduler_address, "--out", tmp_path / "out", "--quiet")
    assert done.returncode == 0, done.stderr
    same_results(tmp_path / "out", reference)


@pytest.mark.slow
def test_a_dead_pool_worker_costs_only_a_rerun(tmp_path, reference):
    faults = tmp_path / "faults"
    faults.mkdir()
    (faults / "exit-0-128").touch()  # the worker finishing runs 128-191 dies before reporting them
    env = {FAULTS_ENV: str(faults)}
    done = bamboo(*RUN, "--chunk", 64, "--workers", 2, "--out", tmp_path / "out", "--quiet", env=env)
    assert done.returncode == 0, done.stderr
    assert (faults / "fired-0-128").exists() and not (faults / "exit-0-128").exists()
    same_results(tmp_path / "out", reference)


@pytest.mark.slow
def test_a_dead_dask_worker_costs_only_a_rerun(tmp_path, reference, cluster, faults):
    (faults / "exit-0-150").touch()
    address = cluster.scheduler_address
    done = bamboo(*RUN, "--chunk", 50, "--scheduler", address, "--out", tmp_path / "out", "--quiet")
    assert done.returncode == 0, done.stderr
    assert (faults / "fired-0-150").exists()
    same_results(tmp_path / "out", reference)


@pytest.mark.slow
def test_an_interrupted_run_resumes_to_the_same_bytes(tmp_path, reference):
    out, partial, faults = tmp_path / "out", tmp_path / ".out.partial", tmp_path / "faults"
    faults.mkdir()
    (faults / "exit-0-128").touch()  # in-process: the whole run dies, as if killed, during its third chunk
    killed = bamboo(*RUN, "--chunk", 64, "--out", out, "--quiet", env={FAULTS_ENV: str(faults)})
    assert killed.returncode == 75 and not out.exists()
    assert sorted(p.name for p in partial.glob("*.npz")) == ["p00000-r000000000000.npz", "p00000-r000000000064.npz"]

    again = run_cli(*RUN, "--chunk", 64, "--out", out)
    assert again.returncode == 2 and "--resume" in again.stderr and "Traceback" not in again.stderr
    other = run_cli(*RUN[:-1], SEED + 1, "--chunk", 64, "--out", out, "--resume")
    assert other.returncode == 2 and "seed: 5 there, 6 now" in other.stderr and "Traceback" not in other.stderr

    resumed = run_cli(*RUN, "--chunk", 64, "--out", out, "--resume")
    assert resumed.returncode == 0, resumed.stderr
    assert "resuming: 2 of 5 chunk(s) already finished" in resumed.stderr
    same_results(out, reference)
    assert not partial.exists()


@pytest.mark.slow
def test_an_unreachable_scheduler_is_refused_cleanly(tmp_path):
    env = {"DASK_DISTRIBUTED__COMM__TIMEOUTS__CONNECT": "1s"}
    done = bamboo(*RUN, "--scheduler", "tcp://127.0.0.1:9", "--out", tmp_path / "out", env=env)
    assert done.returncode == 2 and "cannot reach the Dask scheduler" in done.stderr
    assert "Traceback" not in done.stderr and not (tmp_path / "out").exists()
    assert not (tmp_path / ".out.partial").exists()  # nothing finished, nothing kept


def test_workers_and_scheduler_exclude_each_other(tmp_path):
    done = run_cli(*RUN, "--workers", 2, "--scheduler", "tcp://127.0.0.1:9", "--out", tmp_path / "out")
    assert done.returncode == 2 and "not allowed with" in done.stderr


def test_checkpointed_aggregates_round_trip_exactly(tmp_path):
    scenario = load_scenario(STORM)
    agg, _ = run_chunk(scenario, Chunk(10, 30), SEED)
    store = Checkpoint.open(tmp_path / "cp", {"what": "test"}, resume=False, force=False)
    store.save(0, Chunk(10, 30), agg, None)
    back = Checkpoint.open(tmp_path / "cp", {"what": "test"}, resume=True, force=False).load(0, Chunk(10, 30))
    assert back.runs == agg.runs == 30 and back.steps == agg.steps
    for key in agg.hist:
        assert np.array_equal(back.hist[key], agg.hist[key]) and np.array_equal(back.sums[key], agg.sums[key])
    assert np.array_equal(back.tiers, agg.tiers) and np.array_equal(back.failures, agg.failures)
    assert back.dropped_by_power == agg.dropped_by_power


def test_chunks_merge_in_any_order_to_the_whole(tmp_path):
    scenario = load_scenario(STORM)
    (whole,) = execute([scenario], 90, SEED, 90).values()
    parts = [run_chunk(scenario, c, SEED)[0] for c in chunks(90, 25)]
    merged = parts[3]
    for part in (parts[1], parts[0], parts[2]):
        merged.merge(part)
    assert merged.runs == whole.runs == 90
    for key in whole.hist:
        assert np.array_equal(merged.hist[key], whole.hist[key]) and np.array_equal(merged.sums[key], whole.sums[key])
    assert np.array_equal(merged.failures, whole.failures)
    assert merged.dropped_by_power == whole.dropped_by_power


@pytest.mark.slow
def test_bench_reports_both_paths_as_json():
    done = bamboo("bench", "--mesa-runs", 2, "--ensemble-runs", 200, "--pool-runs", 400, "--steps", 4)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["steps"] == 4 and result["mesa_runs"] == 2 and result["ensemble_runs"] == 200
    assert result["mesa_runs_per_s"] > 0 and result["speedup"] > 1 and result["peak_memory_mib"] > 0
    assert result["mesa_interpreted_runs_per_s"] > 0 and result["speedup_over_mesa_interpreted"] > 1
    assert result["two_workers_runs"] == 400 and result["two_workers_runs_per_s"] > 0
    assert len(result["load_average"]) == 2


@pytest.mark.slow
def test_an_aggregate_shipped_between_processes_keeps_its_counts():
    """Pickled with narrow counts (a worker sends its chunk's Aggregate), read back as int64, the same numbers."""
    import pickle

    agg, _ = run_chunk(load_scenario(SCENARIOS / "status_quo.yaml"), Chunk(0, 300), SEED)
    agg.hist["alignment"][0, 0, 0] = 2**40  # a count beyond 32 bits keeps its width
    back = pickle.loads(pickle.dumps(agg))
    assert len(pickle.dumps(agg)) < sum(h.nbytes for h in agg.hist.values()) / 2
    for key in agg.hist:
        assert back.hist[key].dtype == np.int64 and np.array_equal(back.hist[key], agg.hist[key])
        assert np.array_equal(back.sums[key], agg.sums[key])
    assert np.array_equal(back.failures, agg.failures) and back.runs == agg.runs
