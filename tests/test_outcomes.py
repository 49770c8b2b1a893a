"""Outcomes (sim.outcomes): partnership tiers, failure modes and the survival verdict."""

import numpy as np
import pytest

from sim.outcomes import TIERS, Failure, Verdict, failure_now, tier
from sim.params import World, load_parameters

N_DIMS = 3


@pytest.fixture(scope="module")
def scalars():
    params = load_parameters()
    return World.assemble(params.draw(np.arange(4, dtype=np.uint64), None)).scalars


# -- tiers ----------------------------------------------------------------------


def test_tier_names_and_order(scalars):
    assert TIERS[0] == "none"
    assert TIERS[-1] == "alliance"
    limits = [scalars[name][0] for name in TIERS[1:]]
    assert limits == sorted(limits)
    assert len(set(limits)) == len(limits)


@pytest.mark.parametrize("index", range(1, len(TIERS)))
def test_thresholds_map_to_tiers(scalars, index):
    name = TIERS[index]
    limit = scalars[name][:, None]
    at = np.broadcast_to(limit, (4, 3)).copy()
    below = np.nextafter(at, -np.inf)
    assert np.all(tier(at, scalars) == index)
    assert [TIERS[t] for t in tier(at, scalars)[0]] == [name] * 3
    assert np.all(tier(below, scalars) == index - 1)


def test_extremes(scalars):
    assert np.all(tier(np.zeros((4, 3)), scalars) == 0)
    assert np.all(tier(np.ones((4, 3)), scalars) == len(TIERS) - 1)


def test_tier_is_monotone_in_alignment(scalars):
    grid = np.linspace(0, 1, 201)
    a = np.broadcast_to(grid, (4, grid.size))
    t = tier(a, scalars)
    assert np.all(np.diff(t, axis=1) >= 0)
    assert set(np.unique(t)) == set(range(len(TIERS)))


def test_tier_thresholds_are_per_run():
    scalars = {name: np.array([0.1, 0.5]) for name in TIERS[1:]}
    scalars["alliance"] = np.array([0.9, 0.95])
    a = np.array([[0.3], [0.3]])
    assert tier(a, scalars)[:, 0].tolist() == [3, 0]


def test_tier_works_on_trajectory_shaped_arrays(scalars):
    """(runs, time, powers): thresholds broadcast over the trailing axes."""
    a = np.random.default_rng(0).random((4, 6, 3))
    t = tier(a, scalars)
    assert t.shape == a.shape
    for i in range(6):
        np.testing.assert_array_equal(t[:, i], tier(a[:, i], scalars))


# -- failure_now ---------------------------------------------------------------


def healthy(scalars):
    """Alignment inside the tiers and comfortable satisfaction."""
    mid = (scalars["comprehensive"] + scalars["alliance"]) / 2
    a = np.repeat(mid[:, None], 3, axis=1)
    s = np.repeat(np.minimum(scalars["isolation"] + 0.3, 1.0)[:, None], N_DIMS, axis=1)
    return a, s


def test_no_failure_when_healthy(scalars):
    a, s = healthy(scalars)
    np.testing.assert_array_equal(failure_now(a, s, scalars), Failure.NONE)


def test_each_failure_alone(scalars):
    a, s = healthy(scalars)
    dropped = a.copy()
    dropped[:, 2] = np.nextafter(scalars["comprehensive"], -np.inf)
    np.testing.assert_array_equal(failure_now(dropped, s, scalars), Failure.DROPPED_PARTNER)
    bandwagon = a.copy()
    bandwagon[:, 0] = scalars["alliance"]
    np.testing.assert_array_equal(failure_now(bandwagon, s, scalars), Failure.BANDWAGONING)
    isolated = np.repeat(np.nextafter(scalars["isolation"], -np.inf)[:, None], N_DIMS, axis=1)
    np.testing.assert_array_equal(failure_now(a, isolated, scalars), Failure.ISOLATION)
    # right at the lowest tier and right at the isolation line are not failures
    at_line = a.copy()
    at_line[:, 2] = scalars["comprehensive"]
    np.testing.assert_array_equal(failure_now(at_line, s, scalars), Failure.NONE)
    on_line = np.repeat(scalars["isolation"][:, None], N_DIMS, axis=1)
    np.testing.assert_array_equal(failure_now(a, on_line, scalars), Failure.NONE)


def test_isolation_uses_mean_satisfaction(scalars):
    a, _ = healthy(scalars)
    line = scalars["isolation"][:, None]
    # one dimension at zero, others high enough that the mean clears the line
    s = np.hstack([np.zeros_like(line), np.full_like(line, 1.0), np.full_like(line, 1.0)])
    np.testing.assert_array_equal(failure_now(a, s, scalars), Failure.NONE)


def test_precedence_isolation_bandwagoning_dropped(scalars):
    a, s = healthy(scalars)
    low_s = np.zeros_like(s)
    both = a.copy()
    both[:, 0] = 1.0  # crosses the alliance line
    both[:, 1] = 0.0  # drops below the lowest tier
    np.testing.assert_array_equal(failure_now(both, low_s, scalars), Failure.ISOLATION)
    np.testing.assert_array_equal(failure_now(both, s, scalars), Failure.BANDWAGONING)
    dropped_and_isolated = a.copy()
    dropped_and_isolated[:, 1] = 0.0
    np.testing.assert_array_equal(failure_now(dropped_and_isolated, low_s, scalars), Failure.ISOLATION)
    bandwagon_and_isolated = a.copy()
    bandwagon_and_isolated[:, 0] = 1.0
    np.testing.assert_array_equal(failure_now(bandwagon_and_isolated, low_s, scalars), Failure.ISOLATION)


def test_failure_is_per_run(scalars):
    a, s = healthy(scalars)
    a[1, 0] = 1.0
    a[2, 1] = 0.0
    s[3] = 0.0
    assert failure_now(a, s, scalars).tolist() == [
        Failure.NONE,
        Failure.BANDWAGONING,
        Failure.DROPPED_PARTNER,
        Failure.ISOLATION,
    ]


def test_failure_labels():
    assert [f.label for f in Failure] == ["none", "bandwagoning", "dropped_partner", "isolation"]


# -- Verdict -------------------------------------------------------------------


def test_fresh_verdict_survives():
    v = Verdict(5)
    assert v.survived.all()
    assert np.all(v.step == -1)
    assert v.shares()["survived"] == 1.0


def test_first_failure_is_absorbing_and_its_step_recorded():
    v = Verdict(4)
    N, B, D, I = Failure.NONE, Failure.BANDWAGONING, Failure.DROPPED_PARTNER, Failure.ISOLATION  # noqa: E741
    sequence = [
        [N, N, N, N],
        [N, D, N, N],
        [N, I, B, N],  # run 1 already failed: stays dropped
        [N, N, N, N],  # recovering does not undo a failure
        [N, B, D, I],
    ]
    for step, modes in enumerate(sequence):
        v.update(step, np.array(modes, dtype=np.int8))
    assert v.mode.tolist() == [N, D, B, I]
    assert v.step.tolist() == [-1, 1, 2, 4]
    assert v.survived.tolist() == [True, False, False, False]


def test_update_does_not_keep_a_reference_to_its_input():
    v = Verdict(2)
    modes = np.array([Failure.ISOLATION, Failure.NONE], dtype=np.int8)
    v.update(3, modes)
    modes[:] = Failure.BANDWAGONING
    assert v.mode.tolist() == [Failure.ISOLATION, Failure.NONE]


@pytest.mark.parametrize("seed", range(5))
def test_shares_sum_to_one_and_match_counts(seed):
    g = np.random.default_rng(seed)
    runs = int(g.integers(1, 300))
    v = Verdict(runs)
    for step in range(10):
        mode = g.choice(len(Failure), size=runs, p=[0.9, 0.03, 0.04, 0.03]).astype(np.int8)
        v.update(step, mode)
    shares = v.shares()
    assert set(shares) == {"survived", "bandwagoning", "dropped_partner", "isolation"}
    assert sum(shares.values()) == pytest.approx(1.0, abs=1e-12)
    assert all(0.0 <= x <= 1.0 for x in shares.values())
    for f in Failure:
        key = "survived" if f == Failure.NONE else f.label
        assert shares[key] == pytest.approx(np.sum(v.mode == f) / runs)
