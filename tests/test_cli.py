"""The command line end to end, as a user runs it."""

import json
import subprocess
import sys

import pytest


def bamboo(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "sim", *args], capture_output=True, text=True, cwd=cwd)


def test_run_writes_summary_and_plots(tmp_path):
    out = tmp_path / "sq"
    done = bamboo("run", "--runs", "200", "--seed", "3", "--out", str(out), "--quiet")
    assert done.returncode == 0, done.stderr
    assert done.stdout == ""
    summary = json.loads((out / "summary.json").read_text())
    assert summary["runs"] == 200 and summary["seed"] == 3
    assert 0.0 <= summary["survival_probability"] <= 1.0
    assert set(summary["final_alignment"]) == {"US", "CN", "RU"}
    for power in summary["final_alignment"].values():
        assert power["p05"] <= power["p50"] <= power["p95"]
    assert abs(sum(summary["failure_modes"].values()) - (1 - summary["survival_probability"])) < 1e-9
    png = (out / "alignment.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 10_000
    assert "<svg" in (out / "alignment.svg").read_text()


def test_same_seed_same_bytes(tmp_path):
    for name in ("a", "b"):
        assert bamboo("run", "--runs", "50", "--seed", "9", "--out", str(tmp_path / name), "--quiet").returncode == 0
    assert (tmp_path / "a" / "summary.json").read_bytes() == (tmp_path / "b" / "summary.json").read_bytes()


def test_existing_output_is_never_overwritten_without_force(tmp_path):
    out = tmp_path / "sq"
    out.mkdir()
    (out / "mine.txt").write_text("keep me")
    done = bamboo("run", "--runs", "5", "--out", str(out))
    assert done.returncode == 2
    assert "exists" in done.stderr and "--force" in done.stderr
    assert "Traceback" not in done.stderr
    assert (out / "mine.txt").read_text() == "keep me"
    forced = bamboo("run", "--runs", "5", "--out", str(out), "--force", "--quiet")
    assert forced.returncode == 0
    assert not (out / "mine.txt").exists() and (out / "summary.json").exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--runs", "0"], "at least 1"),
        (["--runs", "many"], "whole number"),
        (["--seed", "-4"], "seed"),
        (["--steps", "1.5"], "whole number"),
    ],
)
def test_bad_numbers_are_refused_cleanly(tmp_path, args, message):
    out = tmp_path / "never"
    done = bamboo("run", *args, "--out", str(out))
    assert done.returncode == 2
    assert message in done.stderr and "Traceback" not in done.stderr
    assert not out.exists()


def test_bad_parameter_file_names_file_and_field(tmp_path):
    bad = tmp_path / "params.yaml"
    from sim.params import default_path

    bad.write_text(default_path().read_text().replace("value: 0.45\n      range: [0.3, 0.6]", "value: lots"))
    out = tmp_path / "never"
    done = bamboo("run", "--parameters", str(bad), "--out", str(out))
    assert done.returncode == 2, done.stderr
    assert str(bad) in done.stderr and "reach.value" in done.stderr and "number" in done.stderr
    assert "Traceback" not in done.stderr
    assert not out.exists()
