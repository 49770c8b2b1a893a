"""The same seed gives the same bytes, in every file written, whatever the chunking or the workers."""

import subprocess
import sys
from pathlib import Path

import pytest

SCENARIOS = Path(__file__).resolve().parent.parent / "scenarios"
STORM = SCENARIOS / "perfect_storm.yaml"


def bamboo(*args):
    done = subprocess.run([sys.executable, "-m", "sim", *map(str, args), "--quiet"], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return args[args.index("--out") + 1]


def contents(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    out = tmp_path_factory.mktemp("ref") / "out"
    return bamboo("run", STORM, "--runs", 300, "--seed", 4, "--out", out)


def test_every_file_of_a_run_is_the_same_bytes_again(reference, tmp_path):
    again = bamboo("run", STORM, "--runs", 300, "--seed", 4, "--out", tmp_path / "again")
    ref = contents(reference)
    assert {"trajectories.parquet", "alignment.svg", "manifest.json"} <= set(ref)
    assert contents(again) == ref


@pytest.mark.parametrize("execution", [["--chunk", "7"], ["--chunk", "64", "--workers", "2"]], ids=["chunk", "workers"])
def test_chunking_and_workers_change_no_byte(reference, tmp_path, execution):
    other = bamboo("run", STORM, "--runs", 300, "--seed", 4, *execution, "--out", tmp_path / "other")
    assert contents(other) == contents(reference)


def test_a_comparison_and_a_sweep_are_the_same_bytes_again(tmp_path):
    design = tmp_path / "d.yaml"
    design.write_text(f"name: d\nscenario: {STORM}\nruns: 40\nparameters:\n  powers.RU.reach: {{levels: 2}}\n")
    for kind, args in (
        ("compare", ("compare", SCENARIOS / "status_quo.yaml", SCENARIOS / "caatsa_enforced.yaml", "--runs", 60)),
        ("sweep", ("sweep", design)),
    ):
        first = bamboo(*args, "--out", tmp_path / f"{kind}1")
        second = bamboo(*args, "--chunk", 16, "--out", tmp_path / f"{kind}2")
        assert contents(first) == contents(second), kind
