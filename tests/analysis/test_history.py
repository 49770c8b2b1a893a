"""The world of 1986-2025 from data: series sourced and flagged, drivers that follow them, the history scenario."""

from __future__ import annotations

import json

import numpy as np
import pytest
from conftest import SCENARIOS, run_cli

from sim.analysis.history import FLAGS, SeriesError, default_path, load_series, prosperity_supply, reach, with_world
from sim.cli.main import main
from sim.model.calendar import Month
from sim.model.params import POWERS, TIERS, load_parameters
from sim.runs.scenario import load_scenario

PARAMS = load_parameters()
HISTORY = SCENARIOS / "history_1986_2025.yaml"


def rows():
    lines = default_path().read_text(encoding="utf-8").splitlines()
    data = [line for line in lines if line.strip() and not line.startswith("#")]
    return [line.split(",", 5) for line in data[1:]]


@pytest.mark.parametrize("row", rows(), ids=lambda r: f"{r[0]}-{r[1]}-{r[2]}")
def test_every_value_has_a_flag_and_a_source(row):
    *_, flag, source = row
    assert flag in FLAGS and source.strip()


def test_supply_follows_the_trade_share_back_from_the_parameter_value():
    series = load_series()
    years = np.array([1986, 1993, 2008, 2023])
    supply = prosperity_supply(PARAMS, series, years)
    for p in POWERS:  # in the series' last year, the parameter file's value
        assert supply[p][-1] == pytest.approx(PARAMS.value(f"powers.{p}.supply.prosperity"))
    assert supply["US"][1] == 0.0  # the embargo: no trade, no supply
    assert supply["RU"][0] == 1.0  # the Soviet Union's share of trade, far above Russia's today: the bound
    assert 0 < supply["CN"][2] < supply["CN"][3]


def test_russian_reach_follows_its_military_expenditure_from_1992():
    r = reach(PARAMS, load_series(), np.array([1990, 1998, 2020]), own={"powers.RU.reach"})
    assert np.isnan(r["RU"][0])  # before the series, the scenario's own (the Soviet reach)
    assert r["RU"][1] < r["RU"][2] == pytest.approx(PARAMS.value("powers.RU.reach"))


def test_the_us_reach_follows_its_military_expenditure_and_chinas_stays_the_parameter_files():
    series = load_series()
    r = reach(PARAMS, series, np.array([1986, 1998, 2010, 2023]))
    assert set(r) == {"RU", "US"}  # China's was tried and dropped (docs/validation.md): its data is kept
    assert ("milex", "CN") in series and ("gdp", "CN") in series
    us = r["US"]
    assert us[1] < us[0] < us[3] == pytest.approx(PARAMS.value("powers.US.reach"))  # the 1990s' trough
    assert us[2] <= 1.0
    ru = series[("milex", "RU")].values
    first = PARAMS.value("powers.RU.reach") * ru[0] / ru[-1]
    assert r["RU"][0] == pytest.approx(first)  # before the series, and no scenario sets the reach: the first value


def test_the_history_scenario_sets_no_tier_upgrade():
    """The upgrades are what the hindcast must find: no event may set one."""
    scenario = load_scenario(HISTORY)
    assert scenario.start == Month(1986, 1) and scenario.horizon == Month(2026, 1)
    assert not [e for e in scenario.events if e.type == "summit" and e.fields.get("tier")]
    assert [e.fields.get("tier", "none") for e in scenario.events if e.type == "treaty_ends"] == ["none"]


def test_the_world_events_name_the_data_file_and_come_in_date_order():
    scenario = with_world(load_scenario(HISTORY))
    data = [e for e in scenario.events if e.file == str(default_path())]
    assert data and all(e.type == "shock" and e.fields["mode"] == "set" for e in data)
    assert [e.at for e in scenario.events] == sorted(e.at for e in scenario.events)


def test_the_soviet_treaty_ends_in_1991():
    scenario = with_world(load_scenario(HISTORY))
    model = scenario.model(runs=20, seed=3)
    steps_to_1992 = scenario.calendar.step_of(Month(1992, 4))
    model.run_for(steps_to_1992)
    tier = model.trajectories()["tier"][:, :, POWERS.index("RU")]
    assert (tier[0] == TIERS.index("alliance")).all()
    assert (tier[-1] == TIERS.index("none")).all()


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ("series,power,year,value,flag,source\ntrade,XX,1990,1.0,checked,GSO\n", ":2: power:"),
        ("series,power,year,value,flag,source\ntrade,US,1990,1.0,guessed,GSO\n", ":2: flag:"),
        ("series,power,year,value,flag,source\ntrade,US,1990,-1,checked,GSO\n", ":2: value:"),
        ("series,power,year,value,flag,source\ntrade,US,1990,1.0,checked,\n", ":2: source:"),
        (
            "# a comment\nseries,power,year,value,flag,source\ntrade,US,1995,1,checked,x\ntrade,US,1990,1,checked,x\n",
            ":3: year:",
        ),
        ("year,value\n", ":1: header:"),
        ('"series,power,year\n,value,flag,source"\n', ":1: row: a quoted field runs past the end of the line"),
        (f"series,power,year,value,flag,source\ntrade,US,1990,1.0,{'x' * 200_000},GSO\n", ":2: row: a field of"),
        (f"series,power,year,value,flag,source\ntrade,US,1990,1.0,{'x' * 100_000},GSO\n", ":2: flag: expected"),
        (f"series,power,year,value,flag,source\ntrade,US,{'9' * 5000},1.0,checked,GSO\n", ":2: year/value:"),
    ],
)
def test_a_bad_series_file_names_the_line_and_field(tmp_path, text, where):
    bad = tmp_path / "series.csv"
    bad.write_text(text, encoding="utf-8")
    with pytest.raises(SeriesError, match=f"{bad}{where}") as info:
        load_series(bad)
    assert len(str(info.value)) < 400


# -- bamboo history ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def hindcast_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("history") / "h"
    done = run_cli("history", "--runs", 60, "--seed", 5, "--out", out)
    assert done.returncode == 0, done.stderr
    return out, done


@pytest.mark.slow
def test_history_writes_the_hindcast_scored_beside_the_baselines(hindcast_run):
    out, done = hindcast_run
    assert "out of sample (tier match / RPS)" in done.stdout
    report = json.loads((out / "hindcast.json").read_text())
    assert report["years"][0] == 1986 and report["years"][-1] == 2025 and report["cutoff"] == 2012
    for window in ("in_sample", "out_of_sample"):
        assert set(report["scores"][window]) == {"model", "persistence", "trend", "hazard"}
        assert set(report["skill"][window]["brier"]["skill"]) == {"hazard", "persistence", "trend"}
    us = report["powers"]["US"]
    assert len(us["modal"]) == len(us["record"]) == len(us["probabilities"]) == 40
    assert all(abs(sum(p) - 1) < 1e-3 for p in us["probabilities"])
    assert (out / "hindcast.png").stat().st_size > 10_000 and (out / "hindcast.svg").exists()
    assert set(json.loads((out / "manifest.json").read_text())["files"]) == {
        "hindcast.json",
        "hindcast.png",
        "hindcast.svg",
    }
    assert report["russian_arms_share"]["periods"][0] == "2000-2004"


@pytest.mark.slow
def test_history_is_the_same_for_the_same_seed(hindcast_run, tmp_path):
    out, _ = hindcast_run
    assert main(["history", "--runs", "60", "--seed", "5", "--out", str(tmp_path / "again"), "--quiet"]) == 0
    assert (tmp_path / "again" / "hindcast.json").read_bytes() == (out / "hindcast.json").read_bytes()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--cutoff", "2030"], "--cutoff: expected a year inside the record"),
        (["--record", "{tmp}/record.yaml"], "record.yaml: tiers: expected a list of spells"),
        (["--series", "{tmp}/series.csv"], "series.csv:1: header:"),
    ],
)
def test_history_refuses_bad_input_with_exit_2_and_writes_nothing(tmp_path, capsys, args, message):
    (tmp_path / "record.yaml").write_text("years: [1986, 2025]\ntiers: {}\n", encoding="utf-8")
    (tmp_path / "series.csv").write_text("year,value\n", encoding="utf-8")
    out = tmp_path / "out"
    assert main(["history", "--out", str(out), *(a.format(tmp=tmp_path) for a in args)]) == 2
    assert message in capsys.readouterr().err
    assert not out.exists()


@pytest.mark.slow
def test_history_draws_each_run_from_a_posterior(tmp_path, capsys):
    (tmp_path / "p.csv").write_text("weight,behaviour.tier_patience\n1,6\n", encoding="utf-8")
    args = ["history", "--runs", "40", "--seed", "5", "--quiet"]
    assert main([*args, "--out", str(tmp_path / "slow"), "--parameters", str(tmp_path / "p.csv")]) == 0
    assert main([*args, "--out", str(tmp_path / "default")]) == 0
    slow, default = (json.loads((tmp_path / k / "hindcast.json").read_text()) for k in ("slow", "default"))
    assert slow["parameters"].endswith("p.csv") and default["parameters"].startswith("the defaults")
    assert slow["powers"] != default["powers"]  # a tier waits six quarters of pressing, not four: later upgrades


def test_history_refuses_a_bad_posterior(tmp_path, capsys):
    (tmp_path / "p.csv").write_text("weight,behaviour.nothing\n1,6\n", encoding="utf-8")
    out = tmp_path / "out"
    assert main(["history", "--out", str(out), "--parameters", str(tmp_path / "p.csv")]) == 2
    assert f"{tmp_path / 'p.csv'}:1: behaviour.nothing: unknown parameter" in capsys.readouterr().err
    assert not out.exists()
