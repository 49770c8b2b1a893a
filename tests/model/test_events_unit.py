"""Events (sim.model.events): the Shock weight, validation of events, and every event type in a model."""

import itertools
import re

import numpy as np
import pytest
from conftest import normalise

from sim import EVENT_TYPES, BalanceModel, Event, Month, ParameterError, Shock
from sim.model.params import POWERS, expected_paths
from sim.model.world import World

START = "2025-07"  # the model's start date in the packaged parameters
RUNS, SEED, STEPS = 8, 3, 8
SHOCK_KW = {"path": "powers.US.reliability", "value": -0.3}


def make(name: str, at=START, **kw) -> Event:
    """An event of a registered type; the generic `shock` gets a path and a value."""
    if name == "shock":
        kw = SHOCK_KW | kw
    return EVENT_TYPES[name](at, **kw)


def simulate(events=(), runs=RUNS, seed=SEED, steps=STEPS, **kw) -> BalanceModel:
    model = BalanceModel(runs=runs, rng=seed, events=list(events), **kw)
    model.run_for(steps)
    return model


@pytest.fixture(scope="module")
def baseline():
    return simulate().trajectories()


# -- Shock.weight ----------------------------------------------------------------


def test_weight_before_start_is_zero():
    s = Shock("powers.US.reach", np.array([0.1]), start=5, end=9, half_life=2.0)
    assert [s.weight(k) for k in range(-3, 5)] == [0.0] * 8


def test_weight_during_is_one():
    s = Shock("powers.US.reach", np.array([0.1]), start=5, end=9, half_life=2.0)
    assert [s.weight(k) for k in range(5, 9)] == [1.0] * 4


@pytest.mark.parametrize("half_life", [0.5, 1.0, 2.0, 3.0])
def test_weight_halves_every_half_life_after_end(half_life):
    end = 9
    s = Shock("powers.US.reach", np.array([0.1]), start=5, end=end, half_life=half_life)
    assert s.weight(end - 1) == 1.0
    after = [s.weight(k) for k in range(end, end + 30)]
    # from `end` on the shock is fading: below full strength, positive, strictly decreasing ...
    assert all(0.0 < w < 1.0 for w in after)
    assert all(b < a for a, b in itertools.pairwise(after))
    # ... and it halves every half_life steps
    for step in range(end, end + 20):
        later = step + half_life
        if later == int(later):
            assert s.weight(int(later)) == pytest.approx(0.5 * s.weight(step), rel=1e-12)


def test_weight_with_zero_half_life_ends_at_once():
    s = Shock("powers.US.reach", np.array([0.1]), start=2, end=4, half_life=0.0)
    assert [s.weight(k) for k in range(0, 8)] == [0.0, 0.0, 1.0, 1.0, 0.0, 0.0, 0.0, 0.0]
    assert s.expired(4)
    assert not s.expired(3)


def test_weight_is_permanent_without_end():
    s = Shock("powers.US.reach", np.array([0.1]), start=3, end=None, half_life=1.0)
    assert s.weight(2) == 0.0
    assert all(s.weight(k) == 1.0 for k in (3, 4, 40, 10**6))
    assert not any(s.expired(k) for k in (3, 40, 10**6))


def test_a_decaying_shock_expires_once_negligible():
    s = Shock("powers.US.reach", np.array([0.1]), start=0, end=2, half_life=1.0)
    assert not s.expired(2)
    assert not s.expired(10)
    assert s.expired(2 + 20)  # 2**-20 < 1e-6


def test_apply_shift_and_set():
    value = np.array([0.2, 0.6])
    shift = Shock("p", np.array([0.1, -0.1]), start=1, end=3, half_life=1.0)
    np.testing.assert_array_equal(shift.apply(value, 0), value)
    np.testing.assert_allclose(shift.apply(value, 1), [0.3, 0.5])
    for step in range(3, 8):
        w = shift.weight(step)
        assert 0.0 < w < 1.0
        np.testing.assert_allclose(shift.apply(value, step), value + np.array([0.1, -0.1]) * w)
    to = Shock("p", np.array([0.9, 0.0]), start=1, end=3, half_life=1.0, mode="set")
    np.testing.assert_array_equal(to.apply(value, 0), value)
    np.testing.assert_allclose(to.apply(value, 2), [0.9, 0.0])
    for step in range(3, 8):
        w = to.weight(step)
        # part of the way back from the set value to the original one
        np.testing.assert_allclose(to.apply(value, step), w * np.array([0.9, 0.0]) + (1 - w) * value)
    # the input array is not changed in place
    np.testing.assert_array_equal(value, [0.2, 0.6])


# -- the catalogue -------------------------------------------------------------------


def test_the_catalogue_covers_the_brief():
    expected = {
        "sanctions",
        "secondary_sanctions",
        "tariff",
        "maritime_incident",
        "border_closure",
        "rapprochement",
        "war_drain",
        "summit",
        "unreliability",
        "arms_diversification",
        "shock",
    }
    assert expected <= set(EVENT_TYPES)


_QUOTE = re.compile(r'^(\d{3}_[0-9a-f]{16}\.txt): "(.*)"$', re.S)
_QUOTED_EVENTS = sorted(n for n, c in EVENT_TYPES.items() if _QUOTE.match(c.source))


@pytest.mark.parametrize("name", _QUOTED_EVENTS)
def test_event_quotes_appear_verbatim_in_their_source(name, sources):
    file, quote = _QUOTE.match(EVENT_TYPES[name].source).groups()
    assert normalise(quote) in normalise((sources / file).read_text(encoding="utf-8"))


def test_most_event_types_cite_a_source_file():
    assert len(_QUOTED_EVENTS) >= len(EVENT_TYPES) - 1


# -- validation --------------------------------------------------------------------

BAD_MAGNITUDES = [1.5, -0.1, [0.8, 0.2], "x", True, None, float("nan"), [0.1, 0.2, 0.3], [0.2, 1.2], ["a", 0.5]]


@pytest.mark.parametrize("magnitude", [0, 0.0, 0.5, 1, 1.0, [0.2, 0.8], (0.0, 1.0), [0.4, 0.4]], ids=repr)
def test_good_magnitudes_are_accepted(magnitude):
    for name in EVENT_TYPES:
        assert make(name, magnitude=magnitude).magnitude == magnitude


@pytest.mark.parametrize("at", ["2025-13", "2025-7", "July 2025", "", "2025/07"])
def test_bad_dates_raise(at):
    with pytest.raises(ValueError):
        make("tariff", at=at)


def test_shock_argument_validation():
    with pytest.raises(ValueError, match="mode"):
        make("shock", mode="add")
    for value in ("x", None, True):
        with pytest.raises(ValueError, match="value"):
            make("shock", value=value)
    with pytest.raises(ValueError, match="half_life"):
        make("shock", half_life=-1)
    with pytest.raises(TypeError):
        EVENT_TYPES["shock"](START, value=0.1)  # no path


def test_shock_with_an_unknown_path_fails():
    """At the latest when fired; validating it already when the event is made is better still."""
    with pytest.raises(ValueError, match=re.escape("did you mean 'powers.US.reliability'")):
        model = BalanceModel(runs=2, rng=0, events=[make("shock", path="powers.US.reliabilty")])
        model.run_for(1)


@pytest.mark.parametrize("path", ["hedger.alignment.US", "hedger.memory.RU", "hedger.tier.CN"])
def test_a_shock_on_an_initial_value_is_refused(path):
    """Initial values are read once, at step 0: shocking them would silently do nothing."""
    with pytest.raises(ValueError):
        model = BalanceModel(runs=2, rng=0, events=[make("shock", path=path, value=0.1)])
        model.run_for(1)


def test_shock_path_is_checked_again_when_fired():
    """The model's own parameter set has the last word: an unknown path raises ParameterError on firing."""
    event = make("shock")
    model = BalanceModel(runs=2, rng=0, events=[event])
    event.path = "powers.US.reliabilty"  # e.g. a path unknown to the model's parameter set
    with pytest.raises(ParameterError, match=re.escape("did you mean 'powers.US.reliability'")):
        model.run_for(1)
    assert model.fired == []


def test_shock_with_an_unknown_state_path_fails():
    with pytest.raises(ValueError, match=re.escape("alignment.XX")):
        model = BalanceModel(runs=2, rng=0, events=[make("shock", path="alignment.XX", value=0.1)])
        model.run_for(1)


# -- every event in a model -----------------------------------------------------------


def check_bounds(model: BalanceModel) -> None:
    t = model.trajectories()
    ceiling = model.hedger.ceiling()[None]
    assert np.all((t["alignment"] >= 0.0) & (t["alignment"] <= ceiling))
    assert np.all(t["alignment"] < model.parameters.value("thresholds.alliance"))
    for key in ("satisfaction", "courtship", "coercion", "memory", "hedging_index"):
        assert np.all(np.isfinite(t[key])), key
        assert np.all((t[key] >= 0.0) & (t[key] <= 1.0)), key


@pytest.mark.parametrize("name", ["tariff", "summit", "maritime_incident", "shock"])
def test_a_magnitude_range_draws_per_run_and_keeps_run_identity(name):
    whole = simulate([make(name, magnitude=[0.0, 1.0])], runs=6, steps=6).trajectories()["alignment"]
    for i in (0, 5):
        alone = BalanceModel(runs=1, first_run=i, rng=SEED, events=[make(name, magnitude=[0.0, 1.0])])
        alone.run_for(6)
        np.testing.assert_array_equal(alone.trajectories()["alignment"][:, 0], whole[:, i])
    model = BalanceModel(runs=50, rng=SEED, events=[make(name, magnitude=[0.2, 0.6])])
    model.run_for(1)
    (firing,) = model.scheduled[0].firings
    m = model.fired[0].draw_magnitude(firing)
    assert np.all((m >= 0.2) & (m <= 0.6))
    assert len(np.unique(m)) > 40


def test_a_shock_outside_bounds_is_clipped():
    model = simulate([make("shock", path="powers.US.reliability", value=-5.0)], steps=2)
    np.testing.assert_array_equal(model.world.reliability[:, POWERS.index("US")], 0.0)
    check_bounds(model)


def test_a_bounded_shock_ends_and_the_world_returns():
    model = BalanceModel(runs=4, rng=1, events=[make("shock", until="2026-01", value=-0.3)])
    us = POWERS.index("US")
    base = model.world.reliability[:, us].copy()
    seen = []
    for _ in range(5):
        model.run_for(1)
        seen.append(model.world.reliability[:, us].copy())
    np.testing.assert_allclose(seen[0], np.clip(base - 0.3, 0.0, 1.0))
    assert np.all(seen[0] < base)
    np.testing.assert_array_equal(seen[-1], base)
    assert model.shocks == []


WORLD_ARRAYS = ("supply", "threat", "withholds", "coercion_threat", "reach", "reliability", "interest")
WORLD_ARRAYS += ("tie_cost", "tolerance", "rivalry", "demand", "weight", "inertia")


@pytest.mark.parametrize(
    "path",
    [p for p in expected_paths() if not p.startswith(("hedger.alignment.", "hedger.memory.", "hedger.tier."))],
)
def test_a_zero_shift_leaves_the_world_unchanged(path):
    model = BalanceModel(runs=40, rng=5, uncertainty=True, events=[make("shock", path=path, value=0.0)])
    model.run_for(1)
    assert len(model.shocks) == 1
    unshocked = World.assemble(model.base)
    for field in WORLD_ARRAYS:
        np.testing.assert_array_equal(getattr(model.world, field), getattr(unshocked, field), err_msg=field)
    for key, value in unshocked.scalars.items():
        np.testing.assert_array_equal(model.world.scalars[key], value, err_msg=key)


def test_event_data_file_is_complete_and_sourced():
    from sim.model.events import Event, catalogue

    data = catalogue()
    assert set(data) == set(EVENT_TYPES)
    for name, entry in data.items():
        assert entry["effect"].strip() and entry["source"]
        assert entry["duration"] is None or entry["duration"] >= 1
        assert entry["half_life"] >= 0
        if name != "shock":  # an event acts through its data, or (a treaty's end) through a rule of its own
            assert entry.get("shifts") or entry.get("impulses") or EVENT_TYPES[name].fire is not Event.fire, name


@pytest.mark.parametrize("name", sorted(n for n in EVENT_TYPES if n != "shock"))
def test_every_actor_target_pair_resolves_to_real_paths_or_is_refused(name):
    cls = EVENT_TYPES[name]
    for actor in cls.actors:
        for target in cls.targets:
            try:
                event = cls("2025-07", actor=actor, target=target)
            except ValueError as exc:
                assert "powers.VN" in str(exc) or "unknown parameter" in str(exc)
                continue
            model = BalanceModel(runs=2, rng=1, events=[event])
            model.run_for(2)  # fires without error


# -- every event type -------------------------------------------------------------------------------
@pytest.mark.parametrize("name", sorted(EVENT_TYPES))
class TestEveryEventType:
    """What every registered event type must do: a type added to sim.model.events.EVENT_TYPES runs these too."""

    def test_is_documented(self, name):
        cls = EVENT_TYPES[name]
        assert issubclass(cls, Event)
        assert cls.name == name
        for attribute in ("name", "effect", "source"):
            value = getattr(cls, attribute)
            assert isinstance(value, str), attribute
            assert value.strip(), attribute
        assert cls.default_actor in POWERS
        assert cls.duration is None or cls.duration > 0
        assert cls.half_life >= 0

    @pytest.mark.parametrize("magnitude", BAD_MAGNITUDES, ids=repr)
    def test_bad_magnitude_raises(self, name, magnitude):
        with pytest.raises(ValueError, match="magnitude"):
            make(name, magnitude=magnitude)

    def test_until_must_come_after_at(self, name):
        with pytest.raises(ValueError, match="until"):
            make(name, at="2026-01", until="2025-10")
        with pytest.raises(ValueError, match="until"):
            make(name, at="2026-01", until="2026-01")
        assert make(name, at="2026-01", until="2026-02").until == Month(2026, 2)

    @pytest.mark.parametrize("actor", ["XX", "VN", "us", ""])
    def test_unknown_actor_raises(self, name, actor):
        if actor == "":
            # an empty actor falls back to the default one
            assert make(name, actor=actor).actor == EVENT_TYPES[name].default_actor
            return
        with pytest.raises(ValueError, match="actor"):
            make(name, actor=actor)

    def test_a_misspelt_keyword_is_rejected(self, name):
        with pytest.raises(TypeError):
            make(name, magnitud=1.0)
        with pytest.raises(TypeError):
            make(name, untill="2026-01")

    def test_unknown_target_raises(self, name):
        with pytest.raises(ValueError, match="target"):
            make(name, target="XX")

    def test_keeps_the_invariants_and_has_an_effect(self, name, baseline):
        model = simulate([make(name, magnitude=1.0)])
        assert [e.name for e in model.fired] == [name]
        check_bounds(model)
        t = model.trajectories()
        assert t["alignment"].shape == baseline["alignment"].shape
        np.testing.assert_array_equal(t["alignment"][0], baseline["alignment"][0])
        assert not np.array_equal(t["alignment"], baseline["alignment"]), f"{name} changed no alignment"

    def test_an_event_of_magnitude_zero_changes_nothing(self, name, baseline):
        model = simulate([make(name, magnitude=0.0)])
        assert len(model.fired) == 1
        for key in ("alignment", "satisfaction", "courtship", "coercion", "memory"):
            np.testing.assert_array_equal(model.trajectories()[key], baseline[key], err_msg=key)

    def test_nothing_happens_before_an_event(self, name):
        at = Month.parse(START).plus(12)  # four quarters in
        base = simulate(steps=10).trajectories()["alignment"]
        model = simulate([make(name, at=str(at), magnitude=1.0)], steps=10)
        start = model.calendar.step_of(at)
        assert start == 4
        a = model.trajectories()["alignment"]
        np.testing.assert_array_equal(a[: start + 1], base[: start + 1])
        assert not np.array_equal(a[start + 1 :], base[start + 1 :])
