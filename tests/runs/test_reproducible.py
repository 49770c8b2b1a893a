"""The same seed gives the same bytes, in every file written, whatever the chunking or the workers."""

from pathlib import Path

import pytest
from conftest import SCENARIOS, bamboo, run_cli

pytestmark = pytest.mark.slow  # whole 300-run ensembles, written again and compared byte for byte

STORM = SCENARIOS / "perfect_storm.yaml"


def written(*args, process=False):
    """The folder a successful command wrote: in this process, or (``process``) in one of its own."""
    done = (bamboo if process else run_cli)(*args, "--quiet")
    assert done.returncode == 0, done.stderr
    return Path(args[args.index("--out") + 1])


def contents(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    out = tmp_path_factory.mktemp("ref") / "out"
    return written("run", STORM, "--runs", 300, "--seed", 4, "--out", out)


def test_every_file_of_a_run_is_the_same_bytes_again(reference, tmp_path):
    """Again, in a process of its own: nothing of the bytes depends on the process that wrote them."""
    again = written("run", STORM, "--runs", 300, "--seed", 4, "--out", tmp_path / "again", process=True)
    ref = contents(reference)
    assert {"trajectories.parquet", "alignment.svg", "manifest.json"} <= set(ref)
    assert contents(again) == ref


@pytest.mark.parametrize("execution", [["--chunk", "7"], ["--chunk", "64", "--workers", "2"]], ids=["chunk", "workers"])
def test_chunking_and_workers_change_no_byte(reference, tmp_path, execution):
    other = written("run", STORM, "--runs", 300, "--seed", 4, *execution, "--out", tmp_path / "other")
    assert contents(other) == contents(reference)


def test_a_comparison_and_a_sweep_are_the_same_bytes_again(tmp_path):
    design = tmp_path / "d.yaml"
    design.write_text(f"name: d\nscenario: {STORM}\nruns: 40\nparameters:\n  powers.RU.reach: {{levels: 2}}\n")
    for kind, args in (
        ("compare", ("compare", SCENARIOS / "status_quo.yaml", SCENARIOS / "caatsa_enforced.yaml", "--runs", 60)),
        ("sweep", ("sweep", design)),
    ):
        first = written(*args, "--out", tmp_path / f"{kind}1")
        second = written(*args, "--chunk", 16, "--out", tmp_path / f"{kind}2")
        assert contents(first) == contents(second), kind
