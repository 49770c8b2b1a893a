"""Bounded work for any input: every input that sizes work has a limit, checked before any work.

Alias bombs, endless horizons, huge flags, overflowing sweeps, pipes and
devices as scenario files, deep inheritance: each is refused quickly, with a
message that states the limit (and, where memory is at stake, the estimate),
exit status 2, and nothing written.
"""

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import SCENARIOS, bamboo, run_cli

from sim.cli.main import main
from sim.model import limits
from sim.model.params import bounds, load_parameters
from sim.runs.scenario import ScenarioError, load_scenario
from sim.runs.sweep import load_design

HEAD = "name: Test\ndescription: A test scenario.\n"
BOMB = (
    "["
    + ", ".join(
        ["&l0 [" + ", ".join(['"lol"'] * 9) + "]"]
        + [f"&l{i} [" + ", ".join([f"*l{i - 1}"] * 9) + "]" for i in range(1, 9)]
    )
    + "]"
)


def write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def refused(path, *expected, seconds: float = 5.0) -> ScenarioError:
    """load_scenario refuses ``path`` within ``seconds`` of CPU (not wall time, which other work on the machine
    stretches), with a short message holding every ``expected``."""
    started = time.process_time()
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    assert time.process_time() - started < seconds
    message = str(info.value)
    assert len(message) < 600, message[:200]
    for text in expected:
        assert text in message
    return info.value


# -- alias bombs ---------------------------------------------------------------------------
EVENT = "events:\n  - type: {kind}\n    at: 2026-01\n"
BOMB_POSITIONS = {
    "name": "name: {b}\ndescription: d\n",
    "description": "name: n\ndescription: {b}\n",
    "sources": HEAD + "sources: {b}\n",
    "start": HEAD + "start: {b}\n",
    "horizon": HEAD + "horizon: {b}\n",
    "runs": HEAD + "runs: {b}\n",
    "seed": HEAD + "seed: {b}\n",
    "uncertainty": HEAD + "uncertainty: {b}\n",
    "base": HEAD + "base: {b}\n",
    "parameters": HEAD + "parameters: {b}\n",
    "parameter-value": HEAD + "parameters:\n  powers.RU.reach: {b}\n",
    "events": HEAD + "events: {b}\n",
    "event-type": HEAD + "events:\n  - type: {b}\n    at: 2026-01\n",
    "event-at": HEAD + "events:\n  - type: summit\n    at: {b}\n",
    "event-actor": HEAD + EVENT.format(kind="summit") + "    actor: {b}\n",
    "event-magnitude": HEAD + EVENT.format(kind="summit") + "    magnitude: {b}\n",
    "shock-path": HEAD + EVENT.format(kind="shock") + "    path: {b}\n    value: 0.1\n",
    "shock-value": HEAD + EVENT.format(kind="shock") + "    path: powers.RU.reach\n    value: {b}\n",
    "merge": HEAD + "events:\n  - <<: {b}\n",
}


@pytest.mark.parametrize("position", BOMB_POSITIONS)
def test_an_alias_bomb_is_refused_at_once_wherever_it_is(tmp_path, position):
    path = write(tmp_path / "bomb.yaml", BOMB_POSITIONS[position].replace("{b}", BOMB))
    refused(path, "100,000 values", "aliases")


def test_an_alias_bomb_in_a_sweep_design_is_refused_at_once(tmp_path):
    write(tmp_path / "s.yaml", HEAD)
    design = write(
        tmp_path / "d.yaml", f"name: d\nscenario: s.yaml\nparameters:\n  powers.RU.reach: {{values: {BOMB}}}\n"
    )
    started = time.process_time()
    with pytest.raises(ScenarioError, match="aliases"):
        load_design(design)
    assert time.process_time() - started < 5


def test_ordinary_aliases_still_work(tmp_path):
    text = HEAD + "events:\n  - &crisis {type: maritime_incident, at: 2026-01, magnitude: 0.5}\n  - *crisis\n"
    assert len(load_scenario(write(tmp_path / "ok.yaml", text)).events) == 2


def test_nesting_is_bounded(tmp_path):
    refused(write(tmp_path / "deep.yaml", HEAD + "sources: " + "[" * 5000 + "]" * 5000 + "\n"), "nested")


def test_a_file_under_the_size_limit_is_read_or_refused_at_a_bounded_cost(tmp_path):
    """The worst files under the size limit are refused by the value limit, not by running out of time.

    The bound of 5 s of CPU catches a blow-up (an unguarded alias bomb takes minutes); how fast they are
    read is measured, not asserted (about 0.5 s each here, 1.5 s with the machine loaded: docs/safety.md).
    """
    load_scenario(write(tmp_path / "warm.yaml", HEAD))  # what is imported on first use is not the file's cost
    nested = HEAD + "sources:\n" + "".join("  - " + "[" * 98 + "]" * 98 + "\n" for _ in range(5000))
    assert len(nested.encode()) < limits.MAX_FILE_BYTES
    refused(write(tmp_path / "nested.yaml", nested), "more than 100,000 values; expected")  # no alias to expand
    flat = HEAD + "sources:\n" + "".join(f"  - {{k{i}: {'x' * 50}, v: [1, 2]}}\n" for i in range(11_000))
    assert len(flat.encode()) < limits.MAX_FILE_BYTES
    refused(write(tmp_path / "flat.yaml", flat), "sources")  # 77,000 values, read whole
    broken = flat + "events: [\n"  # libyaml finds the fault; its line, without reading the file again
    refused(write(tmp_path / "broken.yaml", broken), "invalid YAML")


def test_a_long_text_is_refused_before_it_is_built(tmp_path):
    refused(write(tmp_path / "s.yaml", HEAD + f"sources: [{'x' * 20_000}]\n"), "20,000 characters", "10,000")


# -- the horizon, runs, chunks, workers ----------------------------------------------------------
def test_the_horizon_has_a_limit_that_states_the_memory(tmp_path):
    err = refused(write(tmp_path / "h.yaml", HEAD + "horizon: 9999-12\n"), "at most 200 steps", "GB")
    assert err.line == 3 and err.where == "horizon"
    at_limit = HEAD + "start: 2025-07\nhorizon: 2075-07\n"  # 200 quarterly steps
    assert load_scenario(write(tmp_path / "ok.yaml", at_limit)).steps == limits.MAX_STEPS
    refused(write(tmp_path / "over.yaml", at_limit.replace("2075-07", "2075-10")), "at most 200 steps")


def test_validate_refuses_the_horizon_before_any_work(tmp_path):
    path = write(tmp_path / "h.yaml", HEAD + "horizon: 9999-12\n")
    for command in (["validate", path], ["run", path, "--out", tmp_path / "out"]):
        done = run_cli(*command)
        assert done.returncode == 2 and "at most 200 steps" in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    ("flag", "value", "message"),
    [
        ("--runs", "1000000000000", "at most 100,000,000"),
        ("--runs", "1" + "0" * 5000, "at most 100,000,000"),
        (
            "--chunk",
            "100000000",
            "100,000 runs at once; a chunk of 100,000,000 runs of 40 steps, keeping",
        ),
        ("--workers", "64", "(the processors of this machine); 64 workers would need about"),
        ("--seed", str(2**64), "at most 9,223,372,036,854,775,807"),
    ],
)
def test_flags_respect_the_limits_of_the_file(tmp_path, flag, value, message):
    if flag == "--workers" and limits.processors() >= 64:
        pytest.skip("a machine with 64 processors may use them")
    started = time.process_time()
    done = run_cli("run", SCENARIOS / "status_quo.yaml", flag, value, "--out", tmp_path / "out")
    assert time.process_time() - started < 30
    assert done.returncode == 2 and message in done.stderr and "Traceback" not in done.stderr
    assert len(done.stderr) < 2000 and not (tmp_path / "out").exists()


def test_a_job_of_too_many_chunks_is_refused_before_they_are_counted_out(tmp_path):
    started = time.process_time()
    done = run_cli("run", SCENARIOS / "status_quo.yaml", "--runs", 100_000_000, "--chunk", 1, "--out", tmp_path / "o")
    assert time.process_time() - started < 30
    assert done.returncode == 2 and "100,000,000 chunks of 1 runs; expected at most 10,000" in done.stderr
    assert list(tmp_path.iterdir()) == []


STORM = SCENARIOS / "perfect_storm.yaml"


def quickly_refused(tmp_path, *args) -> str:
    """The command refused, exit 2, in under a second of CPU once its imports are loaded; its message."""
    missing = ["missing.yaml"] if args[0] == "sensitivity" else ["--scenario", "missing.yaml"]
    assert run_cli(args[0], *missing).returncode == 2  # the command's imports, loaded by a refusal
    started = time.process_time()
    done = run_cli(*args, "--out", tmp_path / "out")
    assert time.process_time() - started < 1.0
    assert done.returncode == 2 and "Traceback" not in done.stderr and done.stderr.count("\n") == 1, done.stderr
    assert list(tmp_path.iterdir()) == []
    return done.stderr


def test_a_sensitivity_design_is_sized_before_a_point_is_drawn(tmp_path):
    """Each flag within its own limit, their product is not: refused before SALib draws a point."""
    flags = ["--samples", 8192, "--trajectories", 1000, "--replicates", 100_000]
    err = quickly_refused(tmp_path, "sensitivity", STORM, *flags)
    assert "x 100,000 replicates x" in err and "runs in all; expected at most 100,000,000" in err


def test_a_sensitivity_design_beyond_the_memory_here_is_refused_before_it_is_drawn(tmp_path, monkeypatch):
    monkeypatch.setattr(limits, "available", lambda: 10**9)
    flags = ["--methods", "sobol", "--samples", 65536, "--replicates", 1]
    err = quickly_refused(tmp_path, "sensitivity", STORM, *flags)
    assert "design points of" in err and "of memory before a run starts; about 1.0 GB is available" in err


def test_history_runs_are_sized_against_the_memory_before_work(tmp_path, monkeypatch):
    monkeypatch.setattr(limits, "available", lambda: 8 * 10**9)
    for runs in (1_000_000, limits.MAX_RUNS):
        err = quickly_refused(tmp_path, "history", "--runs", runs)
        assert f"--runs {runs:,}: every run's record over 160 steps is kept at once" in err
        assert "about 8.0 GB is available, enough for 1" in err


def test_forecast_runs_are_sized_against_the_memory_before_work(tmp_path, monkeypatch):
    monkeypatch.setattr(limits, "available", lambda: 8 * 10**9)
    err = quickly_refused(tmp_path, "forecast", "--origin", "2016-04", "--to", "2019-12", "--runs", limits.MAX_RUNS)
    assert f"--runs {limits.MAX_RUNS:,}: every run's record over 15 steps is kept at once" in err


def test_calibrate_workers_are_at_most_the_processors(tmp_path):
    fast = ["--population", 10, "--generations", 1, "--reps", 1, "--minutes", 0.05]
    err = quickly_refused(tmp_path, "calibrate", "--workers", limits.processors() + 1, *fast)
    assert f"expected at most {limits.processors()} (the processors of this machine)" in err


def test_the_file_and_the_flag_share_the_runs_limit(tmp_path):
    refused(write(tmp_path / "r.yaml", HEAD + f"runs: {limits.MAX_RUNS + 1}\n"), "from 1 to 100000000")


def test_a_job_beyond_this_machine_s_memory_is_refused_before_work(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(limits, "available", lambda: 800 * 2**20)
    monkeypatch.chdir(tmp_path)
    scenario = SCENARIOS / "status_quo.yaml"
    assert main(["run", str(scenario), "--runs", "20000", "--trajectories", "--out", "out"]) == 2
    err = capsys.readouterr().err
    assert "needs about" in err and "is available" in err and "--chunk" in err and "would fit" in err
    assert list(tmp_path.iterdir()) == []
    suggested = int(err.split("--chunk ")[1].split(" ")[0].replace(",", ""))
    assert limits.estimate(40, suggested, per_step=limits.TRAJECTORIES) <= 800 * 2**20  # the advice fits


@pytest.mark.slow
def test_the_memory_estimate_covers_what_a_run_takes(tmp_path):
    """Peak memory of a real run (Linux) stays under the estimate that guards it."""
    status = Path("/proc/self/status")
    if not status.exists():
        pytest.skip("the peak is read from /proc (Linux)")
    # the peak of the run's own address space (VmHWM): ru_maxrss would carry over pytest's own peak, which a
    # child keeps across exec on Linux; and the compiled rules are cached first, as after a first run
    code = (
        "import sys; from sim.cli.main import main; "
        "code = main(sys.argv[1:]); "
        "print(next(int(line.split()[1]) for line in open('/proc/self/status') if line.startswith('VmHWM')))"
    )
    args = [SCENARIOS / "perfect_storm.yaml", "--runs", "4000", "--chunk", "4000", "--trajectories", "--quiet"]
    warm = run_cli("run", SCENARIOS / "status_quo.yaml", "--runs", "10", "--quiet", "--out", tmp_path / "warm")
    assert warm.returncode == 0, warm.stderr
    done = subprocess.run(
        [sys.executable, "-c", code, "run", *map(str, args), "--out", str(tmp_path / "out")],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    peak = int(done.stdout.split()[-1]) * 1024
    assert peak <= limits.estimate(40, 4000, per_step=limits.TRAJECTORIES)


def test_trajectories_have_a_limit(tmp_path):
    done = run_cli(
        "run", SCENARIOS / "status_quo.yaml", "--runs", limits.MAX_TRAJECTORY_RUNS + 1, "--trajectories",
        "--out", tmp_path / "out",
    )  # fmt: skip
    assert done.returncode == 2 and "at most 1,000,000 runs write trajectories" in done.stderr


def test_bench_flags_are_bounded():
    done = run_cli("bench", "--steps", "100000")
    assert done.returncode == 2 and "at most 200" in done.stderr and "Traceback" not in done.stderr


# -- sweeps --------------------------------------------------------------------------------------
def test_a_grid_s_point_count_cannot_overflow(tmp_path):
    """32 axes x 4 levels: 2^64 points, which a 64-bit product wraps to 0."""
    paths = [p for p in load_parameters().entries if bounds(p) == (0.0, 1.0)][:32]
    axes = "".join(f"  {p}: {{range: [0.1, 0.2], levels: 4}}\n" for p in paths)
    write(tmp_path / "s.yaml", HEAD)
    design = write(tmp_path / "d.yaml", "name: d\nscenario: s.yaml\nparameters:\n" + axes)
    started = time.process_time()
    with pytest.raises(ScenarioError, match=r"about 10\^19 points; expected at most 10,000"):
        load_design(design)
    assert time.process_time() - started < 5


def test_a_sweep_runs_at_most_as_many_runs_as_a_run(tmp_path):
    write(tmp_path / "s.yaml", HEAD)
    design = write(
        tmp_path / "d.yaml",
        "name: d\nscenario: s.yaml\nmethod: latin_hypercube\npoints: 10000\nruns: 100000\n"
        "parameters:\n  powers.RU.reach: {}\n",
    )
    with pytest.raises(ScenarioError, match=r"expected at most 100,000,000 in all") as info:
        load_design(design)
    assert info.value.line == 5


# -- events, inheritance, files --------------------------------------------------------------------
def test_events_have_a_limit(tmp_path):
    events = "".join("  - {type: summit, at: 2026-01}\n" for _ in range(limits.MAX_EVENTS + 1))
    refused(write(tmp_path / "e.yaml", HEAD + "events:\n" + events), "expected at most 1,000")
    ok = HEAD + "events:\n" + events.split("\n", 1)[1]
    assert len(load_scenario(write(tmp_path / "ok.yaml", ok)).events) == limits.MAX_EVENTS


def test_a_deep_base_chain_is_refused_naming_where_it_got_too_deep(tmp_path):
    for i in range(1000):
        write(tmp_path / f"s{i}.yaml", HEAD + (f"base: s{i + 1}.yaml\n" if i < 999 else ""))
    err = refused(tmp_path / "s0.yaml", "deeper than 16 files")
    assert err.path == str(tmp_path / "s15.yaml") and err.where == "base"
    assert "recursion" not in str(err)
    assert load_scenario(tmp_path / "s984.yaml").name == "Test"  # 16 files: fine


def test_a_large_file_is_refused_unread(tmp_path):
    path = write(tmp_path / "big.yaml", HEAD + "#" * limits.MAX_FILE_BYTES)
    refused(path, "larger than 1,024 KiB")


@pytest.mark.slow
@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes")
def test_a_pipe_as_scenario_file_is_refused_at_once(tmp_path):
    fifo = tmp_path / "pipe.yaml"
    os.mkfifo(fifo)
    done = bamboo("validate", fifo, timeout=60)
    assert done.returncode == 2 and "found a named pipe" in done.stderr
    write(tmp_path / "child.yaml", HEAD + "base: pipe.yaml\n")
    refused(tmp_path / "child.yaml", "named pipe")


@pytest.mark.slow
def test_a_device_as_scenario_file_is_refused(tmp_path):
    if not Path("/dev/zero").exists():
        pytest.skip("no /dev/zero")
    done = bamboo("validate", "/dev/zero", timeout=60)
    assert done.returncode == 2 and "found a device" in done.stderr


def test_the_limits_table_names_every_limit():
    table = limits.table()
    for value in (limits.MAX_STEPS, limits.MAX_BASE_DEPTH, limits.MAX_UPLOADS, limits.MAX_OUT_NAME):
        assert f"| {value}" in table
    for value in (limits.MAX_RUNS, limits.MAX_CHUNK, limits.MAX_POINTS, limits.MAX_TRAJECTORY_RUNS, limits.MAX_CHUNKS):
        assert f"| {value:,}" in table
    assert f"| {limits.MAX_EVENTS:,} |" in table and f"| {limits.MAX_LEVELS:,} |" in table


@pytest.mark.parametrize(
    ("parameter", "value", "expected"),
    [
        ("thresholds.persistence", "1e19", "expected values in [1, 200], got 1e+19"),
        ("behaviour.tier_patience", "[2, 1e300]", "expected values in [1, 200]"),
        ("hedger.weight.regime", "1e308", "expected values in [0, 1e+06], got 1e+308"),
        ("behaviour.temperature", "[0.01, 1e20]", "expected values in [0, 1e+06]"),
    ],
)
def test_absurd_values_are_refused_by_validate(tmp_path, parameter, value, expected):
    path = write(tmp_path / "s.yaml", HEAD + f"parameters:\n  {parameter}: {value}\n")
    refused(path, f"parameters.{parameter}", expected)
    done = run_cli("validate", path)
    assert done.returncode == 2 and expected in done.stderr
