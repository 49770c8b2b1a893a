"""Invariants of BalanceModel over random seeds, ensemble sizes, uncertainty and horizons."""

import mesa
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim import BalanceModel, load_parameters
from sim.model.params import DIMENSIONS, POWERS

US = POWERS.index("US")
PARAMS = load_parameters()
ALLIANCE = PARAMS.value("thresholds.alliance")

seeds = st.integers(0, 2**32 - 1)
run_counts = st.integers(1, 20)
horizons = st.integers(1, 12)


def simulate(runs, seed, uncertainty, steps, **kw):
    model = BalanceModel(runs=runs, rng=seed, uncertainty=uncertainty, **kw)
    model.run_for(steps)
    return model


def check_bounds(model: BalanceModel, steps: int) -> None:
    t = model.trajectories()
    runs = model.runs
    assert t["alignment"].shape == (steps + 1, runs, len(POWERS))
    assert t["satisfaction"].shape == (steps + 1, runs, len(DIMENSIONS))
    assert t["hedging_index"].shape == (steps + 1, runs)
    for key in ("alignment", "satisfaction", "hedging_index", "courtship", "coercion", "memory"):
        assert np.all(np.isfinite(t[key])), key
    ceiling = model.hedger.ceiling()[None, :, :]  # (1, runs, 1)
    a = t["alignment"]
    assert np.all(a >= 0.0)
    assert np.all(a <= ceiling)
    assert np.all((t["satisfaction"] >= 0.0) & (t["satisfaction"] <= 1.0))
    assert np.all((t["courtship"] >= 0.0) & (t["courtship"] <= 1.0))
    assert np.all((t["coercion"] >= 0.0) & (t["coercion"] <= 1.0))
    assert np.all((t["memory"] >= 0.0) & (t["memory"] <= 1.0))
    assert np.all((t["hedging_index"] >= 0.0) & (t["hedging_index"] <= 1.0))
    assert np.all((t["tier"] >= 0) & (t["tier"] <= 4))


@settings(max_examples=60, deadline=None)
@given(seed=seeds, runs=run_counts, uncertainty=st.booleans(), steps=horizons)
def test_state_stays_within_bounds(seed, runs, uncertainty, steps):
    model = simulate(runs, seed, uncertainty, steps)
    assert model.steps == steps
    check_bounds(model, steps)
    # with the Four No's in force (the default) the ceiling is just under the alliance line
    assert np.all(model.hedger.ceiling() < model.world.scalars["alliance"][:, None])
    assert np.all(model.trajectories()["alignment"] < ALLIANCE)
    # the model's own verdict agrees: nobody bandwagons
    assert model.failure_modes()["bandwagoning"] == 0.0
    assert sum(model.failure_modes().values()) == pytest.approx(1.0)


@settings(max_examples=25, deadline=None)
@given(seed=seeds, runs=run_counts, uncertainty=st.booleans(), steps=horizons)
def test_same_seed_same_trajectories(seed, runs, uncertainty, steps):
    a = simulate(runs, seed, uncertainty, steps).trajectories()
    b = simulate(runs, seed, uncertainty, steps).trajectories()
    assert a.keys() == b.keys()
    for key in a:
        assert np.array_equal(a[key], b[key]), key


def test_different_seeds_differ():
    a = simulate(20, 1, False, 12).trajectories()["alignment"]
    b = simulate(20, 2, False, 12).trajectories()["alignment"]
    assert not np.array_equal(a, b)
    # and runs within one ensemble differ from each other (each has its own noise)
    assert len({a[:, i].tobytes() for i in range(20)}) > 1


def test_a_numpy_generator_seed_works_like_an_int_seed():
    a = simulate(5, np.random.default_rng(42), True, 6).trajectories()["alignment"]
    b = simulate(5, np.random.default_rng(42), True, 6).trajectories()["alignment"]
    assert np.array_equal(a, b)


@settings(max_examples=30, deadline=None)
@given(seed=seeds, runs=run_counts, uncertainty=st.booleans(), steps=horizons, data=st.data())
def test_run_i_is_the_same_alone_and_in_any_ensemble(seed, runs, uncertainty, steps, data):
    whole = simulate(runs, seed, uncertainty, steps).trajectories()
    i = data.draw(st.integers(0, runs - 1), label="run")
    alone = simulate(1, seed, uncertainty, steps, first_run=i).trajectories()
    for key in whole:
        assert np.array_equal(whole[key][:, i : i + 1], alone[key]), key
    # a larger ensemble holds the same run i, bit for bit
    bigger = simulate(runs + data.draw(st.integers(1, 10), label="extra"), seed, uncertainty, steps).trajectories()
    for key in whole:
        assert np.array_equal(bigger[key][:, :runs], whole[key]), key
    # and so does a chunk that starts elsewhere
    j = data.draw(st.integers(0, runs - 1), label="chunk start")
    chunk = simulate(runs - j, seed, uncertainty, steps, first_run=j).trajectories()
    for key in whole:
        assert np.array_equal(chunk[key], whole[key][:, j:]), key


def test_batch_run_with_one_run_per_model():
    results = mesa.batch_run(
        BalanceModel,
        parameters={"runs": 1},
        rng=[1, 2],
        max_steps=8,
        number_processes=1,
        display_progress=False,
        data_collection_period=1,
    )
    columns = [f"alignment_{p}" for p in POWERS] + [f"satisfaction_{d}" for d in DIMENSIONS]
    columns += ["hedging_index", "survival", "failure"]
    assert results
    for row in results:
        for column in columns:
            assert column in row, column
    for seed in (1, 2):
        rows = sorted((r for r in results if r["rng"] == seed), key=lambda r: r["Step"])
        assert [int(r["Step"]) for r in rows] == list(range(9))
        # the rows are the model's own trajectory
        model = simulate(1, seed, False, 8)
        t = model.trajectories()
        for p, name in enumerate(POWERS):
            np.testing.assert_array_equal([r[f"alignment_{name}"] for r in rows], t["alignment"][:, 0, p])
        np.testing.assert_array_equal([r["hedging_index"] for r in rows], t["hedging_index"][:, 0])
        assert all(r["failure"] in ("none", "bandwagoning", "dropped_partner", "isolation") for r in rows)
        assert all(0.0 <= r["survival"] <= 1.0 for r in rows)


# -- the Four No's -------------------------------------------------------------------

BRIEF_PUSH = {
    path: PARAMS[path].range[1]
    for path in ("powers.US.supply.territory", "powers.CN.threat.territory", "hedger.demand.territory")
}
# A push strong enough to carry the US tie past the alliance line once the Four No's are relaxed:
# the brief push, the US tie starting just under the line, and the costs of a deep tie removed.
STRONG_PUSH = BRIEF_PUSH | {
    "hedger.alignment.US": 0.85,
    "powers.US.tie_cost": 0.0,
    "behaviour.concentration_cost": 0.0,
    "behaviour.entrapment_cost": 0.0,
    "behaviour.displeasure_cost": 0.0,
}


@settings(max_examples=15, deadline=None)
@given(seed=seeds, uncertainty=st.booleans())
def test_four_nos_hold_under_a_strong_push(seed, uncertainty):
    params = PARAMS.with_overrides(BRIEF_PUSH)
    model = simulate(30, seed, uncertainty, 40, parameters=params)
    a = model.trajectories()["alignment"]
    assert np.all(a < ALLIANCE)  # a rival may still treat Vietnam as having sided (a failure), but no alliance


def test_four_nos_hold_where_without_them_vietnam_would_bandwagon():
    held = simulate(50, 7, False, 20, parameters=PARAMS.with_overrides(STRONG_PUSH))
    relaxed = simulate(50, 7, False, 20, parameters=PARAMS.with_overrides(STRONG_PUSH | {"hedger.four_nos": 0}))
    a_held, a_relaxed = held.trajectories()["alignment"], relaxed.trajectories()["alignment"]
    # the push is real: without the Four No's ties cross the alliance line ...
    assert np.any(a_relaxed[:, :, US] >= ALLIANCE)
    assert relaxed.failure_modes()["bandwagoning"] > 0.5
    # ... and with them none does, though the US tie is pressed against the ceiling
    assert np.all(a_held < ALLIANCE)
    assert a_held[:, :, US].max() > ALLIANCE - 0.02


def test_relaxed_four_nos_lift_the_ceiling_to_one():
    params = PARAMS.with_overrides({"hedger.four_nos": 0})
    model = BalanceModel(runs=4, rng=0, parameters=params)
    np.testing.assert_array_equal(model.hedger.ceiling(), 1.0)
    model.run_for(4)
    assert np.all(model.trajectories()["alignment"] <= 1.0)
    relaxed = simulate(20, 7, False, 20, parameters=PARAMS.with_overrides(STRONG_PUSH | {"hedger.four_nos": 0}))
    a = relaxed.trajectories()["alignment"]
    assert np.all(a <= 1.0)
    assert a.max() > ALLIANCE


def test_ceiling_in_force_by_default():
    model = BalanceModel(runs=3, rng=0)
    ceiling = model.hedger.ceiling()
    assert ceiling.shape == (3, 1)
    assert np.all(ceiling < ALLIANCE)
    assert np.all(ceiling > ALLIANCE - 1e-6)


@pytest.mark.parametrize(("four_nos", "limit"), [(1, ALLIANCE), (0, 1.0)])
def test_an_alignment_impulse_is_clipped_at_the_ceiling(four_nos, limit):
    model = BalanceModel(runs=3, rng=0, parameters=PARAMS.with_overrides({"hedger.four_nos": four_nos}))
    model.add_impulse("alignment.US", np.full(3, 0.9))
    assert np.all(model.hedger.alignment[:, US] <= limit)
    assert np.all(model.hedger.alignment[:, US] > limit - 1e-6)
    model.add_impulse("alignment.US", np.full(3, -5.0))
    np.testing.assert_array_equal(model.hedger.alignment[:, US], 0.0)


def test_an_initial_alignment_above_the_ceiling_is_refused_or_clipped():
    params = PARAMS.with_overrides({"hedger.alignment.US": 0.95})
    try:
        model = BalanceModel(runs=2, rng=0, parameters=params)
    except ValueError:
        return  # refusing it is fine
    assert np.all(model.trajectories()["alignment"] <= model.hedger.ceiling()[None])
    assert model.failure_modes()["bandwagoning"] == 0.0
