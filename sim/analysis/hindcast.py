"""A hindcast scored against the record: the model's tiers by year beside the record's and the baselines'.

In sample is the record up to the cut-off year, out of sample the years
after it. Every score is set beside the naive baselines scored the same way
(``sim.analysis.scoring``): persistence, a trend fitted before the window and a
constant upgrade hazard fitted on the in-sample years, both from the record's
``baselines_from`` year (1992); and on "this power's tier rises this year"
(Brier) and the tiers (RPS), the model's skill against each baseline, with
bootstrap intervals and the number of rises each rests on.
"""

from __future__ import annotations

import numpy as np

from sim.analysis.measurement import (
    ARMS_SUPPLIER,
    arms_by_step,
    median_by_year,
    period_means,
    rise_share,
    tier_distribution,
)
from sim.analysis.record import Record
from sim.analysis.scoring import (
    BOOTSTRAP_RESAMPLES,
    BOOTSTRAP_SEED,
    bootstrap,
    brier,
    fit_hazard,
    hazard_forecast,
    path_rises,
    period_error,
    persistence,
    ranked_probability,
    rises,
    score,
    skill_text,
    trend,
)
from sim.model.calendar import Calendar
from sim.model.domain import POWERS, TIERS
from sim.runs.scenario import Scenario

HISTORY_SCENARIO = (
    "history_1986_2025.yaml"  # the history 1986-2025, shipped with the package (sim.runs.scenario.SHIPPED)
)


def windows(record: Record, cutoff: int) -> dict[str, np.ndarray]:
    """The in-sample years (to the cut-off) and the out-of-sample years (after it)."""
    if not record.years[0] < cutoff < record.years[-1]:
        raise ValueError(f"expected a cut-off year inside {record.years[0]}-{record.years[-1]}, got {cutoff}")
    return {"in_sample": record.window(record.years[0], cutoff), "out_of_sample": record.window(cutoff + 1, 9999)}


def simulate(scenario: Scenario, runs: int, seed: int) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Run a history scenario: its trajectories, and Russia's share of the arms delivered at each step."""
    model = scenario.model(runs=runs, seed=seed)
    arms = arms_by_step(model, scenario.steps)
    return model.trajectories(), np.vstack([np.full(runs, np.nan), arms])  # nothing delivered before the start


def arms_scores(arms: np.ndarray, calendar: Calendar, record: Record, cutoff: int) -> dict:
    """The modelled share of arms by the record's periods, and its error beside persistence and a trend.

    A period belongs to the window its last year falls in. Persistence carries the last in-sample period's
    share on; the trend is a line through the in-sample periods' midpoints.
    """
    periods = [(p.first, p.last) for p in record.russian_arms_share]
    modelled = period_means(arms, calendar, periods)
    inside = [p for p in record.russian_arms_share if p.last <= cutoff]
    scores = {}
    for name, chosen in (
        ("in_sample", inside),
        ("out_of_sample", [p for p in record.russian_arms_share if p.last > cutoff]),
    ):
        entry = {"model": period_error(modelled, chosen)}
        if name == "out_of_sample" and inside:
            entry["persistence"] = period_error({(p.first, p.last): inside[-1].value for p in chosen}, chosen)
            if len(inside) >= 2:
                mid = np.array([(p.first + p.last) / 2 for p in inside])
                slope, intercept = np.polyfit(mid, [p.value for p in inside], 1)
                line = {
                    (p.first, p.last): float(np.clip(intercept + slope * (p.first + p.last) / 2, 0, 1)) for p in chosen
                }
                entry["trend"] = period_error(line, chosen)
        scores[name] = entry
    return {
        "supplier": ARMS_SUPPLIER,
        "periods": [f"{a}-{b}" for a, b in periods],
        "record": [round(p.value, 4) for p in record.russian_arms_share],
        "model": [round(modelled.get(p, float("nan")), 4) for p in periods],
        "mean_absolute_error": scores,
    }


BASELINES = ("hazard", "persistence", "trend")  # the model's skill is stated against each


def forecast_skill(
    forecasts: dict[str, np.ndarray], rise: dict[str, np.ndarray], tiers: np.ndarray, window: np.ndarray
) -> dict:
    """Brier (a rise this year) and RPS (the tiers) of each forecast over the window, and the model's skill.

    The skill is against each baseline, with bootstrap intervals over the power-years, beside the power-years
    and rises the scores rest on. The Brier score leaves out the record's first year, which has no year before
    it to rise from.
    """
    after_first = window & (np.arange(len(window)) > 0)
    return {
        "power_years": int(tiers.shape[0] * window.sum()),
        "rises": int(rises(tiers)[:, after_first].sum()),
        "brier": bootstrap({k: brier(r, tiers)[:, after_first].ravel() for k, r in rise.items()}, BASELINES),
        "rps": bootstrap({k: ranked_probability(f, tiers)[:, window].ravel() for k, f in forecasts.items()}, BASELINES),
    }


def skill_lines(report: dict) -> list[str]:
    """The skill scores of a hindcast report as the command line prints them, one line per window and score."""
    lines = []
    hz = report["skill"]["hazard"]
    lines.append(
        f"  constant hazard: {hz['upgrades']} upgrades in {hz['power_years_at_risk']} power-years at risk "
        f"({hz['fitted_on']}), {hz['rate']:.3f} a year"
    )
    for window in ("in_sample", "out_of_sample"):
        entry = report["skill"][window]
        for measure, label in (("brier", "Brier, a rise this year"), ("rps", "RPS")):
            scores = ", ".join(f"{k} {v['score']:.3f}" for k, v in entry[measure]["scores"].items())
            skills = ", ".join(f"{k} {skill_text(v)}" for k, v in entry[measure]["skill"].items())
            lines.append(
                f"  {window.replace('_', ' ')} {label} ({entry['rises']} rises in {entry['power_years']} "
                f"power-years): {scores}; model's skill vs {skills}"
            )
    return lines


def hindcast(
    trajectories: dict[str, np.ndarray], calendar: Calendar, record: Record, cutoff: int, arms: np.ndarray | None = None
) -> dict:
    """Per power and year the modal tier, the tier shares and the median alignment; scores per window.

    ``trajectories`` are a model's recorded outcomes (``BalanceModel.trajectories``); ``arms``, Russia's share
    of the arms delivered at each step (``simulate``), adds the arms share's scores.
    """
    years = record.years
    probs = tier_distribution(trajectories["tier"], calendar, years)
    if np.isnan(probs).any():
        missing = years[np.isnan(probs).any(axis=(0, 2))]
        raise ValueError(f"the run does not cover the record's years {missing[0]}-{missing[-1]}")
    alignment = median_by_year(trajectories["alignment"], calendar, years)
    split = windows(record, cutoff)
    since = record.baselines_from
    hazard = fit_hazard(record.tiers, years, split["in_sample"] & (years >= (since or years[0])))
    model_rise = rise_share(trajectories["tier"], calendar, years)
    scores, skill = {}, {}
    for name, window in split.items():
        hazard_probs, hazard_rise = hazard_forecast(record.tiers, years, window, hazard)
        forecasts = {
            "model": probs,
            "persistence": persistence(record.tiers, years, window),
            "trend": trend(record.tiers, years, window, since),
            "hazard": hazard_probs,
        }
        scores[name] = {k: score(f, record.tiers, years, window).as_dict() for k, f in forecasts.items()}
        rise = {"model": model_rise, "hazard": hazard_rise}
        rise |= {k: path_rises(forecasts[k]) for k in ("persistence", "trend")}
        skill[name] = forecast_skill(forecasts, rise, record.tiers, window)
    skill_report = {
        "hazard": hazard.as_dict(),
        "bootstrap": {"resamples": BOOTSTRAP_RESAMPLES, "seed": BOOTSTRAP_SEED, "unit": "power-year"},
        "trend_fitted_from": since,
        **skill,
    }
    return {
        "years": years.tolist(),
        "cutoff": cutoff,
        "tiers": TIERS,
        "powers": {
            p: {
                "record": [TIERS[t] for t in record.tiers[i]],
                "modal": [TIERS[t] for t in probs[i].argmax(-1)],
                "probabilities": np.round(probs[i], 4).tolist(),
                "median_alignment": np.round(alignment[i], 4).tolist(),
            }
            for i, p in enumerate(POWERS)
        },
        "scores": scores,
        "skill": skill_report,
        **({"russian_arms_share": arms_scores(arms, calendar, record, cutoff)} if arms is not None else {}),
    }
