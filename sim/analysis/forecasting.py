"""Sealed forecasts: made now from the recorded state, graded later against a record of the years forecast.

``make`` runs the rolling-origin machinery (``rolling.forecast``, the ``without`` variant: nothing after the
origin is known) from the record's state at an origin to a later year, beyond the record if need be, and returns
the forecast as a document (``forecast.json``). The origin is the first month forecast, the first month of a
quarter (``rolling.start_of``): the tiers are the record's at the end of the year before it (``state_year``) with
the changes of its own year the record dates before it (``Record.state_at``), the facts those dated before it; an
origin in the past gives a forecast that ``grade`` scores against the record of the years from it. The document
holds:

- ``forecast``: per power and forecast year, the share of runs in each tier at the year's end (``tiers``), and of
  runs whose tier rises (``rise``) or falls (``fall``) in that year;
- ``baselines``: the same for the constant upgrade hazard, persistence and the trend, fitted on the record up to
  the origin (``sim.analysis.rolling.baselines``), so that the grade later sets the model beside what was naive *then*;
- ``outcomes``: per forecast year, the share of runs in which multi-alignment survives from the origin to the
  year's end, and of each failure mode;
- ``observables``: per forecast year, quantiles over runs of Russia's share of the arms delivered to Vietnam
  (``russian_arms_share``, the model's measurement of SIPRI's trend-indicator values, ``sim.analysis.measurement``)
  and of the hedging index, each a run's mean over the year's quarters; for the arms share, the same quantiles of
  two baselines fitted on the record up to the origin: persistence (the last recorded year's share) and
  climatology (the recorded years' shares);
- ``with`` (if asked, for years the record covers): the same forecast, outcomes and observables with the dated
  facts after the origin and the drivers following the data (``rolling``'s ``with`` variant), and those facts;
- what it was made from: the package version, the git commit (if any), the scenario's content hash, the
  parameter file's sha256, the sha256 of the record as known at the origin (``record_known_sha256``: nothing
  else the record holds enters the forecast, nor its seal), the runs and the seed; and ``made``, the date and
  time it was made (UTC).

**The seal.** ``sha256`` is the SHA-256 of the canonical JSON of the document without its ``sha256`` and ``made``
fields: keys sorted, no spaces (separators ``,`` and ``:``), UTF-8, no NaN. A forecast made twice from the same
inputs has the same seal and the same bytes apart from ``made``; a forecast edited afterwards no longer matches
its seal, and ``grade`` refuses it.

``grade`` scores a sealed forecast against a record file (``sim/data/record.yaml``'s format) over the forecast
years the record covers, consecutive from the origin's year: Brier on "this power's tier rises this year"
and RPS on the tiers, each beside the sealed baselines, with skill and bootstrap intervals over power-years, as
``sim.analysis.rolling.scored`` does. A rise in the first year is judged against the state the forecast started from.
A forecast with the ``with`` variant is graded in both, beside the same baselines.
Where the record gives Russia's arms share for forecast years, the quantiles are graded too: CRPS (from the
quantiles) beside the two baselines, and whether the 5-95% interval held the recorded share. The hedging index has
no record to be graded against; it is forecast so that a reader can see what the model expects of Vietnam.
"""

from __future__ import annotations

import dataclasses
import datetime
import hashlib
import json
import subprocess
from collections.abc import Callable
from pathlib import Path

import numpy as np

from sim.analysis.hindcast import BASELINES
from sim.analysis.measurement import ARMS_SUPPLIER, arms_share, run_means, year_end_steps, year_start_steps
from sim.analysis.record import Record
from sim.analysis.rolling import STATE_RULE, VARIANT_NOTES, Facts, baselines, forecast, load_facts, start_of
from sim.analysis.scoring import (
    BOOTSTRAP_RESAMPLES,
    BOOTSTRAP_SEED,
    bootstrap,
    brier,
    certain,
    quantile_crps,
    ranked_probability,
    rises,
    skill_text,
)
from sim.model.calendar import Calendar, Month
from sim.model.domain import POWERS, TIERS
from sim.model.security import hedging_index
from sim.runs.scenario import Scenario

FORMAT = "bamboo-forecast/2"
# /1: the origin a year (the forecast starting in January after it), the whole record file's sha256 sealed
READABLE = ("bamboo-forecast/1", FORMAT)
UNSEALED = ("sha256", "made")  # the fields the seal is not computed over
VARIANT = "without"  # a forecast knows nothing after its origin
DEFAULT_YEARS = 3  # forecast years from the origin's when no last year is given
QUANTILES = (0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95)  # symmetric about the median: see scoring.quantile_crps
ARMS_BASELINES = ("persistence", "climatology")


class ForecastError(ValueError):
    """A forecast file or record that cannot be graded: what is wrong, in one line."""


def canonical(document: dict) -> bytes:
    """The canonical JSON the seal is computed over: every field but ``sha256`` and ``made``, keys sorted."""
    body = {k: v for k, v in document.items() if k not in UNSEALED}
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode()


def seal(document: dict) -> str:
    """The SHA-256 (hex) of the document's canonical JSON."""
    return hashlib.sha256(canonical(document)).hexdigest()


def commit() -> str | None:
    """The git commit the package's source is at, or None (not a git checkout, or no git)."""
    try:
        done = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            cwd=Path(__file__).resolve().parent,
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    text = done.stdout.strip()
    return text if done.returncode == 0 and len(text) == 40 else None


def record_known_sha256(record: Record, origin: Month) -> str:
    """The SHA-256 of what a forecast from ``origin`` reads of the record.

    The canonical JSON (as the seal's) of the record's years to the year before the origin's, each power's
    tiers over them and at the origin, the first year the baselines are fitted on and the arms delivered each
    year to the year before the origin's.
    """
    year = origin.year - 1
    upto = record.years <= year
    body = {
        "years": [int(record.years[0]), year],
        "tiers": {p: [TIERS[int(t)] for t in record.tiers[i, upto]] for i, p in enumerate(POWERS)},
        "at_origin": [TIERS[int(t)] for t in record.state_at(origin.year, origin.month)],
        "baselines_from": record.baselines_from,
        "arms_years": [[y.year, y.deals, dict(sorted(y.tiv.items()))] for y in record.arms_years if y.year <= year],
    }
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    return hashlib.sha256(text.encode()).hexdigest()


def known_until(record: Record, origin: Month, last: int) -> Record:
    """The record as known at ``origin``, its years carried on to ``last`` at the tiers known at the origin.

    The tiers from the origin's year on are placeholders: ``rolling.forecast`` reads only the years before it
    and the state at it (the changes of its year the record dates before it, dated as they are; the others not
    there), and the baselines are fitted on the years before it alone.
    """
    year = origin.year - 1
    years = np.arange(int(record.years[0]), last + 1)
    upto = record.years <= year
    state = record.state_at(origin.year, origin.month)
    tiers = np.concatenate([record.tiers[:, upto], np.repeat(state[:, None], last - year, axis=1)], axis=1)
    months = np.zeros(tiers.shape, dtype=int)
    if record.months is not None:
        months[:, : int(upto.sum())] = record.months[:, upto]
        inside = np.flatnonzero(record.years == origin.year)
        if inside.size:
            dated = record.months[:, inside[0]]
            months[:, int(upto.sum())] = np.where((dated > 0) & (dated < origin.month), dated, 0)
    return dataclasses.replace(record, years=years, tiers=tiers, months=months, arms_imports=(), arms_years=())


def _per_year(probs: np.ndarray, chance: np.ndarray, years: np.ndarray, fall: np.ndarray | None = None) -> dict:
    """Per power and year: the tier distribution and the chance of a rise (and of a fall), as the file says them."""
    out: dict[str, dict] = {}
    for p, power in enumerate(POWERS):
        out[power] = {}
        for j, year in enumerate(years.tolist()):
            entry: dict[str, object] = {
                "tiers": {t: float(probs[p, j, k]) for k, t in enumerate(TIERS)},
                "rise": float(chance[p, j]),
            }
            if fall is not None:
                entry["fall"] = float(fall[p, j])
            out[power][str(year)] = entry
    return out


def _quantiles(values: np.ndarray) -> dict[str, float] | None:
    """The QUANTILES of the finite ``values`` (a year's value per run), or None if none is finite."""
    finite = values[np.isfinite(values)]
    if not finite.size:
        return None
    return {str(q): float(v) for q, v in zip(QUANTILES, np.quantile(finite, QUANTILES), strict=True)}


def _yearly(series: list[np.ndarray], calendar: Calendar, years: np.ndarray) -> dict[str, dict[str, float] | None]:
    """Quantiles over runs of each run's mean over the steps dated in each year (step k is ``series[k - 1]``)."""
    dated = np.array([calendar.date(k).year for k in range(1, len(series) + 1)])
    stacked = np.stack(series)
    return {str(year): _quantiles(run_means(stacked, dated, year, year)) for year in years.tolist()}


def _arms_baselines(record: Record, origin: int, years: np.ndarray) -> dict[str, dict]:
    """Russia's arms share by the naive forecasts of the record up to ``origin``, as quantiles for each year."""
    shares = [y.tiv.get("RU", 0.0) / y.total for y in record.arms_years if y.year <= origin and y.total > 0]
    if not shares:
        return {}
    last = {str(q): float(shares[-1]) for q in QUANTILES}
    spread = {str(q): float(v) for q, v in zip(QUANTILES, np.quantile(shares, QUANTILES), strict=True)}
    return {
        "persistence": {str(y): last for y in years.tolist()},
        "climatology": {str(y): spread for y in years.tolist()},
    }


def _outcomes(scenario: Scenario, runs: int, seed: int, years: np.ndarray) -> tuple[dict, np.ndarray, dict]:
    """The restarted scenario run again with the same seed: survival and failure modes at each forecast year's end.

    Returns (outcomes by year, the share of runs whose tier falls in each year, (powers, years), and the
    observables: quantiles of Russia's arms share and of the hedging index by year).
    """
    model = scenario.model(runs=runs, seed=seed)
    ends = {scenario.calendar.step_of(Month(int(y) + 1, 1)): str(y) for y in years}
    outcomes = {}
    arms, hedging = [], []
    for k in range(1, scenario.steps + 1):
        model.step()
        arms.append(arms_share(model, ARMS_SUPPLIER))
        hedging.append(hedging_index(model.hedger.alignment))
        if k in ends:
            outcomes[ends[k]] = {name: float(share) for name, share in model.failure_modes().items()}
    tier = model.trajectories()["tier"]
    at = year_end_steps(scenario.calendar, years, tier.shape[0])
    before = year_start_steps(scenario.calendar, years, tier.shape[0])
    fall = np.stack([(tier[k] < tier[b]).mean(axis=0) for k, b in zip(at, before, strict=True)], axis=1)
    observables = {
        "russian_arms_share": _yearly(arms, scenario.calendar, years),
        "hedging_index": _yearly(hedging, scenario.calendar, years),
    }
    return outcomes, fall, observables


def make(
    scenario: Scenario,
    record: Record,
    origin: Month,
    last: int,
    *,
    runs: int,
    seed: int,
    facts: Facts | None = None,
    prepare: Callable[[Scenario], Scenario] | None = None,
    inputs: dict | None = None,
    post_origin: bool = False,
    series: str | Path | None = None,
) -> dict:
    """The sealed forecast from ``origin`` (a quarter's first month) to the end of ``last``, from the record's state.

    ``scenario`` is the history scenario as loaded (its horizon is moved to the start of ``last + 1``);
    ``prepare`` as for ``sim.analysis.rolling.forecast``; ``inputs``, what the forecast was made from (file names and
    hashes), is sealed with it; ``post_origin`` adds the ``with`` variant (the facts after the origin, the drivers
    following ``series``), for years the record covers. The ``made`` field is set to now. Raises ValueError for an
    origin outside the record or not a quarter's first month, or a last year before the origin's.
    """
    start = start_of(origin)
    year = start.year - 1  # the last year the record states at the origin
    first, final = int(record.years[0]), int(record.years[-1])
    if not first <= year <= final:
        raise ValueError(f"expected an origin from {first + 1}-01 to {final + 1}-01, got {origin}")
    if last < start.year:
        raise ValueError(f"expected a last forecast year from the origin's, {start.year}, got {last}")
    if post_origin and last > final:
        raise ValueError(f"expected a last forecast year within the record ({final}) for the with variant, got {last}")
    known = known_until(record, start, last)
    longer = dataclasses.replace(scenario, horizon=Month(last + 1, 1))
    window = known.years > year
    years = known.years[window]
    begun = record.state_at(start.year, start.month)
    probs, chances, hazard = baselines(known, year, begun)
    variants = {}
    for post in (False, True) if post_origin else (False,):
        f = forecast(longer, known, start, post=post, runs=runs, seed=seed, series=series, facts=facts, prepare=prepare)
        outcomes, fall, observables = _outcomes(f.scenario, runs, seed, years)
        variants[post] = (f, outcomes, fall, observables)
    f, outcomes, fall, observables = variants[False]
    document: dict[str, object] = {
        "format": FORMAT,
        "origin": str(start),
        "years": [int(y) for y in years],
        "state_year": year,
        "state_at_origin": {power: TIERS[int(t)] for power, t in zip(POWERS, begun, strict=True)},
        "state_rule": f"{STATE_RULE}: at the end of state_year, with the changes of the origin's year dated before it",
        "after_origin": VARIANT_NOTES[VARIANT],
        "forecast": _per_year(f.probs[:, window], f.rise[:, window], years, fall),
        "baselines": {name: _per_year(probs[name][:, window], chances[name][:, window], years) for name in BASELINES},
        "hazard": hazard,
        "outcomes": outcomes,
        "observables": {
            "quantiles": list(QUANTILES),
            "forecast": observables,
            "baselines": {"russian_arms_share": _arms_baselines(record, year, years)},
        },
    }
    if post_origin:
        g, outcomes, fall, observables = variants[True]
        document["with"] = {
            "after_origin": VARIANT_NOTES["with"],
            "events": [e.as_dict() for e in (facts or load_facts()).events if start <= e.at <= Month(last, 12)],
            "forecast": _per_year(g.probs[:, window], g.rise[:, window], years, fall),
            "outcomes": outcomes,
            "observables": observables,
        }
    document |= {
        "runs": runs,
        "seed": seed,
        "scenario_sha256": scenario.content_hash(),
        **(inputs or {}),
        "record_known_sha256": record_known_sha256(record, start),
        "package_version": _version(),
        "commit": commit(),
        "seal": "sha256 of the canonical JSON (keys sorted, separators ',' ':', UTF-8) without sha256 and made",
    }
    document["made"] = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    document["sha256"] = seal(document)
    return document


def _version() -> str:
    from sim import __version__

    return __version__


def dumps(document: dict) -> str:
    """The forecast as its file holds it: indented JSON, keys in the document's order."""
    return json.dumps(document, indent=2, ensure_ascii=False, allow_nan=False) + "\n"


def read(path: Path) -> dict:
    """A forecast file, its seal checked; ForecastError if it cannot be read or has changed since it was sealed."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise ForecastError(f"{path}: cannot read the forecast: {exc}") from None
    if not isinstance(document, dict) or document.get("format") not in READABLE:
        raise ForecastError(f"{path}: expected a forecast of bamboo forecast ({' or '.join(READABLE)})")
    try:
        same = seal(document) == document.get("sha256")
    except ValueError:
        same = False
    if not same:
        raise ForecastError(
            f"{path}: the forecast does not match its sha256; it was changed after it was made, so it is not graded"
        )
    return document


def _arrays(block: dict, years: list[int]) -> tuple[np.ndarray, np.ndarray]:
    """A forecast's tier distributions and chances of a rise over ``years``, (powers, years, K) and (powers, years)."""
    probs = np.array([[[block[p][str(y)]["tiers"][t] for t in TIERS] for y in years] for p in POWERS], dtype=float)
    chance = np.array([[block[p][str(y)]["rise"] for y in years] for p in POWERS], dtype=float)
    return probs, chance


def origin_label(document: dict) -> str:
    """Where a forecast starts, as a reader says it: its first month, or the end of a year (the first format's)."""
    origin = document["origin"]
    return f"the end of {int(origin)}" if isinstance(origin, int) else str(origin)


def grade(document: dict, record: Record) -> dict:
    """The scores of a sealed forecast on the years the record covers, beside its sealed baselines.

    A forecast with the ``with`` variant has that variant's scores too, beside the same baselines (``with``).
    Raises ForecastError if the record covers no forecast year, or starts after the first one.
    """
    years = [int(y) for y in document["years"]]
    first, last = int(record.years[0]), int(record.years[-1])
    covered = [y for y in years if first <= y <= last]
    if not covered:
        raise ForecastError(
            f"the record covers {first}-{last}, none of the forecast's years {years[0]}-{years[-1]}; nothing to grade"
        )
    if first > years[0]:
        raise ForecastError(f"the record starts in {first}; expected it to cover the forecast from {years[0]}")
    start = np.array([TIERS.index(document["state_at_origin"][p]) for p in POWERS])
    tiers = np.concatenate([start[:, None], record.tiers[:, np.isin(record.years, covered)]], axis=1)
    report = {
        "forecast_sha256": document["sha256"],
        "origin": document["origin"],
        "years": f"{covered[0]}-{covered[-1]}",
        "power_years": len(covered) * len(POWERS),
        "rises": int(rises(tiers)[:, np.arange(tiers.shape[1]) > 0].sum()),
        "hazard": document["hazard"],
        **_tier_scores(document["forecast"], document["baselines"], start, tiers, covered),
        "bootstrap": {"resamples": BOOTSTRAP_RESAMPLES, "seed": BOOTSTRAP_SEED, "unit": "power-year"},
        **_grade_arms(document.get("observables"), document, record, covered),
    }
    post = document.get("with")
    if post:
        observables = document.get("observables")
        if observables:
            observables = observables | {"forecast": post["observables"]}
        report["with"] = {
            "after_origin": post["after_origin"],
            **_tier_scores(post["forecast"], document["baselines"], start, tiers, covered),
            **_grade_arms(observables, document, record, covered),
        }
    return report


def _tier_scores(model: dict, sealed: dict, start: np.ndarray, tiers: np.ndarray, covered: list[int]) -> dict:
    """Brier on rises and RPS on tiers of the model's block beside the sealed baselines, with skill and intervals.

    ``tiers`` is the state at the origin then the record's tiers over ``covered``; the first column, the start,
    is not scored, only set against.
    """
    window = np.arange(tiers.shape[1]) > 0
    chances, dists = {}, {}
    for name, block in [("model", model), *sealed.items()]:
        probs, chance = _arrays(block, covered)
        dists[name] = np.concatenate([certain(start)[:, None], probs], axis=1)
        chances[name] = np.concatenate([np.zeros((len(POWERS), 1)), chance], axis=1)
    names = ("model", *BASELINES)
    brier_loss = {k: brier(chances[k], tiers)[:, window].ravel() for k in names}
    rps_loss = {k: ranked_probability(dists[k], tiers)[:, window].ravel() for k in names}
    return {"brier": bootstrap(brier_loss, BASELINES), "rps": bootstrap(rps_loss, BASELINES)}


def _grade_arms(block: dict | None, document: dict, record: Record, covered: list[int]) -> dict:
    """CRPS of the arms-share quantiles beside the baselines, and the 5-95% interval's coverage, where recorded.

    ``block`` is the document's observables (or a variant's in their place). Empty if the forecast has none (made
    before they were added) or the record no share in its years.
    """
    recorded = {y.year: y.tiv.get("RU", 0.0) / y.total for y in record.arms_years if y.total > 0}
    years = [y for y in covered if y in recorded]
    if not block or not years:
        return {}
    levels = np.array(block["quantiles"], dtype=float)
    forecasts = {"model": block["forecast"]["russian_arms_share"], **block["baselines"]["russian_arms_share"]}
    years = [y for y in years if all(f.get(str(y)) for f in forecasts.values())]
    if not years or set(forecasts) != {"model", *ARMS_BASELINES}:
        return {}

    def values(f: dict, y: int) -> np.ndarray:
        return np.array([f[str(y)][str(q)] for q in block["quantiles"]], dtype=float)

    losses = {
        name: np.array([quantile_crps(levels, values(f, y), recorded[y]) for y in years])
        for name, f in forecasts.items()
    }
    model = forecasts["model"]
    inside = [model[str(y)][str(QUANTILES[0])] <= recorded[y] <= model[str(y)][str(QUANTILES[-1])] for y in years]
    return {
        "russian_arms_share": {
            "years": years,
            "recorded": [round(recorded[y], 4) for y in years],
            "crps": bootstrap(losses, ARMS_BASELINES),
            "interval_5_95_held": f"{sum(inside)} of {len(inside)}",
            "unit": "year",
        }
    }


def grade_lines(report: dict) -> list[str]:
    """The grade as the command line prints it."""
    lines = [
        f"Forecast from {origin_label(report)} graded on {report['years']} "
        f"({report['rises']} rises in {report['power_years']} power-years):"
    ]
    lines += _score_lines(report, "  ")
    post = report.get("with")
    if post:
        lines.append(f"  with post-origin events ({post['after_origin']}):")
        lines += _score_lines(post, "    ")
    return lines


def _score_lines(report: dict, indent: str) -> list[str]:
    """The Brier, RPS and arms-share scores of one variant, each beside the baselines."""
    lines = []
    for measure in ("brier", "rps"):
        block = report[measure]
        scores = ", ".join(f"{k} {v['score']:.3f}" for k, v in block["scores"].items())
        skills = ", ".join(f"{b} {skill_text(block['skill'][b])}" for b in BASELINES)
        lines.append(f"{indent}{measure}: {scores}; model's skill vs {skills}")
    arms = report.get("russian_arms_share")
    if arms:
        block = arms["crps"]
        scores = ", ".join(f"{k} {v['score']:.3f}" for k, v in block["scores"].items())
        skills = ", ".join(f"{b} {skill_text(block['skill'][b])}" for b in ARMS_BASELINES)
        lines.append(
            f"{indent}Russia's arms share, CRPS over {len(arms['years'])} year(s): {scores}; model's skill vs "
            f"{skills}; the 5-95% interval held the record in {arms['interval_5_95_held']}"
        )
    return lines


def summary_lines(document: dict) -> list[str]:
    """The forecast as the command line prints it: each power's most likely tier and chance of a rise by year.

    Then the same of the ``with`` variant, if the forecast has it.
    """
    lines = [f"Forecast from {origin_label(document)}, {document['runs']:,} runs, seed {document['seed']}:"]
    lines += _variant_lines(document["forecast"], document["outcomes"], document.get("observables", {}).get("forecast"))
    post = document.get("with")
    if post:
        lines.append(f"  with post-origin events ({post['after_origin']}):")
        lines += ["  " + line for line in _variant_lines(post["forecast"], post["outcomes"], post["observables"])]
    return lines


def _variant_lines(forecast: dict, outcomes: dict, observables: dict | None) -> list[str]:
    """One variant's tiers and rises by power and year, survival, and the observables' medians and intervals."""
    lines = []
    for power in POWERS:
        cells = []
        for year, entry in forecast[power].items():
            top = max(entry["tiers"], key=lambda t: entry["tiers"][t])
            cells.append(f"{year} {top} {entry['tiers'][top]:.0%} (rise {entry['rise']:.0%})")
        lines.append(f"  {power}: " + "; ".join(cells))
    survived = ", ".join(f"{y} {o.get('survived', float('nan')):.0%}" for y, o in outcomes.items())
    lines.append(f"  multi-alignment survives: {survived}")
    for name, label in (("russian_arms_share", "Russia's arms share"), ("hedging_index", "hedging index")):
        cells = []
        for year, q in (observables or {}).get(name, {}).items():
            if q:
                cells.append(f"{year} {q['0.5']:.2f} [{q['0.05']:.2f}, {q['0.95']:.2f}]")
        if cells:
            lines.append(f"  {label}, median [5%, 95%]: " + "; ".join(cells))
    return lines
