"""One class, one world: a teacher's console and students in the four capitals (NetLogo HubNet's idea, offline).

A teacher opens a class on a lesson (a scenario and a seed) and gets a short
class code. Students join with the code and a display name, get a seat and a
token (a rejoin with the token returns the same seat), and take roles: Hanoi,
Washington, Beijing or Moscow, one student or several per role. The teacher
advances the world one quarter at a time and injects catalogue events; every
seat sees the same world (``SharedWorld.view``). Each role's students choose
their capital's move for the next quarter: Hanoi loosens, keeps or deepens each
tie, as the dashboard's student does; a great power courts, holds or presses
(``PlayedPower``). A capital nobody plays is the model's own agent.

Every action arrives as a plain message (a dict, as a page would send it as
JSON) and is checked against its schema (``ACTIONS``) before it touches a
world: a bad one raises ``ActionError`` with the field to blame and why. The
server holds at most ``MAX_CLASSES`` classes of ``MAX_SEATS`` seats, each
world at most ``MAX_LIVE_EVENTS`` live events and its scenario's quarters;
each class has a lock, since many page threads act at once. The web
transport and the pages are not here: they pass messages to ``Hub.act``.
"""

from __future__ import annotations

import csv
import html
import io
import secrets
import threading
import unicodedata
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np

from sim.classroom.lesson import ClassroomModel, Lesson, catalogue, outcome
from sim.classroom.possible_worlds import LiveEvent
from sim.model import roles as event_roles
from sim.model.agents import GreatPower, Russia
from sim.model.calendar import Month
from sim.model.domain import POWERS, TIERS
from sim.model.events import EVENT_TYPES, EventFieldError
from sim.model.outcomes import Failure
from sim.outputs.explain import MOVE_NAMES, explain
from sim.outputs.plots import NAMES

HANOI = "Hanoi"
CAPITALS = {"Washington": "US", "Beijing": "CN", "Moscow": "RU"}  # the great powers' roles and their powers
ROLES = (HANOI, *CAPITALS)
STANCES = ("press", "hold", "court")  # a great power's stance toward Vietnam for one quarter
HOLD = "hold"
KEEP_MOVE = "keep"
EVENT_KINDS = tuple(kind for kind in EVENT_TYPES if kind != "shock")  # a shock names a parameter path: not in class

# the server's bounds: what one class, and the server, may hold
MAX_CLASSES = 20
MAX_SEATS = 60
MAX_NAME = 40  # characters of a display name
MAX_LIVE_EVENTS = 24
MAX_EVENT_QUARTERS = 12
MAX_SCENARIO_NAME = 80
MAX_SEED = 2**63 - 1
CODE_LETTERS = "ACDEFGHJKMNPQRTUVWXY34679"  # no 0/O, 1/I/L, 2/Z, 5/S, 8/B: read aloud and typed without doubt
CODE_LENGTH = 6
TOKEN_BYTES = 16
MAX_TOKEN = 64


class ActionError(ValueError):
    """An action refused: the field to blame ("" for the action as a whole) and why, in words for the page."""

    def __init__(self, field: str, why: str) -> None:
        """The refusal of ``field`` for ``why``."""
        self.field, self.why = field, why
        super().__init__(f"{field}: {why}" if field else why)


# -- the schema of every inbound action --------------------------------------------------------------------------


@dataclass(frozen=True)
class Field:
    """One field of an action: its type, whether it is required, and its allowed values or bounds."""

    kind: Literal["text", "int", "number", "moves"]
    required: bool = True
    choices: tuple[str, ...] = ()
    longest: int = 0  # characters, for text
    low: float = 0.0
    high: float = 0.0


CODE = Field("text", longest=CODE_LENGTH)
TOKEN = Field("text", longest=MAX_TOKEN)
ACTIONS: dict[str, dict[str, Field]] = {
    "open": {"scenario": Field("text", required=False, longest=MAX_SCENARIO_NAME),
             "seed": Field("int", required=False, high=MAX_SEED)},
    "join": {"code": CODE, "name": Field("text", longest=MAX_NAME),
             "token": Field("text", required=False, longest=MAX_TOKEN)},
    "role": {"code": CODE, "token": TOKEN, "role": Field("text", choices=ROLES)},
    "move": {"code": CODE, "token": TOKEN, "moves": Field("moves", required=False),
             "stance": Field("text", required=False, choices=STANCES)},
    "advance": {"code": CODE, "token": TOKEN},
    "inject": {"code": CODE, "token": TOKEN, "event": Field("text", choices=EVENT_KINDS),
               "actor": Field("text", required=False, choices=POWERS),
               "target": Field("text", required=False, choices=("VN", *POWERS)),
               "magnitude": Field("number", required=False, high=1.0),
               "quarters": Field("int", required=False, high=MAX_EVENT_QUARTERS),
               "tier": Field("text", required=False, choices=TIERS[:-1])},
    "view": {"code": CODE, "token": TOKEN},
    "debrief": {"code": CODE, "token": TOKEN},
    "end": {"code": CODE, "token": TOKEN},
    "close": {"code": CODE, "token": TOKEN},
}  # fmt: skip


def _said(value: object) -> str:
    """A value for a message: short, printable, never the client's raw text."""
    text = repr(value)
    text = "".join(c if c.isprintable() else "?" for c in text)
    return text if len(text) <= 30 else text[:29] + "…"


def _checked(name: str, spec: Field, value: object) -> object:
    """``value`` if it fits ``spec``, else ActionError naming the field."""
    if spec.kind == "text":
        return _text(name, spec, value)
    if spec.kind in ("int", "number"):
        return _number(name, spec, value)
    return _moves(name, value)


def _text(name: str, spec: Field, value: object) -> str:
    if not isinstance(value, str):
        raise ActionError(name, f"expected text, got {type(value).__name__}")
    if spec.longest and len(value) > spec.longest:
        raise ActionError(name, f"at most {spec.longest} characters, got {len(value)}")
    if spec.choices and value not in spec.choices:
        raise ActionError(name, f"expected one of {', '.join(spec.choices)}, got {_said(value)}")
    return value


def _number(name: str, spec: Field, value: object) -> int | float:
    whole = spec.kind == "int"
    if isinstance(value, bool) or not isinstance(value, int if whole else (int, float)):
        raise ActionError(name, f"expected {'a whole number' if whole else 'a number'}, got {_said(value)}")
    if not spec.low <= value <= spec.high:  # NaN fails this too
        raise ActionError(name, f"expected from {spec.low:g} to {spec.high:g}, got {_said(value)}")
    return value


def _moves(name: str, value: object) -> dict[str, str]:
    """Hanoi's move per partner, e.g. {"US": "deepen", "CN": "keep", "RU": "loosen"}."""
    if not isinstance(value, Mapping):
        raise ActionError(name, f"expected a move for each of {', '.join(POWERS)}, got {type(value).__name__}")
    if set(value) != set(POWERS):
        raise ActionError(name, f"expected a move for each of {', '.join(POWERS)} and nothing else")
    for power, move in value.items():
        if move not in MOVE_NAMES:
            raise ActionError(f"{name}.{power}", f"expected one of {', '.join(MOVE_NAMES)}, got {_said(move)}")
    return {p: value[p] for p in POWERS}


def check(message: object) -> tuple[str, dict[str, Any]]:
    """The action a message asks for and its fields, checked against ``ACTIONS``; ActionError if it does not fit.

    A message is a dict: ``action`` and the action's fields, nothing else.
    """
    if not isinstance(message, Mapping):
        raise ActionError("", f"expected a message with an action, got {type(message).__name__}")
    action = message.get("action")
    if not isinstance(action, str) or action not in ACTIONS:
        raise ActionError("action", f"expected one of {', '.join(ACTIONS)}, got {_said(action)}")
    schema = ACTIONS[action]
    unknown = [k for k in message if k != "action" and k not in schema]
    if unknown:
        raise ActionError(_said(unknown[0]).strip("'"), f"a {action} action has no such field")
    fields: dict[str, Any] = {}
    for name, spec in schema.items():
        if name not in message or message[name] is None:
            if spec.required:
                raise ActionError(name, "missing")
            continue
        fields[name] = _checked(name, spec, message[name])
    return action, fields


def display_name(text: str) -> str:
    """A display name as shown: printable characters only, spaces collapsed, at most MAX_NAME characters.

    Control, format (such as the right-to-left override) and other unprintable characters are dropped.
    """
    text = unicodedata.normalize("NFC", text)
    kept = "".join(c if c.isprintable() else " " for c in text)
    name = " ".join(kept.split())[:MAX_NAME]
    if not name:
        raise ActionError("name", "expected a name with at least one visible character")
    return name


def for_csv(text: str) -> str:
    """Text for a spreadsheet cell: one that starts like a formula is quoted, so no spreadsheet runs it."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


# -- a great power played by the class ---------------------------------------------------------------------------


def stance_response(
    power: GreatPower, courtship: np.ndarray, coercion: np.ndarray, stance: str
) -> tuple[np.ndarray, np.ndarray]:
    """Courtship and coercion after one quarter of ``stance``, from their values before it (an assumption).

    Court: courtship moves toward the power's interest in Vietnam at the
    rule's courtship fading rate, and coercion fades at its own rate. Press:
    the same with the two exchanged. Hold: both fade. So a stance kept for
    long settles where the power cares enough to go (its interest), and one
    dropped fades as the model's courtship and coercion fade.
    """
    s, w, p = power.model.world.scalars, power.model.world, power.index
    interest = w.interest[:, p]
    fade_court, fade_coerce = s["courtship_decay"], s["coercion_decay"]
    court = (1 - fade_court) * courtship + (fade_court * interest if stance == "court" else 0.0)
    coerce = (1 - fade_coerce) * coercion + (fade_coerce * interest if stance == "press" else 0.0)
    return np.clip(court, 0.0, 1.0), np.clip(coerce, 0.0, 1.0)


class PlayedPower(GreatPower):
    """A great power whose stance toward Vietnam is the class's choice, where students play it.

    The model's rule is worked out all the same (``rule``: the courtship and
    coercion it would have set), for the role's "why"; while nobody plays the
    power, the rule is what happens.
    """

    model: SharedModel
    rule: tuple[np.ndarray, np.ndarray] | None = None

    def respond(self) -> None:
        """The class's stance this quarter, or the model's rule where nobody plays this power."""
        before = self.courtship, self.coercion
        super().respond()
        self.rule = self.courtship, self.coercion
        stance = self.model.stances.get(self.name)
        if stance is not None:
            self.courtship, self.coercion = stance_response(self, *before, stance)


class PlayedRussia(PlayedPower, Russia):
    """Russia played by the class: its stance is the class's choice, and it cedes territorial supply as Russia does."""


PLAYED_POWERS: dict[str, type[GreatPower]] = {"US": PlayedPower, "CN": PlayedPower, "RU": PlayedRussia}


@dataclass(frozen=True)
class Decided:
    """What each capital did in one quarter: Hanoi's moves (None: the model's Vietnam), each power's stance."""

    hanoi: dict[str, str] | None  # power -> loosen/keep/deepen
    stances: dict[str, str | None]  # power -> press/hold/court, None where the model's rule acted


NOBODY = Decided(None, dict.fromkeys(POWERS))


class SharedModel(ClassroomModel):
    """A class's world: the lesson's world in which each capital is played by its students or by the model."""

    def __init__(self, lesson: Lesson, live: tuple[LiveEvent, ...] = ()) -> None:
        """The world of ``lesson`` with the ``live`` events, every capital the model's until a quarter is decided."""
        super().__init__(lesson, live, powers=PLAYED_POWERS)
        self.stances: dict[str, str | None] = dict.fromkeys(POWERS)

    def play(self, decided: Decided) -> None:
        """One quarter with the capitals' choices ``decided``."""
        with self.lock:
            self.student = decided.hanoi is not None
            moves = decided.hanoi or dict.fromkeys(POWERS, KEEP_MOVE)
            self.moves = {p: MOVE_NAMES.index(moves[p]) - 1 for p in POWERS}
            self.stances = dict(decided.stances)
            self.step()


def replay(lesson: Lesson, live: tuple[LiveEvent, ...], quarters: list[Decided]) -> SharedModel:
    """The world of ``lesson`` with the ``live`` events, played again quarter by quarter as ``quarters`` say."""
    world = SharedModel(lesson, live)
    for decided in quarters:
        world.play(decided)
    return world


# -- the scores --------------------------------------------------------------------------------------------------


def security(world: SharedModel) -> float:
    """Hanoi's score: mean security over the quarters played (the mean share of demand met), zero from a failure on.

    A lasting failure (docs/ODD.md 7.8) scores zero from its first quarter
    to the end: surviving with security is what counts.
    """
    n = world.steps
    if n == 0:
        return 0.0
    met = world.trajectories()["satisfaction"][1:, 0].mean(axis=1)
    if world.verdict.mode[0] != Failure.NONE:
        met[max(int(world.verdict.step[0]), 1) - 1 :] = 0.0
    return float(met.mean())


def gain(world: SharedModel, power: str) -> dict[str, float]:
    """A great power's score: its mean tie with Vietnam over the quarters played, and its mean share of her ties.

    The score is the tie (``tie``); the share of Vietnam's engagement is told beside it.
    """
    if world.steps == 0:
        return {"tie": 0.0, "share": 0.0}
    a = world.trajectories()["alignment"][1:, 0]
    p = POWERS.index(power)
    share = a[:, p] / np.maximum(a.sum(axis=1), 1e-12)
    return {"tie": float(a[:, p].mean()), "share": float(share.mean())}


def score(world: SharedModel, role: str) -> float:
    """The role's score in ``world``: Hanoi's security, or a great power's mean tie with Vietnam."""
    return security(world) if role == HANOI else gain(world, CAPITALS[role])["tie"]


def fate(world: SharedModel) -> dict[str, Any]:
    """The world's verdict so far: in words, the failure's date (None while multi-alignment holds), Hanoi's score."""
    out = outcome(world)
    return {
        "verdict": out.words() if out.failure != Failure.NONE else "multi-alignment holds",
        "failure_date": None if out.date is None else str(out.date),
        "security": round(security(world), 4),
        "gains": {CAPITALS_OF[p]: {k: round(v, 4) for k, v in gain(world, p).items()} for p in POWERS},
    }


CAPITALS_OF = {power: role for role, power in CAPITALS.items()}


# -- seats and the class -----------------------------------------------------------------------------------------


@dataclass
class Seat:
    """A student's place in a class: a public id, a secret token for rejoining, a name and a role."""

    id: str
    token: str
    name: str
    role: str | None = None
    choice: dict[str, str] | str | None = None  # the move chosen for the coming quarter
    moves: list[dict[str, str] | str | None] = field(default_factory=list)  # own choice at each quarter played
    roles: list[str | None] = field(default_factory=list)  # the role played at each quarter (a student may switch)


def _majority(choices: list[str], default: str) -> str:
    """The choice most students made; a tie, or nobody choosing, is ``default`` (keep, hold)."""
    counts = Counter(choices).most_common()
    if not counts or (len(counts) > 1 and counts[0][1] == counts[1][1]):
        return default
    return counts[0][0]


class SharedWorld:
    """One class's world: its lesson, its seats, the quarters played and the choices for the next one.

    Every method takes the class's lock: many pages act at once. The world
    changes only through ``advance`` and ``inject`` (the teacher's), and the
    ``version`` counts every change a page would show (a page redraws when it
    changes).
    """

    def __init__(self, code: str, lesson: Lesson, teacher: str) -> None:
        """Class ``code`` on ``lesson``; ``teacher`` is the teacher's token."""
        self.code, self.lesson, self.teacher = code, lesson, teacher
        self.world = SharedModel(lesson)
        self.seats: dict[str, Seat] = {}  # by token
        self.quarters: list[Decided] = []
        self.version = 0
        self.lock = threading.RLock()
        self._debriefed: tuple[int, dict[str, Any]] | None = None  # the debrief at a version: replays cost seconds
        self.ended = False  # the teacher ended the game: no more quarters, moves, roles or events
        self.shown = 0  # how many times the teacher has shown the debrief to the class
        self.showing: dict[str, Any] | None = None  # the debrief the class's pages show now (None: the world)

    # -- students ----------------------------------------------------------
    def join(self, name: str, token: str | None = None) -> Seat:
        """A new seat for ``name``, or with the ``token`` of a seat already taken, that seat again."""
        with self.lock:
            if token is not None:
                seat = self.seats.get(token)
                if seat is None:
                    raise ActionError("token", "no seat in this class has this token; join without one")
                return seat
            if len(self.seats) >= MAX_SEATS:
                raise ActionError("", f"this class is full ({MAX_SEATS} seats)")
            seat = Seat(f"s{len(self.seats) + 1}", secrets.token_urlsafe(TOKEN_BYTES), display_name(name))
            seat.moves = [None] * len(self.quarters)  # the quarters before the student came: no choice
            seat.roles = [None] * len(self.quarters)
            self.seats[seat.token] = seat
            self.version += 1
            return seat

    def seat(self, token: str) -> Seat:
        """The seat of ``token``; ActionError if no student of this class holds it."""
        seat = self.seats.get(token)
        if seat is None:
            raise ActionError("token", "no seat in this class has this token")
        return seat

    def take(self, token: str, role: str) -> Seat:
        """The seat plays ``role`` from the next quarter on (a choice made for another role is dropped)."""
        if role not in ROLES:
            raise ActionError("role", f"expected one of {', '.join(ROLES)}, got {_said(role)}")
        with self.lock:
            seat = self.seat(token)
            self._playing()
            if seat.role != role:
                seat.role, seat.choice = role, None
                self.version += 1
            return seat

    def choose(self, token: str, moves: Mapping[str, str] | None = None, stance: str | None = None) -> Seat:
        """The seat's choice for the coming quarter: Hanoi's ``moves`` (one per partner) or a power's ``stance``.

        Hanoi's moves are those the Four No's allow now: a forbidden one is refused, not turned into "keep".
        """
        with self.lock:
            seat = self.seat(token)
            if seat.role is None:
                raise ActionError("role", "take a role before choosing a move")
            self._playing()
            if not self.world.running:
                raise ActionError("", "the world has reached its last quarter")
            if seat.role == HANOI:
                if moves is None or stance is not None:
                    raise ActionError("moves", "Hanoi chooses a move for each partner (moves), not a stance")
                checked = _moves("moves", moves)
                self._allowed(checked)
                seat.choice = checked
            else:
                if stance is None or moves is not None:
                    raise ActionError("stance", f"{seat.role} chooses a stance ({', '.join(STANCES)}), not moves")
                seat.choice = _text("stance", Field("text", choices=STANCES), stance)
            self.version += 1
            return seat

    def _allowed(self, moves: dict[str, str]) -> None:
        """ActionError if the Four No's (or the ends of the scale) forbid one of ``moves`` now."""
        h = self.world.hedger
        step = self.world.world.scalars["step_size"][:, None]
        feasible = h.feasible(h.alignment, step)[0]
        for p, power in enumerate(POWERS):
            k = MOVE_NAMES.index(moves[power])
            if not feasible[p, k]:
                allowed = [MOVE_NAMES[j] for j in range(len(MOVE_NAMES)) if feasible[p, j]]
                raise ActionError(
                    f"moves.{power}",
                    f"the Four No's (or the ends of the scale) do not allow Vietnam to {moves[power]} the tie with "
                    f"{NAMES[power]} now; allowed: {', '.join(allowed)}",
                )

    def players(self, role: str) -> list[Seat]:
        """The seats playing ``role``, in the order they joined."""
        return [s for s in self.seats.values() if s.role == role]

    def decided(self) -> Decided:
        """What the class's choices make of the coming quarter (the rule in ``docs/classroom.md``).

        A role nobody plays is the model's. A role played: for each partner (Hanoi)
        or for the stance (a power), the choice most of its students made; a tie,
        or no choice made, is keep (Hanoi) or hold (a power).
        """
        hanoi = None
        if self.players(HANOI):
            chosen = [s.choice for s in self.players(HANOI) if isinstance(s.choice, dict)]
            # each move was allowed when chosen, and the Four No's judge each tie alone (``Hedger.feasible``)
            hanoi = {p: _majority([c[p] for c in chosen], KEEP_MOVE) for p in POWERS}
        stances: dict[str, str | None] = {}
        for role, power in CAPITALS.items():
            seats = self.players(role)
            stances[power] = _majority([s.choice for s in seats if isinstance(s.choice, str)], HOLD) if seats else None
        return Decided(hanoi, stances)

    # -- the teacher -------------------------------------------------------
    def is_teacher(self, token: str) -> bool:
        """Whether ``token`` is this class's teacher's."""
        return secrets.compare_digest(token.encode(), self.teacher.encode())

    def _playing(self) -> None:
        """ActionError if the teacher has ended the game."""
        if self.ended:
            raise ActionError("", "the teacher has ended the game; the debrief is on every page")

    def advance(self) -> Decided:
        """One quarter with the class's choices; every seat's own choice is kept, and the choices cleared.

        A debrief shown to the class before the game's end is put away: every page is back in the world.
        """
        with self.lock:
            self._playing()
            if not self.world.running:
                raise ActionError("", f"the world has reached its last quarter ({self.world.date})")
            decided = self.decided()
            self.world.play(decided)
            self.quarters.append(decided)
            for seat in self.seats.values():
                seat.moves.append(seat.choice if seat.role is not None else None)
                seat.roles.append(seat.role)
                seat.choice = None
            self.showing = None
            self.version += 1
            return decided

    def end(self) -> dict[str, Any]:
        """The teacher ends the game: no more quarters, moves, roles or events; the debrief goes to every page."""
        with self.lock:
            self._playing()
            self.ended = True
            for seat in self.seats.values():
                seat.choice = None
            return self.show()

    def show(self) -> dict[str, Any]:
        """Show the debrief to the whole class (``showing``) as it stands now, and return it.

        Every student's page shows it, read-only, until the next quarter (if the game goes on).
        """
        with self.lock:
            self.version += 1
            debrief = self.debrief()
            self.shown += 1
            self.showing = debrief
            return debrief

    def inject(
        self,
        kind: str,
        *,
        actor: str | None = None,
        target: str | None = None,
        magnitude: float = 0.8,
        quarters: int | None = None,
        tier: str | None = None,
    ) -> str:
        """Fire a catalogue event now (``ClassroomModel.inject``); returns it in words."""
        with self.lock:
            if kind not in EVENT_KINDS:
                raise ActionError("event", f"expected one of {', '.join(EVENT_KINDS)}, got {_said(kind)}")
            if len(self.world.live_events) >= MAX_LIVE_EVENTS:
                raise ActionError("", f"a class injects at most {MAX_LIVE_EVENTS} events")
            self._playing()
            if not self.world.running:
                raise ActionError("", "the world has reached its last quarter")
            wrong = event_roles.check(kind, actor, target)
            if wrong is not None:
                raise ActionError(*wrong)
            fields: dict[str, Any] = {"magnitude": float(magnitude)}
            fields |= {k: v for k, v in (("actor", actor), ("target", target), ("tier", tier)) if v is not None}
            if tier is not None and "tier" not in EVENT_TYPES[kind].extra_fields:
                raise ActionError("tier", f"a {kind} event has no tier")
            try:
                event = self.world.inject(kind, quarters or None, **fields)
            except EventFieldError as exc:
                raise ActionError(exc.field, exc.expected) from None
            self.version += 1
            return event.describe()

    # -- what a page shows -------------------------------------------------
    def view(self, token: str) -> dict[str, Any]:
        """What the holder of ``token`` sees: the world, and a student's own role's "why" and score (plain JSON data).

        Text from students (names) is HTML-escaped; ``version`` changes whenever any of it may have.
        """
        with self.lock:
            teacher = self.is_teacher(token)
            seat = None if teacher else self.seat(token)
            w = self.world
            a = w.hedger.alignment[0]
            out: dict[str, Any] = {
                "code": self.code,
                "version": self.version,
                "scenario": html.escape(self.lesson.scenario.name),
                "seed": self.lesson.seed,
                "date": str(w.date),
                "quarter": w.steps,
                "quarters": w.horizon,
                "running": bool(w.running) and not self.ended,
                "ended": self.ended,
                "debrief": self.shown if self.showing is not None else 0,
                "ties": {p: round(float(a[i]), 4) for i, p in enumerate(POWERS)},
                "tiers": {p: TIERS[int(t)] for p, t in zip(POWERS, w.hedger.tier[0], strict=True)},
                "courtship": {p: round(float(c), 4) for p, c in zip(POWERS, w.courtship[0], strict=True)},
                "coercion": {p: round(float(c), 4) for p, c in zip(POWERS, w.coercion[0], strict=True)},
                **fate(w),
                "events": [_event_words(kind, at, f) for kind, at, f in w.live_events],
                "players": {role: [html.escape(s.name) for s in self.players(role)] for role in ROLES},
                "played_by": {role: "class" if self.players(role) else "model" for role in ROLES},
            }
            if teacher:
                out["seats"] = [_seat_row(s) for s in self.seats.values()]
                return out
            assert seat is not None
            out["seat"] = _seat_row(seat)
            if seat.role is not None:
                out["why"] = self._why(seat.role)
                out["score"] = round(score(w, seat.role), 4)
                out["chosen"] = [s.choice is not None for s in self.players(seat.role)].count(True)
            return out

    def _why(self, role: str) -> list[str]:
        """The role's "why" of the last quarter, in sentences."""
        w = self.world
        if not w.steps:
            return []
        if role == HANOI:
            played = self.quarters[-1].hanoi is not None
            return [r.sentence(student=played) for r in explain(w.decisions[-1]).values()]
        power = CAPITALS[role]
        agent = w.great_powers[POWERS.index(power)]
        assert isinstance(agent, PlayedPower) and agent.rule is not None
        stance = self.quarters[-1].stances[power]
        line = float(w.world.scalars["coercion"][0])
        did = "the model's rule acted" if stance is None else f"the class chose to {stance}"
        return [
            f"{role}: {did}; courtship is {agent.courtship[0]:.2f} and coercion {agent.coercion[0]:.2f}.",
            f"By the model's rule {NAMES[power]} would have set courtship {agent.rule[0][0]:.2f} and coercion "
            f"{agent.rule[1][0]:.2f}. Coercion above {line:.2f} for a year is sustained coercion: a cost to Vietnam.",
        ]

    # -- the debrief -------------------------------------------------------
    def debrief(self) -> dict[str, Any]:
        """Every student's moves by quarter, the world's verdict, and the yardsticks beside it (plain JSON data).

        Worked out once for each version of the class (the replays take a few
        seconds at the limits) and shared by every caller: read it, never change it.

        Beside the class's world: the model's own world on the same seed with the
        same live events (every capital the model's), each role's score had the
        model played that role alone (the others as the class played them), and
        for each live event the world without it (the class's moves the same).
        ``ties`` holds Vietnam's ties at each quarter (the start included) in the
        class's world, the model's own and (in ``events``) each world without an
        event; ``record`` the class's world at each quarter (``moment``), to replay it;
        ``scores`` each role's score after each quarter, the class's and the model's in its chair (``score_history``).
        """
        with self.lock:
            if self._debriefed is not None and self._debriefed[0] == self.version:
                return self._debriefed[1]
            lesson, live, quarters = self.lesson, tuple(self.world.live_events), list(self.quarters)
            seats = list(self.seats.values())
            world = self.world
            dates = [str(world.calendar.date(t + 1)) for t in range(len(quarters))]
            own = replay(lesson, live, [NOBODY] * len(quarters))
            scores = score_history(lesson, live, quarters)
            roles: dict[str, Any] = {}
            for role in ROLES:
                roles[role] = {
                    "played_by": "class" if any(s.role == role for s in seats) else "model",
                    "score": round(score(world, role), 4),
                    "model_in_the_chair": scores[role]["model"][-1] if quarters else 0.0,
                }
            events = []
            for i, (kind, at, fields) in enumerate(live):
                without = replay(lesson, live[:i] + live[i + 1 :], quarters)
                events.append({"event": _event_words(kind, at, fields), "date": str(at), "without": fate(without),
                               "ties": _ties(without)})  # fmt: skip
            debrief = {
                "code": self.code,
                "scenario": html.escape(lesson.scenario.name),
                "seed": lesson.seed,
                "dates": dates,
                "world": fate(world),
                "model": fate(own),
                "roles": roles,
                "decided": [_decided_row(d) for d in quarters],
                "students": [
                    {
                        **_seat_row(s),
                        "moves": list(s.moves),
                        "roles": list(s.roles),
                        "score": roles[s.role]["score"] if s.role else None,
                    }
                    for s in seats
                ],
                "events": events,
                "ties": {"class": _ties(world), "model": _ties(own)},
                "record": record(lesson, live, quarters),
                "scores": scores,
            }
            self._debriefed = self.version, debrief
            return debrief

    def debrief_csv(self) -> str:
        """The debrief as CSV text: one row per student and quarter, then the world, the model's and each event's."""
        with self.lock:
            d = self.debrief()
            out = io.StringIO()
            writer = csv.writer(out, lineterminator="\n")
            writer.writerow(["row", "seat", "name", "role", "quarter", "date", "choice", "class_move",
                             "verdict", "failure_date", "security", "score", "model_score"])  # fmt: skip
            for s in self.seats.values():
                for q, (choice, role, date) in enumerate(zip(s.moves, s.roles, d["dates"], strict=True), start=1):
                    class_move = d["decided"][q - 1].get(role, "") if role else ""
                    writer.writerow(["move", s.id, for_csv(s.name), role or "", q, date,
                                     _move_words(choice), _move_words(class_move), "", "", "", "", ""])  # fmt: skip
            for s in self.seats.values():
                role = d["roles"].get(s.role or "", {})
                w = d["world"]
                writer.writerow(["student", s.id, for_csv(s.name), s.role or "", "", "", "", "", w["verdict"],
                                 w["failure_date"] or "", w["security"], role.get("score", ""),
                                 role.get("model_in_the_chair", "")])  # fmt: skip
            for label, f in (("class world", d["world"]), ("model's own world", d["model"])):
                writer.writerow([label, "", "", "", "", "", "", "", f["verdict"], f["failure_date"] or "",
                                 f["security"], "", ""])  # fmt: skip
            for e in d["events"]:
                f = e["without"]
                writer.writerow([f"without {e['event']}", "", "", "", "", e["date"], "", "", f["verdict"],
                                 f["failure_date"] or "", f["security"], "", ""])  # fmt: skip
            return out.getvalue()


def _ties(world: SharedModel) -> list[list[float]]:
    """Vietnam's tie with each power (in the order of POWERS) at each quarter so far, the start included."""
    a = world.trajectories()["alignment"][:, 0]
    return [[round(float(v), 4) for v in row] for row in a]


def moment(world: SharedModel) -> dict[str, Any]:
    """The world as it stands now, for the debrief's replay: its quarter, date, ties, tiers and verdict so far."""
    f = fate(world)
    return {
        "quarter": world.steps,
        "date": str(world.date),
        "ties": {p: round(float(v), 4) for p, v in zip(POWERS, world.hedger.alignment[0], strict=True)},
        "tiers": {p: TIERS[int(t)] for p, t in zip(POWERS, world.hedger.tier[0], strict=True)},
        "verdict": f["verdict"],
        "failure_date": f["failure_date"],
        "security": f["security"],
    }


def record(lesson: Lesson, live: tuple[LiveEvent, ...], quarters: list[Decided]) -> list[dict[str, Any]]:
    """The class's world at each quarter played, the start included (``moment``): the world replayed as decided.

    The verdict at a quarter is the one the class saw then: a failure not yet lasting is not yet said.
    """
    world = SharedModel(lesson, live)
    out = [moment(world)]
    for decided in quarters:
        world.play(decided)
        out.append(moment(world))
    return out


def score_history(lesson: Lesson, live: tuple[LiveEvent, ...], quarters: list[Decided]) -> dict[str, Any]:
    """Each role's score as it stood after each quarter played: in the class's world, and with the model in its chair.

    ``{role: {"class": [...], "model": [...]}}``, one value per quarter played:
    the score (``score``) of the class's world replayed to that quarter, and of
    the world in which the model played that role alone (the other capitals as
    the class played them). The last values are the debrief's scores.
    """
    world = SharedModel(lesson, live)
    chairs = {role: SharedModel(lesson, live) for role in ROLES}
    out: dict[str, dict[str, list[float]]] = {role: {"class": [], "model": []} for role in ROLES}
    for decided in quarters:
        world.play(decided)
        for role, chair in chairs.items():
            chair.play(_without_role(decided, role))
            out[role]["class"].append(round(score(world, role), 4))
            out[role]["model"].append(round(score(chair, role), 4))
    return out


def _without_role(decided: Decided, role: str) -> Decided:
    """The quarter as decided, but ``role`` played by the model."""
    if role == HANOI:
        return Decided(None, decided.stances)
    return Decided(decided.hanoi, {**decided.stances, CAPITALS[role]: None})


def _decided_row(decided: Decided) -> dict[str, Any]:
    """A quarter's decisions by role (None where the model acted)."""
    return {HANOI: decided.hanoi, **{role: decided.stances[p] for role, p in CAPITALS.items()}}


def _move_words(move: object) -> str:
    """A choice in a CSV cell: Hanoi's moves as US:deepen CN:keep RU:keep, a stance as itself, none as empty."""
    if isinstance(move, Mapping):
        return " ".join(f"{p}:{m}" for p, m in move.items())
    return "" if move is None else str(move)


def _seat_row(seat: Seat) -> dict[str, Any]:
    """A seat as a page shows it: id, escaped name, role, and whether it has chosen (never its token)."""
    return {"id": seat.id, "name": html.escape(seat.name), "role": seat.role, "chosen": seat.choice is not None}


def _event_words(kind: str, at: Month, fields: Mapping[str, Any]) -> str:
    """A live event in words: its type, actor and date."""
    actor = fields.get("actor", EVENT_TYPES[kind].default_actor)
    by = f" by {NAMES.get(actor, actor)}" if actor else ""
    return f"{kind.replace('_', ' ')}{by} at {at}"


# -- the server's classes ----------------------------------------------------------------------------------------


class Hub:
    """The classes a server holds, by code (at most MAX_CLASSES); ``act`` takes a page's message and answers it."""

    def __init__(self, scenarios: Mapping[str, Path] | None = None) -> None:
        """A hub whose classes may be opened on ``scenarios`` (by name; default: the shipped ones)."""
        self.scenarios = dict(scenarios) if scenarios is not None else catalogue()
        self.classes: dict[str, SharedWorld] = {}
        self.lock = threading.Lock()

    def open(self, scenario: str | None = None, seed: int | None = None) -> tuple[SharedWorld, str]:
        """A new class on ``scenario`` (a name; default the first) and ``seed``; returns it and the teacher's token."""
        if scenario is not None and scenario not in self.scenarios:
            raise ActionError("scenario", f"expected one of {', '.join(self.scenarios)}, got {_said(scenario)}")
        path = self.scenarios[scenario or next(iter(self.scenarios))]
        lesson = Lesson(path, seed=seed)
        teacher = secrets.token_urlsafe(TOKEN_BYTES)
        with self.lock:
            if len(self.classes) >= MAX_CLASSES:
                raise ActionError("", f"this server holds at most {MAX_CLASSES} classes; close one first")
            code = new_code(self.classes)
            shared = SharedWorld(code, lesson, teacher)
            self.classes[code] = shared
        return shared, teacher

    def get(self, code: str) -> SharedWorld:
        """The class of ``code`` (letters in either case); ActionError if there is none."""
        shared = self.classes.get(code.upper())
        if shared is None:
            raise ActionError("code", "no class has this code; check it with your teacher")
        return shared

    def close(self, code: str) -> None:
        """Close the class of ``code``: its world and seats are dropped."""
        with self.lock:
            self.classes.pop(code.upper(), None)

    def _teach(self, shared: SharedWorld, action: str, f: Mapping[str, Any]) -> dict[str, Any] | None:
        """The teacher's ``action`` done: the debrief for ``debrief`` and ``end``, the code for ``close``, else None."""
        if action == "advance":
            shared.advance()
        elif action == "inject":
            shared.inject(
                f["event"],
                actor=f.get("actor"),
                target=f.get("target"),
                magnitude=f.get("magnitude", 0.8),
                quarters=f.get("quarters"),
                tier=f.get("tier"),
            )
        elif action == "debrief":
            return shared.show()
        elif action == "end":
            return shared.end()
        else:
            self.close(shared.code)
            return {"closed": shared.code}
        return None

    def act(self, message: object) -> dict[str, Any]:
        """Answer a page's message: checked against ``ACTIONS``, then done; ActionError says what was wrong.

        Returns plain JSON data: for ``open`` the code and the teacher's token, for
        ``join`` the seat's id and token, for ``debrief`` and ``end`` the debrief (shown to the whole class), for
        the rest the sender's view.
        """
        action, f = check(message)
        if action == "open":
            shared, teacher = self.open(f.get("scenario"), f.get("seed"))
            return {"code": shared.code, "token": teacher, "view": shared.view(teacher)}
        shared = self.get(f["code"])
        if action == "join":
            seat = shared.join(f["name"], f.get("token"))
            return {"seat": seat.id, "token": seat.token, "view": shared.view(seat.token)}
        token = f["token"]
        if action in ("advance", "inject", "debrief", "end", "close"):
            if not shared.is_teacher(token):
                raise ActionError("token", f"only the class's teacher may {action}")
            answer = self._teach(shared, action, f)
            if answer is not None:
                return answer
        elif action == "role":
            shared.take(token, f["role"])
        elif action == "move":
            shared.choose(token, f.get("moves"), f.get("stance"))
        return shared.view(token)


def new_code(taken: Mapping[str, object]) -> str:
    """A class code not in ``taken``: CODE_LENGTH unambiguous letters and digits, from ``secrets``."""
    while True:
        code = "".join(secrets.choice(CODE_LETTERS) for _ in range(CODE_LENGTH))
        if code not in taken:
            return code
