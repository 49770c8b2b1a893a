"""The command line end to end, as a user runs it.

Most cases call ``main(argv)`` in this process (``run_cli``); one run and one refusal go through a process of
their own (``bamboo``), for what only a process shows: its output streams and exit status as a shell sees them.
"""

import json
import os
import shutil
import subprocess
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from conftest import REPO, SCENARIOS, bamboo, run_cli

from sim import EVENT_TYPES, __version__

FIGURES = ("alignment", "engagement_triangle", "hedging_index", "satisfaction", "survival", "strategies")


def scenario(tmp_path, text, name="s.yaml"):
    path = tmp_path / name
    path.write_text(text)
    return path


@pytest.fixture(scope="module")
def crisis_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("runs") / "scs"
    done = bamboo("run", SCENARIOS / "south_china_sea_crisis.yaml", "--runs", 300, "--seed", 3, "--out", out)
    assert done.returncode == 0, done.stderr
    return out, done


@pytest.mark.slow
def test_run_writes_summary_trajectories_plots_and_manifest(crisis_run):
    out, done = crisis_run
    assert "survives in" in done.stdout
    summary = json.loads((out / "summary.json").read_text())
    for key in (
        "scenario",
        "runs",
        "seed",
        "survival_probability",
        "failure_modes",
        "final_alignment",
        "hedging_index",
        "security_satisfaction",
    ):
        assert key in summary
    assert summary["scenario"] == "South China Sea crisis" and summary["runs"] == 300 and summary["seed"] == 3
    assert set(summary["failure_modes"]) == {"bandwagoning", "dropped_partner", "isolation"}
    assert abs(sum(summary["failure_modes"].values()) + summary["survival_probability"] - 1) < 1e-6
    for power in ("US", "CN", "RU"):
        s = summary["final_alignment"][power]
        assert 0 <= s["p05"] <= s["p50"] <= s["p95"] <= 1
        assert s["p05"] - 0.001 <= s["mean"] <= s["p95"] + 0.001
    table = pq.read_table(out / "trajectories.parquet")
    assert table.num_rows == 300 * 41 * 3
    for column in ("run", "date", "power", "alignment", "tier", "hedging_index", "satisfaction_territory"):
        assert column in table.column_names
    assert set(table.column("power").to_pylist()) == {"US", "CN", "RU"}
    assert table.column("date").to_pylist()[0] == "2025-07"
    for name in FIGURES:
        assert (out / f"{name}.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert "<svg" in (out / f"{name}.svg").read_text()
    strategies = summary["strategies"]
    assert summary["strategy"] == "hedge" and strategies["runs"] == 300
    assert list(strategies["by_strategy"]) == [
        "hedge",
        "frozen",
        "random",
        "redline",
        "tit-for-tat",
        "align:US",
        "align:CN",
        "align:RU",
    ]
    assert strategies["by_strategy"]["hedge"]["survival_probability"] == summary["survival_probability"]
    assert {"against_best", "against_worst"} == set(strategies["value_of_hedging"])
    assert "survival by strategy" in done.stdout and "value of hedging" in done.stdout
    manifest = json.loads((out / "manifest.json").read_text())
    assert len(manifest["scenario"]["content_sha256"]) == 64
    assert manifest["seed"] == 3 and manifest["package_version"]
    assert "powers.RU.reach" in manifest["resolved_parameters"]
    assert set(manifest["files"]) >= {"summary.json", "trajectories.parquet", "alignment.png"}


@pytest.mark.slow
def test_same_seed_same_summary_bytes_whatever_the_chunking(tmp_path, crisis_run):
    out, _ = crisis_run
    again = tmp_path / "again"
    done = run_cli(
        "run",
        SCENARIOS / "south_china_sea_crisis.yaml",
        "--runs",
        300,
        "--seed",
        3,
        "--chunk",
        64,
        "--out",
        again,
        "--quiet",
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == "" and done.stderr == ""
    assert (again / "summary.json").read_bytes() == (out / "summary.json").read_bytes()


@pytest.mark.slow
def test_existing_output_is_never_overwritten_without_force(tmp_path):
    out = tmp_path / "sq"
    first = run_cli("run", SCENARIOS / "status_quo.yaml", "--runs", 5, "--out", out, "--quiet")
    assert first.returncode == 0, first.stderr
    written = (out / "summary.json").read_bytes()
    done = run_cli("run", SCENARIOS / "status_quo.yaml", "--runs", 6, "--out", out)
    assert done.returncode == 2
    assert "exists" in done.stderr and "--force" in done.stderr and "Traceback" not in done.stderr
    assert (out / "summary.json").read_bytes() == written
    forced = run_cli("run", SCENARIOS / "status_quo.yaml", "--runs", 6, "--out", out, "--force", "--quiet")
    assert forced.returncode == 0, forced.stderr
    assert json.loads((out / "summary.json").read_text())["runs"] == 6  # a folder Bamboo wrote is replaced


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--runs", "0"], "at least 1"),
        (["--runs", "many"], "whole number"),
        (["--seed", "-4"], "at least 0"),
        (["--chunk", "1.5"], "whole number"),
    ],
)
def test_bad_options_are_refused_cleanly(tmp_path, args, message):
    out = tmp_path / "never"
    done = run_cli("run", SCENARIOS / "status_quo.yaml", *args, "--out", out)
    assert done.returncode == 2
    assert message in done.stderr and "Traceback" not in done.stderr
    assert not out.exists()


@pytest.mark.slow
def test_a_run_under_another_strategy_still_compares_with_the_models_own(tmp_path):
    out = tmp_path / "frozen"
    done = run_cli(
        "run",
        SCENARIOS / "caatsa_enforced.yaml",
        "--runs",
        40,
        "--strategy",
        "frozen",
        "--strategies",
        "random",
        "--out",
        out,
        "--quiet",
    )
    assert done.returncode == 0, done.stderr
    summary = json.loads((out / "summary.json").read_text())
    assert summary["strategy"] == "frozen"
    assert list(summary["strategies"]["by_strategy"]) == ["hedge", "frozen", "random"]
    assert summary["strategies"]["by_strategy"]["frozen"]["survival_probability"] == summary["survival_probability"]


def test_no_comparison_when_asked_for_none(tmp_path):
    out = tmp_path / "plain"
    assert (
        run_cli(
            "run", SCENARIOS / "status_quo.yaml", "--runs", 10, "--strategies", "none", "--out", out, "--quiet"
        ).returncode
        == 0
    )
    assert "strategies" not in json.loads((out / "summary.json").read_text())
    assert not (out / "strategies.png").exists()


@pytest.mark.parametrize("flag", ["--strategy", "--strategies"])
def test_an_unknown_strategy_is_refused_with_the_choices(tmp_path, flag):
    done = run_cli("run", SCENARIOS / "status_quo.yaml", flag, "bandwagon", "--out", tmp_path / "never")
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "unknown strategy 'bandwagon'" in done.stderr and "align:CN" in done.stderr
    assert not (tmp_path / "never").exists()


def test_a_scenario_names_its_strategy(tmp_path):
    path = scenario(
        tmp_path,
        "name: Aligned\ndescription: d\nbase: {}\nstrategy: align:US\nruns: 5\n".format(SCENARIOS / "status_quo.yaml"),
    )
    bad = scenario(tmp_path, "name: B\ndescription: d\nstrategy: bandwagon\n", "bad.yaml")
    assert run_cli("validate", path).returncode == 0
    done = run_cli("validate", bad)
    assert done.returncode == 2 and "bad.yaml:3: strategy: unknown strategy" in done.stderr


@pytest.mark.slow
def test_facts_prints_each_fact_with_its_counts():
    done = run_cli("facts", "--draws", 4, "--reps", 3)
    assert done.returncode == 0, done.stderr
    rows = [line for line in done.stdout.splitlines() if line.startswith("| ") and line[2].isdigit()]
    assert len(rows) == 10 and all(" of 4 " in row for row in rows)


@pytest.mark.slow  # a process of its own: seconds
def test_bad_scenario_names_file_line_and_expectation_and_writes_nothing(tmp_path):
    bad = scenario(tmp_path, "name: x\ndescription: y\nevents:\n  - type: tarif\n    at: 2026-01\n")
    out = tmp_path / "never"
    done = bamboo("run", bad, "--out", out)
    assert done.returncode == 2
    assert f"{bad}:4:" in done.stderr and "tariff" in done.stderr and "Traceback" not in done.stderr
    assert not out.exists() and list(tmp_path.iterdir()) == [bad]


def test_event_after_horizon_warns(tmp_path):
    late = scenario(
        tmp_path, "name: late\ndescription: d\nhorizon: 2027-07\nevents:\n  - {type: summit, at: 2030-01, actor: US}\n"
    )
    done = run_cli("run", late, "--runs", 10, "--out", tmp_path / "o")
    assert done.returncode == 0
    assert "warning" in done.stderr and "after" in done.stderr and "horizon" in done.stderr


def test_compare_uses_common_random_numbers(tmp_path):
    out = tmp_path / "cmp"
    done = run_cli(
        "compare", SCENARIOS / "status_quo.yaml", SCENARIOS / "caatsa_enforced.yaml", "--runs", 200, "--out", out
    )
    assert done.returncode == 0, done.stderr
    result = json.loads((out / "compare.json").read_text())
    assert result["common_random_numbers"] and result["runs"] == 200
    ru = result["final_alignment_difference"]["RU"]
    assert ru["mean"] < -0.03 and ru["p95"] <= 0.02  # CAATSA lowers the Russia tie in nearly every paired run
    paired = result["paired_survival"]
    assert sum(paired.values()) == 200
    assert (out / "difference.png").exists() and (out / "difference.svg").exists()
    # a scenario compared with itself differs by exactly nothing in every run
    same = run_cli(
        "compare",
        SCENARIOS / "status_quo.yaml",
        SCENARIOS / "status_quo.yaml",
        "--runs",
        50,
        "--out",
        tmp_path / "same",
        "--quiet",
    )
    assert same.returncode == 0
    zero = json.loads((tmp_path / "same" / "compare.json").read_text())
    for power in ("US", "CN", "RU"):
        assert zero["final_alignment_difference"][power]["mean"] == 0.0


def test_compare_refuses_mismatched_calendars(tmp_path):
    done = run_cli(
        "compare", SCENARIOS / "status_quo.yaml", SCENARIOS / "putin_visit_2024.yaml", "--out", tmp_path / "x"
    )
    assert done.returncode == 2 and "start and horizon" in done.stderr and "Traceback" not in done.stderr


def test_validate_reports_each_file(tmp_path):
    bad = scenario(tmp_path, "name: x\ndescription: y\nruns: -3\n")
    done = run_cli("validate", *sorted(SCENARIOS.glob("*.yaml")), bad)
    assert done.returncode == 2
    assert done.stdout.count("ok:") == len(list(SCENARIOS.glob("*.yaml")))
    assert f"{bad}:3:" in done.stderr and "runs" in done.stderr and "Traceback" not in done.stderr
    assert run_cli("validate", SCENARIOS / "status_quo.yaml").returncode == 0


def test_events_lists_the_catalogue_with_sources():
    done = run_cli("events")
    assert done.returncode == 0
    for name, cls in EVENT_TYPES.items():
        assert name in done.stdout and cls.effect[:40] in done.stdout
    assert done.stdout.count("source:") == len(EVENT_TYPES)


@pytest.mark.slow  # a process of its own for each: seconds
@pytest.mark.parametrize("args", [["--help"], ["run", "--runs", "0"], ["validate", "no-such-file.yaml"]], ids=str)
def test_in_process_the_command_line_says_and_returns_what_a_process_does(args, tmp_path, monkeypatch):
    """run_cli, which most of these tests use, stands for the process a user starts: same status, same words."""
    monkeypatch.chdir(tmp_path)
    inside, outside = run_cli(*args), bamboo(*args, cwd=tmp_path)
    assert (inside.returncode, inside.stdout, inside.stderr) == (outside.returncode, outside.stdout, outside.stderr)
    assert inside.stdout or inside.stderr


# -- the entry script ----------------------------------------------------------------------------
def test_the_entry_script_runs_the_command_line_from_its_environment():
    # the script's own test of a current environment: pyproject.toml and the lockfiles, as they were when built
    built_from = ["pyproject.toml", "requirements.lock", "requirements-app.lock", "requirements-test.lock"]
    stamp = subprocess.run(["cksum"], input=b"".join((REPO / n).read_bytes() for n in built_from), capture_output=True)
    built = REPO / ".venv" / ".stamp"
    if not built.is_file() or built.read_text().strip() != stamp.stdout.decode().strip():
        pytest.skip("the environment is older than pyproject.toml or a lockfile: ./bamboo would build it again")
    done = subprocess.run([REPO / "bamboo", "--version"], capture_output=True, text=True, cwd=REPO.parent)
    assert done.returncode == 0 and done.stdout == f"bamboo {__version__}\n" and done.stderr == ""


def test_the_entry_script_says_what_to_do_when_no_python_will_do(tmp_path):
    """No Python 3.12 or newer on PATH, none from pyenv or uv: exit status 2, the remedy, no environment made."""
    for name in ("bamboo", "pyproject.toml"):
        shutil.copy2(REPO / name, tmp_path / name)
    old = tmp_path / "old-pythons"
    old.mkdir()
    for name in ("python3.14", "python3.13", "python3.12", "python3", "python"):  # every name it looks for
        (old / name).write_text("#!/bin/sh\nexit 1\n")  # fails the version check, as Python 3.11 would
        (old / name).chmod(0o755)
    tools = {str(Path(shutil.which(t)).parent) for t in ("cat", "cksum", "dirname", "ls", "sort")}
    env = {"PATH": os.pathsep.join([str(old), *sorted(tools)]), "HOME": str(tmp_path / "home")}
    done = subprocess.run(["bash", tmp_path / "bamboo", "--version"], capture_output=True, text=True, env=env)
    assert done.returncode == 2 and done.stdout == ""
    assert "Python 3.12 or newer is needed" in done.stderr and "BAMBOO_PYTHON" in done.stderr
    assert not (tmp_path / ".venv").exists()


# -- Ctrl+C ----------------------------------------------------------------------------------------
def interrupted(tmp_path, *args, after=(), until=None):
    """``bamboo run`` of the perfect storm in a process of its own, sent Ctrl+C at each of ``after`` seconds.

    The seconds count from its start, or from when ``until(tmp_path)`` holds. Returns its exit status and stderr.
    """
    import signal
    import sys
    import time

    out = tmp_path / "out"
    command = [sys.executable, "-m", "sim", "run", SCENARIOS / "perfect_storm.yaml", "--out", out, "--quiet", *args]
    command = [str(c) for c in command]
    # as a terminal starts it: Ctrl+C not ignored (a test runner's background process may inherit it ignored)
    with subprocess.Popen(
        command, stderr=subprocess.PIPE, text=True, preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL)
    ) as proc:
        while until is not None and proc.poll() is None and not until(tmp_path):
            time.sleep(0.02)
        started = time.perf_counter()
        for t in after:
            time.sleep(max(0.0, started + t - time.perf_counter()))
            proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=300)
    return proc.returncode, err


@pytest.mark.parametrize("after", [0.2, 0.4, 0.7, 1.0, 1.5])
def test_an_early_ctrl_c_exits_130_with_one_line(tmp_path, after):
    """While the command line loads (Numba, Mesa, the scenario): nothing written yet, one line, status 130."""
    code, err = interrupted(tmp_path, "--runs", 100_000, after=[after])
    assert code == 130, err
    assert err.count("\n") == 1 and err.startswith("bamboo: interrupted") and "Traceback" not in err, err
    assert not (tmp_path / "out").exists()


def test_a_ctrl_c_inside_the_compilers_callback_is_sent_again_not_lost(monkeypatch):
    """What an llvmlite callback raises, ctypes swallows: so there the interrupt is re-sent instead of raised."""
    import signal
    import sys

    from sim.cli import signals as cli

    def frame_in(filename):
        scope = {"sys": sys}
        exec(compile("frame = sys._getframe()", filename, "exec"), scope)  # a frame whose code lives in that file
        return scope["frame"]

    inside = frame_in(os.path.join(os.sep, "venv", "site-packages", "llvmlite", "binding", "executionengine.py"))
    outside = frame_in(os.path.join(os.sep, "venv", "site-packages", "numba", "core", "dispatcher.py"))
    assert cli._in_compiler_callback(inside) and not cli._in_compiler_callback(outside)
    timers = []

    class Timer:
        def __init__(self, *args):
            timers.append(args)

        def start(self):
            pass

    monkeypatch.setattr(cli.threading, "Timer", Timer)
    monkeypatch.setattr(cli.signal, "signal", lambda *a: None)
    cli.interrupt_once(signal.SIGINT, inside)  # deferred: no exception here, one re-send scheduled
    assert len(timers) == 1 and timers[0][1] is os.kill and timers[0][2][1] == signal.SIGINT
    with pytest.raises(KeyboardInterrupt):
        cli.interrupt_once(signal.SIGINT, outside)


@pytest.mark.slow
@pytest.mark.parametrize("gap", [0.0, 0.05, 0.3, 1.0])
def test_a_double_ctrl_c_exits_130_with_one_line(tmp_path, gap):
    """A second Ctrl+C while the first one's clean-up runs, or while Python shuts down, adds nothing."""

    def chunks(folder):
        return len(list((folder / ".out.partial").glob("*.npz"))) >= 2

    code, err = interrupted(tmp_path, "--runs", 400_000, "--chunk", 2000, after=[0, gap], until=chunks)
    assert code == 130, err
    assert err.count("\n") == 1 and "finished chunk(s) are kept" in err and "Traceback" not in err, err
