"""Scheduling an event (Event.schedule): the event is never written to, and serves any number of models."""

import copy

import numpy as np
import pytest

from sim import EVENT_TYPES, BalanceModel
from sim.model.events import Event, ScheduledEvent

RUNS, STEPS = 8, 8
EXTRA = {  # the fields a type needs, and those that give its own rule something to do
    "shock": {"path": "powers.US.reliability", "value": -0.3},
    "summit": {"tier": "strategic"},
    "treaty_ends": {"tier": "none"},
}


def make(name: str) -> Event:
    """An event of type ``name`` whose date and magnitude are drawn per run: several firings, each its own runs."""
    return EVENT_TYPES[name](["2025-07", "2026-07"], magnitude=[0.2, 0.9], **EXTRA.get(name, {}))


@pytest.mark.parametrize("name", sorted(EVENT_TYPES))
def test_an_events_attributes_are_unchanged_by_scheduling_and_running_it(name):
    event = make(name)
    before = copy.deepcopy(vars(event))
    model = BalanceModel(runs=RUNS, rng=1, events=[event])
    model.run_for(STEPS)
    assert model.fired and all(fired is event for fired in model.fired)
    assert vars(event) == before


@pytest.mark.parametrize("name", sorted(EVENT_TYPES))
def test_one_event_scheduled_into_two_models_acts_in_each_as_if_alone(name):
    shared, other = make(name), make("tariff")
    one = BalanceModel(runs=RUNS, rng=1, events=[shared])
    two = BalanceModel(runs=RUNS + 2, rng=2, events=[other, shared])  # another place, other runs and draws
    for _ in range(STEPS):  # in step together, so that each firing of one falls between the other's
        one.step()
        two.step()
    alone_one = BalanceModel(runs=RUNS, rng=1, events=[make(name)])
    alone_two = BalanceModel(runs=RUNS + 2, rng=2, events=[make("tariff"), make(name)])
    for model, alone in ((one, alone_one), (two, alone_two)):
        alone.run_for(STEPS)
        for key, values in alone.trajectories().items():
            np.testing.assert_array_equal(model.trajectories()[key], values, err_msg=key)


def test_a_model_keeps_what_it_scheduled_and_its_firings_say_what_they_fire_for():
    event = make("tariff")
    model = BalanceModel(runs=400, rng=3, events=[make("summit"), event])
    assert model.events == (model.events[0], event)
    scheduled = model.scheduled[1]
    assert isinstance(scheduled, ScheduledEvent) and scheduled.event is event and scheduled.index == 1
    steps = event.steps(model, 1)
    assert [f.start for f in scheduled.firings] == sorted(set(steps.tolist()))
    for firing in scheduled.firings:  # each run fires once, at its own step
        assert firing.model is model and firing.event is event and firing.index == 1
        assert firing.runs is not None and np.array_equal(firing.runs, steps == firing.start)
        assert firing.end == (None if event.duration is None else firing.start + event.duration)
