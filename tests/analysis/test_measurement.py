"""The measurement from the model's steps to the record's years."""

from __future__ import annotations

import numpy as np
import pytest

from sim.analysis.measurement import median_by_year, tier_distribution, year_end_steps
from sim.model.calendar import Calendar, Month
from sim.model.params import TIERS

CAL = Calendar(Month(1986, 1), 3)


def test_a_year_ends_at_the_first_step_of_the_next_january():
    years = np.array([1984, 1985, 1986, 1987, 2025])
    # 1985 ends at the start (the initial state); 1986 at 1987-01 (step 4); 2025 at 2026-01 (step 160)
    assert year_end_steps(CAL, years, recorded=161).tolist() == [-1, 0, 4, 8, 160]
    assert year_end_steps(CAL, years, recorded=100).tolist() == [-1, 0, 4, 8, -1]
    mid = Calendar(Month(1986, 7), 3)  # a start in July: 1986 ends two steps in
    assert year_end_steps(mid, np.array([1986]), recorded=10).tolist() == [2]


def test_tier_shares_count_the_runs_and_sum_to_one():
    steps, runs = 9, 4
    tier = np.zeros((steps, runs, 3), dtype=np.int64)
    tier[4:, :2, 0] = 1  # two runs of four upgrade the first tie during 1986
    tier[8:, :, 0] = 3
    probs = tier_distribution(tier, CAL, np.array([1986, 1987, 1988]))
    assert probs.shape == (3, 3, len(TIERS))
    assert probs[0, 0].tolist() == [0.5, 0.5, 0, 0, 0]
    assert probs[0, 1].tolist() == [0, 0, 0, 1, 0]
    assert np.isnan(probs[:, 2]).all()  # 1988 was not simulated
    assert np.allclose(probs[:, :2].sum(-1), 1.0)


def test_medians_by_year():
    x = np.arange(9 * 3 * 3, dtype=float).reshape(9, 3, 3)
    out = median_by_year(x, CAL, np.array([1986]))
    assert out[:, 0] == pytest.approx(np.median(x[4], axis=0))


def test_the_arms_share_is_russias_share_of_the_territorial_security_delivered():
    from sim.analysis.measurement import arms_share
    from sim.model.balance import BalanceModel
    from sim.model.params import POWERS

    model = BalanceModel(runs=3, rng=1, values={"powers.US.supply.territory": np.zeros(3)})
    model.run_for(1)
    assert np.allclose(arms_share(model, "RU"), 1.0)  # China supplies none on territory, the US none here
    model = BalanceModel(runs=3, rng=1)
    model.run_for(1)
    sit, a = model.situation, model.hedger.alignment
    ru, us = (
        a[:, POWERS.index(p)]
        * model.world.reach[:, POWERS.index(p)]
        * sit.trust[:, POWERS.index(p)]
        * sit.supply[:, POWERS.index(p), 1]
        for p in ("RU", "US")
    )
    assert np.allclose(arms_share(model, "RU"), ru / (ru + us))


def test_period_means_average_the_quarters_of_the_periods_years():
    from sim.analysis.measurement import period_means

    x = np.arange(9 * 2, dtype=float).reshape(9, 2)  # steps 0-8 from 1986-01: 1986 is steps 0-3, 1987 steps 4-7
    x[0] = np.nan
    assert period_means(x, CAL, [(1986, 1986), (1987, 1987), (1990, 1991)]) == {
        (1986, 1986): pytest.approx(np.mean(x[1:4])),
        (1987, 1987): pytest.approx(np.mean(x[4:8])),
    }
