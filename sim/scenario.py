"""Scenario files: YAML that perturbs the world with dated events.

A scenario names itself, may inherit from a ``base`` file, sets the calendar,
runs and seed, overrides parameters by dotted path (a number, or a range
[low, high] drawn per run), and lists events. Every malformed file is refused
with a ScenarioError that names the file, the line and field, and what was
expected.
"""

from __future__ import annotations

import dataclasses
import hashlib
import inspect
import itertools
import json
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from sim import roles, yamlfile
from sim.calendar import Calendar, Month
from sim.checks import is_number, suggest
from sim.domain import POWERS, THRESHOLD_TIERS
from sim.events import EVENT_TYPES, Event, EventFieldError
from sim.limits import MAX_BASE_DEPTH, MAX_EVENTS, MAX_RUNS, MAX_SEED, MAX_STEPS, aggregate_bytes, size
from sim.params import ParameterError, ParameterSet, load_parameters
from sim.reach import Files, ReachError, Source
from sim.strategies import DEFAULT as DEFAULT_STRATEGY
from sim.strategies import STRATEGIES
from sim.yamlfile import Mapping, YamlFault, kind, show, token

TOP_KEYS = (
    "name",
    "description",
    "sources",
    "base",
    "start",
    "horizon",
    "runs",
    "seed",
    "uncertainty",
    "strategy",
    "parameters",
    "events",
)
EVENT_KEYS = ("type", "at", "until", "actor", "target", "magnitude")
# The scenarios the package carries: the repository's scenarios/ folder, installed as package data.
SHIPPED = Path(str(resources.files("sim") / "scenarios"))
__all__ = ["MAX_RUNS", "SHIPPED", "EventSpec", "Scenario", "ScenarioError", "load_scenario", "read_yaml"]


class ScenarioError(ValueError):
    """A scenario file is malformed."""

    def __init__(self, path, line: int | None, where: str, expected: str):
        self.path, self.line, self.where, self.expected = str(path), line, where, expected
        at = f":{line}" if line else ""
        field_text = f" {where}:" if where else ""
        super().__init__(f"{path}{at}:{field_text} {expected}")


def parse(source: Source) -> Mapping:
    """A file's YAML as a line-aware mapping, or a ScenarioError naming the file as the user named it."""
    data = source.data
    if b"\x00" in data:
        raise ScenarioError(source.name, None, "", "expected a YAML text file, found binary data")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ScenarioError(source.name, None, "", f"expected UTF-8 text (byte {exc.start} is not)") from None
    if not text.strip():
        raise ScenarioError(
            source.name, None, "", "the file is empty; expected a scenario (name, description, events ...)"
        )
    try:
        doc = yamlfile.parse(text)
    except YamlFault as fault:
        raise ScenarioError(source.name, fault.line, fault.where, fault.message) from None
    if not isinstance(doc, dict):
        raise ScenarioError(source.name, 1, "", f"expected a mapping of scenario keys, found {kind(doc)}")
    return doc


def open_source(path, reach=None) -> Source:
    """The file a command or the dashboard names, through ``reach`` (default: the command line's files)."""
    try:
        return (reach or Files()).open(path)
    except ReachError as exc:
        raise ScenarioError(path, None, "", str(exc)) from None


def read_yaml(path: Path) -> Mapping:
    """Parse a YAML file to a line-aware mapping, or raise ScenarioError."""
    return parse(open_source(path))


@dataclass
class EventSpec:
    """One validated event of a scenario, with where it was written."""

    type: str
    fields: dict
    file: str
    line: int

    @property
    def at(self) -> Month:
        """The event's date, or the first of its date range."""
        at = self.fields["at"]
        return at[0] if isinstance(at, list) else at

    def build(self) -> Event:
        return EVENT_TYPES[self.type](**self.fields)

    def as_dict(self) -> dict:
        out = {"type": self.type}
        for k, v in self.fields.items():
            out[k] = [str(m) for m in v] if k == "at" and isinstance(v, list) else str(v) if isinstance(v, Month) else v
        return out


@dataclass
class Scenario:
    """A flattened, validated scenario: everything a run needs."""

    name: str
    description: str
    path: str
    start: Month
    horizon: Month
    runs: int
    seed: int
    uncertainty: bool
    parameters: dict
    events: list[EventSpec]
    sources: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    parameter_set: ParameterSet | None = field(default=None, repr=False)
    strategy: str = DEFAULT_STRATEGY  # Vietnam's strategy (sim.strategies)

    @property
    def calendar(self) -> Calendar:
        return Calendar(self.start, int(self.parameter_set.time["months_per_step"]))

    @property
    def steps(self) -> int:
        return self.calendar.step_of(self.horizon)

    def as_dict(self) -> dict:
        """The flattened scenario, as a file without ``base`` would say it."""
        return {
            "name": self.name,
            "description": self.description,
            "sources": list(self.sources),
            "start": str(self.start),
            "horizon": str(self.horizon),
            "runs": self.runs,
            "seed": self.seed,
            "uncertainty": self.uncertainty,
            "strategy": self.strategy,
            "parameters": dict(self.parameters),
            "events": [e.as_dict() for e in self.events],
        }

    def content_hash(self) -> str:
        """SHA-256 of the flattened scenario (independent of how it was split into files)."""
        text = json.dumps(self.as_dict(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()

    def model(
        self, *, runs=None, seed=None, first_run: int = 0, record: bool = True, observers=(), strategy=None, **options
    ):
        """A BalanceModel of this scenario (fresh events each time), with its strategy unless another is given.

        ``options``: a design's per-run ``values``, ``event_values`` and ``run_index`` (``sim.explore``), or
        ``compiled`` (``BalanceModel``).
        """
        from sim.model import BalanceModel

        return BalanceModel(
            runs=runs or self.runs,
            rng=self.seed if seed is None else seed,
            parameters=self.parameter_set,
            uncertainty=self.uncertainty,
            first_run=first_run,
            horizon=self.steps,
            events=[e.build() for e in self.events],
            record=record,
            observers=observers,
            strategy=strategy or self.strategy,
            **options,
        )


def load_scenario(path: str | Path | Source, parameters: ParameterSet | None = None, *, reach=None) -> Scenario:
    """Read, inherit, validate and flatten a scenario file.

    ``reach`` says which files it may read (``sim.reach``): by default, files
    on disk as the command line reads them.
    """
    reach = reach or Files()
    top = path if isinstance(path, Source) else open_source(path, reach)
    return _validate(_inherit(_chain(top, reach)), top.name, parameters or load_parameters())


def _chain(top: Source, reach) -> list[tuple[Source, Mapping]]:
    """The file and its bases, child first; at most MAX_BASE_DEPTH files, no file twice."""
    chain: list[tuple[Source, Mapping]] = []
    source = top
    while True:
        doc = parse(source)
        if doc and not any(key in TOP_KEYS for key in doc):  # not a scenario: show nothing of it
            raise ScenarioError(
                source.name, doc.line, "", f"not a scenario file: none of its keys is one of {', '.join(TOP_KEYS)}"
            )
        for key in doc:
            if key not in TOP_KEYS:
                raise ScenarioError(
                    source.name,
                    doc.lines[key],
                    token(key),
                    f"unknown key{suggest(key, TOP_KEYS)}; expected one of {', '.join(TOP_KEYS)}",
                )
        chain.append((source, doc))
        if "base" not in doc:
            return chain
        name, line = doc["base"], doc.lines["base"]
        if not isinstance(name, str) or not name.strip():
            raise ScenarioError(source.name, line, "base", "expected the path of another scenario file")
        if len(chain) >= MAX_BASE_DEPTH:
            raise ScenarioError(
                source.name, line, "base", f"inheritance deeper than {MAX_BASE_DEPTH} files; expected a shorter chain"
            )
        try:
            base = reach.base(source, name)
        except ReachError as exc:
            raise ScenarioError(source.name, line, "base", str(exc)) from None
        if base.key in [s.key for s, _ in chain]:
            cycle = " -> ".join([s.name for s, _ in chain] + [base.name])
            raise ScenarioError(source.name, line, "base", f"circular inheritance: {cycle}")
        source = base


def _inherit(chain: list[tuple[Source, Mapping]]) -> dict:
    """Merge each file over its base: keys override, parameters merge, events append."""
    merged: dict = {"_origin": {}}
    for source, doc in reversed(chain):
        path = source.name
        merged["_origin"].update({k: (path, doc.lines[k]) for k in doc})
        for key, value in doc.items():
            if key == "base":
                continue
            if key == "parameters" and isinstance(value, dict) and isinstance(merged.get("parameters"), dict):
                combined = Mapping({**merged["parameters"], **value})
                combined.line = value.line
                combined.lines = {**getattr(merged["parameters"], "lines", {}), **value.lines}
                combined.files = {**getattr(merged["parameters"], "files", {}), **dict.fromkeys(value, path)}
                merged["parameters"] = combined
            elif key == "events" and isinstance(value, list):
                lines = getattr(value, "lines", [None] * len(value))
                own = [(path, e, ln) for e, ln in zip(value, lines, strict=True)]
                merged["events"] = (merged["events"] if isinstance(merged.get("events"), list) else []) + own
            else:
                if key == "parameters" and isinstance(value, dict):
                    value.files = dict.fromkeys(value, path)
                merged[key] = value
    return merged


def _validate(raw: dict, path: str, defaults: ParameterSet) -> Scenario:
    origin = raw["_origin"]

    def fail(key, expected, line=None, file=None):
        f, ln = origin.get(key, (path, None))
        raise ScenarioError(file or f, line or ln, key, expected)

    for key in ("name", "description"):
        if key not in raw:
            fail(key, f"missing required key {key!r}", line=1)
        if not isinstance(raw[key], str) or not raw[key].strip():
            fail(key, "expected a non-empty text")
    sources = raw.get("sources", [])
    if not isinstance(sources, list) or not all(isinstance(s, str) for s in sources):
        fail("sources", "expected a list of texts (file and quote, or a named source)")

    def month(key, default):
        if key not in raw:
            return default
        return _month(raw[key]) or fail(key, f"expected a date as YYYY-MM, got {show(raw[key])}")

    start = month("start", Month.parse(defaults.time["start"]))
    months = int(defaults.time["months_per_step"])
    horizon = month("horizon", start.plus(int(defaults.time["horizon"]) * months))
    if horizon <= start:
        fail("horizon", f"expected a date after start {start}, got {horizon}")
    calendar = Calendar(start, months)
    steps = calendar.step_of(horizon)
    if steps > MAX_STEPS:
        fail(
            "horizon",
            f"{horizon} is {steps:,} steps after the start {start}; expected at most {MAX_STEPS} steps "
            f"({MAX_STEPS * months // 12} years), as each result histogram grows with the steps "
            f"(this horizon: about {size(aggregate_bytes(steps))} each)",
        )
    runs = whole_number(raw, "runs", 1000, 1, MAX_RUNS, fail)
    seed = whole_number(raw, "seed", 1, 0, MAX_SEED, fail)
    uncertainty = raw.get("uncertainty", False)
    if not isinstance(uncertainty, bool):
        fail("uncertainty", f"expected true or false, got {show(uncertainty)}")
    strategy = raw.get("strategy", DEFAULT_STRATEGY)
    if not isinstance(strategy, str) or strategy not in STRATEGIES:
        fail(
            "strategy",
            f"unknown strategy {show(strategy)}{suggest(str(strategy), STRATEGIES)}; "
            f"expected one of {', '.join(STRATEGIES)}",
        )

    overrides = raw.get("parameters", {})
    if not isinstance(overrides, dict):
        fail("parameters", "expected a mapping of dotted parameter paths to numbers or [low, high] ranges")
    files, lines = getattr(overrides, "files", {}), getattr(overrides, "lines", {})

    def blame(name, message):
        line = lines.get(name) if name in overrides else getattr(overrides, "line", None)
        return ScenarioError(files.get(name, path), line, f"parameters.{token(name)}", message)

    params = defaults
    for name, value in overrides.items():
        if name not in defaults.entries:
            raise blame(name, f"unknown parameter{suggest(name, defaults.entries)}")
        pair = isinstance(value, list) and len(value) == 2 and all(is_number(x) for x in value)
        if not (is_number(value) or pair):
            raise blame(name, f"expected a number or a range [low, high], got {show(value)}")
        try:
            params = params.with_overrides({name: value})
        except ParameterError as exc:
            raise blame(name, str(exc).split(": ", 1)[-1]) from None
    params = dataclasses.replace(params, time={**params.time, "start": str(start)})
    try:
        params.check()
    except ParameterError as exc:
        raise blame(str(exc).split(":", 1)[0], str(exc).split(": ", 1)[1]) from None
    drawn = _draws_in_order(params, uncertainty)
    if drawn is not None:
        culprits, message = drawn
        named = [c for c in culprits if c in overrides]
        if not named and uncertainty:
            fail("uncertainty", message)
        raise blame((named or culprits)[-1], message)

    events_raw = raw.get("events", [])
    if not isinstance(events_raw, list):
        fail("events", "expected a list of events (omit the key for none)")
    if len(events_raw) > MAX_EVENTS:
        fail("events", f"{len(events_raw):,} events; expected at most {MAX_EVENTS:,} (base files included)")
    specs, warnings = [], []
    for i, (file, ev, item_line) in enumerate(events_raw):
        spec = _event(ev, i, file, start, defaults, item_line)
        last = spec.fields["at"][-1] if isinstance(spec.fields["at"], list) else spec.fields["at"]
        if calendar.step_of(last) >= steps:  # fires after the last step: changes nothing
            warnings.append(
                f"{file}:{spec.line}: events[{i}] ({spec.type}) at {last} is at or after "
                f"the horizon {horizon}; it changes nothing"
            )
        specs.append(spec)
    return Scenario(
        raw["name"].strip(),
        raw["description"].strip(),
        path,
        start,
        horizon,
        runs,
        seed,
        uncertainty,
        {k: (list(v) if isinstance(v, list) else v) for k, v in overrides.items()},
        specs,
        list(sources),
        warnings,
        params,
        strategy,
    )


def _month(value) -> Month | None:
    """A month written as text YYYY-MM, or None."""
    try:
        return Month.parse(value) if isinstance(value, str) else None
    except ValueError:
        return None


def whole_number(raw: dict, key: str, default: int, low: int, high: int, fail) -> int:
    """A whole number in [low, high]; ``1e3`` is one, 2.5 is not."""
    value = raw.get(key, default)
    if isinstance(value, float) and value.is_integer() and abs(value) <= 2**53:
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        fail(key, f"expected a whole number from {low} to {high}, got {show(value)}")
    return value


def _span(params: ParameterSet, path: str, uncertainty: bool) -> tuple[float, float]:
    """The values a parameter can take in a run: its range when it is drawn, else its value."""
    p = params.entries[path]
    return p.range if p.range is not None and (uncertainty or p.uncertain) else (p.value, p.value)


def _draws_in_order(params: ParameterSet, uncertainty: bool) -> tuple[list[str], str] | None:
    """What every run must draw (``sim.params.check_drawn``), checked on the ranges: (culprits, why) or None."""
    spans = [(f"thresholds.{t}", _span(params, f"thresholds.{t}", uncertainty)) for t in THRESHOLD_TIERS]
    for (a, (_, a_top)), (b, (b_low, _)) in itertools.pairwise(spans):
        if a_top >= b_low:
            return [a, b], (
                f"tiers must rise strictly in every run ({' < '.join(THRESHOLD_TIERS)}), but {a} can be drawn up to "
                f"{a_top:g} and {b} down to {b_low:g}; expected ranges that do not overlap"
            )
    if _span(params, "hedger.four_nos", uncertainty)[1] < 0.5:
        return None
    line = _span(params, "thresholds.alliance", uncertainty)[0]
    for p in POWERS:
        top = _span(params, f"hedger.alignment.{p}", uncertainty)[1]
        if top >= line:
            return ["thresholds.alliance", f"hedger.alignment.{p}"], (
                f"hedger.alignment.{p} can start at {top:g}, at or above the alliance line "
                f"(thresholds.alliance, down to {line:g}), while the Four No's are in force; "
                "expected a range below the line (or hedger.four_nos: 0)"
            )
    return None


def _event(ev, i: int, file: str, start: Month, defaults: ParameterSet, item_line=None) -> EventSpec:
    """One event of the file: its type and dates read here, every other rule the event class's own."""
    label = f"events[{i}]"
    if not isinstance(ev, dict):
        raise ScenarioError(file, item_line, label, "expected a mapping with type, at, actor, magnitude ...")
    line = getattr(ev, "line", None)
    lines = getattr(ev, "lines", {})

    def fail(key, expected):
        raise ScenarioError(file, lines.get(key, line), f"{label}.{token(key)}" if key else label, expected)

    kind = _event_type(ev, fail)
    fields = _event_dates(ev, kind, start, fail)
    cls = EVENT_TYPES[kind]
    fields |= {key: ev[key] for key in ("actor", "target", *cls.extra_fields) if key in ev}
    if "magnitude" in ev:
        fields["magnitude"] = list(ev["magnitude"]) if isinstance(ev["magnitude"], list) else ev["magnitude"]
    spec = EventSpec(kind, fields, file, line or 0)
    try:
        spec.build()
    except EventFieldError as exc:
        parties_known = exc.field not in ("actor", "target")
        misfit = parties_known and roles.check(kind, fields.get("actor"), fields.get("target"))  # the plainer story
        fail(*(misfit or (exc.field, exc.expected)))
    except (ValueError, TypeError) as exc:
        fail("", str(exc))
    misfit = roles.check(kind, fields.get("actor"), fields.get("target"))
    if misfit is not None:
        fail(*misfit)
    return spec


def _event_type(ev: dict, fail) -> str:
    """The event's registered type, and no field that type does not have."""
    kind = ev.get("type")
    if kind is None:
        fail("", "missing 'type'")
    if not isinstance(kind, str) or kind not in EVENT_TYPES:
        fail(
            "type",
            f"unknown event type {show(kind)}{suggest(kind, EVENT_TYPES)}; "
            f"expected one of {', '.join(sorted(EVENT_TYPES))}",
        )
    allowed = EVENT_KEYS + EVENT_TYPES[kind].extra_fields
    for key in ev:
        if key not in allowed:
            fail(key, f"unknown field for a {kind} event{suggest(key, allowed)}; expected one of {', '.join(allowed)}")
    for key, p in inspect.signature(EVENT_TYPES[kind]).parameters.items():  # the fields its class requires
        if p.kind is p.KEYWORD_ONLY and p.default is p.empty and key not in ev:
            fail("", f"a {kind} needs '{key}'")
    return kind


def _event_dates(ev: dict, kind: str, start: Month, fail) -> dict:
    """``at`` (a date or a range [first, last]) and ``until`` as months, the first date not before ``start``."""
    if "at" not in ev:
        fail("", f"missing 'at' (the date of the {kind} event, YYYY-MM)")
    fields: dict = {}
    if "until" in ev:
        fields["until"] = _month(ev["until"]) or fail("until", f"expected a date as YYYY-MM, got {show(ev['until'])}")
    at = ev["at"]
    if isinstance(at, list):  # a date range: drawn per run, and explored by `bamboo discover`
        ends = [_month(x) for x in at] if len(at) == 2 else [None]
        if None in ends or ends[0] >= ends[1]:
            fail("at", f"expected a date YYYY-MM or a range [first, last] of two rising dates, got {show(at)}")
        fields["at"] = ends
    else:
        fields["at"] = _month(at) or fail("at", f"expected a date as YYYY-MM or a range [first, last], got {show(at)}")
    first = fields["at"][0] if isinstance(fields["at"], list) else fields["at"]
    if first < start:
        fail("at", f"the event date {first} is before the scenario start {start}")
    return fields
