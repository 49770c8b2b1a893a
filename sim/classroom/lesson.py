"""The classroom: a lesson's world, the teacher's live events, and a student playing Hanoi.

Plain Python behind the dashboard (``sim.classroom.app``) and the classroom notebook:
each widget calls one of these, so all of it is tested without a browser.

A ``Lesson`` is what the teacher has set: a scenario, a few dials on it, a
seed and the runs of the fan chart. A ``ClassroomModel`` is the one world the
class watches, built from the lesson: the same seed replays the same world on
every screen. Events can be injected at the current date while it runs, and a
student can take Vietnam's place: the great powers keep their rules, only
Vietnam's three moves per step come from the student.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import pickle
import re
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from sim.classroom.possible_worlds import FANS, Fan, FanArgs, FanKey, LiveEvent, compute_fan, same_world
from sim.model.agents import KEEP, GreatPower, Hedger
from sim.model.balance import BalanceModel
from sim.model.calendar import Month
from sim.model.domain import POWERS
from sim.model.events import EVENT_TYPES, Event
from sim.model.limits import MAX_FILE_BYTES, MAX_UPLOAD_BYTES, MAX_UPLOADS
from sim.model.outcomes import Failure
from sim.model.reach import Library, show_name
from sim.model.strategies import DEFAULT, STRATEGIES
from sim.outputs.explain import Decision
from sim.outputs.plots import NAMES
from sim.runs.scenario import SHIPPED, Scenario, ScenarioError, load_scenario

if TYPE_CHECKING:
    from sim.analysis.posterior import Posterior
    from sim.model.security import Situation

SCENARIOS = SHIPPED
DEFAULT_SCENARIO = SCENARIOS / "status_quo.yaml"
# the calibrated posterior of ``bamboo app --parameters``: every new lesson draws from it
SERVED_POSTERIOR: Posterior | None = None


@dataclass(frozen=True)
class Knob:
    """A dial on the world: the value at ``path`` in a scenario.

    The path is a parameter's (``powers.CN.threat.territory``) or an event's
    magnitude, named as designs name it (``events[1].magnitude``, ``sim.runs.explore``).
    """

    label: str
    path: str
    low: float = 0.0
    high: float = 1.0
    step: float = 0.05  # a class on the same setting shares one fan: coarse steps make that likelier


KNOBS = {  # the dials every scenario has
    "cn_threat": Knob("China's territorial threat", "powers.CN.threat.territory"),
    "ru_cn_closeness": Knob("Russia–China closeness", "world.russia_china_closeness"),
    "us_tolerance_ru": Knob("United States tolerance of the Russia tie", "powers.US.tolerance.RU"),
    "four_nos": Knob("Four No's in force", "hedger.four_nos", step=1.0),
}
EVENT_MAGNITUDE = re.compile(r"events\[(\d+)\]\.magnitude")


def standing_tariff(scenario: Scenario) -> int | None:
    """Index of the last open-ended US tariff among the scenario's events (the rate in force), or None."""
    found = None
    for i, e in enumerate(scenario.events):
        if e.type == "tariff" and e.fields.get("actor", "US") == "US" and "until" not in e.fields:
            found = i
    return found


def dials(scenario: Scenario) -> dict[str, Knob]:
    """The scenario's dials: the rate of its standing US tariff, where it has one, then those of every scenario."""
    i = standing_tariff(scenario)
    tariff = {} if i is None else {"us_tariff": Knob("United States tariff rate", f"events[{i}].magnitude")}
    return {**tariff, **KNOBS}


def value_at(scenario: Scenario, path: str) -> float:
    """The value at ``path`` in the scenario as written (an event's magnitude range: its middle)."""
    event = EVENT_MAGNITUDE.fullmatch(path)
    if event is None:
        return scenario.resolved_parameters.value(path)
    return float(np.mean(scenario.events[int(event[1])].build().magnitude))


def with_values(scenario: Scenario, values: dict[str, float]) -> Scenario:
    """The scenario with the values at these paths set: parameters as a scenario sets them, magnitudes in the events."""
    events = list(scenario.events)
    parameters = {}
    for path, value in values.items():
        event = EVENT_MAGNITUDE.fullmatch(path)
        if event is None:
            parameters[path] = value
            continue
        spec = events[int(event[1])]
        events[int(event[1])] = dataclasses.replace(spec, fields={**spec.fields, "magnitude": value})
    parameter_set = scenario.resolved_parameters.with_overrides(parameters)
    return dataclasses.replace(scenario, parameter_set=parameter_set, events=events)


def knob_default(scenario: Scenario, name: str) -> float:
    """The value a dial of the scenario has as the scenario is written."""
    return value_at(scenario, dials(scenario)[name].path)


@functools.lru_cache(maxsize=64)
def _parsed(path: Path, mtime: float) -> Scenario:
    """A scenario file, parsed once per process while it is unchanged: every student's page shares it.

    A Scenario is never changed in place (the dials make a new one), so sharing it is safe.
    """
    return load_scenario(path)


def scenario_file(path: str | Path) -> Scenario:
    """A scenario file, parsed (once per process while the file is unchanged)."""
    path = Path(path).resolve()
    return _parsed(path, path.stat().st_mtime)


def catalogue(folder: Path = SCENARIOS) -> dict[str, Path]:
    """The scenarios in a folder, by name."""
    paths = sorted(folder.glob("*.yaml"))
    return {scenario_file(p).name: p for p in paths}


@functools.lru_cache(maxsize=4)
def _shipped(folder: Path, stamp: tuple[tuple[str, float], ...]) -> dict[str, bytes]:
    """The folder's scenario files, read once for each ``stamp`` (their names and times of change)."""
    return {p.name: p.read_bytes() for p in sorted(folder.glob("*.yaml"))}


def shipped(folder: Path = SCENARIOS) -> dict[str, bytes]:
    """The shipped scenario files, by file name: what an upload may inherit from, besides other uploads."""
    stamp = tuple((p.name, p.stat().st_mtime) for p in sorted(folder.glob("*.yaml")))
    return _shipped(folder, stamp)


STUDENT = "student"  # the strategy of a student playing Hanoi at the dashboard


def strategies() -> dict[str, str]:
    """Who may play Vietnam in the class's world: strategy name -> its name in plain words."""
    labels = {STUDENT: "You play Hanoi", DEFAULT: "The model's Vietnam (hedging)"}
    for name, cls in STRATEGIES.items():
        target = getattr(cls, "target", None)
        labels.setdefault(
            name,
            f"Align with {'the ' * (target == 'US')}{NAMES[target]}"
            if target
            else f"{name.capitalize()}: {cls.description}",
        )
    return labels


class Lesson:
    """What the teacher has set: a scenario and its dials, a seed, the fan chart's runs, who plays Hanoi."""

    def __init__(
        self,
        scenario: str | Path = DEFAULT_SCENARIO,
        *,
        seed: int | None = None,
        fan_runs: int = 300,
        posterior: Posterior | None = None,
    ) -> None:
        """A lesson on ``scenario`` with its own seed unless ``seed`` is given; the model's own Vietnam plays.

        Args:
            scenario: a scenario file.
            seed: the seed of the class's world (default: the scenario's).
            fan_runs: the runs of the fan chart.
            posterior: a calibrated posterior every run draws its parameters from (default: the server's).
        """
        self.fan_runs = fan_runs
        # a sim.analysis.posterior.Posterior each run draws its calibrated parameters from, as `bamboo run --parameters`
        self.posterior = posterior if posterior is not None else SERVED_POSTERIOR
        self.strategy = DEFAULT  # who plays Vietnam: a registered strategy, or STUDENT
        self.files: dict[str, bytes] = {}  # the uploaded files, by file name (for base: in later uploads)
        self.opened: dict[str, Scenario] = {}  # the scenario of each uploaded file, by file name
        self.received = 0  # bytes uploaded in this session, whatever became of them
        self.choose(scenario)
        if seed is not None:
            self.seed = seed

    @property
    def student(self) -> bool:
        """Whether a student plays Hanoi."""
        return self.strategy == STUDENT

    @student.setter
    def student(self, on: bool) -> None:
        """A student plays Hanoi (True), or the model's own Vietnam does (False)."""
        self.strategy = STUDENT if on else DEFAULT

    def choose(self, scenario: str | Path | Scenario) -> None:
        """Take a scenario (a file, or one uploaded); its dials, seed and events start as the file says."""
        if not isinstance(scenario, Scenario):
            scenario = scenario_file(scenario)
        self.scenario, self.seed = scenario, scenario.seed
        self.dials = dials(scenario)
        self.knobs = {name: value_at(scenario, knob.path) for name, knob in self.dials.items()}

    def set_seed(self, text: object) -> None:
        """Take a seed as typed: a whole number from 0; anything else raises ValueError and changes nothing."""
        value = str(text).strip()
        if not value.isdecimal() or not value.isascii():
            raise ValueError(f"the seed must be a whole number from 0 up, such as 42; got {value[:20]!r}")
        if int(value) >= 2**63:
            raise ValueError(f"the seed must be below 2**63; got {value[:20]}…")
        self.seed = int(value)

    def upload(self, name: str, data: bytes, size: int | None = None) -> None:
        """Take a scenario file sent from the browser (a bad one raises ScenarioError, changing nothing).

        It is read from memory, never written to the server's disk, and its
        ``base:`` may name a shipped scenario (``base: status_quo.yaml``) or an
        earlier upload of this session, and nothing else. Messages name the
        file as the browser sent its name, shortened. ``size``: the size the
        browser announced, when the data was not sent for being too large.
        """
        short = show_name(name)
        if max(len(data), size or 0) > MAX_FILE_BYTES:
            raise ScenarioError(short, None, "", f"the file is larger than {MAX_FILE_BYTES // 1024:,} KiB, the limit")
        if short not in self.files and len(self.files) >= MAX_UPLOADS:
            raise ScenarioError(short, None, "", f"a session keeps at most {MAX_UPLOADS} uploads; reload the page")
        if self.received + len(data) > MAX_UPLOAD_BYTES:
            limit = f"{MAX_UPLOAD_BYTES // 2**20} MiB"
            raise ScenarioError(short, None, "", f"a session uploads at most {limit} in all; reload the page")
        self.received += len(data)
        scenario = load_scenario(short, reach=Library({**shipped(), **self.files, short: data}))
        self.files[short] = data
        self.opened[short] = scenario  # a file sent again replaces its scenario: the menu has one entry a file
        self.choose(scenario)

    @property
    def uploads(self) -> dict[str, Scenario]:
        """The scenarios uploaded in this session, by name: one for each file it keeps."""
        return {scenario.name: scenario for scenario in self.opened.values()}

    def scenarios(self) -> dict[str, Path | Scenario]:
        """Every scenario the teacher can pick: the packaged ones and those uploaded."""
        return {**catalogue(), **self.uploads}

    def set(self, name: str, value: float) -> None:
        """Move the dial ``name`` to ``value``.

        Raises:
            ValueError: the scenario has no such dial, or the value is off the dial's scale.
        """
        knob = self.dials.get(name)
        if knob is None:
            raise ValueError(f"{self.scenario.name} has no dial {name!r}; its dials are {', '.join(self.dials)}")
        if not knob.low <= value <= knob.high:
            raise ValueError(f"{knob.label} must be from {knob.low:g} to {knob.high:g}, got {value!r}")
        self.knobs[name] = float(value)

    def what_if(self) -> Scenario:
        """The scenario with the dials applied (a dial left as the file says changes nothing)."""
        s = self.scenario
        moved = {k.path: self.knobs[n] for n, k in self.dials.items() if self.knobs[n] != value_at(s, k.path)}
        what_if = with_values(s, moved)
        if self.posterior is None:
            return what_if
        # calibrated, but for what the scenario or a dial sets itself
        drawn = self.posterior.without([*s.parameters, *moved])
        return dataclasses.replace(what_if, parameter_set=what_if.resolved_parameters.with_posterior(drawn))

    def model(self) -> ClassroomModel:
        """The class's world as the lesson sets it, at its first quarter."""
        return ClassroomModel(self)


@dataclass
class Comparison:
    """The student's Vietnam beside the model's own, in the same world (same seed, same events)."""

    dates: list[Month]
    student: dict[str, np.ndarray]  # trajectories, as BalanceModel.trajectories()
    model: dict[str, np.ndarray]
    student_verdict: str
    model_verdict: str


def verdict(model: BalanceModel, run: int = 0) -> str:
    """One run's verdict so far, in words; a power's sustained coercion is said beside it, not as a failure."""
    mode = Failure(int(model.verdict.mode[run]))
    said = "multi-alignment holds"
    if mode != Failure.NONE:
        said = f"{mode.label.replace('_', ' ')} in {model.calendar.date(int(model.verdict.step[run]))}"
    if model.verdict.coerced[run]:
        said += f" (coerced from {model.calendar.date(int(model.verdict.coerced_step[run]))})"
    return said


@dataclass(frozen=True)
class Outcome:
    """How one run's multi-alignment has fared so far: its failure (if any), when, and which power it concerns."""

    failure: Failure
    date: Month | None  # the first quarter of the failure
    power: str | None  # the partner dropped, or the power sided with
    sided: bool = False  # bandwagoning by a tie past the alliance line (else by the gap between two ties)
    walked_away: bool = False  # a dropped partner that walked away itself (else Vietnam let it go)

    def words(self) -> str:
        """The outcome in plain words, e.g. "dropped partner: United States, from 2029-04"."""
        if self.failure == Failure.NONE:
            return "no failure so far"
        name = "" if self.power is None else NAMES.get(self.power, "")
        if self.failure == Failure.DROPPED_PARTNER:
            what = f"dropped partner: {name}" if name else "dropped partner"
            what += ", which walked away" if self.walked_away else ""
        elif self.failure == Failure.ISOLATION:
            what = "isolation: no partner adds enough security"
        elif self.sided:
            what = f"bandwagoning: sided with {name}"
        else:
            what = f"bandwagoning: sided with {name} against the others" if name else "bandwagoning"
        return f"{what}, from {self.date}"


def outcome(model: BalanceModel, run: int = 0) -> Outcome:
    """The run's first lasting failure so far, with the power it concerns, read from its recorded path."""
    failure = Failure(int(model.verdict.mode[run]))
    if failure == Failure.NONE:
        return Outcome(failure, None, None)
    step = int(model.verdict.step[run])
    s = model.world.scalars
    a = model.trajectories()["alignment"][step, run]
    power, sided = None, False
    if failure == Failure.DROPPED_PARTNER:
        power = POWERS[int(np.argmin(a - s["comprehensive"][run]))]
    elif failure == Failure.BANDWAGONING:  # Vietnam sided: with its deepest tie, past the alliance line or the gap
        sided = bool(np.any(a >= s["alliance"][run]))
        power = POWERS[int(np.argmax(a))]
    walked = bool(model.verdict.walked_away[run])
    return Outcome(failure, model.calendar.date(step), power, sided, walked)


class Student(Hedger):
    """Vietnam played by a student: each quarter's moves come from the dashboard.

    The model's own choice is still worked out, for the comparison and the
    explanation; while no student plays, it is the move made.
    """

    name = STUDENT
    description = "a student at the dashboard chooses Vietnam's moves"
    model: ClassroomModel

    def choose(self, situation: Situation, step: np.ndarray, feasible: np.ndarray) -> np.ndarray:
        """The student's moves where the Four No's allow them (else keep); the model's own while no student plays."""
        self.own = super().choose(situation, step, feasible)
        model = self.model
        if not model.student:
            return self.own
        wanted = np.array([[model.moves[p] + 1 for p in POWERS]]).repeat(len(self.alignment), 0)
        allowed = np.take_along_axis(feasible, wanted[:, :, None], axis=2)[:, :, 0]
        return np.where(allowed, wanted, KEEP)


@functools.cache
def watched(name: str) -> type[Hedger]:
    """A registered strategy that also works out the model's own choice (for the explanation and comparison).

    The hedger's noise is drawn from a counter-based stream keyed by the step,
    so working out its choice as well changes nothing in the strategy's world.
    """
    if name in (STUDENT, DEFAULT):
        return Student
    cls = STRATEGIES[name]

    def choose(self: Hedger, situation: Situation, step: np.ndarray, feasible: np.ndarray) -> np.ndarray:
        self.own = Hedger.choose(self, situation, step, feasible)
        return cls.choose(self, situation, step, feasible)

    return type(f"Watched{cls.__name__}", (cls,), {"choose": choose, "__doc__": cls.__doc__})


class ClassroomModel(BalanceModel):
    """The one world a class watches: a lesson's scenario and dials, one run, the lesson's seed.

    The dashboard rebuilds it from the lesson (Reset does the same).
    ``inject`` fires a catalogue event at the current date; ``inject_at`` at
    an earlier date too, by replaying the world with it. Vietnam is played by
    the lesson's strategy; with ``lesson.student`` set its moves are the
    student's (``moves``, one of -1, 0, +1 per power); the powers respond by
    the model's rules.
    """

    def __init__(
        self,
        lesson: Lesson | None = None,
        live: tuple[LiveEvent, ...] = (),
        powers: dict[str, type[GreatPower]] | None = None,
    ) -> None:
        """The world of ``lesson`` (a new lesson's if None), with the ``live`` events already injected.

        ``powers``: the GreatPower subclass of each power where it differs from the model's (a class playing it).
        """
        lesson = lesson if lesson is not None else Lesson()
        what_if = lesson.what_if()
        built = [EVENT_TYPES[kind](at, **fields) for kind, at, fields in live]
        super().__init__(
            **what_if.model_arguments(
                runs=1, seed=lesson.seed, extra_events=built, strategy=watched(lesson.strategy), powers=powers
            )
        )
        self.lesson, self.what_if, self.seed = lesson, what_if, lesson.seed
        self.student, self.fan_runs = lesson.student, lesson.fan_runs
        self.playing = lesson.strategy  # who plays Vietnam
        # what the world is made of, for the fan's cache: the same for every student of a class on the same settings
        # by content, not by name: two uploads of one name differ; a dial moved and back is the same world
        self.recipe = (hashlib.sha256(pickle.dumps(what_if)).hexdigest(), lesson.seed, lesson.strategy)
        self.moves = dict.fromkeys(POWERS, 0)
        self.played: list[dict[str, int]] = []  # the student's moves at each step, for a replay
        self.live_events: list[LiveEvent] = list(live)
        self.decisions: list[Decision] = []
        # a page's play loop steps the model in a thread while the teacher injects events
        self.lock = threading.RLock()

    @property
    def scripted(self) -> int:
        """How many of ``events`` the scenario scripted; the rest were injected live."""
        return len(self.events) - len(self.live_events)

    def step(self) -> None:
        """One quarter, with the student's moves as they are now; what Vietnam weighed is kept for the explanation."""
        with self.lock:
            self.played.append(dict(self.moves))
            super().step()
            h = self.hedger
            # every strategy here works out the model's own choice, which sets what Vietnam weighed
            assert h.situation is not None and h.feasible_moves is not None and h.gain is not None
            assert h.choice is not None
            self.decisions.append(
                Decision(self.steps, h.previous, h.situation, h.feasible_moves, h.gain, h.own, h.choice)
            )

    def inject(self, kind: str, quarters: int | None = None, **fields: Any) -> Event:
        """Fire a catalogue event now; it lasts ``quarters`` steps (None: as the event type says)."""
        with self.lock:
            if quarters:
                fields["until"] = self.calendar.date(self.steps + quarters)
            event = EVENT_TYPES[kind](self.date, **fields)
            self.add_event(event)
            self.live_events.append((kind, self.date, fields))
        return event

    def inject_at(self, step: int, kind: str, quarters: int | None = None, **fields: Any) -> ClassroomModel:
        """Fire an event at ``step``: now, or (if the world has moved on since) in a replay of the world with it.

        The world is one seeded run, so the replay is the same world up to
        ``step``; the student's moves are replayed as they were made. Returns
        the model that holds the event (this one, or the replay).
        """
        with self.lock:
            if step >= self.steps:
                self.inject(kind, quarters, **fields)
                return self
            at = self.calendar.date(step)
            if quarters:
                fields["until"] = self.calendar.date(step + quarters)
            EVENT_TYPES[kind](at, **fields)  # a bad event is refused here, before anything is rebuilt
            replay = ClassroomModel(self.lesson, live=(*self.live_events, (kind, at, fields)))
            replay.moves = dict(self.moves)
            for moves in self.played:
                replay.moves = dict(moves)
                replay.step()
            replay.moves = dict(self.moves)
            return replay

    def _world(self, runs: int, strategy: str = DEFAULT) -> BalanceModel:
        """A plain model of the same world: the lesson's scenario and dials, and the events injected so far."""
        return same_world(self.what_if, self.seed, self.live_events, runs, strategy)

    def own_vietnam(self) -> BalanceModel:
        """The model's own Vietnam in this world, run to the same step."""
        twin = self._world(1)
        if self.steps:
            twin.run_for(self.steps)
        return twin

    def compare(self) -> Comparison:
        """This world's Vietnam beside the model's own, run to the same step, with each verdict so far."""
        twin = self.own_vietnam()
        return Comparison(self.dates, self.trajectories(), twin.trajectories(), verdict(self), verdict(twin))

    def fan_recipe(self, runs: int | None = None) -> tuple[FanKey, FanArgs]:
        """What the fan of this world is made of.

        Returns:
            A key, the same for a class on the same settings, and the arguments
            of ``compute_fan``: plain data that can be sent to another process.
        """
        runs = runs or self.fan_runs
        live = tuple(
            (kind, str(at), tuple(sorted((k, repr(v)) for k, v in f.items()))) for kind, at, f in self.live_events
        )
        strategy = DEFAULT if self.student else self.playing
        return (self.recipe, runs, live), (self.what_if, self.seed, tuple(self.live_events), runs, strategy)

    def fan(self, runs: int | None = None) -> Fan:
        """The Monte Carlo fan: this world's scenario, dials and live events over many runs, to the horizon.

        Vietnam plays the lesson's strategy (the model's own when a student
        plays). A class on the same settings shares one fan: it is computed
        once, by the first page that asks, and kept in a small cache.
        """
        key, args = self.fan_recipe(runs)
        return FANS.get(key, lambda: compute_fan(*args))
