"""Rolling-origin forecasts: restarts from the recorded state, what each may know, and their scores by hand."""

from __future__ import annotations

import dataclasses
import functools
import json
import shutil

import numpy as np
import pytest
import yaml
from conftest import normalise, run_cli

from sim.analysis.record import Record, load_record
from sim.analysis.record import default_path as record_path
from sim.analysis.rolling import (
    ORIGINS,
    band_middle,
    baselines,
    exogenous_path,
    load_facts,
    restart,
    rolling,
    scored,
)
from sim.analysis.scoring import certain
from sim.model.calendar import Month
from sim.model.domain import POWERS, TIERS
from sim.runs.scenario import SHIPPED, load_scenario

RECORD = load_record()


@functools.cache
def history():
    return load_scenario(SHIPPED / "history_1986_2025.yaml")


def initial_tiers(scenario) -> list[int]:
    """The tiers the model holds before its first step."""
    model = scenario.model(runs=2, seed=1)
    return model.trajectories()["tier"][0, 0].tolist()


# -- the state at the origin ---------------------------------------------------------------------------------


def test_the_restart_starts_from_the_recorded_tiers_and_follows_a_changed_record(tmp_path):
    scenario = restart(history(), RECORD, 2012, post=False)
    assert scenario.start == Month(2013, 1)
    assert initial_tiers(scenario) == [0, 3, 3]  # the US none, China and Russia CSPs at the end of 2012
    params = scenario.resolved_parameters
    assert params.value("hedger.alignment.US") == pytest.approx(band_middle(params, 0)) == pytest.approx(0.1)
    assert params.value("hedger.alignment.CN") == pytest.approx(0.75)  # the middle of the CSP band, 0.6-0.9

    raw = yaml.safe_load(record_path().read_text(encoding="utf-8"))
    raw["tiers"]["US"][1]["from"] = 2010  # the comprehensive partnership three years earlier
    shutil.copy(record_path().parent / raw["arms_imports"]["file"], tmp_path)
    (tmp_path / "record.yaml").write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    changed = load_record(tmp_path / "record.yaml")
    moved = restart(history(), changed, 2012, post=False)
    assert initial_tiers(moved) == [1, 3, 3]
    assert moved.resolved_parameters.value("hedger.alignment.US") == pytest.approx(0.3)


def test_every_origin_starts_at_the_record_of_its_year():
    years = RECORD.years.tolist()
    for origin in ORIGINS:
        scenario = restart(history(), RECORD, origin, post=True)
        assert initial_tiers(scenario) == RECORD.tiers[:, years.index(origin)].tolist(), origin


def test_an_origin_before_the_facts_or_outside_the_record_is_refused():
    with pytest.raises(ValueError, match="origin from 1995"):
        restart(history(), RECORD, 1990, post=False)
    with pytest.raises(ValueError, match="origin within"):
        restart(history(), RECORD, 2025, post=False)


# -- what a forecast may know ---------------------------------------------------------------------------------


@pytest.mark.parametrize("origin", ORIGINS)
def test_without_post_origin_events_nothing_after_the_origin_is_used(origin):
    scenario = restart(history(), RECORD, origin, post=False)
    assert scenario.events
    assert all(e.at == scenario.start for e in scenario.events)  # known events and held drivers, at the start
    assert not [e for e in scenario.events if e.type in ("summit", "treaty_ends")]
    known = {(e.type, str(e.fields["at"])) for e in load_facts().events if e.at < scenario.start}
    after = [e for e in load_facts().events if e.at >= scenario.start]
    with_post = restart(history(), RECORD, origin, post=True)
    for fact in after:
        assert any(e.type == fact.type and e.at == fact.at for e in with_post.events), (origin, fact)
        assert not any(e.type == fact.type and e.fields.get("at") == fact.at for e in scenario.events)
    assert all(e.type in {t for t, _ in known} | {"shock"} for e in scenario.events)


def test_the_scenarios_own_events_after_1995_give_way_to_the_facts():
    """The hand-set US territorial supply of 2013 and 2016 is not among what any restart knows."""
    for origin in (2016, 2020):
        for post in (False, True):
            scenario = restart(history(), RECORD, origin, post=post)
            paths = [e.fields.get("path") for e in scenario.events]
            assert "powers.US.supply.territory" not in paths, (origin, post)
            assert "arms_diversification" in [e.type for e in scenario.events]  # the 2016 embargo lift, known


def test_the_facts_take_their_magnitude_from_the_rule():
    facts = load_facts()
    for e in facts.events:
        if e.type == "tariff":
            assert 0 < e.fields["magnitude"] < 1
        elif e.type != "shock":
            assert e.fields["magnitude"] == 1.0
    raw = yaml.safe_load(exogenous_path().read_text(encoding="utf-8"))
    assert all("magnitude" not in item for item in raw["events"])


def test_every_fact_quotes_its_source_verbatim(sources):
    raw = yaml.safe_load(exogenous_path().read_text(encoding="utf-8"))
    for item in raw["events"]:
        source = item["source"]
        if "ref" in source:
            text = normalise((sources / raw["sources"][source["ref"]]).read_text(encoding="utf-8"))
            assert normalise(source["quote"]) in text, item["why"]


# -- the baselines know only the years up to the origin ------------------------------------------------------


def test_the_baselines_use_only_the_years_up_to_the_origin():
    origin = 2008
    later = RECORD.tiers.copy()
    later[POWERS.index("US"), RECORD.years > 2014] = TIERS.index("strategic")  # a different future
    changed = dataclasses.replace(RECORD, tiers=later)
    before, after = baselines(RECORD, origin), baselines(changed, origin)
    assert before[2] == after[2]  # the hazard's fit
    for name in before[0]:
        assert np.array_equal(before[0][name], after[0][name]), name
        assert np.array_equal(before[1][name], after[1][name]), name
    earlier = RECORD.tiers.copy()
    earlier[POWERS.index("US"), (RECORD.years >= 2000) & (RECORD.years <= origin)] = TIERS.index("comprehensive")
    moved = baselines(dataclasses.replace(RECORD, tiers=earlier), origin)
    assert moved[2] != before[2]  # a change before the origin does change the fit


# -- scores by hand on a tiny record --------------------------------------------------------------------------


def tiny() -> Record:
    """Five years; the US rises in 2001 (fitted on) and 2003, Russia jumps two tiers in 2004."""
    tiers = np.array([[0, 1, 1, 2, 2], [0, 0, 0, 0, 0], [1, 1, 1, 1, 3]])
    return Record(np.arange(2000, 2005), tiers, baselines_from=2000)


def test_scores_match_a_hand_computed_case():
    record = tiny()
    probs = certain(record.tiers).astype(float)
    probs[2, 4] = [0, 0.5, 0, 0.5, 0]  # Russia in 2004: as likely to stay as to make its jump
    rise = np.full(record.tiers.shape, 0.5)
    report = scored(record, 2002, probs, rise)
    assert report["power_years"] == 6 and report["rises"] == 2
    assert report["hazard"]["upgrades"] == 1 and report["hazard"]["power_years_at_risk"] == 6
    brier, rps = report["brier"], report["rps"]
    # Brier: the model 0.5 everywhere (0.25 each); the hazard 1/6 everywhere: (2 (5/6)^2 + 4 (1/6)^2) / 6;
    # persistence never rises (2 misses of 6); the trend (US 0, 1, 1 from 2000: 2 by 2003) misses Russia only
    assert brier["scores"]["model"]["score"] == pytest.approx(0.25)
    assert brier["scores"]["hazard"]["score"] == pytest.approx(0.25)
    assert brier["scores"]["persistence"]["score"] == pytest.approx(1 / 3)
    assert brier["scores"]["trend"]["score"] == pytest.approx(1 / 6)
    assert brier["skill"]["hazard"]["skill"] == pytest.approx(0.0)
    assert brier["skill"]["persistence"]["skill"] == pytest.approx(0.25)
    # RPS: the model misses only half of Russia's jump, (0.25 + 0.25) / 4 over 6 power-years; persistence
    # misses the US by one tier twice (1/4 each) and Russia by two (2/4)
    assert rps["scores"]["model"]["score"] == pytest.approx(0.125 / 6)
    assert rps["scores"]["persistence"]["score"] == pytest.approx(1 / 6)
    assert rps["skill"]["persistence"]["skill"] == pytest.approx(0.875)
    assert report["upgrades"][0] == {
        "power": "US",
        "tier": "strategic",
        "year": 2003,
        "forecast": 2003,
        "error_years": 0,
    }


# -- reproducibility and the command ---------------------------------------------------------------------------


def test_same_seed_same_bytes_and_another_seed_differs():
    def text(seed: int) -> str:
        return json.dumps(rolling(history(), RECORD, (2012, 2016), runs=12, seed=seed))

    first = text(7)
    assert text(7) == first
    assert text(8) != first


def test_the_command_writes_its_report_through_the_staged_output(tmp_path):
    out = tmp_path / "rolling"
    args = ("history", "--rolling", "--origins", "2016,2020", "--runs", "10", "--out", out, "--quiet")
    done = run_cli(*args)
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in out.iterdir()) == ["manifest.json", "rolling.csv", "rolling.json"]
    manifest = json.loads((out / "manifest.json").read_text())
    assert set(manifest["files"]) == {"rolling.json", "rolling.csv"}
    report = json.loads((out / "rolling.json").read_text())
    assert report["origins"] == [2016, 2020] and set(report["pooled"]) == {"without", "with"}
    lines = (out / "rolling.csv").read_text().splitlines()
    assert len(lines) == 1 + 2 * 2 * 3  # two scores, two variants, two origins and the pooled
    first = (out / "rolling.json").read_bytes()
    done = run_cli(*args, "--force")
    assert done.returncode == 0, done.stderr
    assert (out / "rolling.json").read_bytes() == first


def test_the_command_refuses_bad_origins(tmp_path):
    done = run_cli("history", "--rolling", "--origins", "1990", "--out", tmp_path / "x")
    assert done.returncode == 2 and "--origins" in done.stderr
    done = run_cli("history", "--origins", "2012", "--out", tmp_path / "y")
    assert done.returncode == 2 and "--rolling" in done.stderr
