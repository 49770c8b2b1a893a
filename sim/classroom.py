"""The classroom: a lesson's world, the teacher's live events, and a student playing Hanoi.

Plain Python behind the dashboard (``sim.app``) and the classroom notebook:
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
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sim.agents import KEEP, Hedger
from sim.calendar import Month
from sim.events import EVENT_TYPES, Event
from sim.explain import Decision
from sim.limits import MAX_FILE_BYTES, MAX_UPLOADS
from sim.model import BalanceModel
from sim.outcomes import Failure
from sim.params import POWERS
from sim.reach import Library, show_name
from sim.results import Aggregate
from sim.scenario import EventSpec, Scenario, ScenarioError, load_scenario

SCENARIOS = Path(__file__).resolve().parent.parent / "scenarios"
DEFAULT_SCENARIO = SCENARIOS / "status_quo.yaml"


@dataclass(frozen=True)
class Knob:
    """A dial on the world: a parameter by its path, or (no path) the standing US tariff's rate."""

    label: str
    path: str | None = None
    low: float = 0.0
    high: float = 1.0
    step: float = 0.01


KNOBS = {
    "us_tariff": Knob("US tariff rate"),
    "cn_threat": Knob("China's territorial threat", "powers.CN.threat.territory"),
    "ru_cn_closeness": Knob("Russia–China closeness", "world.russia_china_closeness"),
    "us_tolerance_ru": Knob("US tolerance of the Russia tie", "powers.US.tolerance.RU"),
    "four_nos": Knob("Four No's in force", "hedger.four_nos", step=1.0),
}


def _standing_tariff(scenario: Scenario) -> int | None:
    """Index of the last open-ended US tariff among the scenario's events (the rate in force)."""
    found = None
    for i, e in enumerate(scenario.events):
        if e.type == "tariff" and e.fields.get("actor", "US") == "US" and "until" not in e.fields:
            found = i
    return found


def knob_default(scenario: Scenario, name: str) -> float:
    """The value a knob has in the scenario as written."""
    knob = KNOBS[name]
    if knob.path is not None:
        return scenario.parameter_set.value(knob.path)
    i = _standing_tariff(scenario)
    if i is None:
        return 0.0
    m = scenario.events[i].fields.get("magnitude", 0.5)
    return float(np.mean(m))


@functools.cache
def _scenario_name(path: Path, mtime: float) -> str:
    return load_scenario(path).name


def catalogue(folder: Path = SCENARIOS) -> dict[str, Path]:
    """The scenarios in a folder, by name."""
    paths = sorted(folder.glob("*.yaml"))
    return {_scenario_name(p, p.stat().st_mtime): p for p in paths}


def shipped(folder: Path = SCENARIOS) -> dict[str, bytes]:
    """The shipped scenario files, by file name: what an upload may inherit from, besides other uploads."""
    return {p.name: p.read_bytes() for p in sorted(folder.glob("*.yaml"))}


class Lesson:
    """What the teacher has set: a scenario and its dials, a seed, the fan chart's runs, who plays Hanoi."""

    def __init__(self, scenario: str | Path = DEFAULT_SCENARIO, *, seed: int | None = None, fan_runs: int = 300):
        self.fan_runs = fan_runs
        self.student = False
        self.uploads: dict[str, Scenario] = {}  # by scenario name
        self.files: dict[str, bytes] = {}  # the uploaded files, by file name (for base: in later uploads)
        self.choose(scenario)
        if seed is not None:
            self.seed = seed

    def choose(self, scenario: str | Path | Scenario) -> None:
        """Take a scenario (a file, or one uploaded); its dials, seed and events start as the file says."""
        scenario = scenario if isinstance(scenario, Scenario) else load_scenario(scenario)
        self.scenario, self.seed = scenario, scenario.seed
        self.knobs = {name: knob_default(scenario, name) for name in KNOBS}

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
        scenario = load_scenario(short, reach=Library({**shipped(), **self.files, short: data}))
        self.files[short] = data
        self.choose(scenario)
        self.uploads[scenario.name] = scenario

    def scenarios(self) -> dict[str, Path | Scenario]:
        """Every scenario the teacher can pick: the packaged ones and those uploaded."""
        return {**catalogue(), **self.uploads}

    def set(self, name: str, value: float) -> None:
        knob = KNOBS[name]
        if not knob.low <= value <= knob.high:
            raise ValueError(f"{knob.label} must be from {knob.low:g} to {knob.high:g}, got {value!r}")
        self.knobs[name] = float(value)

    def what_if(self) -> Scenario:
        """The scenario with the dials applied (a dial left as the file says changes nothing)."""
        s = self.scenario
        moved = {n: v for n, v in self.knobs.items() if v != knob_default(s, n)}
        params = {KNOBS[n].path: v for n, v in moved.items() if KNOBS[n].path is not None}
        events = list(s.events)
        if "us_tariff" in moved:
            i = _standing_tariff(s)
            fields = {"at": s.start, "actor": "US"} if i is None else dict(events[i].fields)
            tariff = EventSpec("tariff", {**fields, "magnitude": moved["us_tariff"]}, "<dial>", 0)
            events = [*events, tariff] if i is None else [*events[:i], tariff, *events[i + 1 :]]
        return dataclasses.replace(s, parameter_set=s.parameter_set.with_overrides(params), events=events)

    def model(self) -> ClassroomModel:
        return ClassroomModel(self)


@dataclass
class Comparison:
    """The student's Vietnam beside the model's own, in the same world (same seed, same events)."""

    dates: list[Month]
    student: dict[str, np.ndarray]  # trajectories, as BalanceModel.trajectories()
    model: dict[str, np.ndarray]
    student_verdict: str
    model_verdict: str


@dataclass
class Fan:
    """A Monte Carlo ensemble of the lesson's world: streamed percentiles and verdicts."""

    aggregate: Aggregate
    runs: int
    seconds: float


def verdict(model: BalanceModel, run: int = 0) -> str:
    """One run's verdict so far, in words."""
    mode = Failure(int(model.verdict.mode[run]))
    if mode == Failure.NONE:
        return "multi-alignment holds"
    when = model.calendar.date(int(model.verdict.step[run]))
    return f"{mode.label.replace('_', ' ')} in {when}"


class Student(Hedger):
    """Vietnam played by a student: each quarter's moves come from the dashboard.

    The model's own choice is still worked out, for the comparison and the
    explanation; while no student plays, it is the move made.
    """

    name = "student"
    description = "a student at the dashboard chooses Vietnam's moves"

    def choose(self, situation, step, feasible):
        self.own = super().choose(situation, step, feasible)
        model = self.model
        if not model.student:
            return self.own
        wanted = np.array([[model.moves[p] + 1 for p in POWERS]]).repeat(len(self.alignment), 0)
        allowed = np.take_along_axis(feasible, wanted[:, :, None], axis=2)[:, :, 0]
        return np.where(allowed, wanted, KEEP)


class ClassroomModel(BalanceModel):
    """The one world a class watches: a lesson's scenario and dials, one run, the lesson's seed.

    The dashboard rebuilds it from the lesson (Mesa's Reset does the same).
    ``inject`` fires a catalogue event at the current date. With
    ``lesson.student`` set, Vietnam's moves are the student's (``moves``, one
    of -1, 0, +1 per power); the powers respond by the model's rules.
    """

    def __init__(self, lesson: Lesson | None = None):
        lesson = lesson if lesson is not None else Lesson()
        what_if = lesson.what_if()
        super().__init__(
            runs=1,
            rng=lesson.seed,
            parameters=what_if.parameter_set,
            uncertainty=what_if.uncertainty,
            horizon=what_if.steps,
            events=[e.build() for e in what_if.events],
            strategy=Student,
        )
        self.lesson, self.what_if, self.seed = lesson, what_if, lesson.seed
        self.student, self.fan_runs = lesson.student, lesson.fan_runs
        self.moves = dict.fromkeys(POWERS, 0)
        self.live_events: list[tuple[str, Month, dict]] = []
        self.decisions: list[Decision] = []
        # the dashboard steps the model in a thread while the teacher injects events
        self.lock = threading.RLock()

    def step(self) -> None:
        with self.lock:
            super().step()
            h = self.hedger
            self.decisions.append(
                Decision(self.steps, h.previous, h.situation, h.feasible_moves, h.gain, h.own, h.choice)
            )

    def inject(self, kind: str, quarters: int | None = None, **fields) -> Event:
        """Fire a catalogue event now; it lasts ``quarters`` steps (None: as the event type says)."""
        with self.lock:
            if quarters:
                fields["until"] = self.calendar.date(self.steps + quarters)
            event = EVENT_TYPES[kind](self.date, **fields)
            event.schedule(self, len(self.events))
            self.events.append(event)
            self.live_events.append((kind, self.date, fields))
        return event

    def _world(self, runs: int, **kwargs) -> BalanceModel:
        """A plain model of the same world: the lesson's scenario and dials, and the events injected so far."""
        w = self.what_if
        live = [EVENT_TYPES[kind](at, **fields) for kind, at, fields in self.live_events]
        return BalanceModel(
            runs=runs,
            rng=self.seed,
            parameters=w.parameter_set,
            uncertainty=w.uncertainty,
            horizon=w.steps,
            events=[*(e.build() for e in w.events), *live],
            **kwargs,
        )

    def own_vietnam(self) -> BalanceModel:
        """The model's own Vietnam in this world, run to the same step."""
        twin = self._world(1)
        if self.steps:
            twin.run_for(self.steps)
        return twin

    def compare(self) -> Comparison:
        twin = self.own_vietnam()
        return Comparison(self.dates, self.trajectories(), twin.trajectories(), verdict(self), verdict(twin))

    def fan(self, runs: int | None = None) -> Fan:
        """The Monte Carlo fan: this world's scenario, dials and live events over many runs, to the horizon."""
        started = time.perf_counter()
        runs = runs or self.fan_runs
        agg = Aggregate(self.what_if.steps)
        ensemble = self._world(runs, record=False, observers=[agg])
        ensemble.run_for(self.what_if.steps)
        agg.close_chunk(ensemble.verdict.mode, ensemble.verdict.step)
        return Fan(agg, runs, time.perf_counter() - started)
