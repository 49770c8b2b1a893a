"""A standing rise in China's threat at sea pushes Vietnam toward the US more than toward China (docs/ODD.md 7.3).

Fact 4 of MODEL.md for assertiveness that stays rather than an incident that passes: with engagement managing
only the threat Vietnam already lives with (``world.manageable_threat``), a bigger threat is no bigger reward
for engaging China, and the US, which supplies what the threat puts at risk, gains more. With the cap off
(the earlier rule, engagement taming a share of any threat) Vietnam drifted toward the threatening power.
"""

import numpy as np

from sim.model.balance import BalanceModel
from sim.model.domain import POWERS
from sim.model.events import Shock

US, CN = POWERS.index("US"), POWERS.index("CN")
RUNS, STEPS = 200, 40
RISE = "powers.CN.threat.territory"


def rise_in_each_tie(manageable: float | None = None) -> np.ndarray:
    """Mean change of each tie over years 2-10 with China's territorial threat set to 0.9 for good, less without."""
    values = {} if manageable is None else {"world.manageable_threat": np.full(RUNS, manageable)}
    means = []
    for standing in (False, True):
        model = BalanceModel(runs=RUNS, rng=7, horizon=STEPS, values=values)
        if standing:
            model.add_shock(Shock(RISE, np.full(RUNS, 0.9), start=0, mode="set"))  # no end: it stays
        model.run_for(STEPS)
        means.append(model.trajectories()["alignment"][4:].mean(axis=(0, 1)))
    return means[1] - means[0]


def test_with_the_rule_a_standing_threat_raises_the_us_tie_more_than_chinas():
    rise = rise_in_each_tie()  # the default: engagement manages a little more than China's threat of mid-2025
    assert rise[US] >= 0.01 and rise[US] > rise[CN], rise


def test_without_the_rule_vietnam_drifts_toward_the_threatening_power():
    rise = rise_in_each_tie(10.0)  # no standing threat beyond what engagement manages: the earlier rule
    assert rise[CN] > rise[US], rise


def test_a_crisis_that_passes_is_tamed_as_before_and_a_rise_that_stays_is_not():
    """Through the model, not a Situation built by hand: which shocks count as standing is the model's to say.

    The same rise in China's territorial threat (to 0.9), once as a shock that ends (a crisis) and once as one
    that stays: while the crisis lasts engagement tames it as before (the enmeshment is the World's), while the
    standing rise beyond the manageable level is not tamed (the enmeshment is lower on it).
    """
    tamed = []
    for end in (8, None):
        model = BalanceModel(runs=RUNS, rng=7, horizon=STEPS)
        model.add_shock(Shock(RISE, np.full(RUNS, 0.9), start=0, end=end, mode="set"))
        model.run_for(2)
        tamed.append(model.hedger.situation.enmeshment[:, CN, 1] - model.world.enmeshment[:, CN, 1])
    crisis, standing = tamed
    assert np.array_equal(crisis, np.zeros(RUNS))
    assert (standing < 0).all()
