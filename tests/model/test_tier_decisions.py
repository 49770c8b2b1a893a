"""Tiers as decisions (docs/ODD.md 7.6): an upgrade that falls due names the tier Vietnam values most.

The record has upgrades that skip a tier (the US from comprehensive partnership to CSP in 2023, 002). A tie that
has pressed at its tier's ceiling long enough is upgraded to the tier it values most among those whose rupture
line it already reaches, weighed as any move, its rivals' displeasure as it believes their lines included. Each
test sets the beliefs or the costs so that the cause is present or absent; the ablation (one tier at a time)
takes the skip away.
"""

import numpy as np
import pytest

from sim import BalanceModel
from sim.model.agents import Hedger
from sim.model.params import load_parameters

US = 0
NONE, COMPREHENSIVE, STRATEGIC, CSP, ALLIANCE = 0, 1, 2, 3, 4
RUNS, SEED, QUARTERS = 200, 5, 16
AT_NONE = {"hedger.tier.US": NONE, "hedger.alignment.US": 0.19}  # the US tie just under its tier's ceiling
AT_COMPREHENSIVE = {"hedger.tier.US": COMPREHENSIVE, "hedger.alignment.US": 0.39}
AT_STRATEGIC = {"hedger.tier.US": STRATEGIC, "hedger.alignment.US": 0.59}


def first_upgrade(start, belief=None, strategy="hedge", **overrides):
    """The US tier after its first change in each run, and the tier it started at."""
    params = load_parameters().with_overrides({"behaviour.tolerance_volatility": 0.0, **start, **overrides})
    m = BalanceModel(runs=RUNS, rng=SEED, parameters=params, strategy=strategy)
    if belief is not None:
        m.hedger.belief[:] = belief  # what Vietnam believes each power bears of each tie
    m.run_for(QUARTERS)
    tier = m.trajectories()["tier"][:, :, US]
    changed = tier != tier[0]
    assert changed.any(axis=0).all(), "every run's US tie presses and is upgraded within four years"
    return tier[np.argmax(changed, axis=0), np.arange(RUNS)], tier[0]


@pytest.mark.parametrize(("start", "skipped_to"), [(AT_NONE, STRATEGIC), (AT_COMPREHENSIVE, CSP)])
def test_where_vietnam_believes_no_rival_objects_an_upgrade_skips_a_tier(start, skipped_to):
    """From none to a strategic partnership (Russia, 2001), from a comprehensive partnership to a CSP (the US, 2023).

    Never further than the tiers whose rupture line the tie reaches: from none (a tie at 0.2) not to the CSP,
    whose rupture line is 0.4, however much the CSP would be worth.
    """
    named, before = first_upgrade(start, belief=1.0)
    assert (named == before + 2).all() and (named == skipped_to).all()


def test_one_tier_at_a_time_without_the_decision(monkeypatch):
    """The ablation: an upgrade that only ever goes one tier up cannot make the record's skips."""
    monkeypatch.setattr(Hedger, "leaps", lambda self, situation, step, choice: np.zeros(self.tier.shape, np.int64))
    named, before = first_upgrade(AT_COMPREHENSIVE, belief=1.0)
    assert (named == before + 1).all()


def test_a_strategy_that_weighs_nothing_takes_the_next_tier():
    named, before = first_upgrade(AT_COMPREHENSIVE, belief=1.0, strategy="align:US")
    assert (named == before + 1).all()


def test_the_displeasure_vietnam_expects_holds_the_upgrade_to_one_tier():
    """Its beliefs as they start (the ties and a step beyond): a deeper tier would cross a rival's line.

    The cause: with the displeasure it expects weighing nothing, the same Vietnam skips the tier.
    """
    held, before = first_upgrade(AT_COMPREHENSIVE)
    free, _ = first_upgrade(AT_COMPREHENSIVE, **{"behaviour.displeasure_cost": 0.0})
    assert (held == before + 1).all()
    assert (free == CSP).all()


def test_no_named_tier_is_an_alliance_while_the_four_nos_hold():
    """The same Vietnam that takes the CSP under the Four No's names an alliance where they are relaxed.

    A US that supplies all it can, a tie at the strategic partnership's ceiling: deeper is worth it.
    """
    rich = {"powers.US.supply.territory": 1.0, "powers.US.supply.prosperity": 1.0, "powers.US.reliability": 1.0}
    held, _ = first_upgrade(AT_STRATEGIC, belief=1.0, **rich)
    relaxed, _ = first_upgrade(AT_STRATEGIC, belief=1.0, **rich, **{"hedger.four_nos": 0})
    assert (held == CSP).all()
    assert (relaxed == ALLIANCE).all()
