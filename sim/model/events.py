"""Events that perturb the world: a generic shock and the named catalogue.

Every named event is a small registered class that declares its name, its
documented effect, the source passage it rests on, and how it turns its
magnitude into shocks on parameter paths (and impulses on agents' state). A
scenario schedules events by date; the model fires them through Mesa's
``schedule_event``. An event is a scenario's description and is never written
to: scheduling it into a model gives a ScheduledEvent, and each of its
Firings carries the model, the date and the runs it fires for.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from importlib import resources
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
import yaml

from sim.model.calendar import Month
from sim.model.checks import is_number, suggest
from sim.model.domain import POWERS, STATE_PATHS, TIERS
from sim.model.yamlfile import show

if TYPE_CHECKING:  # the model imports the events
    from sim.model.balance import BalanceModel

# How a scenario writes a date: a month, its text (YYYY-MM), or a range [first, last] of either.
When = Month | str | list[Month | str] | tuple[Month | str, Month | str]


@dataclass
class Shock:
    """Shift (or set) a parameter from step ``start`` until ``end``, then let it decay.

    ``amount`` is per run. With ``end`` None the shock is permanent. From step
    ``end`` on, the offset halves every ``half_life`` steps (it is gone at
    once if ``half_life`` is 0).
    """

    path: str
    amount: np.ndarray
    start: int
    end: int | None = None
    half_life: float = 0.0
    mode: str = "shift"
    scale: np.ndarray | float = 1.0  # for "set": how far toward the value (the event's magnitude)

    def weight(self, step: int) -> float:
        """How much of the shock holds at ``step``: 0 before it starts, 1 while it lasts, then fading."""
        if step < self.start:
            return 0.0
        if self.end is None or step < self.end:
            return 1.0
        if self.half_life <= 0:
            return 0.0
        return 0.5 ** ((step - self.end + 1) / self.half_life)

    def apply(self, value: np.ndarray, step: int) -> np.ndarray:
        """``value`` (per run) with the shock as it holds at ``step``: shifted by, or moved toward, ``amount``."""
        w = self.weight(step)
        if w == 0.0:
            return value
        if self.mode == "set":
            return value + (self.amount - value) * w * self.scale
        return value + self.amount * w

    def expired(self, step: int) -> bool:
        """Whether the shock has ended and faded to nothing by ``step``, so it can be dropped."""
        return self.end is not None and self.weight(step) < 1e-6 and step >= self.end


EVENT_TYPES: dict[str, type[Event]] = {}


class EventFieldError(ValueError):
    """An event's field is out of its rules: ``field`` ("" for the event as a whole) and what was expected.

    The one statement of an event's rules; a scenario file reports it at the field's line.
    """

    def __init__(self, field: str, expected: str) -> None:
        """The error for ``field``, saying what was ``expected``."""
        self.field, self.expected = field, expected
        super().__init__(f"{field}: {expected}" if field else expected)


@functools.cache
def catalogue() -> dict:
    """The event data file: effects per unit magnitude, durations and sources."""
    return yaml.safe_load((resources.files("sim") / "data" / "events.yaml").read_text(encoding="utf-8"))


def register(cls: type[Event]) -> type[Event]:
    """Add an event type, with its effect, source, defaults and shifts from the data file."""
    data = catalogue()[cls.name]
    src = data["source"]
    cls.effect = data["effect"]
    cls.source = f'{src["file"]}: "{src["quote"]}"' if "file" in src else src["note"]
    cls.default_actor, cls.default_target = data["actor"], data["target"]
    cls.duration, cls.half_life = data["duration"], float(data["half_life"])
    cls.shifts = tuple((s["path"], float(s["by"])) for s in data.get("shifts", ()))
    cls.kicks = tuple((s["path"], float(s["by"])) for s in data.get("impulses", ()))
    EVENT_TYPES[cls.name] = cls
    return cls


class Event:
    """Base of every event type.

    A subclass names itself; ``register`` reads the rest from
    ``sim/data/events.yaml``: ``effect`` (one line, what it does), ``source``
    (file and quote), ``default_actor``/``default_target``, ``duration``
    (steps the effect lasts when no ``until`` is given; None: permanent),
    ``half_life`` (steps, the fading after it ends), and the ``shifts`` of
    parameters and ``kicks`` to agents' state per unit of magnitude.
    """

    name: ClassVar[str]
    effect: ClassVar[str]
    source: ClassVar[str]
    default_actor: ClassVar[str | None] = None
    default_target: ClassVar[str] = "VN"
    duration: ClassVar[int | None] = None
    half_life: ClassVar[float] = 0.0
    actors: ClassVar[tuple[str, ...]] = POWERS
    shifts: ClassVar[tuple[tuple[str, float], ...]] = ()
    kicks: ClassVar[tuple[tuple[str, float], ...]] = ()

    extra_fields: ClassVar[tuple[str, ...]] = ()
    targets: ClassVar[tuple[str, ...]] = ("VN", *POWERS)

    def __init__(
        self,
        at: When,
        *,
        until: Month | str | None = None,
        actor: str | None = None,
        target: str | None = None,
        magnitude: float | list[float] | tuple[float, float] = 0.5,
    ) -> None:
        """The event at ``at`` (a month, or a range drawn per run), checked against its rules.

        ``until`` ends its effect (default: after ``duration``); ``actor`` and ``target`` default to the
        type's; ``magnitude`` is from 0 to 1, or a range [low, high] drawn per run.
        Raises EventFieldError for a field out of its rules.
        """
        # a date range [first, last]: each run draws the quarter the event falls in; `until` moves with it
        first, last = at if isinstance(at, (list, tuple)) else (at, at)
        self.at = first if isinstance(first, Month) else Month.parse(first)
        self.latest = last if isinstance(last, Month) else Month.parse(last)
        if self.latest < self.at:
            raise ValueError(f"a date range must run forward, got {self.at} to {self.latest}")
        self.until = None if until is None else (until if isinstance(until, Month) else Month.parse(until))
        self.actor = actor or self.default_actor
        self.target = target or self.default_target
        self.magnitude = magnitude
        if self.until is not None and self.until <= self.at:
            raise EventFieldError("until", f"expected a date after at {self.at}, got {self.until}")
        for key, value, choices in (("actor", self.actor, self.actors), ("target", self.target, self.targets)):
            if not isinstance(value, str) or value not in choices:
                raise EventFieldError(key, f"unknown power {show(value)}; expected one of {', '.join(choices)}")
        _check_magnitude(magnitude)
        for template, _ in (*self.shifts, *self.kicks):
            _check_path(self._path(template), "")  # e.g. sanctions on target VN: there is no powers.VN.reach

    # -- what it does ------------------------------------------------------
    def _path(self, template: str) -> str:
        return template.format(actor=self.actor, target=self.target)

    def effects(self, m: np.ndarray) -> list[tuple[str, np.ndarray]]:
        """(path, shift) pairs for magnitude ``m`` (per run)."""
        return [(self._path(path), by * m) for path, by in self.shifts]

    def impulses(self, m: np.ndarray) -> list[tuple[str, np.ndarray]]:
        """(state path, one-off change) pairs: e.g. ``courtship.RU``."""
        return [(self._path(path), by * m) for path, by in self.kicks]

    # -- scheduling --------------------------------------------------------
    @property
    def dated(self) -> bool:
        """Whether the date is a range, drawn per run."""
        return self.latest != self.at

    def schedule(self, model: BalanceModel, index: int) -> ScheduledEvent:
        """Schedule the event in ``model`` as its ``index``-th: it fires at the first step at or after ``at``.

        Over a date range, each step some run's date falls in is a firing of its own, for those runs. The
        model keeps what this returns: Mesa holds the firings only weakly.
        """
        first = model.calendar.step_of(self.at)
        length = self.duration if self.until is None else model.calendar.step_of(self.until) - first
        steps = self.steps(model, index)
        dates = np.unique(steps)
        firings = []
        for step in dates.tolist():
            end = None if length is None else step + length
            runs = None if len(dates) == 1 else steps == step
            firings.append(Firing(self, model, index, step, end, runs))
            model.schedule_event(firings[-1], at=max(step, 0))
        return ScheduledEvent(self, index, tuple(firings))

    def steps(self, model: BalanceModel, index: int) -> np.ndarray:
        """The step each run's event falls in: given per run by a design, drawn over a date range, or fixed.

        Args:
            model: the model the event is scheduled in.
            index: the event's place among the model's events, which its draws and a design's values are keyed by.
        """
        given = model.event_values.get(f"events[{index}].at")
        if given is not None:
            return np.asarray(given, dtype=np.int64)
        first, last = model.calendar.step_of(self.at), model.calendar.step_of(self.latest)
        if last == first:
            return np.full(model.runs, first, dtype=np.int64)
        u = model.streams.uniform(0, f"event:{index}:at")[:, 0]
        return first + np.minimum((u * (last - first + 1)).astype(np.int64), last - first)

    def fire(self, firing: Firing) -> None:
        """Add the event's shocks and impulses to the firing's model, for the runs it falls in now."""
        model = firing.model
        m = self.draw_magnitude(firing)
        for path, shift in self.effects(m):
            model.add_shock(Shock(path, shift, firing.start + 1, _plus1(firing.end), self.half_life))
        for path, change in self.impulses(m):
            self.kick(model, path, change)

    def kick(self, model: BalanceModel, path: str, change: np.ndarray) -> None:
        """One impulse of the event: a one-off change to the state at ``path`` (per run)."""
        model.add_impulse(path, change)

    def draw_magnitude(self, firing: Firing) -> np.ndarray:
        """Per run: given by a design, drawn over a range, or fixed; zero for runs whose date is not now."""
        model, index = firing.model, firing.index
        given = model.event_values.get(f"events[{index}].magnitude")
        if given is not None:
            m = np.asarray(given, dtype=float)
        elif isinstance(self.magnitude, (list, tuple)):
            lo, hi = self.magnitude
            u = model.streams.uniform(0, f"event:{index}:magnitude")[:, 0]
            m = lo + u * (hi - lo)
        else:
            m = np.full(model.runs, float(self.magnitude))
        return m if firing.runs is None else np.where(firing.runs, m, 0.0)

    def describe(self) -> str:
        """One line for a reader: the event, its actor and its date."""
        when = f"between {self.at} and {self.latest}" if self.dated else f"at {self.at}"
        return f"{self.name} by {self.actor} {when}"


@dataclass(frozen=True, eq=False)
class Firing:
    """One firing of an event scheduled in a model: at step ``start``, for ``runs``, its effect lasting to ``end``.

    What the event's ``fire`` reads its circumstances from. Mesa calls it at ``start``.
    """

    event: Event
    model: BalanceModel
    index: int  # the event's place among the model's events: its draws and a design's values are keyed by it
    start: int
    end: int | None  # None: the effect is permanent
    runs: np.ndarray | None  # the runs whose date falls at ``start``; None: all

    def __call__(self) -> None:
        """Fire the event in the model, and note it among the model's fired events."""
        self.event.fire(self)
        self.model.fired.append(self.event)


@dataclass(frozen=True, eq=False)
class ScheduledEvent:
    """An event as scheduled in a model: its firings, one per step its date falls in across the runs.

    The model keeps it, and so keeps alive the firings Mesa holds weakly.
    """

    event: Event
    index: int  # the event's place among the model's events
    firings: tuple[Firing, ...]


def _check_path(path: object, field: str = "path") -> None:
    """A shock's path: a parameter, or a state path such as alignment.US (an impulse)."""
    from sim.model.params import load_parameters

    if not isinstance(path, str):
        raise EventFieldError(field, "expected a dotted parameter path")
    head, _, power = path.partition(".")
    if head in STATE_PATHS:
        if power not in POWERS:
            raise EventFieldError(
                field, f"state path {show(path)}: expected {head}.<power>, a power being one of {', '.join(POWERS)}"
            )
        return
    if path.startswith("hedger.alignment."):
        raise EventFieldError(
            field,
            f"{path} is an initial value; to move a tie during a run use the state path "
            f"alignment.{path.rsplit('.', 1)[-1]}",
        )
    if path.startswith(("hedger.memory.", "hedger.tier.")):
        raise EventFieldError(field, f"{path} is an initial value and cannot be shocked during a run")
    known = load_parameters().entries
    if path not in known:
        raise EventFieldError(field, f"unknown parameter {show(path)}{suggest(path, known)}")


def _plus1(step: int | None) -> int | None:
    return None if step is None else step + 1


def _check_magnitude(magnitude: Any) -> None:  # as the scenario file wrote it: any value
    def unit(x: Any) -> bool:
        return is_number(x) and 0.0 <= x <= 1.0

    pair = isinstance(magnitude, (list, tuple)) and len(magnitude) == 2 and all(unit(x) for x in magnitude)
    if not (unit(magnitude) or (pair and magnitude[0] <= magnitude[1])):
        raise EventFieldError(
            "magnitude", f"expected a number from 0 to 1 or a range [low, high] inside it, got {show(magnitude)}"
        )


@register
class Sanctions(Event):
    """Western sanctions on a power (Russia by default)."""

    name = "sanctions"


@register
class SecondarySanctions(Event):
    """Secondary sanctions on buyers of a power's arms: CAATSA enforced."""

    name = "secondary_sanctions"


@register
class Tariff(Event):
    """Tariffs on Vietnamese exports; the magnitude is the tariff rate."""

    name = "tariff"


@register
class MaritimeIncident(Event):
    """A maritime incident in Vietnam's EEZ: an oil rig, coast-guard harassment."""

    name = "maritime_incident"


@register
class BorderClosure(Event):
    """Border-gate closures: informal economic coercion."""

    name = "border_closure"


@register
class Rapprochement(Event):
    """Russia and China draw closer."""

    name = "rapprochement"


@register
class WarDrain(Event):
    """A war drains a power's arms production (Ukraine)."""

    name = "war_drain"


@register
class Summit(Event):
    """A state visit by the actor; with ``tier``, a partnership upgrade to that tier."""

    name = "summit"
    extra_fields = ("tier",)

    def __init__(self, at: When, *, tier: str | None = None, **kw: Any) -> None:
        """A summit at ``at``; ``tier``, if given, the partnership it upgrades to; ``kw`` as for Event."""
        super().__init__(at, **kw)
        if tier is not None and tier not in TIERS[1:-1]:
            raise EventFieldError("tier", f"tier must be one of {', '.join(TIERS[1:-1])}, got {show(tier)}")
        self.tier = tier

    def kick(self, model: BalanceModel, path: str, change: np.ndarray) -> None:
        """The visit's lift of its tie is warmth that fades (``Hedger.host``); its courtship decays as all courtship."""
        kind, _, power = path.partition(".")
        if kind == "alignment":
            model.hedger.host(POWERS.index(power), change)
        else:
            super().kick(model, path, change)

    def fire(self, firing: Firing) -> None:
        """The visit's effects, then the upgrade if there is one."""
        super().fire(firing)
        if self.tier is not None:
            model = firing.model
            tier = np.full(model.runs, TIERS.index(self.tier))
            model.hedger.upgrade(POWERS.index(self.actor), tier, firing.runs)


@register
class TreatyEnds(Event):
    """The treaty a partnership rests on ends with the partner state: the tier falls to ``tier`` at most.

    A run whose magnitude is zero keeps the treaty.
    """

    name = "treaty_ends"
    extra_fields = ("tier",)

    def __init__(self, at: When, *, tier: str = "none", **kw: Any) -> None:
        """The treaty's end at ``at``, the tier falling to ``tier`` at most; ``kw`` as for Event."""
        super().__init__(at, **kw)
        if tier not in TIERS[:-1]:
            raise EventFieldError("tier", f"tier must be one of {', '.join(TIERS[:-1])}, got {show(tier)}")
        self.tier = tier

    def fire(self, firing: Firing) -> None:
        """The end's effects, then the downgrade in the runs whose magnitude is not zero."""
        super().fire(firing)
        ends = self.draw_magnitude(firing) > 0
        firing.model.hedger.downgrade(POWERS.index(self.actor), TIERS.index(self.tier), ends)


@register
class WalkAway(Event):
    """A power walks away from its side of the partnership for a period: the US leaving the TPP.

    Its engagement falls toward one less the magnitude while the period lasts and comes back after, at the pace
    coercion fades; a tie deeper than what it still holds up erodes meanwhile, whatever Vietnam does (ODD 7.11).
    """

    name = "walk_away"


@register
class Unreliability(Event):
    """The actor becomes less reliable (an administration change)."""

    name = "unreliability"


@register
class ArmsDiversification(Event):
    """An arms embargo is lifted, or a new arms supplier appears."""

    name = "arms_diversification"


@register
class Competition(Event):
    """Competition between two great powers intensifies: each bears less of Vietnam's tie with the other."""

    name = "competition"  # a contest between two powers: Vietnam, never a party, is refused in the roles' words


@register
class ParameterShock(Event):
    """Set or shift any named parameter (or impulse a state) for a time, with decay."""

    name = "shock"
    extra_fields = ("path", "value", "mode", "half_life")

    def __init__(
        self, at: When, *, path: str, value: float, mode: str = "shift", half_life: float = 0.0, **kw: Any
    ) -> None:
        """Shift (or set, by ``mode``) ``path`` by ``value`` from ``at``, fading with ``half_life`` after it ends.

        ``kw`` as for Event; the magnitude defaults to 1 and scales ``value``.
        """
        _check_path(path)
        if not is_number(value):
            raise EventFieldError("value", f"value must be a number (finite), got {show(value)}")
        if not is_number(half_life) or half_life < 0:
            raise EventFieldError(
                "half_life", f"half_life must be a number of steps >= 0 (finite), got {show(half_life)}"
            )
        if mode not in ("shift", "set"):
            raise EventFieldError("mode", f"mode must be 'shift' or 'set', got {show(mode)}")
        kw.setdefault("magnitude", 1.0)
        super().__init__(at, **kw)
        self.path, self.value, self.mode, self.shock_half_life = path, float(value), mode, float(half_life)

    def fire(self, firing: Firing) -> None:
        """Impulse the state path, or add the parameter's shock, for the runs the event falls in now."""
        model = firing.model
        m = self.draw_magnitude(firing)
        if self.path.split(".")[0] in STATE_PATHS:
            model.add_impulse(self.path, self.value * m)
        else:
            model.parameters[self.path]  # unknown paths fail loudly
            shift = self.mode == "shift"
            amount = self.value * m if shift else np.full(model.runs, self.value)
            scale = 1.0 if shift else m
            end = _plus1(firing.end)
            model.add_shock(Shock(self.path, amount, firing.start + 1, end, self.shock_half_life, self.mode, scale))
