"""Tiers as decisions (docs/ODD.md 7.6): an upgrade that falls due names the tier Vietnam values most.

The record has upgrades that skip a tier (the US from comprehensive partnership to CSP in 2023, 002). A tie that
has pressed at its tier's ceiling long enough is upgraded to the tier whose floor Vietnam values most, weighed as it
weighs any move, its rivals' displeasure as it believes their lines included. Each test sets the beliefs so that
the cause is present or absent, and the ablation (one tier at a time) takes the skip away.
"""

import numpy as np
import pytest

from sim import BalanceModel
from sim.model.agents import Hedger
from sim.model.params import load_parameters

US = 0
NONE, COMPREHENSIVE, CSP, ALLIANCE = 0, 1, 3, 4
RUNS, SEED, QUARTERS = 200, 5, 16
AT_NONE = {"hedger.tier.US": NONE, "hedger.alignment.US": 0.19}  # the US tie just under its tier's ceiling
AT_COMPREHENSIVE = {"hedger.tier.US": COMPREHENSIVE, "hedger.alignment.US": 0.39}


def first_upgrade(start, belief=None, **overrides):
    """The US tier after its first change in each run, and the tier it started at."""
    params = load_parameters().with_overrides({"behaviour.tolerance_volatility": 0.0, **start, **overrides})
    m = BalanceModel(runs=RUNS, rng=SEED, parameters=params)
    if belief is not None:
        m.hedger.belief[:] = belief  # what Vietnam believes each power bears of each tie
    m.run_for(QUARTERS)
    tier = m.trajectories()["tier"][:, :, US]
    changed = tier != tier[0]
    assert changed.any(axis=0).all(), "every run's US tie presses and is upgraded within four years"
    return tier[np.argmax(changed, axis=0), np.arange(RUNS)], tier[0]


@pytest.mark.parametrize("start", [AT_NONE, AT_COMPREHENSIVE])
def test_where_vietnam_believes_no_rival_objects_an_upgrade_names_the_csp(start):
    named, before = first_upgrade(start, belief=1.0)
    assert (before < CSP - 1).all()  # the CSP is more than one tier away
    assert (named == CSP).all()


def test_one_tier_at_a_time_without_the_decision(monkeypatch):
    """The ablation: an upgrade that only ever goes one tier up cannot make the record's skips."""
    monkeypatch.setattr(Hedger, "leaps", lambda self, situation, step, choice: np.zeros(self.tier.shape, np.int64))
    named, before = first_upgrade(AT_NONE, belief=1.0)
    assert (named == before + 1).all()


def test_where_vietnam_expects_a_rival_s_displeasure_the_upgrade_goes_one_tier():
    """Its beliefs as they start (the ties and a step beyond): a deeper tier would cross a rival's line."""
    named, before = first_upgrade(AT_NONE)
    assert (named == before + 1).all()


def test_no_named_tier_is_an_alliance_while_the_four_nos_hold():
    """The same Vietnam that names the CSP under the Four No's names an alliance where they are relaxed."""
    held, _ = first_upgrade(AT_COMPREHENSIVE, belief=1.0)
    relaxed, _ = first_upgrade(AT_COMPREHENSIVE, belief=1.0, **{"hedger.four_nos": 0})
    assert (held == CSP).all()
    assert (relaxed == ALLIANCE).all()
