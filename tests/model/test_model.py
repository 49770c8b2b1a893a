"""BalanceModel as a Mesa 3.5 model: what construction makes, how time moves, the agent sets, what it records.

The rules themselves are tested in test_agents, test_strategies and test_invariants; here, the model around them.
"""

import numpy as np
import pytest
from mesa import Agent, Model
from mesa.agentset import AgentSet

from sim import POWERS, BalanceModel, GreatPower, Hedger, Month, load_parameters
from sim.model.agents import Russia

TIME = load_parameters().time
START, QUARTER, HORIZON = Month.parse(TIME["start"]), int(TIME["months_per_step"]), int(TIME["horizon"])


@pytest.fixture
def model() -> BalanceModel:
    return BalanceModel(runs=6, rng=3, horizon=8)


# -- construction --------------------------------------------------------------------------------
def test_a_model_is_a_mesa_model_at_time_zero_on_the_start_date(model):
    assert isinstance(model, Model)
    assert model.time == 0 and model.steps == 0 and model.running
    assert model.date == START and model.runs == 6 and model.horizon == 8


def test_the_horizon_comes_from_the_parameter_file_unless_given():
    assert BalanceModel(runs=2, rng=1).horizon == HORIZON


def test_four_agents_registered_one_per_power_and_vietnam(model):
    assert len(model.agents) == 4 and all(isinstance(a, Agent) for a in model.agents)
    assert len({a.unique_id for a in model.agents}) == 4
    assert [p.name for p in model.great_powers] == list(POWERS)
    assert model.agent_types == [GreatPower, Russia, Hedger]  # Russia defers to China: an agent class of its own


def test_the_powers_and_vietnam_are_agent_sets_of_the_registered_agents(model):
    assert isinstance(model.powers, AgentSet) and isinstance(model.vietnam, AgentSet)
    assert list(model.powers) == model.great_powers and list(model.vietnam) == [model.hedger]
    assert set(model.powers) | set(model.vietnam) == set(model.agents)


def test_a_power_s_agent_class_can_be_replaced():
    m = BalanceModel(runs=2, rng=1, powers={"RU": GreatPower})
    assert type(m.great_powers[POWERS.index("RU")]) is GreatPower and m.agent_types == [GreatPower, Hedger]


def test_state_is_held_per_run(model):
    assert model.hedger.alignment.shape == (6, len(POWERS))
    assert model.courtship.shape == model.coercion.shape == (6, len(POWERS))


@pytest.mark.parametrize("runs", [0, -1])
def test_fewer_than_one_run_is_refused(runs):
    with pytest.raises(ValueError, match="runs must be at least 1"):
        BalanceModel(runs=runs)


# -- time ----------------------------------------------------------------------------------------
def test_run_for_advances_time_steps_and_the_calendar_a_quarter_a_step(model):
    model.run_for(3)
    assert model.time == 3 and model.steps == 3
    assert model.date == START.plus(3 * QUARTER)
    model.step()
    assert model.steps == 4 and model.date == START.plus(4 * QUARTER)


def test_run_model_stops_at_the_horizon_and_no_sooner(model):
    model.run_for(7)
    assert model.running
    model.run_model()
    assert model.steps == 8 and not model.running and model.date == START.plus(8 * QUARTER)


def test_stepping_changes_the_world_and_the_same_seed_steps_the_same(model):
    before = model.hedger.alignment.copy()
    model.run_for(4)
    assert not np.array_equal(model.hedger.alignment, before)
    again = BalanceModel(runs=6, rng=3, horizon=8)
    again.run_for(4)
    np.testing.assert_array_equal(again.hedger.alignment, model.hedger.alignment)


def test_run_for_in_parts_is_run_for_at_once():
    whole, parts = BalanceModel(runs=4, rng=5), BalanceModel(runs=4, rng=5)
    whole.run_for(6)
    parts.run_for(2)
    parts.run_for(4)
    for key, value in whole.trajectories().items():
        np.testing.assert_array_equal(parts.trajectories()[key], value, err_msg=key)


# -- what it records -----------------------------------------------------------------------------
def test_trajectories_hold_the_start_and_every_step(model):
    model.run_for(5)
    traj = model.trajectories()
    assert traj["alignment"].shape == (6, 6, len(POWERS))  # (steps + 1, runs, powers)
    assert traj["tier"].dtype == np.int8
    np.testing.assert_array_equal(traj["alignment"][-1], model.hedger.alignment)
    assert model.dates == [START.plus(i * QUARTER) for i in range(6)]


def test_the_datacollector_keeps_one_row_per_recorded_step_the_ensemble_means(model):
    model.run_for(5)
    frame = model.datacollector.get_model_vars_dataframe()
    assert len(frame) == 6
    for i, power in enumerate(POWERS):
        np.testing.assert_allclose(frame[f"alignment_{power}"], model.trajectories()["alignment"][:, :, i].mean(1))


def test_without_recording_there_are_no_trajectories_but_observers_see_each_step():
    seen = []

    class Observer:
        def observe(self, step, values, scalars):
            seen.append(step)

    m = BalanceModel(runs=3, rng=2, record=False, observers=[Observer()])
    m.run_for(4)
    assert seen == [0, 1, 2, 3, 4]
    with pytest.raises(RuntimeError, match="record=False"):
        m.trajectories()


def test_survival_and_failure_modes_are_shares_of_the_runs(model):
    model.run_model()
    modes = model.failure_modes()
    assert modes["survived"] == pytest.approx(model.survival_probability())
    assert sum(modes.values()) == pytest.approx(1.0)
    assert all(v * model.runs == pytest.approx(round(v * model.runs)) for v in modes.values())
