"""Scenario files: YAML that perturbs the world with dated events.

A scenario names itself, may inherit from a ``base`` file, sets the calendar,
runs and seed, overrides parameters by dotted path (a number, or a range
[low, high] drawn per run), and lists events. Every malformed file is refused
with a ScenarioError that names the file, the line and field, and what was
expected.
"""

from __future__ import annotations

import dataclasses
import difflib
import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from sim.calendar import Calendar, Month
from sim.events import EVENT_TYPES, Event
from sim.params import ParameterError, ParameterSet, load_parameters

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
    "parameters",
    "events",
)
EVENT_KEYS = ("type", "at", "until", "actor", "target", "magnitude")
MAX_RUNS = 100_000_000


class ScenarioError(ValueError):
    """A scenario file is malformed."""

    def __init__(self, path, line: int | None, where: str, expected: str):
        self.path, self.line, self.where, self.expected = str(path), line, where, expected
        at = f":{line}" if line else ""
        field_text = f" {where}:" if where else ""
        super().__init__(f"{path}{at}:{field_text} {expected}")


class _Mapping(dict):
    """A YAML mapping that remembers the line of each key."""

    line: int = 0
    lines: dict


class _Loader(yaml.SafeLoader):
    pass


def _construct_mapping(loader: _Loader, node: yaml.MappingNode) -> _Mapping:
    loader.flatten_mapping(node)
    out = _Mapping()
    out.line, out.lines = node.start_mark.line + 1, {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if not isinstance(key, str):
            raise ScenarioError(loader.name, key_node.start_mark.line + 1, repr(key), "expected a text key")
        if key in out:
            raise ScenarioError(loader.name, key_node.start_mark.line + 1, key, "duplicate key")
        out[key] = loader.construct_object(value_node, deep=True)
        out.lines[key] = key_node.start_mark.line + 1
    return out


class _Sequence(list):
    """A YAML sequence that remembers the line of each item."""

    lines: list


def _construct_sequence(loader: _Loader, node: yaml.SequenceNode) -> _Sequence:
    out = _Sequence(loader.construct_object(child, deep=True) for child in node.value)
    out.lines = [child.start_mark.line + 1 for child in node.value]
    return out


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _construct_sequence)


def _suggest(name: str, choices) -> str:
    close = difflib.get_close_matches(str(name), list(choices), n=1, cutoff=0.5)
    return f" (did you mean {close[0]!r}?)" if close else ""


def read_yaml(path: Path) -> _Mapping:
    """Parse a YAML file to a line-aware mapping, or raise ScenarioError."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise ScenarioError(path, None, "", "file not found") from None
    except IsADirectoryError:
        raise ScenarioError(path, None, "", "expected a YAML file, found a folder") from None
    except OSError as exc:
        raise ScenarioError(path, None, "", f"cannot read file: {exc.strerror}") from None
    if b"\x00" in data:
        raise ScenarioError(path, None, "", "expected a YAML text file, found binary data")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ScenarioError(path, None, "", f"expected UTF-8 text (byte {exc.start} is not)") from None
    if not text.strip():
        raise ScenarioError(path, None, "", "the file is empty; expected a scenario (name, description, events ...)")
    loader = None
    try:
        loader = _Loader(text)  # the reader checks characters here already
        loader.name = str(path)
        doc = loader.get_single_data()
    except ScenarioError:
        raise
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        raise ScenarioError(path, line, "", f"invalid YAML: {exc.problem or exc.context}") from None
    except (yaml.YAMLError, RecursionError, ValueError, TypeError, OverflowError) as exc:
        raise ScenarioError(path, None, "", f"invalid YAML: {exc}") from None
    finally:
        if loader is not None:
            loader.dispose()
    if not isinstance(doc, dict):
        raise ScenarioError(path, 1, "", f"expected a mapping of scenario keys, found {_kind(doc)}")
    return doc


def _kind(value) -> str:
    return "list" if isinstance(value, list) else "mapping" if isinstance(value, dict) else type(value).__name__


@dataclass
class EventSpec:
    """One validated event of a scenario, with where it was written."""

    type: str
    fields: dict
    file: str
    line: int

    @property
    def at(self) -> Month:
        return self.fields["at"]

    def build(self) -> Event:
        return EVENT_TYPES[self.type](**self.fields)

    def as_dict(self) -> dict:
        out = {"type": self.type}
        for k, v in self.fields.items():
            out[k] = str(v) if isinstance(v, Month) else v
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
            "parameters": dict(self.parameters),
            "events": [e.as_dict() for e in self.events],
        }

    def content_hash(self) -> str:
        """SHA-256 of the flattened scenario (independent of how it was split into files)."""
        text = json.dumps(self.as_dict(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()

    def model(self, *, runs=None, seed=None, first_run: int = 0, record: bool = True, observers=()):
        """A BalanceModel of this scenario (fresh events each time)."""
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
        )


def load_scenario(path: str | Path, parameters: ParameterSet | None = None) -> Scenario:
    """Read, inherit, validate and flatten a scenario file."""
    path = Path(path)
    raw = _resolve(path, chain=())
    return _validate(raw, path, parameters or load_parameters())


def _resolve(path: Path, chain: tuple[Path, ...]) -> dict:
    """Merge a file over its base: keys override, parameters merge, events append."""
    real = path.resolve()
    doc = read_yaml(path)
    for key in doc:
        if key not in TOP_KEYS:
            raise ScenarioError(
                path,
                doc.lines[key],
                key,
                f"unknown key{_suggest(key, TOP_KEYS)}; expected one of {', '.join(TOP_KEYS)}",
            )
    merged: dict = {"_origin": {k: (str(path), doc.lines[k]) for k in doc}}
    if "base" in doc:
        base_name = doc["base"]
        line = doc.lines["base"]
        if not isinstance(base_name, str) or not base_name.strip():
            raise ScenarioError(path, line, "base", "expected the path of another scenario file")
        base_path = path.parent / base_name
        try:
            resolved, exists = base_path.resolve(), base_path.is_file()
        except (OSError, ValueError) as exc:
            raise ScenarioError(path, line, "base", f"expected a usable path of a base scenario file ({exc})") from None
        if resolved in (*chain, real):
            cycle = " -> ".join(str(p) for p in (*chain, real, resolved))
            raise ScenarioError(path, line, "base", f"circular inheritance: {cycle}")
        if not exists:
            raise ScenarioError(path, line, "base", f"base file {base_path} not found")
        merged = _resolve(base_path, (*chain, real))
        merged["_origin"] = {**merged["_origin"], **{k: (str(path), doc.lines[k]) for k in doc}}
    for key, value in doc.items():
        if key == "base":
            continue
        if key == "parameters" and isinstance(value, dict) and isinstance(merged.get("parameters"), dict):
            combined = _Mapping({**merged["parameters"], **value})
            combined.line, combined.lines = value.line, {**getattr(merged["parameters"], "lines", {}), **value.lines}
            combined.files = {**getattr(merged["parameters"], "files", {}), **{k: str(path) for k in value}}
            merged["parameters"] = combined
        elif key == "events" and isinstance(value, list):
            lines = getattr(value, "lines", [None] * len(value))
            own = [(str(path), e, ln) for e, ln in zip(value, lines, strict=True)]
            merged["events"] = (merged["events"] if isinstance(merged.get("events"), list) else []) + own
        else:
            if key == "parameters" and isinstance(value, dict):
                value.files = {k: str(path) for k in value}
            merged[key] = value
    return merged


def _validate(raw: dict, path: Path, defaults: ParameterSet) -> Scenario:
    origin = raw["_origin"]

    def where(key):
        file, line = origin.get(key, (str(path), None))
        return file, line

    def fail(key, expected, line=None, file=None):
        f, ln = where(key)
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
        try:
            return Month.parse(raw[key])
        except ValueError:
            fail(key, f"expected a date as YYYY-MM, got {raw[key]!r}")

    start = month("start", Month.parse(defaults.time["start"]))
    months = int(defaults.time["months_per_step"])
    horizon = month("horizon", start.plus(int(defaults.time["horizon"]) * months))
    if horizon <= start:
        fail("horizon", f"expected a date after start {start}, got {horizon}")

    def integer(key, default, low, high):
        value = raw.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            fail(key, f"expected a whole number from {low} to {high}, got {value!r}")
        return value

    runs = integer("runs", 1000, 1, MAX_RUNS)
    seed = integer("seed", 1, 0, 2**63 - 1)
    uncertainty = raw.get("uncertainty", False)
    if not isinstance(uncertainty, bool):
        fail("uncertainty", f"expected true or false, got {uncertainty!r}")

    overrides = raw.get("parameters", {})
    if not isinstance(overrides, dict):
        fail("parameters", "expected a mapping of dotted parameter paths to numbers or [low, high] ranges")
    files, lines = getattr(overrides, "files", {}), getattr(overrides, "lines", {})
    params = defaults
    for name, value in overrides.items():
        try:
            params = params.with_overrides({name: value})
        except ParameterError as exc:
            message = (
                str(exc).split(": ", 1)[-1]
                if name in defaults.entries
                else (f"unknown parameter{_suggest(name, defaults.entries)}")
            )
            raise ScenarioError(files.get(name, path), lines.get(name), f"parameters.{name}", message) from None
    params = dataclasses.replace(params, time={**params.time, "start": str(start)})
    try:
        params.check()
    except ParameterError as exc:
        name = str(exc).split(":", 1)[0]
        line = lines.get(name) if name in overrides else getattr(overrides, "line", None)
        raise ScenarioError(files.get(name, path), line, f"parameters.{name}", str(exc).split(": ", 1)[1]) from None

    events_raw = raw.get("events", [])
    if not isinstance(events_raw, list):
        fail("events", "expected a list of events (omit the key for none)")
    specs, warnings = [], []
    calendar = Calendar(start, months)
    steps = calendar.step_of(horizon)
    for i, (file, ev, item_line) in enumerate(events_raw):
        spec = _event(ev, i, file, start, horizon, defaults, item_line)
        if calendar.step_of(spec.fields["at"]) >= steps:  # fires after the last step: changes nothing
            warnings.append(
                f"{file}:{spec.line}: events[{i}] ({spec.type}) at {spec.fields['at']} is at or after "
                f"the horizon {horizon}; it changes nothing"
            )
        specs.append(spec)
    return Scenario(
        raw["name"].strip(),
        raw["description"].strip(),
        str(path),
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
    )


def _event(ev, i: int, file: str, start: Month, horizon: Month, defaults: ParameterSet, item_line=None) -> EventSpec:
    label = f"events[{i}]"
    if not isinstance(ev, dict):
        raise ScenarioError(file, item_line, label, "expected a mapping with type, at, actor, magnitude ...")
    line = getattr(ev, "line", None)
    lines = getattr(ev, "lines", {})

    def fail(key, expected):
        raise ScenarioError(file, lines.get(key, line), f"{label}.{key}" if key else label, expected)

    kind = ev.get("type")
    if kind is None:
        fail("", "missing 'type'")
    if not isinstance(kind, str) or kind not in EVENT_TYPES:
        fail(
            "type",
            f"unknown event type {kind!r}{_suggest(kind, EVENT_TYPES)}; "
            f"expected one of {', '.join(sorted(EVENT_TYPES))}",
        )
    cls = EVENT_TYPES[kind]
    allowed = EVENT_KEYS + cls.extra_fields
    for key in ev:
        if key not in allowed:
            fail(key, f"unknown field for a {kind} event{_suggest(key, allowed)}; expected one of {', '.join(allowed)}")
    if "at" not in ev:
        fail("", f"missing 'at' (the date of the {kind} event, YYYY-MM)")
    fields: dict = {}
    for key in ("at", "until"):
        if key in ev:
            try:
                fields[key] = Month.parse(ev[key])
            except ValueError:
                fail(key, f"expected a date as YYYY-MM, got {ev[key]!r}")
    if fields["at"] < start:
        fail("at", f"the event date {fields['at']} is before the scenario start {start}")
    if "until" in fields and fields["until"] <= fields["at"]:
        fail("until", f"expected a date after at {fields['at']}, got {fields['until']}")
    for key in ("actor", "target"):
        if key in ev:
            choices = cls.actors if key == "actor" else cls.targets
            if not isinstance(ev[key], str) or ev[key] not in choices:
                fail(key, f"unknown power {ev[key]!r}; expected one of {', '.join(choices)}")
            fields[key] = ev[key]
    if "magnitude" in ev:
        m = ev["magnitude"]
        ok = (isinstance(m, (int, float)) and not isinstance(m, bool) and 0 <= m <= 1) or (
            isinstance(m, list)
            and len(m) == 2
            and all(isinstance(x, (int, float)) and not isinstance(x, bool) and 0 <= x <= 1 for x in m)
            and m[0] <= m[1]
        )
        if not ok:
            fail("magnitude", f"expected a number from 0 to 1 or a range [low, high] inside it, got {m!r}")
        fields["magnitude"] = list(m) if isinstance(m, list) else m
    for key in cls.extra_fields:
        if key in ev:
            fields[key] = ev[key]
    if kind == "shock":
        for key in ("path", "value"):
            if key not in ev:
                fail("", f"a shock needs '{key}'")
        target = ev["path"]
        if not isinstance(target, str):
            fail("path", "expected a dotted parameter path")
        head = target.split(".")[0]
        if head not in ("alignment", "courtship", "coercion") and target not in defaults.entries:
            fail("path", f"unknown parameter{_suggest(target, defaults.entries)}")
    try:
        spec = EventSpec(kind, fields, file, line or 0)
        spec.build()
    except (ValueError, TypeError) as exc:
        fail("", str(exc))
    return spec
