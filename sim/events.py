"""Events that perturb the world: a generic shock and the named catalogue.

Every named event is a small registered class that declares its name, its
documented effect, the source passage it rests on, and how it turns its
magnitude into shocks on parameter paths (and impulses on agents' state). A
scenario schedules events by date; the model fires them through Mesa's
``schedule_event``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from sim.calendar import Month
from sim.params import POWERS

STATE_PATHS = ("alignment", "courtship", "coercion")


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
        if step < self.start:
            return 0.0
        if self.end is None or step < self.end:
            return 1.0
        if self.half_life <= 0:
            return 0.0
        return 0.5 ** ((step - self.end + 1) / self.half_life)

    def apply(self, value: np.ndarray, step: int) -> np.ndarray:
        w = self.weight(step)
        if w == 0.0:
            return value
        if self.mode == "set":
            return value + (self.amount - value) * w * self.scale
        return value + self.amount * w

    def expired(self, step: int) -> bool:
        return self.end is not None and self.weight(step) < 1e-6 and step >= self.end


EVENT_TYPES: dict[str, type[Event]] = {}


def register(cls: type[Event]) -> type[Event]:
    EVENT_TYPES[cls.name] = cls
    return cls


class Event:
    """Base of every event type.

    Attributes set by subclasses: ``name``; ``effect`` (one line, what it does);
    ``source`` (file and quote); ``default_actor``/``default_target``;
    ``duration`` (steps the effect lasts when no ``until`` is given; None:
    permanent) and ``half_life`` (steps, the fading after it ends).
    """

    name: ClassVar[str]
    effect: ClassVar[str]
    source: ClassVar[str]
    default_actor: ClassVar[str | None] = None
    default_target: ClassVar[str] = "VN"
    duration: ClassVar[int | None] = None
    half_life: ClassVar[float] = 0.0
    actors: ClassVar[tuple[str, ...]] = POWERS

    extra_fields: ClassVar[tuple[str, ...]] = ()
    targets: ClassVar[tuple[str, ...]] = ("VN", *POWERS)

    def __init__(self, at, *, until=None, actor=None, target=None, magnitude=0.5):
        self.at = at if isinstance(at, Month) else Month.parse(at)
        self.until = None if until is None else (until if isinstance(until, Month) else Month.parse(until))
        self.actor = actor or self.default_actor
        self.target = target or self.default_target
        self.magnitude = magnitude
        if self.until is not None and self.until <= self.at:
            raise ValueError(f"until {self.until} must come after at {self.at}")
        if self.actor not in self.actors:
            raise ValueError(f"actor must be one of {', '.join(self.actors)}, got {self.actor!r}")
        if self.target not in self.targets:
            raise ValueError(f"target must be one of {', '.join(self.targets)}, got {self.target!r}")
        _check_magnitude(magnitude)

    # -- what a subclass defines -------------------------------------------
    def effects(self, m: np.ndarray) -> list[tuple[str, np.ndarray]]:
        """(path, shift) pairs for magnitude ``m`` (per run)."""
        return []

    def impulses(self, m: np.ndarray) -> list[tuple[str, np.ndarray]]:
        """(state path, one-off change) pairs: e.g. ``courtship.RU``."""
        return []

    # -- scheduling --------------------------------------------------------
    def schedule(self, model, index: int) -> None:
        """Register with the model; fires at the first step at or after ``at``."""
        self.index = index
        self.model_ref = model
        self.start = model.calendar.step_of(self.at)
        if self.until is not None:
            self.end = model.calendar.step_of(self.until)
        elif self.duration is not None:
            self.end = self.start + self.duration
        else:
            self.end = None
        model.schedule_event(self.fire, at=max(self.start, 0))

    def fire(self) -> None:
        model = self.model_ref
        m = self.draw_magnitude(model)
        for path, shift in self.effects(m):
            model.add_shock(Shock(path, shift, self.start + 1, _plus1(self.end), self.half_life))
        for path, change in self.impulses(m):
            model.add_impulse(path, change)
        model.fired.append(self)

    def draw_magnitude(self, model) -> np.ndarray:
        if isinstance(self.magnitude, (list, tuple)):
            lo, hi = self.magnitude
            u = model.streams.uniform(0, f"event:{self.index}:magnitude")[:, 0]
            return lo + u * (hi - lo)
        return np.full(model.runs, float(self.magnitude))

    def describe(self) -> str:
        return f"{self.name} by {self.actor} at {self.at}"


def _check_path(path) -> None:
    """A shock's path: a parameter, or a state path such as alignment.US (an impulse)."""
    from sim.params import load_parameters

    if not isinstance(path, str):
        raise ValueError(f"path must be a dotted parameter path, got {path!r}")
    head, _, power = path.partition(".")
    if head in STATE_PATHS:
        if power not in POWERS:
            raise ValueError(f"state path {path!r}: expected {head}.<power>, a power being one of {', '.join(POWERS)}")
        return
    if path.startswith("hedger.alignment."):
        raise ValueError(
            f"{path} is an initial value; to move a tie during a run use the state path "
            f"alignment.{path.rsplit('.', 1)[-1]}"
        )
    if path.startswith("hedger.memory."):
        raise ValueError(f"{path} is an initial value and cannot be shocked during a run")
    known = load_parameters().entries
    if path not in known:
        import difflib

        close = difflib.get_close_matches(path, list(known), n=1)
        raise ValueError(f"unknown parameter {path!r}" + (f" (did you mean {close[0]!r}?)" if close else ""))


def _plus1(step: int | None) -> int | None:
    return None if step is None else step + 1


def _check_magnitude(magnitude) -> None:
    values = magnitude if isinstance(magnitude, (list, tuple)) else [magnitude]
    ok = len(values) in (1, 2) and all(
        isinstance(v, (int, float)) and not isinstance(v, bool) and 0.0 <= v <= 1.0 for v in values
    )
    if not ok or (len(values) == 2 and values[0] > values[1]):
        raise ValueError(f"magnitude must be a number in [0, 1] or a range [low, high] inside it, got {magnitude!r}")


@register
class Sanctions(Event):
    name = "sanctions"
    effect = "Russia's reach and arms deliveries fall; its interest in Asia rises."
    source = (
        '000_81b0e165e91827ac.txt: "The sanctions put on Russia forced it to look for closer '
        'partnerships outside of Europe"'
    )
    default_actor = "US"
    default_target = "RU"

    def effects(self, m):
        t = self.target
        return [
            (f"powers.{t}.reach", -0.3 * m),
            (f"powers.{t}.supply.territory", -0.3 * m),
            (f"powers.{t}.interest", 0.2 * m),
        ]


@register
class SecondarySanctions(Event):
    name = "secondary_sanctions"
    effect = (
        "CAATSA enforced: the Russia tie costs Vietnam more, arms payments get harder, and the "
        "US tolerates the Russia tie less."
    )
    source = (
        '001_7a74a1be328c1961.txt: "make large purchases without using US dollars, which could '
        "trigger the Countering America's Adversaries through Sanctions Act (CAATSA) sanctions\""
    )
    default_actor = "US"
    default_target = "RU"

    def effects(self, m):
        a, t = self.actor, self.target
        return [
            (f"powers.{t}.tie_cost", 0.15 * m),
            (f"powers.{t}.supply.territory", -0.25 * m),
            (f"powers.{a}.tolerance.{t}", -0.2 * m),
        ]


@register
class Tariff(Event):
    name = "tariff"
    effect = "The actor's prosperity supply and reliability fall (magnitude: the tariff rate)."
    source = (
        '000_81b0e165e91827ac.txt: "it has forced Vietnam to seek alternative trading '
        'partnerships in the region, including one with Russia"'
    )
    default_actor = "US"

    def effects(self, m):
        a = self.actor
        return [(f"powers.{a}.supply.prosperity", -0.8 * m), (f"powers.{a}.reliability", -0.3 * m)]


@register
class MaritimeIncident(Event):
    name = "maritime_incident"
    effect = (
        "China's territorial threat rises, and with it what Vietnam needs on territory (threat enters "
        "net security), and China's reliability in Hanoi's eyes falls, for a while."
    )
    source = '002_795a0b2c7150b453.txt: "2014 deployment of an oil rig into"'
    default_actor = "CN"
    duration = 4
    half_life = 4.0

    def effects(self, m):
        a = self.actor
        return [(f"powers.{a}.threat.territory", 0.3 * m), (f"powers.{a}.reliability", -0.5 * m)]


@register
class BorderClosure(Event):
    name = "border_closure"
    effect = "The actor's prosperity supply drops while the border gates are shut."
    source = '002_795a0b2c7150b453.txt: "imposing informal economic coercive measures by suddenly closing border gates"'
    default_actor = "CN"
    duration = 2
    half_life = 1.0

    def effects(self, m):
        return [(f"powers.{self.actor}.supply.prosperity", -0.6 * m)]


@register
class Rapprochement(Event):
    name = "rapprochement"
    effect = "Russia and China draw closer: Russia's territorial supply and independence from Beijing fall."
    source = (
        '000_81b0e165e91827ac.txt: "Vietnam fears that Beijing could leverage its influence over '
        'Moscow to pressure Russia into curtailing arms sales or energy cooperation with Hanoi"'
    )
    default_actor = "RU"
    default_target = "CN"

    def effects(self, m):
        return [("world.russia_china_closeness", 0.3 * m), ("powers.RU.tolerance.US", -0.2 * m)]


@register
class WarDrain(Event):
    name = "war_drain"
    effect = (
        "A war diverts the actor's arms production: its arms supply and reliability fall, the tie costs reputation."
    )
    source = (
        '000_81b0e165e91827ac.txt: "It has led to delays in production for foreign markets in '
        'Russia, as most of the new equipment is sent to the front."'
    )
    default_actor = "RU"

    def effects(self, m):
        a = self.actor
        return [
            (f"powers.{a}.supply.territory", -0.3 * m),
            (f"powers.{a}.reliability", -0.15 * m),
            (f"powers.{a}.tie_cost", 0.05 * m),
        ]


@register
class Summit(Event):
    name = "summit"
    effect = "A state visit or partnership upgrade: the visiting power's courtship and Vietnam's tie with it rise."
    source = (
        '004_d9e3881cd0abe7ff.txt: "major powers are themselves competing to show Vietnam that '
        'they can supply it with security"'
    )
    default_actor = "US"

    def impulses(self, m):
        a = self.actor
        return [(f"courtship.{a}", 0.5 * m), (f"alignment.{a}", 0.04 * m)]


@register
class Unreliability(Event):
    name = "unreliability"
    effect = "The actor's reliability falls (an administration change, a broken promise)."
    source = (
        "000_81b0e165e91827ac.txt: \"in the face of the Trump administration's unreliability, "
        'Russia gained prominence as a stable partner"'
    )
    default_actor = "US"

    def effects(self, m):
        return [(f"powers.{self.actor}.reliability", -0.4 * m)]


@register
class ArmsDiversification(Event):
    name = "arms_diversification"
    effect = "An arms embargo is lifted or a new supplier appears: the actor's territorial supply rises."
    source = '000_81b0e165e91827ac.txt: "lifted the embargo on the sale of lethal weaponry to Vietnam"'
    default_actor = "US"

    def effects(self, m):
        return [(f"powers.{self.actor}.supply.territory", 0.3 * m)]


@register
class ParameterShock(Event):
    """Set or shift any named parameter (or impulse a state) for a time, with decay."""

    name = "shock"
    extra_fields = ("path", "value", "mode", "half_life")
    effect = (
        "Shifts the parameter at `path` by `value` times the magnitude (mode: shift), or moves it that "
        "share of the way to `value` (mode: set), from `at` until `until`, then fades with `half_life` "
        "steps. A state path (alignment.US, courtship.CN, coercion.RU) gets a one-off change instead."
    )
    source = "MODEL.md: a generic, validated parameter shock underlies the named events"
    default_actor = "US"

    def __init__(self, at, *, path, value, mode="shift", half_life=0.0, **kw):
        kw.setdefault("magnitude", 1.0)
        super().__init__(at, **kw)
        if mode not in ("shift", "set"):
            raise ValueError(f"mode must be 'shift' or 'set', got {mode!r}")
        from sim.params import _is_number

        if not _is_number(value):
            raise ValueError(f"value must be a number (finite), got {value!r}")
        if not _is_number(half_life) or half_life < 0:
            raise ValueError(f"half_life must be a number of steps >= 0 (finite), got {half_life!r}")
        _check_path(path)
        self.path, self.value, self.mode, self.shock_half_life = path, float(value), mode, float(half_life)

    def fire(self) -> None:
        model = self.model_ref
        m = self.draw_magnitude(model)
        if self.path.split(".")[0] in STATE_PATHS:
            model.add_impulse(self.path, self.value * m)
        else:
            model.parameters[self.path]  # unknown paths fail loudly
            shift = self.mode == "shift"
            amount = self.value * m if shift else np.full(model.runs, self.value)
            scale = 1.0 if shift else m
            end = _plus1(self.end)
            model.add_shock(Shock(self.path, amount, self.start + 1, end, self.shock_half_life, self.mode, scale))
        model.fired.append(self)
