"""Sweeps: the design file, the table, determinism across workers, resume, and clear errors."""

import json
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest
from conftest import SCENARIOS, bamboo, run_cli

from sim.cli.main import main
from sim.model.params import load_parameters
from sim.runs.ensemble import FAULTS_ENV
from sim.runs.sweep import load_design

COLUMNS = 1 + 2 + 1 + 1 + 3 + 3 * 4  # point, 2 parameters, runs, survival, 3 failure modes, 3 powers x 4 stats


def write(folder: Path, text: str, name: str = "design.yaml") -> Path:
    path = folder / name
    path.write_text(text)
    return path


@pytest.fixture(scope="module")
def grid(tmp_path_factory):
    """3 x 2 points of a short perfect storm (12 steps), 150 runs each, where survival varies."""
    folder = tmp_path_factory.mktemp("design")
    write(
        folder,
        f"name: short storm\ndescription: d\nbase: {SCENARIOS / 'perfect_storm.yaml'}\nhorizon: 2028-07\n",
        "s.yaml",
    )
    return write(
        folder,
        "name: isolation line\nscenario: s.yaml\nmethod: grid\nruns: 150\nseed: 3\nparameters:\n"
        "  thresholds.isolation: {range: [0.0, 0.1], levels: 3}\n"
        "  powers.RU.reach: {values: [0.3, 0.6]}\n",
    )


@pytest.fixture(scope="module")
def one_worker(grid, tmp_path_factory):
    out = tmp_path_factory.mktemp("sweeps") / "one"
    done = run_cli("sweep", grid, "--chunk", 64, "--out", out)
    assert done.returncode == 0, done.stderr
    return out, done


@pytest.mark.slow
def test_sweep_writes_one_row_per_point_and_the_plot(one_worker):
    out, done = one_worker
    assert "6 design points" in done.stdout
    table = pq.read_table(out / "sweep.parquet")
    assert table.num_rows == 6 and table.num_columns == COLUMNS
    assert table.column_names[:3] == ["point", "thresholds.isolation", "powers.RU.reach"]
    rows = table.to_pylist()
    assert [(r["thresholds.isolation"], r["powers.RU.reach"]) for r in rows] == [
        (0.0, 0.3),
        (0.0, 0.6),
        (0.05, 0.3),
        (0.05, 0.6),
        (0.1, 0.3),
        (0.1, 0.6),
    ]
    for r in rows:
        assert r["runs"] == 150
        shares = r["survival_probability"] + r["bandwagoning"] + r["dropped_partner"] + r["isolation"]
        assert abs(shares - 1) < 1e-5
        assert 0 <= r["alignment_US_p05"] <= r["alignment_US_p50"] <= r["alignment_US_p95"] <= 1
    survival = [r["survival_probability"] for r in rows]
    assert survival[0] > survival[-1]  # a higher isolation line isolates more often
    csv = (out / "sweep.csv").read_text().splitlines()
    assert len(csv) == 7 and len(csv[0].split(",")) == COLUMNS
    assert (out / "survival.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and "<svg" in (
        out / "survival.svg"
    ).read_text()
    assert {"sweep.parquet", "sweep.csv", "survival.png"} <= set(
        json.loads((out / "manifest.json").read_text())["files"]
    )


@pytest.mark.slow
def test_sweep_is_the_same_on_two_workers_and_after_a_resume(grid, one_worker, tmp_path):
    out, _ = one_worker
    two = bamboo("sweep", grid, "--chunk", 100, "--workers", 2, "--out", tmp_path / "two", "--quiet")
    assert two.returncode == 0, two.stderr
    assert (tmp_path / "two" / "sweep.csv").read_bytes() == (out / "sweep.csv").read_bytes()
    assert pq.read_table(tmp_path / "two" / "sweep.parquet").equals(pq.read_table(out / "sweep.parquet"))

    faults = tmp_path / "faults"
    faults.mkdir()
    (faults / "exit-3-64").touch()  # the sweep dies in point 3, second chunk
    killed = bamboo("sweep", grid, "--chunk", 64, "--out", tmp_path / "again", env={FAULTS_ENV: str(faults)})
    assert killed.returncode == 75 and len(list((tmp_path / ".again.partial").glob("*.npz"))) == 10
    resumed = run_cli("sweep", grid, "--chunk", 64, "--out", tmp_path / "again", "--resume", "--quiet")
    assert resumed.returncode == 0, resumed.stderr
    assert (tmp_path / "again" / "sweep.csv").read_bytes() == (out / "sweep.csv").read_bytes()


def test_latin_hypercube_is_stratified_and_deterministic_from_the_seed(tmp_path):
    text = (
        f"name: lhs\nscenario: {SCENARIOS / 'status_quo.yaml'}\nmethod: latin_hypercube\npoints: 8\nseed: SEED\n"
        "parameters:\n  behaviour.temperature: {}\n  powers.RU.reach: {range: [0.2, 0.4]}\n"
    )
    design = load_design(write(tmp_path, text.replace("SEED", "7")))
    assert len(design.points) == 8 and design.method == "latin_hypercube"
    low, high = load_parameters()["behaviour.temperature"].range  # from the parameter file when not given
    for path, (lo, hi) in (("behaviour.temperature", (low, high)), ("powers.RU.reach", (0.2, 0.4))):
        x = np.array([p[path] for p in design.points])
        assert np.all((lo <= x) & (x <= hi))
        strata = np.floor((x - lo) / (hi - lo) * 8).astype(int)
        assert sorted(strata) == list(range(8))  # one point in each eighth of the range
    assert load_design(write(tmp_path, text.replace("SEED", "7"))).points == design.points
    assert load_design(write(tmp_path, text.replace("SEED", "8"))).points != design.points


def test_example_designs_are_valid():
    designs = sorted((SCENARIOS / "sweeps").glob("*.yaml"))
    assert {load_design(d).method for d in designs} == {"grid", "latin_hypercube"}
    assert all(len(load_design(d).points) > 1 for d in designs)


BASE = f"name: bad\nscenario: {SCENARIOS / 'status_quo.yaml'}\n"


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        (BASE + "runz: 5\nparameters:\n  powers.RU.reach: {}\n", 3, "unknown key (did you mean 'runs'?)"),
        (BASE + "parameters:\n  powers.RU.reech: {}\n", 4, "unknown parameter (did you mean 'powers.RU.reach'?)"),
        (BASE + "parameters:\n  powers.RU.reach: {range: [0.5, 1.5]}\n", 4, "expected a range inside [0, 1]"),
        (BASE + "parameters:\n  powers.RU.reach: {levels: 1}\n", 4, "levels: a whole number from 2"),
        (BASE + "parameters:\n  thresholds.alliance: {}\n", 4, "has no range in the parameter file"),
        (BASE + "parameters:\n  hedger.alignment.US: {values: [0.5, 0.95]}\n", 4, "design point 1"),
        (BASE + "method: latin\nparameters:\n  powers.RU.reach: {}\n", 3, "unknown method"),
        (BASE + "method: latin_hypercube\nparameters:\n  powers.RU.reach: {}\n", 1, "needs 'points'"),
        (
            BASE + "method: latin_hypercube\npoints: 4\nparameters:\n  powers.RU.reach: {levels: 3}\n",
            6,
            "belong to a grid",
        ),
        (BASE + "points: 4\nparameters:\n  powers.RU.reach: {}\n", 3, "remove 'points'"),
        (BASE + "runs: 0\nparameters:\n  powers.RU.reach: {}\n", 3, "whole number from 1"),
        (BASE + "parameters: []\n", 3, "expected a mapping of dotted parameter paths"),
        ("name: bad\nscenario: nowhere.yaml\nparameters:\n  powers.RU.reach: {}\n", 2, "not found"),
        ("name: bad\nparameters:\n  powers.RU.reach: {}\n", 1, "missing required key 'scenario'"),
        ("- just\n- a list\n", 1, "expected a mapping of design keys"),
    ],
)
def test_bad_designs_exit_2_naming_file_line_and_expectation(tmp_path, capsys, text, line, message):
    design = write(tmp_path, text)
    assert main(["sweep", str(design), "--out", str(tmp_path / "never"), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"bamboo: error: {design}:{line}:") and message in err and "Traceback" not in err
    assert not (tmp_path / "never").exists()
