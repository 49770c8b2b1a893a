"""Every event type moves the world in its documented direction (sim/model/events.py, docs/ODD.md 6).

Directions are stated here independently of the implementation: for each
event, which attributes rise or fall once it is in force, and which outcome
moves which way, against the same model without the event (same seed, so
the same noise: common random numbers).
"""

import numpy as np
import pytest

from sim import EVENT_TYPES, BalanceModel
from sim.model.params import DIMENSIONS, POWERS

US, CN, RU = range(3)
REG, TER, PRO = range(3)
RUNS, SEED = 200, 11


def world_attr(name, *index):
    return lambda m: getattr(m.world, name)[(slice(None), *index)]


def scalar(name):
    return lambda m: m.world.scalars[name]


def supply_eff(p, d):
    return lambda m: m.great_powers[p].supply()[:, d]


def state(name, p):
    return lambda m: getattr(m, name)[:, p]


def alignment(p):
    return lambda m: m.hedger.alignment[:, p]


def tier(p):
    return lambda m: m.hedger.tier[:, p].astype(float)


def satisfaction(d):
    return lambda m: m.satisfaction[:, d]


# event, its keyword arguments, attribute directions once in force, outcome directions after `steps`
CASES = {
    "sanctions": (
        {"actor": "US", "target": "RU"},
        [(world_attr("reach", RU), -1), (world_attr("supply", RU, TER), -1), (world_attr("interest", RU), +1)],
        [(alignment(RU), -1)],
    ),
    "secondary_sanctions": (
        {"actor": "US", "target": "RU"},
        [(world_attr("tie_cost", RU), +1), (world_attr("supply", RU, TER), -1), (world_attr("tolerance", US, RU), -1)],
        [(alignment(RU), -1)],
    ),
    "tariff": (
        {"actor": "US"},
        [(world_attr("supply", US, PRO), -1), (world_attr("reliability", US), -1)],
        [(alignment(US), -1), (satisfaction(PRO), -1)],
    ),
    "maritime_incident": (
        {"actor": "CN", "until": "2027-07"},
        [(world_attr("threat", CN, TER), +1), (world_attr("demand", TER), +1), (world_attr("reliability", CN), -1)],
        [(alignment(US), +1), (satisfaction(TER), -1)],
    ),
    "border_closure": (
        {"actor": "CN", "until": "2027-07"},
        [(world_attr("supply", CN, PRO), -1)],
        [(satisfaction(PRO), -1)],
    ),
    "rapprochement": (
        {"actor": "RU", "target": "CN"},
        [(scalar("russia_china_closeness"), +1), (scalar("deference"), +1), (supply_eff(RU, TER), -1)],
        [(alignment(RU), -1)],
    ),
    "war_drain": (
        {"actor": "RU"},
        [(world_attr("supply", RU, TER), -1), (world_attr("reliability", RU), -1), (world_attr("tie_cost", RU), +1)],
        [(alignment(RU), -1)],
    ),
    "summit": (
        {"actor": "RU"},
        [(state("courtship", RU), +1), (alignment(RU), +1)],
        [(alignment(RU), +1)],
    ),
    "treaty_ends": (
        {"actor": "RU"},
        [(tier(RU), -1)],
        [(alignment(RU), -1)],  # no commitment holds the tie up any more
    ),
    "walk_away": (
        {"actor": "US"},
        [(world_attr("withdrawal", US), +1), (state("engagement", US), -1)],
        [(alignment(US), -1)],
    ),
    "unreliability": (
        {"actor": "US"},
        [(world_attr("reliability", US), -1)],
        [(alignment(US), -1)],
    ),
    "arms_diversification": (
        {"actor": "US"},
        [(world_attr("supply", US, TER), +1)],
        [(satisfaction(TER), +1)],
    ),
    "competition": (
        {"actor": "US", "target": "CN"},
        [
            (world_attr("tolerance", US, CN), -1),
            (world_attr("tolerance", CN, US), -1),
            (world_attr("rivalry", US, CN), +1),
        ],
        [(alignment(CN), -1), (state("coercion", US), +1)],  # the US's line now lies below the China tie of 2025
    ),
    "shock": (
        {"path": "powers.CN.supply.prosperity", "value": -0.5},
        [(world_attr("supply", CN, PRO), -1)],
        [(satisfaction(PRO), -1)],
    ),
}


def test_every_registered_event_has_a_direction_test():
    assert set(CASES) == set(EVENT_TYPES)


def pair(name, kwargs, steps):
    event = EVENT_TYPES[name]("2025-07", magnitude=1.0, **kwargs)
    with_event = BalanceModel(runs=RUNS, rng=SEED, events=[event])
    without = BalanceModel(runs=RUNS, rng=SEED)
    with_event.run_for(steps)
    without.run_for(steps)
    return with_event, without


def assert_directions(name, checks, steps, tolerance):
    kwargs = CASES[name][0]
    with_event, without = pair(name, kwargs, steps)
    for get, sign in checks:
        delta = np.mean(get(with_event) - get(without))
        assert sign * delta > tolerance, f"{name}: expected sign {sign:+d}, got change {delta:+.4f}"


@pytest.mark.parametrize("name", sorted(CASES))
def test_event_moves_attributes_in_documented_direction(name):
    assert_directions(name, CASES[name][1], steps=1, tolerance=1e-6)


@pytest.mark.parametrize("name", sorted(CASES))
def test_event_moves_outcomes_in_documented_direction(name):
    assert_directions(name, CASES[name][2], steps=8, tolerance=1e-4)


def test_temporary_events_wear_off():
    """A border closure ends and fades (half-life one quarter); then China's supply is back at baseline."""
    fading, without = pair("border_closure", {"actor": "CN", "until": "2026-01"}, steps=6)
    gap = without.world.supply[:, CN, PRO] - fading.world.supply[:, CN, PRO]
    assert np.all(gap > 0) and np.all(gap < 0.05)  # ended two quarters ago, a quarter of the cut remains
    ended, without = pair("border_closure", {"actor": "CN", "until": "2026-01"}, steps=30)
    assert np.array_equal(ended.world.supply[:, CN, PRO], without.world.supply[:, CN, PRO])
    assert ended.shocks == []


def test_magnitude_scales_the_effect():
    small = BalanceModel(runs=4, rng=1, events=[EVENT_TYPES["tariff"]("2025-07", magnitude=0.2)])
    large = BalanceModel(runs=4, rng=1, events=[EVENT_TYPES["tariff"]("2025-07", magnitude=0.8)])
    base = BalanceModel(runs=4, rng=1)
    for m in (small, large, base):
        m.run_for(1)
    drop_small = base.world.supply[:, US, PRO] - small.world.supply[:, US, PRO]
    drop_large = base.world.supply[:, US, PRO] - large.world.supply[:, US, PRO]
    assert np.allclose(drop_large, 4 * drop_small)


def test_dimensions_and_powers_order_is_what_the_tests_assume():
    assert POWERS == ("US", "CN", "RU") and DIMENSIONS == ("regime", "territory", "prosperity")


def test_set_shock_moves_its_magnitude_share_of_the_way():
    def reach_after(magnitude):
        shock = EVENT_TYPES["shock"]("2025-07", path="powers.RU.reach", value=0.05, mode="set", magnitude=magnitude)
        m = BalanceModel(runs=2, rng=1, events=[shock])
        m.run_for(1)
        return m.world.reach[:, RU]

    base = BalanceModel(runs=2, rng=1).world.reach[:, RU]
    assert np.allclose(reach_after(1.0), 0.05)
    assert np.allclose(reach_after(0.5), base + 0.5 * (0.05 - base))
    assert np.allclose(reach_after(0.0), base)
