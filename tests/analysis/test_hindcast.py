"""The hindcast's report: a model that retells the record scores perfectly and beats the baselines."""

from __future__ import annotations

import numpy as np
import pytest

from sim.analysis.hindcast import hindcast, windows
from sim.analysis.record import load_record
from sim.model.calendar import Calendar, Month

RECORD = load_record()
CAL = Calendar(Month(int(RECORD.years[0]), 1), 3)


def retelling(runs: int = 3) -> dict:
    """Trajectories whose tiers are the record's, quarter by quarter (the state at a year's end is its tier)."""
    steps = 4 * len(RECORD.years) + 1
    year_of_step = RECORD.years[0] - 1 + np.arange(steps) // 4  # entry 4k is the end of year start + k - 1
    column = np.clip(year_of_step - RECORD.years[0], 0, None)
    tier = np.repeat(RECORD.tiers.T[column][:, None, :], runs, axis=1)
    return {"tier": tier, "alignment": tier / 4.0}


def test_a_model_that_retells_the_record_scores_perfectly_out_of_sample_and_beats_persistence():
    report = hindcast(retelling(), CAL, RECORD, cutoff=2012)
    model, persistence = (report["scores"]["out_of_sample"][k] for k in ("model", "persistence"))
    assert model["tier_match"]["overall"] == 1.0 and model["rps"]["overall"] == 0.0
    assert [u["error_years"] for u in model["upgrades"]] == [0, 0]  # the US in 2013 and 2023
    assert persistence["tier_match"]["overall"] < 1.0 and persistence["rps"]["overall"] > 0.0
    assert report["powers"]["US"]["modal"][RECORD.years.tolist().index(2023)] == "comprehensive_strategic"


def test_a_run_that_stops_short_of_the_record_is_refused():
    short = {k: v[:40] for k, v in retelling().items()}
    with pytest.raises(ValueError, match="does not cover"):
        hindcast(short, CAL, RECORD, cutoff=2012)


def test_the_cutoff_splits_the_record():
    w = windows(RECORD, 2012)
    assert RECORD.years[w["in_sample"]][-1] == 2012 and RECORD.years[w["out_of_sample"]][0] == 2013
    with pytest.raises(ValueError, match="cut-off"):
        windows(RECORD, 2030)


def test_the_arms_share_is_scored_beside_persistence_and_a_trend():
    from sim.analysis.hindcast import arms_scores

    steps = 4 * len(RECORD.years) + 1
    year_of_step = RECORD.years[0] + np.arange(steps) // 4
    exact = np.zeros(steps)
    for p in RECORD.russian_arms_share:
        exact[(year_of_step >= p.first) & (year_of_step <= p.last)] = p.value
    report = arms_scores(np.repeat(exact[:, None], 2, axis=1), CAL, RECORD, cutoff=2012)
    assert report["model"] == pytest.approx(report["record"])
    errors = report["mean_absolute_error"]
    assert errors["in_sample"]["model"] == pytest.approx(0.0) and errors["out_of_sample"]["model"] == pytest.approx(0.0)
    # persistence carries 2005-09's share (0.783) on to 2010-14 (0.926), 2015-19 (0.720) and 2020-23 (0.388)
    shares = [p.value for p in RECORD.russian_arms_share]
    assert errors["out_of_sample"]["persistence"] == pytest.approx(sum(abs(s - shares[1]) for s in shares[2:]) / 3)
    assert errors["out_of_sample"]["persistence"] == pytest.approx((0.143 + 0.063 + 0.395) / 3, abs=1e-3)
    assert errors["out_of_sample"]["trend"] > 0


def test_the_skill_report_states_the_hazard_fitted_in_sample_and_a_retelling_model_has_full_skill():
    report = hindcast(retelling(), CAL, RECORD, cutoff=2012)
    skill = report["skill"]
    # 1992-2012: the US 21 power-years at risk, China 17 (to its CSP of 2008), Russia 21; upgrades: China 2008,
    # Russia 2001 and 2012
    assert skill["hazard"] | {"rate": 0} == {
        "rate": 0,
        "upgrades": 3,
        "power_years_at_risk": 59,
        "jump_shares": pytest.approx([1 / 3, 1 / 3, 1 / 3]),
        "fitted_on": "1992-2012",
    }
    assert skill["hazard"]["rate"] == pytest.approx(3 / 59)
    out = skill["out_of_sample"]
    assert (out["rises"], out["power_years"]) == (2, 39)  # the US in 2013 and 2023
    # never rising scores the two rises out of 39 power-years; the hazard gives the US a chance of at most 3/59
    # a year (less as its chain reaches the top tier), China and Russia none (at the top tier from 2012)
    assert out["brier"]["scores"]["persistence"]["score"] == pytest.approx(2 / 39)
    h = 3 / 59
    assert 2 * (1 - h) ** 2 / 39 < out["brier"]["scores"]["hazard"]["score"] < (2 + 11 * h**2) / 39
    assert out["brier"]["scores"]["model"]["score"] == 0.0
    for measure in ("brier", "rps"):
        assert out[measure]["skill"]["hazard"]["skill"] == 1.0
