"""The hindcast's scores, checked on hand-made records where the right answer is known."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from sim.analysis.scoring import (
    TOP,
    Hazard,
    K,
    bootstrap,
    brier,
    certain,
    fit_hazard,
    hazard_forecast,
    order_share,
    path_rises,
    persistence,
    ranked_probability,
    rises,
    score,
    trend,
)
from sim.model.params import TIERS

YEARS = np.arange(2000, 2011)
NONE, COMP, STRAT, CSP = (TIERS.index(t) for t in ("none", "comprehensive", "strategic", "comprehensive_strategic"))


def record() -> np.ndarray:
    """US: comprehensive in 2004, CSP in 2008; CN: CSP throughout; RU: strategic in 2006."""
    tiers = np.zeros((3, len(YEARS)), dtype=np.int64)
    tiers[0, YEARS >= 2004] = COMP
    tiers[0, YEARS >= 2008] = CSP
    tiers[1] = CSP
    tiers[2, YEARS >= 2006] = STRAT
    return tiers


ALL = np.ones(len(YEARS), dtype=bool)
LATE = YEARS >= 2005  # a window after a cut-off at 2004


def test_a_perfect_forecast_scores_perfectly():
    tiers = record()
    s = score(certain(tiers), tiers, YEARS, ALL)
    assert s.tier_match["overall"] == 1.0 and s.rps["overall"] == 0.0
    assert [u.error for u in s.upgrades] == [0, 0, 0]
    assert s.order == 1.0


def test_persistence_scores_what_it_should():
    tiers = record()
    forecast = persistence(tiers, YEARS, LATE)
    # from 2005 on: US stays comprehensive (wrong from 2008: 3 of 6 years), CN right, RU stays none (wrong from 2006)
    assert forecast[:, LATE].argmax(-1).tolist() == [[COMP] * 6, [CSP] * 6, [NONE] * 6]
    s = score(forecast, tiers, YEARS, LATE)
    assert s.tier_match == pytest.approx({"US": 3 / 6, "CN": 1.0, "RU": 1 / 6, "overall": 10 / 18})
    # a certain forecast one tier off scores 1/(K-1) a year; two tiers off, 2/(K-1)
    assert s.rps["US"] == pytest.approx(3 * 2 / (K - 1) / 6)
    assert s.rps["RU"] == pytest.approx(5 * 2 / (K - 1) / 6)
    assert [(u.power, u.year, u.forecast) for u in s.upgrades] == [("RU", 2006, None), ("US", 2008, None)]


def test_an_upgrade_two_years_late_is_two_years_late_and_order_can_flip():
    tiers = record()
    late = tiers.copy()
    late[0] = np.where(YEARS >= 2004, COMP, NONE)
    late[0, YEARS >= 2010] = CSP  # the US CSP two years late: still after Russia's upgrade
    s = score(certain(late), tiers, YEARS, ALL)
    assert {(u.power, u.tier): u.error for u in s.upgrades}[("US", "comprehensive_strategic")] == 2
    assert s.order == 1.0
    early = tiers.copy()
    early[2] = np.where(YEARS >= 2009, STRAT, NONE)  # Russia's upgrade after the US CSP instead of before it
    assert score(certain(early), tiers, YEARS, ALL).order < 1.0


def test_order_counts_only_pairs_across_powers_and_years():
    assert order_share([]) is None


def test_trend_extrapolates_a_line_and_keeps_the_known_years():
    tiers = np.zeros((3, len(YEARS)), dtype=np.int64)
    tiers[0] = np.clip((YEARS - 2000) // 3, 0, K - 1)  # a steady climb
    forecast = trend(tiers, YEARS, LATE).argmax(-1)
    assert (forecast[:, ~LATE] == tiers[:, ~LATE]).all()
    assert forecast[0, -1] > tiers[0, 4]  # it keeps climbing after the cut-off
    assert (forecast[1:] == 0).all()
    assert (trend(tiers, YEARS, ALL) == persistence(tiers, YEARS, ALL)).all()  # nothing before: persistence


def test_rps_of_a_split_forecast_by_hand():
    probs = np.zeros((1, 1, K))
    probs[0, 0, [NONE, COMP]] = 0.5
    assert ranked_probability(probs, np.array([[NONE]]))[0, 0] == pytest.approx(0.25 / (K - 1))
    assert ranked_probability(probs, np.array([[CSP]]))[0, 0] == pytest.approx((0.25 + 1 + 1) / (K - 1))


@given(
    arrays(np.float64, (3, 4, K), elements=st.floats(0, 1)),
    arrays(np.int64, (3, 4), elements=st.integers(0, K - 1)),
)
def test_rps_lies_in_the_unit_interval_and_is_zero_only_for_the_truth(weights, tiers):
    total = weights.sum(-1, keepdims=True)
    probs = np.where(total > 0, weights / np.where(total > 0, total, 1), 1.0 / K)
    rps = ranked_probability(probs, tiers)
    assert ((rps >= -1e-12) & (rps <= 1 + 1e-12)).all()
    assert (ranked_probability(certain(tiers), tiers) == 0).all()
    truth = np.take_along_axis(probs, tiers[..., None], -1)[..., 0]
    assert (truth > 1 - 1e-6)[rps < 1e-14].all()  # a score of zero means the record's tier was certain
    assert (rps[truth == 1.0] < 1e-14).all()


def test_an_upgrade_is_a_rise_so_a_tie_above_the_tier_throughout_never_makes_it():
    tiers = record()
    above = tiers.copy()
    above[2] = CSP  # Russia at the top tier from the start: it never rises to strategic
    s = score(certain(above), tiers, YEARS, ALL)
    assert {u.power: u.forecast for u in s.upgrades if u.power == "RU"} == {"RU": None}


def test_an_early_upgrade_before_the_window_counts_as_early():
    tiers = record()
    early = tiers.copy()
    early[0] = np.where(YEARS >= 2002, COMP, NONE)
    early[0, YEARS >= 2003] = CSP  # the US CSP five years early, before the window opens
    s = score(certain(early), tiers, YEARS, LATE)
    assert {(u.power, u.tier): u.error for u in s.upgrades}[("US", "comprehensive_strategic")] == -5


# -- a rise this year, the constant hazard, skill with intervals ------------------------------------------------


def test_the_hazard_is_the_upgrades_per_power_year_at_risk_by_hand():
    tiers = record()
    h = fit_hazard(tiers, YEARS, ALL)
    # at risk (below CSP the year before), 2001-2010: the US 2001-2008 (8), China never (CSP throughout), Russia
    # 2001-2010 (10); upgrades: the US 2004 (+1) and 2008 (+2), Russia 2006 (+2)
    assert (h.upgrades, h.at_risk, h.rate) == (3, 18, pytest.approx(3 / 18))
    assert h.jumps == pytest.approx((1 / 3, 2 / 3, 0.0)) and h.years == (2001, 2010)  # 2000 has no year before
    # fitted on the in-sample years only: to 2004, one upgrade in 8 power-years at risk (the US 2001-04, Russia)
    early = fit_hazard(tiers, YEARS, ~LATE)
    assert (early.upgrades, early.at_risk, early.jumps) == (1, 8, pytest.approx((1.0, 0.0, 0.0)))


def test_the_hazard_forecast_by_hand():
    tiers = np.zeros((1, 6), dtype=np.int64)
    years, window = np.arange(2000, 2006), np.arange(2000, 2006) >= 2002
    probs, rise = hazard_forecast(tiers, years, window, Hazard(0.5, 1, 2, (1.0, 0.0, 0.0), (2000, 2001)))
    assert (probs[0, :2] == certain(tiers)[0, :2]).all()  # the years before the window are known
    assert probs[0, 2, :3] == pytest.approx([0.5, 0.5, 0.0])  # a year on: half rose one tier
    assert probs[0, 3, :3] == pytest.approx([0.25, 0.5, 0.25])
    assert probs[0, 4, :4] == pytest.approx([0.125, 0.375, 0.375, 0.125])  # the top tier reached in 1 of 8
    assert probs[0, 5, TOP] == pytest.approx(0.125 + 0.375 / 2)  # the top tier stays
    assert rise[0, 2:].tolist() == pytest.approx([0.5, 0.5, 0.5, 0.5 * 7 / 8])  # a tie at the top cannot rise


def test_the_brier_score_on_a_rise_by_hand():
    tiers = np.array([[0, 0, 1, 1]])  # a rise in the third year
    chance = np.array([[0.0, 0.5, 0.5, 0.2]])
    assert rises(tiers).tolist() == [[0, 0, 1, 0]]
    assert brier(chance, tiers)[0].tolist() == pytest.approx([0.0, 0.25, 0.25, 0.04])
    assert brier(chance, tiers)[0, 1:].mean() == pytest.approx(0.18)
    assert path_rises(certain(np.array([[0, 1, 1, 3]]))).tolist() == [[0, 1, 0, 1]]


def test_skill_against_a_baseline_by_hand_with_a_bootstrap_interval():
    losses = {"model": np.array([0.0, 0.1, 0.2, 0.1]), "hazard": np.array([0.2, 0.2, 0.2, 0.2])}
    out = bootstrap(losses, ["hazard"], resamples=500, seed=1)
    assert out["scores"]["model"]["score"] == pytest.approx(0.1)
    assert out["skill"]["hazard"]["skill"] == pytest.approx(1 - 0.1 / 0.2)
    low, high = out["skill"]["hazard"]["interval"]
    assert 0.0 <= low < 0.5 < high <= 1.0  # the model's mean loss over a resample lies within 0 and 0.2
    assert out["scores"]["hazard"]["interval"] == pytest.approx([0.2, 0.2])
    assert out == bootstrap(losses, ["hazard"], resamples=500, seed=1)  # a fixed seed, the same intervals
    never = bootstrap({"model": np.array([0.1, 0.3]), "persistence": np.array([0.0, 1.0])}, ["persistence"], 400, 2)
    assert never["skill"]["persistence"]["skill"] == pytest.approx(1 - 0.2 / 0.5)
    assert 50 < never["skill"]["persistence"]["undefined"] < 150  # both draws on the perfect year: a quarter


def test_the_trend_is_fitted_from_the_year_given():
    tiers = np.zeros((3, len(YEARS)), dtype=np.int64)
    tiers[0, YEARS <= 2001] = TIERS.index("alliance")  # a fall, then flat: a line through it keeps falling
    assert trend(tiers, YEARS, LATE)[0, -1].argmax() == 0  # clipped at none
    through = np.polyfit(YEARS[:5], tiers[0, :5].astype(float), 1)[0]
    assert through < 0
    flat = trend(tiers, YEARS, LATE, since=2002).argmax(-1)
    assert (flat[:, LATE] == 0).all() and (flat[:, ~LATE] == tiers[:, ~LATE]).all()
    rising = record()
    assert (
        trend(rising, YEARS, LATE, since=2004)[2].argmax(-1).tolist()
        == trend(rising, YEARS, LATE)[2].argmax(-1).tolist()
    )  # Russia none to 2005 either way: a flat line
    assert (trend(rising, YEARS, LATE, since=2004) == persistence(rising, YEARS, LATE)).all()  # one year: persistence
