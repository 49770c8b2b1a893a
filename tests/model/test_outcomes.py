"""Outcomes (sim.model.outcomes): failure conditions, judged on ties and on what the powers do, and a verdict
that counts only failures that last (docs/ODD.md 7.8)."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from sim import EVENT_TYPES, BalanceModel
from sim.model.outcomes import Failure, Verdict, conditions, tier
from sim.model.params import DIMENSIONS, POWERS, TIERS, load_parameters
from sim.model.world import World

NP, ND = len(POWERS), len(DIMENSIONS)


@pytest.fixture(scope="module")
def scalars():
    return World.assemble(load_parameters().draw(np.arange(4, dtype=np.uint64), None)).scalars


def calm(n=4):
    """Arrays for a run in no failure condition: mid-band ties, secure, uncoerced."""
    return np.full((n, NP), 0.65), np.full((n, ND), 0.6), np.full(n, 0.2), np.zeros((n, NP))


# -- conditions -----------------------------------------------------------------------------


def failures(*args):
    return conditions(*args)[0]


def test_a_calm_run_is_in_no_condition(scalars):
    now, coerced = conditions(*calm(), scalars)
    assert set(now) == {Failure.BANDWAGONING, Failure.DROPPED_PARTNER, Failure.ISOLATION}
    assert not any(v.any() for v in now.values()) and not coerced.any()


def test_a_tie_at_the_alliance_line_is_bandwagoning(scalars):
    a, s, alone, k = calm()
    a[:, 0] = scalars["alliance"]
    assert failures(a, s, alone, k, scalars)[Failure.BANDWAGONING].all()


def test_one_tie_a_siding_gap_above_another_is_bandwagoning(scalars):
    """The Four No's: no siding with one country against another. Vietnam's own act, judged on its ties."""
    a, s, alone, k = calm()
    a[:, 1] = a[:, 0] - scalars["siding"]  # the gap itself: the hedger's moves may reach it
    assert not failures(a, s, alone, k, scalars)[Failure.BANDWAGONING].any()
    a[:, 1] -= 1e-6
    assert failures(a, s, alone, k, scalars)[Failure.BANDWAGONING].all()


def test_a_rival_coercing_past_the_line_is_coercion_not_bandwagoning(scalars):
    """The powers' doing is reported apart: Vietnam may be the more secure for the risk it runs (004)."""
    a, s, alone, k = calm()
    k[:, 1] = scalars["coercion"]
    now, coerced = conditions(a, s, alone, k, scalars)
    assert coerced.all() and not now[Failure.BANDWAGONING].any()
    k[:, 1] = np.nextafter(scalars["coercion"], 0)
    assert not conditions(a, s, alone, k, scalars)[1].any()


def test_a_tie_below_the_lowest_tier_is_a_dropped_partner(scalars):
    a, s, alone, k = calm()
    a[:, 2] = np.nextafter(scalars["comprehensive"], 0)
    assert failures(a, s, alone, k, scalars)[Failure.DROPPED_PARTNER].all()


def test_isolation_is_partners_adding_next_to_nothing(scalars):
    a, s, alone, k = calm()
    alone = s.mean(axis=1) - scalars["isolation"] + 1e-9
    assert failures(a, s, alone, k, scalars)[Failure.ISOLATION].all()
    alone = s.mean(axis=1) - scalars["isolation"] - 1e-9
    assert not failures(a, s, alone, k, scalars)[Failure.ISOLATION].any()


def test_coercion_that_lasts_is_recorded_and_dated_but_fails_nothing():
    v = Verdict(1)
    quiet = {f: np.array([False]) for f in (Failure.BANDWAGONING, Failure.DROPPED_PARTNER, Failure.ISOLATION)}
    for step, now in enumerate("..xxx.xxxx.."):
        v.update(step, quiet, np.array([4.0]), np.array([now == "x"]))
    assert v.coerced[0] and v.coerced_step[0] == 6 and v.survived[0]


def test_tier_bands(scalars):
    for i, name in enumerate(TIERS[1:], start=1):
        at = np.broadcast_to(scalars[name][:, None], (4, 3)).copy()
        assert np.all(tier(at, scalars) == i) and np.all(tier(np.nextafter(at, -1), scalars) == i - 1)


# -- the verdict: a failure is a condition that lasts -----------------------------------------


def spells(pattern: str, mode=Failure.ISOLATION, persistence=4) -> Verdict:
    """Feed a one-run verdict a condition pattern such as '..xxx.xxxx' (x: the condition holds)."""
    v = Verdict(1)
    for t, c in enumerate(pattern):
        now = {f: np.array([f == mode and c == "x"]) for f in Failure if f}
        v.update(t, now, np.array([persistence]))
    return v


def test_a_dip_shorter_than_the_persistence_is_not_a_failure():
    assert spells("..xxx..xxx...").survived.all()


def test_a_lasting_condition_fails_dated_to_its_start():
    v = spells("..xxx.xxxx...")
    assert v.mode[0] == Failure.ISOLATION and v.step[0] == 6


def test_recovery_is_reported():
    assert spells("xxxxx...").recovered.all()
    assert not spells("...xxxxxxx").recovered.any()
    assert not spells("........").recovered.any()  # never failed: nothing to recover from


def test_the_first_failure_is_final_for_the_verdict():
    v = spells("xxxx....xxxxxx")
    assert v.step[0] == 0


@given(st.text(alphabet=".x", max_size=40), st.integers(1, 8))
def test_failed_exactly_when_some_spell_lasts(pattern, persistence):
    v = spells(pattern, persistence=persistence)
    longest = max((len(run) for run in pattern.split(".")), default=0)
    assert v.survived[0] == (longest < persistence)


def test_the_worse_condition_names_a_failure_found_at_once():
    v = Verdict(1)
    both = {Failure.BANDWAGONING: np.array([True]), Failure.DROPPED_PARTNER: np.array([True])}
    both[Failure.ISOLATION] = np.array([False])
    for t in range(4):
        v.update(t, both, np.array([4.0]))
    assert v.mode[0] == Failure.BANDWAGONING


def test_shares_sum_to_one():
    v = Verdict(3)
    v.mode[:] = [0, 1, 3]
    shares = v.shares()
    assert sum(shares.values()) == pytest.approx(1.0) and shares["survived"] == pytest.approx(1 / 3)


# -- in the model -----------------------------------------------------------------------------


def test_a_transient_crisis_is_not_recorded_as_a_permanent_failure():
    """The earlier verdict took one quarter below the line for a failure (issue: the perfect storm's dip)."""
    cut = [
        EVENT_TYPES["shock"]("2026-01", until="2026-07", path=f"powers.{p}.supply.{d}", value=0.0, mode="set")
        for p in POWERS
        for d in DIMENSIONS
    ]
    short = BalanceModel(runs=50, rng=1, events=cut)
    short.run_for(40)
    assert short.survival_probability() == 1.0
    lasting = [
        EVENT_TYPES["shock"]("2026-01", path=f"powers.{p}.supply.{d}", value=0.0, mode="set")
        for p in POWERS
        for d in DIMENSIONS
    ]
    long = BalanceModel(runs=50, rng=1, events=lasting)
    long.run_for(40)
    assert long.failure_modes()["isolation"] == 1.0
    assert np.all(long.verdict.step == long.calendar.step_of(long.calendar.date(0).plus(6)) + 1)


def test_satisfaction_alone_is_what_vietnams_own_means_give():
    m = BalanceModel(runs=4, rng=1)
    np.testing.assert_allclose(m.satisfaction_alone(), m.situation.satisfaction(np.zeros((4, NP))).mean(axis=1))
