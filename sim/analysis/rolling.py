"""Rolling-origin forecasts: the model restarted from the recorded state, scored on the years after each origin.

A forecast from origin ``O`` is what an analyst at the end of year ``O`` could have run (a quarterly origin, a
later quarter's first month of year ``O + 1``, is the same but for what happened in that year before it: see
``start_of``):

- **the state at the origin is the record's**: each tie's partnership tier is the record's for year ``O``
  (``sim/data/record.yaml``), and its depth (alignment) is set by a rule fixed before any score was seen,
  **the middle of that tier's band** on the alignment scale (the bands run from each tier's threshold in the
  parameter file to the next one's; the top band to 1). Everything else the record does not hold (memories,
  courtship) is the history scenario's, as in the hindcast;
- **the run starts on 1 January of O + 1**, with the history scenario's parameters, and forecasts the years
  ``O + 1`` to the record's last;
- **what was known at the origin**: the history scenario's own events before 1996 (the set-up of the 1990s:
  the 1988 clash, normalisation with China and the US, the Soviet Union's end) and the dated facts of
  ``sim/data/exogenous.yaml`` dated before the start. A known event whose effect lasts past the start is
  applied from the start; one that ended before it is left out (a fading tail with it); an event that acts on
  the ties themselves (``summit``, ``treaty_ends``) is left out, the recorded state holding its effect;
- **after the origin**, two variants, every score reported for both:
  ``without``, nothing after the origin: no event, and the data-driven drivers (``sim.analysis.history``: prosperity
  supply following trade, reach following military expenditure) held at their value for year ``O``;
  ``with``, the dated facts of ``sim/data/exogenous.yaml`` after the origin, each at the magnitude its rule
  gives (the catalogue's unit effect; a tariff's rate), and the drivers following the data series.

The scores (``sim.analysis.scoring``, as the hindcast's): Brier on "this power's tier rises this year" and RPS on the
tiers, over the years after the origin, beside three baselines fitted only on the record up to the origin:
persistence (the tiers at the origin), the trend from the record's ``baselines_from`` year and the constant
upgrade hazard fitted on the years from then to the origin. Each with the model's skill against each baseline,
bootstrap intervals over power-years and the number of rises it rests on; then pooled over the origins (every
(origin, power, year) a unit: the windows overlap, so pooled units are not independent and the pooled
intervals are narrower than the evidence warrants).
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import yaml

from sim.analysis.hindcast import BASELINES, simulate
from sim.analysis.history import default_path, load_series, with_world, world_events
from sim.analysis.measurement import rise_share, tier_distribution
from sim.analysis.record import FLAGS, Record
from sim.analysis.scoring import (
    BOOTSTRAP_RESAMPLES,
    BOOTSTRAP_SEED,
    bootstrap,
    brier,
    certain,
    fit_hazard,
    hazard_forecast,
    path_rises,
    persistence,
    ranked_probability,
    rises,
    score,
    skill_text,
    trend,
)
from sim.model.calendar import Month
from sim.model.domain import POWERS, THRESHOLD_TIERS, TIERS
from sim.model.events import EventFieldError
from sim.model.limits import MAX_DATA_BYTES
from sim.model.params import ParameterSet
from sim.model.reach import ReachError, read_file
from sim.runs.scenario import EventSpec, Scenario

ORIGINS = (1996, 2000, 2004, 2008, 2012, 2016, 2020)  # every four years from 1996
QUARTER_STARTS = (1, 4, 7, 10)  # the months a quarterly origin may be: the model's steps are quarters
VARIANTS = ("without", "with")  # post-origin exogenous events and data
TIE_EVENTS = ("summit", "treaty_ends")  # act on the ties themselves: the recorded state holds their effect
RATE_EVENTS = ("tariff",)  # the catalogue's magnitude is a rate, stated with the fact
UNIT_MAGNITUDE = 1.0  # every other fact enters at the catalogue's unit effect
FORECASTS = ("model", *BASELINES)
STATE_RULE = "tier: the record's at the origin; alignment: the middle of that tier's band"
VARIANT_NOTES = {
    "without": "no event after the origin; the data-driven drivers held at the origin year's values",
    "with": "the dated facts of sim/data/exogenous.yaml after the origin (unit magnitude; a tariff its rate); "
    "the drivers following the data series",
}


class ExogenousError(ValueError):
    """A file of exogenous facts that is not what is expected: the file, the field and what is wrong."""

    def __init__(self, path: Path, field: str, message: str) -> None:
        """The error in ``field`` of the file at ``path``."""
        super().__init__(f"{path}: {field}: {message}")


@dataclass(frozen=True)
class Facts:
    """The dated exogenous facts, and the first month they cover: the scenario's events from then on give way."""

    covers_from: Month
    events: tuple[EventSpec, ...]


def exogenous_path() -> Path:
    """The packaged file of exogenous facts."""
    return Path(__file__).resolve().parents[1] / "data" / "exogenous.yaml"


def load_facts(path: str | Path | None = None) -> Facts:
    """Read and check a file of exogenous facts (the packaged one when no path is given)."""
    return _packaged_facts() if path is None else _facts(Path(path))


@functools.cache
def _packaged_facts() -> Facts:
    return _facts(exogenous_path())


def _facts(path: Path) -> Facts:
    """The facts in ``path``: each a catalogue event with its date, flag and source, at the rule's magnitude."""
    try:
        raw = yaml.safe_load(read_file(path, MAX_DATA_BYTES, "YAML", "a file of exogenous facts").decode("utf-8"))
    except (ReachError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise ExogenousError(path, "file", f"cannot read it: {exc}") from None
    if not isinstance(raw, dict) or not isinstance(raw.get("events"), list):
        raise ExogenousError(path, "events", "expected a list of events")
    sources = raw.get("sources") or {}
    specs = []
    for i, item in enumerate(raw["events"]):
        specs.append(_fact(path, f"events[{i}]", item, sources))
    if not specs:
        raise ExogenousError(path, "events", "expected at least one event")
    try:
        covers = Month.parse(str(raw.get("covers_from")))
    except ValueError:
        raise ExogenousError(path, "covers_from", "expected the first month the facts cover, YYYY-MM") from None
    if any(s.at < covers for s in specs):
        raise ExogenousError(path, "events", f"expected every fact dated from covers_from ({covers}) on")
    return Facts(covers, tuple(sorted(specs, key=lambda s: s.at)))


def _fact(path: Path, field: str, item: object, sources: dict) -> EventSpec:
    """One fact as an event of the catalogue, its magnitude by the rule."""
    if not isinstance(item, dict):
        raise ExogenousError(path, field, "expected a mapping with type, at, flag, source")
    if item.get("flag") not in FLAGS:
        raise ExogenousError(path, f"{field}.flag", f"expected one of {', '.join(FLAGS)}, got {item.get('flag')!r}")
    source = item.get("source")
    named = isinstance(source, dict) and (
        (source.get("ref") in sources and bool(str(source.get("quote", "")).strip()))
        or bool(str(source.get("external", "")).strip())
    )
    if not named:
        raise ExogenousError(path, f"{field}.source", "expected {ref, quote} of a listed source or {external, note}")
    kind = item.get("type")
    fields = {k: v for k, v in item.items() if k not in ("type", "why", "flag", "source", "rate")}
    try:
        fields["at"] = Month.parse(str(fields["at"]))
        if "until" in fields:
            fields["until"] = Month.parse(str(fields["until"]))
    except (KeyError, ValueError):
        raise ExogenousError(path, f"{field}.at", "expected at (and until) as YYYY-MM") from None
    fields |= _magnitude(path, field, item)
    spec = EventSpec(str(kind), fields, str(path), 0)
    try:
        spec.build()
    except (KeyError, TypeError, ValueError, EventFieldError) as exc:
        raise ExogenousError(path, field, f"not an event of the catalogue: {exc}") from None
    return spec


def _magnitude(path: Path, field: str, item: dict) -> dict[str, float]:
    """The magnitude the rule gives a fact: a rate event's stated rate, the unit effect otherwise (a shock: none)."""
    if "magnitude" in item:
        raise ExogenousError(path, f"{field}.magnitude", "a magnitude is set by the rule, not by the fact")
    if item.get("type") in RATE_EVENTS:
        rate = item.get("rate")
        if isinstance(rate, bool) or not isinstance(rate, int | float) or not 0.0 <= rate <= 1.0:
            raise ExogenousError(path, f"{field}.rate", f"expected the rate, between 0 and 1, got {rate!r}")
        return {"magnitude": float(rate)}
    return {} if item.get("type") == "shock" else {"magnitude": UNIT_MAGNITUDE}


# -- the state at the origin ------------------------------------------------------------------------------------


def band_middle(parameters: ParameterSet, tier: int) -> float:
    """The middle of a tier's band on the alignment scale: from its threshold (0 for none) to the next (or 1)."""
    lines = [0.0, *(parameters.value(f"thresholds.{t}") for t in THRESHOLD_TIERS), 1.0]
    return (lines[tier] + lines[tier + 1]) / 2


def origin_state(record: Record, origin: int, parameters: ParameterSet, month: int = 1) -> dict[str, float]:
    """The parameter overrides that start each tie at the record's tier for ``origin``, its depth by the rule.

    ``month``, for a quarterly origin in the year after ``origin``: a change of that year the record dates
    before it is known (``Record.state_at``).
    """
    if not record.years[0] <= origin < record.years[-1]:
        raise ValueError(f"expected an origin within {record.years[0]}-{record.years[-1] - 1}, got {origin}")
    column = record.state_at(origin + 1, month)
    state = {}
    for p, tier in zip(POWERS, column.tolist(), strict=True):
        state[f"hedger.tier.{p}"] = float(tier)
        state[f"hedger.alignment.{p}"] = round(band_middle(parameters, tier), 6)
    return state


def start_of(origin: int | Month) -> Month:
    """The first month a forecast from ``origin`` runs: January after the year ``origin``, or the quarter it names.

    An origin given as a month is the start of a quarter: the run starts there, every fact dated before it is
    known, and the state is the record's at the end of the year before, with the changes of the origin's own
    year that the record dates before it (``Record.state_at``). ValueError for a month that starts no quarter.
    """
    if not isinstance(origin, Month):
        return Month(origin + 1, 1)
    if origin.month not in QUARTER_STARTS:
        raise ValueError(f"expected an origin at a quarter's first month (01, 04, 07 or 10), got {origin}")
    return origin


def _in_effect_at(spec: EventSpec, start: Month) -> bool:
    """Whether an event dated before ``start`` still acts at it (a permanent one, or one whose ``until`` is later)."""
    until = spec.fields.get("until")
    if until is not None:
        return until > start
    duration = spec.build().duration
    return duration is None  # a catalogue event of limited duration dated before the start has ended


def known_events(events: Iterable[EventSpec], start: Month) -> list[EventSpec]:
    """The events dated before ``start`` that still act at it, re-dated to it; those acting on the ties left out."""
    out = []
    for spec in events:
        if spec.at >= start or spec.type in TIE_EVENTS or not _in_effect_at(spec, start):
            continue
        out.append(dataclasses.replace(spec, fields={**spec.fields, "at": start}))
    return out


def _held_world(scenario: Scenario, origin: int, series: str | Path | None) -> list[EventSpec]:
    """The data-driven drivers at their values for year ``origin``, set at the scenario's start and held."""
    probe = dataclasses.replace(scenario, start=Month(origin, 1), horizon=Month(origin + 1, 1))
    return [
        dataclasses.replace(e, fields={**e.fields, "at": scenario.start})
        for e in world_events(probe, series)
        if e.at == Month(origin, 1)
    ]


def restart(
    scenario: Scenario,
    record: Record,
    origin: int | Month,
    *,
    post: bool,
    series: str | Path | None = None,
    facts: Facts | None = None,
) -> Scenario:
    """The history scenario restarted at ``origin`` (the end of a year, or a quarter: ``start_of``) from the record.

    ``scenario`` is the history scenario as loaded (without its world from data); ``post`` adds what happened
    after the origin (the facts, the data series). Raises ValueError for an origin outside the record or before
    the facts' first year less one.
    """
    facts = facts or load_facts()
    start = start_of(origin)
    year = start.year - 1  # the last year the record states at the start
    if start < facts.covers_from:
        raise ValueError(
            f"expected an origin from {facts.covers_from.year - 1} (the facts cover events from {facts.covers_from})"
        )
    state = origin_state(record, year, scenario.resolved_parameters, start.month)
    params = scenario.resolved_parameters.with_overrides(state)
    params = dataclasses.replace(params, time={**params.time, "start": str(start)})
    params.check()
    setup = [e for e in scenario.events if e.at < facts.covers_from]
    known = known_events([*setup, *facts.events], start)
    after = [e for e in facts.events if e.at >= start] if post else []
    restarted = dataclasses.replace(
        scenario,
        name=f"{scenario.name}, from " + (f"the end of {year}" if start.month == 1 else str(start)),
        start=start,
        parameters={**scenario.parameters, **state},
        parameter_set=params,
        events=sorted([*known, *after], key=lambda e: e.at),
    )
    if post:
        return with_world(restarted, series)
    held = _held_world(restarted, year, series)
    return dataclasses.replace(restarted, events=sorted([*restarted.events, *held], key=lambda e: e.at))


# -- a forecast and its scores ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Forecast:
    """A forecast from an origin: per power and record year the tier distribution and the chance of a rise.

    The years up to the origin are the record's (known, certain); the years after it are the runs'. ``origin``
    is the last year the record states at the start (for a quarterly origin, the year before its own).
    """

    origin: int
    post: bool
    probs: np.ndarray  # (powers, years, len(TIERS))
    rise: np.ndarray  # (powers, years)
    scenario: Scenario


def forecast(
    scenario: Scenario,
    record: Record,
    origin: int | Month,
    *,
    post: bool,
    runs: int,
    seed: int,
    series: str | Path | None = None,
    facts: Facts | None = None,
    prepare: Callable[[Scenario], Scenario] | None = None,
) -> Forecast:
    """Run the model from the recorded state at ``origin`` to the record's end (``restart``), as a Forecast.

    ``prepare``, if given, is applied to the restarted scenario before it runs (a callable: the command line
    attaches a calibrated posterior with it).
    """
    restarted = restart(scenario, record, origin, post=post, series=series, facts=facts)
    if prepare is not None:
        restarted = prepare(restarted)
    trajectories, _ = simulate(restarted, runs, seed)
    year = restarted.start.year - 1
    years, known = record.years, record.years <= year
    probs = tier_distribution(trajectories["tier"], restarted.calendar, years)
    rise = rise_share(trajectories["tier"], restarted.calendar, years)
    if np.isnan(probs[:, ~known]).any():
        raise ValueError(f"the run from {restarted.start} does not reach the record's end, {years[-1]}")
    probs[:, known] = certain(record.tiers)[:, known]
    rise[:, known] = rises(record.tiers)[:, known]
    return Forecast(year, post, probs, rise, restarted)


def baselines(
    record: Record, origin: int, state: np.ndarray | None = None
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray], dict]:
    """The baselines' forecasts from ``origin``, fitted on the record up to it: tiers, chances of a rise, the hazard.

    ``state``, each power's tier at a quarterly origin within the next year, if it differs from the record's
    for ``origin`` (a change dated before it): persistence carries it and the hazard starts from it; the fits
    are the record's years to ``origin`` all the same. Returns (tier distributions, chances of a rise, the
    hazard's report), each forecast by name.
    """
    tiers, years = record.tiers, record.years
    window = years > origin
    since = record.baselines_from or int(years[0])
    hazard = fit_hazard(tiers, years, (years <= origin) & (years >= since))
    start = tiers if state is None else np.where((years == origin)[None, :], state[:, None], tiers)
    hazard_probs, hazard_rise = hazard_forecast(start, years, window, hazard)
    forecasts = {
        "hazard": hazard_probs,
        "persistence": persistence(start, years, window),
        "trend": trend(tiers, years, window, since),
    }
    chances = {"hazard": hazard_rise} | {k: path_rises(forecasts[k]) for k in ("persistence", "trend")}
    return forecasts, chances, hazard.as_dict()


def losses(record: Record, origin: int, probs: np.ndarray, rise: np.ndarray) -> tuple[dict, dict, dict]:
    """Per power-year after ``origin``: each forecast's Brier and RPS losses, and the hazard fitted before it.

    Returns (brier, rps, hazard's report), the losses as forecast name -> array over the window's power-years
    (powers by years, flattened).
    """
    tiers, window = record.tiers, record.years > origin
    forecasts, chances, hazard = baselines(record, origin)
    forecasts["model"], chances["model"] = probs, rise
    brier_loss = {k: brier(chances[k], tiers)[:, window].ravel() for k in FORECASTS}
    rps_loss = {k: ranked_probability(forecasts[k], tiers)[:, window].ravel() for k in FORECASTS}
    return brier_loss, rps_loss, hazard


def scored(record: Record, origin: int, probs: np.ndarray, rise: np.ndarray) -> dict:
    """The scores of one forecast from ``origin``: Brier and RPS beside the baselines, skill, intervals, events."""
    window = record.years > origin
    brier_loss, rps_loss, hazard = losses(record, origin, probs, rise)
    model = score(probs, record.tiers, record.years, window).as_dict()
    return {
        "years": f"{origin + 1}-{int(record.years[-1])}",
        "power_years": int(window.sum()) * record.tiers.shape[0],
        "rises": int(rises(record.tiers)[:, window].sum()),
        "hazard": hazard,
        "brier": bootstrap(brier_loss, BASELINES),
        "rps": bootstrap(rps_loss, BASELINES),
        "tier_match": model["tier_match"]["overall"],
        "upgrades": model["upgrades"],
    }


def pooled(record: Record, runs: Sequence[Forecast]) -> dict:
    """The scores pooled over origins: every (origin, power, year) after its origin one unit of the bootstrap."""
    parts = [losses(record, f.origin, f.probs, f.rise) for f in runs]
    brier_loss = {k: np.concatenate([b[k] for b, _, _ in parts]) for k in FORECASTS}
    rps_loss = {k: np.concatenate([r[k] for _, r, _ in parts]) for k in FORECASTS}
    return {
        "origins": [f.origin for f in runs],
        "power_years": len(rps_loss["model"]),
        "rises": int(sum(rises(record.tiers)[:, record.years > f.origin].sum() for f in runs)),
        "distinct_upgrades": int(rises(record.tiers)[:, record.years > min(f.origin for f in runs)].sum()),
        "brier": bootstrap(brier_loss, BASELINES),
        "rps": bootstrap(rps_loss, BASELINES),
    }


def _events_report(scenario: Scenario, series: str | Path | None) -> list[dict]:
    """The events a restarted scenario holds that are not the data's yearly settings, as a file would say them."""
    data = str(series or default_path())
    return [e.as_dict() for e in scenario.events if e.file != data]


def initial(parameters: ParameterSet) -> dict[str, dict]:
    """Each tie's tier and alignment at a restart, as the parameters set them."""
    tier, depth = "hedger.tier", "hedger.alignment"
    return {
        p: {"tier": TIERS[int(parameters.value(f"{tier}.{p}"))], "alignment": parameters.value(f"{depth}.{p}")}
        for p in POWERS
    }


def rolling(
    scenario: Scenario,
    record: Record,
    origins: Sequence[int] = ORIGINS,
    *,
    runs: int,
    seed: int,
    series: str | Path | None = None,
    facts: Facts | None = None,
    prepare: Callable[[Scenario], Scenario] | None = None,
) -> dict:
    """Forecasts from every origin, with and without post-origin events, each scored and then pooled."""
    if not origins or sorted(set(origins)) != list(origins):
        raise ValueError(f"expected origins in increasing order, once each, got {list(origins)}")
    load_series(series)  # a bad series file fails before any run
    per_origin: dict[str, dict] = {}
    done: dict[str, list[Forecast]] = {v: [] for v in VARIANTS}
    for origin in origins:
        entry = {}
        for variant in VARIANTS:
            f = forecast(
                scenario,
                record,
                origin,
                post=variant == "with",
                runs=runs,
                seed=seed,
                series=series,
                facts=facts,
                prepare=prepare,
            )
            done[variant].append(f)
            entry[variant] = scored(record, origin, f.probs, f.rise) | {"events": _events_report(f.scenario, series)}
        entry["initial"] = initial(done["without"][-1].scenario.resolved_parameters)
        per_origin[str(origin)] = entry
    return {
        "origins": list(origins),
        "record_years": [int(record.years[0]), int(record.years[-1])],
        "state_rule": STATE_RULE,
        "variants": VARIANT_NOTES,
        "baselines_fitted_from": record.baselines_from,
        "bootstrap": {"resamples": BOOTSTRAP_RESAMPLES, "seed": BOOTSTRAP_SEED, "unit": "power-year"},
        "runs": runs,
        "seed": seed,
        "per_origin": per_origin,
        "pooled": {v: pooled(record, done[v]) for v in VARIANTS},
    }


CSV_COLUMNS = (
    "origin",
    "variant",
    "score",
    "power_years",
    "rises",
    *FORECASTS,
    *(f"skill_vs_{b}{end}" for b in BASELINES for end in ("", "_low", "_high")),
)


def rows(report: dict) -> list[list[object]]:
    """The per-origin and pooled scores as rows of CSV_COLUMNS."""
    out = []
    entries = [(o, v, report["per_origin"][o][v]) for o in report["per_origin"] for v in VARIANTS]
    entries += [("pooled", v, report["pooled"][v]) for v in VARIANTS]
    for origin, variant, entry in entries:
        for measure in ("brier", "rps"):
            block = entry[measure]
            row: list[object] = [origin, variant, measure, entry["power_years"], entry["rises"]]
            row += [round(block["scores"][k]["score"], 6) for k in FORECASTS]
            for b in BASELINES:
                skill = block["skill"][b]
                interval = skill["interval"] or [None, None]
                row += [_round(skill["skill"]), _round(interval[0]), _round(interval[1])]
            out.append(row)
    return out


def _round(x: float | None) -> float | None:
    return None if x is None else round(x, 6)


def summary_lines(report: dict) -> list[str]:
    """The pooled scores and each origin's, as the command line prints them."""
    lines = []
    for variant in VARIANTS:
        lines.append(f"  {variant} post-origin events ({report['variants'][variant]}):")
        entries = [(o, report["per_origin"][o][variant]) for o in report["per_origin"]]
        for origin, entry in [*entries, ("pooled", report["pooled"][variant])]:
            for measure in ("brier", "rps"):
                block = entry[measure]
                scores = ", ".join(f"{k} {block['scores'][k]['score']:.3f}" for k in FORECASTS)
                skills = ", ".join(f"{b} {skill_text(block['skill'][b])}" for b in BASELINES)
                lines.append(
                    f"    {origin} {measure} ({entry['rises']} rises in {entry['power_years']} power-years): "
                    f"{scores}; model's skill vs {skills}"
                )
    return lines
