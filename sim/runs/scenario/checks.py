"""Checking a merged scenario key by key: each malformed field refused with its file, line and what was expected."""

from __future__ import annotations

import dataclasses
import inspect
import itertools
from collections.abc import Callable
from typing import Any, NoReturn

from sim.model import roles
from sim.model.calendar import Calendar, Month
from sim.model.checks import is_number, suggest
from sim.model.domain import POWERS, THRESHOLD_TIERS
from sim.model.events import EVENT_TYPES, EventFieldError
from sim.model.limits import MAX_EVENTS, MAX_NAME, MAX_RUNS, MAX_SEED, MAX_STEPS, aggregate_bytes, size
from sim.model.params import ParameterError, ParameterSet
from sim.model.strategies import DEFAULT as DEFAULT_STRATEGY
from sim.model.strategies import STRATEGIES
from sim.model.yamlfile import show, token
from sim.runs.scenario.files import Overrides
from sim.runs.scenario.spec import EventSpec, Refuse, Scenario, ScenarioError

EVENT_KEYS = ("type", "at", "until", "actor", "target", "magnitude")


def validate(raw: dict[str, Any], path: str, defaults: ParameterSet) -> Scenario:
    """The merged file ``raw``, checked key by key against the ``defaults``, as a Scenario."""
    fail = _refuse_at_origin(raw["_origin"], path)
    name, description, sources = _header(raw, fail)
    calendar, horizon = _calendar(raw, defaults, fail)
    runs = whole_number(raw, "runs", 1000, 1, MAX_RUNS, fail)
    seed = whole_number(raw, "seed", 1, 0, MAX_SEED, fail)
    uncertainty = _uncertainty(raw, fail)
    strategy = _strategy(raw, fail)
    overrides = _overrides(raw, fail)
    params = _parameters(overrides, defaults, calendar.start, uncertainty, path, fail)
    specs, warnings = _events(raw, calendar, horizon, fail)
    return Scenario(
        name,
        description,
        path,
        calendar.start,
        horizon,
        runs,
        seed,
        uncertainty,
        {k: (list(v) if isinstance(v, list) else v) for k, v in overrides.items()},
        specs,
        sources,
        warnings,
        params,
        strategy,
    )


def _refuse_at_origin(origin: dict[str, tuple[str, int]], path: str) -> Refuse:
    """Refuse a key of the merged file at the file and line that set it (or ``path``, for a missing key)."""

    def fail(key: str, expected: str, line: int | None = None) -> NoReturn:
        file, own_line = origin.get(key, (path, None))
        raise ScenarioError(file, line or own_line, key, expected)

    return fail


def _header(raw: dict[str, Any], fail: Refuse) -> tuple[str, str, list[str]]:
    """The scenario's name and description (required, non-empty) and its sources (texts)."""
    for key in ("name", "description"):
        if key not in raw:
            fail(key, f"missing required key {key!r}", line=1)
        if not isinstance(raw[key], str) or not raw[key].strip():
            fail(key, "expected a non-empty text")
    if len(raw["name"].strip()) > MAX_NAME:
        fail(
            "name",
            f"a name of {len(raw['name'].strip()):,} characters; expected at most {MAX_NAME} (it titles every figure)",
        )
    sources = raw.get("sources", [])
    if not isinstance(sources, list) or not all(isinstance(s, str) for s in sources):
        fail("sources", "expected a list of texts (file and quote, or a named source)")
    return raw["name"].strip(), raw["description"].strip(), list(sources)


def _calendar(raw: dict[str, Any], defaults: ParameterSet, fail: Refuse) -> tuple[Calendar, Month]:
    """The calendar from ``start`` and the ``horizon`` after it (the parameter file's by default), within MAX_STEPS."""
    start = _date(raw, "start", Month.parse(defaults.time["start"]), fail)
    months = int(defaults.time["months_per_step"])
    horizon = _date(raw, "horizon", start.plus(int(defaults.time["horizon"]) * months), fail)
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
    return calendar, horizon


def _date(raw: dict[str, Any], key: str, default: Month, fail: Refuse) -> Month:
    """The month the file gives for ``key`` (YYYY-MM), or ``default`` if it gives none."""
    if key not in raw:
        return default
    return _month(raw[key]) or fail(key, f"expected a date as YYYY-MM, got {show(raw[key])}")


def _month(value: object) -> Month | None:
    """A month written as text YYYY-MM, or None."""
    try:
        return Month.parse(value) if isinstance(value, str) else None
    except ValueError:
        return None


def whole_number(raw: dict[str, Any], key: str, default: int | None, low: int, high: int, fail: Refuse) -> int:
    """A whole number in [low, high]; ``1e3`` is one, 2.5 is not.

    Args:
        raw: the file's mapping.
        key: the key to read.
        default: the value when ``key`` is absent (None: no default, as for a key already required).
        low: the least value accepted.
        high: the greatest value accepted.
        fail: how the file's reader refuses a field.
    """
    value = raw.get(key, default)
    if isinstance(value, float) and value.is_integer() and low <= value <= high:  # 2e18 is a whole number
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        fail(key, f"expected a whole number from {low} to {high}, got {show(value)}")
    return value


def _uncertainty(raw: dict[str, Any], fail: Refuse) -> bool:
    """Whether every ranged parameter is drawn per run (false by default)."""
    uncertainty = raw.get("uncertainty", False)
    if not isinstance(uncertainty, bool):
        fail("uncertainty", f"expected true or false, got {show(uncertainty)}")
    return uncertainty


def _strategy(raw: dict[str, Any], fail: Refuse) -> str:
    """Vietnam's strategy, one of those registered (``sim.model.strategies``)."""
    strategy = raw.get("strategy", DEFAULT_STRATEGY)
    if not isinstance(strategy, str) or strategy not in STRATEGIES:
        fail(
            "strategy",
            f"unknown strategy {show(strategy)}{suggest(str(strategy), STRATEGIES)}; "
            f"expected one of {', '.join(STRATEGIES)}",
        )
    return strategy


def _overrides(raw: dict[str, Any], fail: Refuse) -> Overrides:
    """The merged ``parameters``: a mapping (none by default)."""
    overrides = raw.get("parameters", Overrides())
    if not isinstance(overrides, Overrides):  # the merge makes every mapping of parameters one
        fail("parameters", "expected a mapping of dotted parameter paths to numbers or [low, high] ranges")
    return overrides


def _parameters(
    overrides: Overrides, defaults: ParameterSet, start: Month, uncertainty: bool, path: str, fail: Refuse
) -> ParameterSet:
    """The ``defaults`` with the ``overrides`` and the scenario's ``start``, checked whole and as each run draws them.

    A fault is blamed on the override behind it, at its line; on ``uncertainty`` if it is the default ranges'.
    """
    params = _overridden(overrides, defaults, path)
    params = dataclasses.replace(params, time={**params.time, "start": str(start)})
    try:
        params.check()
    except ParameterError as exc:
        raise overrides.blame(str(exc).split(":", 1)[0], str(exc).split(": ", 1)[1], path) from None
    drawn = _draws_in_order(params, uncertainty)
    if drawn is not None:
        culprits, message = drawn
        named = [c for c in culprits if c in overrides]
        if not named and uncertainty:
            fail("uncertainty", message)
        raise overrides.blame((named or culprits)[-1], message, path)
    return params


def _overridden(overrides: Overrides, defaults: ParameterSet, path: str) -> ParameterSet:
    """The ``defaults`` with each override in turn: a known parameter, a number or a range within its bounds."""
    params = defaults
    for name, value in overrides.items():
        if name not in defaults.entries:
            raise overrides.blame(name, f"unknown parameter{suggest(name, defaults.entries)}", path)
        pair = isinstance(value, list) and len(value) == 2 and all(is_number(x) for x in value)
        if not (is_number(value) or pair):
            raise overrides.blame(name, f"expected a number or a range [low, high], got {show(value)}", path)
        try:
            params = params.with_overrides({name: value})
        except ParameterError as exc:
            raise overrides.blame(name, str(exc).split(": ", 1)[-1], path) from None
    return params


def _span(params: ParameterSet, path: str, uncertainty: bool) -> tuple[float, float]:
    """The values a parameter can take in a run: its range when it is drawn, else its value."""
    p = params.entries[path]
    return p.range if p.range is not None and (uncertainty or p.uncertain) else (p.value, p.value)


def _draws_in_order(params: ParameterSet, uncertainty: bool) -> tuple[list[str], str] | None:
    """What every run must draw (``sim.model.params.check_drawn``), checked on the ranges: (culprits, why) or None."""
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


def _events(raw: dict[str, Any], calendar: Calendar, horizon: Month, fail: Refuse) -> tuple[list[EventSpec], list[str]]:
    """The merged events (at most MAX_EVENTS), each checked, and a warning for each that falls after the horizon."""
    events = raw.get("events", [])
    if not isinstance(events, list):
        fail("events", "expected a list of events (omit the key for none)")
    if len(events) > MAX_EVENTS:
        fail("events", f"{len(events):,} events; expected at most {MAX_EVENTS:,} (base files included)")
    steps = calendar.step_of(horizon)
    specs, warnings = [], []
    for i, (file, ev, item_line) in enumerate(events):
        spec = _event(ev, i, file, calendar.start, item_line)
        last = spec.fields["at"][-1] if isinstance(spec.fields["at"], list) else spec.fields["at"]
        if calendar.step_of(last) >= steps:  # fires after the last step: changes nothing
            warnings.append(
                f"{file}:{spec.line}: events[{i}] ({spec.type}) at {last} is at or after "
                f"the horizon {horizon}; it changes nothing"
            )
        specs.append(spec)
    return specs, warnings


def _event(ev: object, i: int, file: str, start: Month, item_line: int | None = None) -> EventSpec:
    """One event of the file: its type and dates read here, every other rule the event class's own."""
    label = f"events[{i}]"
    if not isinstance(ev, dict):
        raise ScenarioError(file, item_line, label, "expected a mapping with type, at, actor, magnitude ...")
    line = getattr(ev, "line", None)
    lines = getattr(ev, "lines", {})

    def fail(key: str, expected: str) -> NoReturn:
        raise ScenarioError(file, lines.get(key, line), f"{label}.{token(key)}" if key else label, expected)

    kind = _event_type(ev, fail)
    fields: dict[str, Any] = _event_dates(ev, kind, start, fail)
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


def _event_type(ev: dict[str, Any], fail: Callable[[str, str], NoReturn]) -> str:
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


def _event_dates(
    ev: dict[str, Any], kind: str, start: Month, fail: Callable[[str, str], NoReturn]
) -> dict[str, Month | list[Month]]:
    """``at`` (a date or a range [first, last]) and ``until`` as months, the first date not before ``start``."""
    if "at" not in ev:
        fail("", f"missing 'at' (the date of the {kind} event, YYYY-MM)")
    fields: dict[str, Month | list[Month]] = {}
    if "until" in ev:
        fields["until"] = _month(ev["until"]) or fail("until", f"expected a date as YYYY-MM, got {show(ev['until'])}")
    at = ev["at"]
    if isinstance(at, list):  # a date range: drawn per run, and explored by `bamboo discover`
        ends = _date_range(at)
        if ends is None:
            fail("at", f"expected a date YYYY-MM or a range [first, last] of two rising dates, got {show(at)}")
        first: Month = ends[0]
        fields["at"] = ends
    else:
        first = _month(at) or fail("at", f"expected a date as YYYY-MM or a range [first, last], got {show(at)}")
        fields["at"] = first
    if first < start:
        fail("at", f"the event date {first} is before the scenario start {start}")
    return fields


def _date_range(at: list[object]) -> list[Month] | None:
    """A range [first, last] of two rising dates, or None."""
    if len(at) != 2:
        return None
    first, last = _month(at[0]), _month(at[1])
    if first is None or last is None or first >= last:
        return None
    return [first, last]
