"""The paired comparison's report (sim.runs.comparison): what a notebook gets is what ``bamboo compare`` writes."""

from conftest import SCENARIOS, run_cli

from sim.runs.comparison import compare
from sim.runs.results import write_json
from sim.runs.scenario import load_scenario


def test_the_report_is_what_bamboo_compare_writes(tmp_path):
    a, b = SCENARIOS / "status_quo.yaml", SCENARIOS / "caatsa_enforced.yaml"
    out = tmp_path / "cli"
    done = run_cli("compare", a, b, "--runs", 120, "--seed", 4, "--out", out, "--quiet")
    assert done.returncode == 0, done.stderr
    paired = compare(load_scenario(a), load_scenario(b), runs=120, seed=4)
    report = paired.report()
    assert report["a"]["file"] == str(a) and report["parameters"] is None
    assert write_json(tmp_path / "compare.json", report).read_bytes() == (out / "compare.json").read_bytes()
