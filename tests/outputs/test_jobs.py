"""Jobs into a folder (sim.outputs.jobs): the library does what ``bamboo run`` does, through one path."""

import pytest
from conftest import SCENARIOS, run_cli

from sim.outputs import jobs
from sim.runs.scenario import load_scenario


def test_a_run_job_writes_what_the_command_writes(tmp_path):
    """The command line only parses and prints: the library's files are the command's, byte for byte."""
    scenario = load_scenario(SCENARIOS / "perfect_storm.yaml")
    done = jobs.run(
        scenario,
        str(tmp_path / "library"),
        tmp_path / "unused",
        40,
        3,
        trajectories=True,
        strategies=None,
        parameters=None,
        resources=jobs.Resources(chunk=15),
    )
    assert done.out == tmp_path / "library" and {f.name for f in done.files} >= {"summary.json", "trajectories.parquet"}
    cli = run_cli("run", SCENARIOS / "perfect_storm.yaml", "--runs", "40", "--seed", "3", "--chunk", "15",
                  "--strategies", "none", "--trajectories", "--out", tmp_path / "cli", "--quiet")  # fmt: skip
    assert cli.returncode == 0, cli.stderr
    for name in ("summary.json", "trajectories.parquet"):
        assert (tmp_path / "library" / name).read_bytes() == (tmp_path / "cli" / name).read_bytes(), name
    assert not list(tmp_path.glob(".*.partial")), "the checkpoint is discarded once the output is in place"


def test_a_job_error_inside_the_folder_discards_the_checkpoint_and_writes_nothing(tmp_path):
    """Outcomes that cannot be written leave neither the output nor chunks to resume."""
    from sim.runs import output
    from sim.runs.chunks import chunks

    target = jobs.folder(str(tmp_path / "out"), tmp_path / "unused", force=False)
    try:
        with (
            pytest.raises(jobs.JobError),
            jobs.into_folder(target, {"command": "t"}, 1, chunks(10, 5), jobs.Resources()),
        ):
            raise jobs.JobError("nothing to tell apart")
    finally:
        output.release()
    assert not (tmp_path / "out").exists() and not list(tmp_path.glob(".*"))


def test_an_interrupt_says_what_was_kept():
    """A Ctrl+C (or one carried by a SystemError out of compiled code) is recognised as such."""
    try:
        try:
            raise KeyboardInterrupt
        except KeyboardInterrupt as inner:
            raise SystemError("returned a result with an exception set") from inner
    except SystemError as exc:
        assert jobs.is_interrupt(exc)
    assert not jobs.is_interrupt(SystemError("a real fault")) and not jobs.is_interrupt(None)
