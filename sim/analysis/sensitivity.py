"""Global sensitivity analysis with SALib: Morris screening and Sobol' first-order and total indices.

Which of a scenario's open factors (``sim.runs.explore``) move the answers:
survival probability, the final alignment with each power and the value of
hedging. ``designs`` draws the points (Morris trajectories, Saltelli's
extension of a scrambled Sobol' sequence); ``indices`` turns each outcome at
those points into indices with bootstrap 95% intervals. Both run on any
function of the points, so a test drives a function with known indices
(Ishigami, a linear model) through exactly the code that analyses Bamboo.

Each point's outcome is a mean over replicates with common random numbers
(``sim.runs.explore``), so two points differ by their factors, not by their noise;
``noise_share`` says how much of an outcome's variance across points the
replicates leave unexplained.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # explore is imported by the command that runs an analysis
    from sim.runs.explore import Design, Factor
    from sim.runs.scenario import Scenario

METHODS = ("morris", "sobol")
SOBOL_SAMPLES = 512  # base samples N (a power of two): N * (factors + 2) points
MORRIS_TRAJECTORIES = 20
MORRIS_LEVELS = 4
REPLICATES = 16  # runs per point; see docs/sensitivity.md for why
RESAMPLES = 200  # bootstrap resamples of each interval
CONFIDENCE = 0.95
COLUMNS = ("method", "outcome", "factor", "index", "estimate", "ci_low", "ci_high", "rank")


@dataclass
class Plan:
    """The points of each method, in factor units, stacked in one design: ``rows[method]`` slices it."""

    problem: dict
    x: np.ndarray
    rows: dict[str, slice]
    seed: int
    samples: int
    trajectories: int
    levels: int


def designs(
    problem: dict,
    methods: Sequence[str] = METHODS,
    samples: int = SOBOL_SAMPLES,
    trajectories: int = MORRIS_TRAJECTORIES,
    levels: int = MORRIS_LEVELS,
    seed: int = 1,
) -> Plan:
    """Morris trajectories and a Saltelli (Sobol') sample over the problem, deterministic from ``seed``."""
    from SALib.sample import morris as morris_sample
    from SALib.sample import sobol as sobol_sample

    parts, rows, first = [], {}, 0
    for method in methods:
        if method == "morris":
            x = morris_sample.sample(problem, trajectories, num_levels=levels, seed=seed)
        else:
            x = sobol_sample.sample(problem, samples, calc_second_order=False, scramble=True, seed=seed)
        parts.append(x)
        rows[method] = slice(first, first + len(x))
        first += len(x)
    return Plan(problem, np.vstack(parts), rows, seed, samples, trajectories, levels)


def points(methods: Sequence[str], samples: int, trajectories: int, factors: int) -> int:
    """How many points ``designs`` draws: Saltelli's N (k + 2) without second order, Morris's r (k + 1)."""
    count = {"sobol": samples * (factors + 2), "morris": trajectories * (factors + 1)}
    return sum(count[m] for m in methods)


def design(
    scenario: Scenario,
    factors: list[Factor],
    methods: Sequence[str] = METHODS,
    samples: int = SOBOL_SAMPLES,
    trajectories: int = MORRIS_TRAJECTORIES,
    replicates: int = REPLICATES,
    seed: int = 1,
) -> tuple[Plan, Design]:
    """The methods' points over the scenario's ``factors``, and the design that runs them.

    Each point runs ``replicates`` times under the scenario's strategy and its rivals, on common random numbers,
    so that two points differ by their factors and the value of hedging is measured at each.
    """
    from sim.runs import explore

    plan = designs(explore.problem(factors), methods, samples, trajectories, MORRIS_LEVELS, seed)
    values = explore.realize(scenario, factors, plan.x)
    strategies = explore.strategies_for(scenario.strategy, True)
    return plan, explore.Design(scenario, factors, values, replicates, seed, strategies, common_noise=True)


def indices(plan: Plan, outcomes: dict[str, np.ndarray], resamples: int = RESAMPLES) -> list[dict]:
    """One row per (method, outcome, factor, index): the estimate, its 95% interval and its rank.

    Sobol' gives S1 and ST (Saltelli 2010, Jansen's total-effect estimator);
    Morris gives mu_star (with its interval) and sigma (Campolongo et al.
    2007). An outcome that does not vary over the design depends on no
    factor: its indices are 0.
    """
    from SALib.analyze import morris as morris_analyze
    from SALib.analyze import sobol as sobol_analyze

    rows = []
    names = plan.problem["names"]
    for method, part in plan.rows.items():
        for outcome, y in outcomes.items():
            y = np.asarray(y, dtype=float)[part]
            flat = not np.ptp(y) > 0
            if method == "sobol":
                if flat:
                    res = {k: np.zeros(len(names)) for k in ("S1", "S1_conf", "ST", "ST_conf")}
                else:
                    with warnings.catch_warnings():  # nearly constant outcomes: see spread() in the manifest
                        warnings.simplefilter("ignore", RuntimeWarning)
                        warnings.filterwarnings("ignore", message="Constant values encountered")
                        res = sobol_analyze.analyze(
                            plan.problem,
                            y,
                            calc_second_order=False,
                            num_resamples=resamples,
                            conf_level=CONFIDENCE,
                            seed=plan.seed,
                        )
                found = (("S1", res["S1"], res["S1_conf"]), ("ST", res["ST"], res["ST_conf"]))
            else:
                if flat:
                    zero = np.zeros(len(names))
                    res = {"mu_star": zero, "mu_star_conf": zero, "sigma": zero, "mu": zero}
                else:
                    res = morris_analyze.analyze(
                        plan.problem,
                        plan.x[part],
                        y,
                        num_resamples=resamples,
                        conf_level=CONFIDENCE,
                        num_levels=plan.levels,
                        seed=plan.seed,
                    )
                nan = np.full(len(names), np.nan)
                found = (("mu_star", res["mu_star"], res["mu_star_conf"]), ("sigma", res["sigma"], nan))
            for index, estimate, half in found:
                estimate, half = np.asarray(estimate, float), np.asarray(half, float)
                order = np.argsort(-np.nan_to_num(estimate, nan=-np.inf), kind="stable")
                rank = np.empty(len(names), int)
                rank[order] = np.arange(1, len(names) + 1)
                for j, factor in enumerate(names):
                    rows.append(
                        {
                            "method": method,
                            "outcome": outcome,
                            "factor": factor,
                            "index": index,
                            "estimate": float(estimate[j]),
                            "ci_low": float(estimate[j] - half[j]) if np.isfinite(half[j]) else None,
                            "ci_high": float(estimate[j] + half[j]) if np.isfinite(half[j]) else None,
                            "rank": int(rank[j]),
                        }
                    )
    return rows


def analyse(
    problem: dict,
    evaluate: Callable[[np.ndarray], dict[str, np.ndarray]],
    *,
    methods: Sequence[str] = METHODS,
    samples: int = SOBOL_SAMPLES,
    trajectories: int = MORRIS_TRAJECTORIES,
    levels: int = MORRIS_LEVELS,
    seed: int = 1,
    resamples: int = RESAMPLES,
) -> list[dict]:
    """Sample, evaluate every point (``evaluate(x) -> {outcome: values}``) and compute the indices."""
    plan = designs(problem, methods, samples, trajectories, levels, seed)
    return indices(plan, evaluate(plan.x), resamples)


def spread(plan: Plan, outcomes: dict[str, np.ndarray]) -> dict:
    """Each outcome's mean and standard deviation over each method's points: the variance the indices apportion."""
    return {
        method: {
            k: {"mean": float(np.mean(np.asarray(y)[part])), "sd": float(np.std(np.asarray(y)[part]))}
            for k, y in outcomes.items()
        }
        for method, part in plan.rows.items()
    }


def noise_share(mean: np.ndarray, replicates: int) -> float | None:
    """The part of a share's variance across points that is replicate noise (0: none).

    For a share (e.g. survival) averaged over ``replicates`` runs per point: p(1-p)/(R-1) on average over
    its total variance; None with fewer than two replicates or no variance at all.
    """
    mean = np.asarray(mean, float)
    total = float(mean.var())
    if replicates < 2 or total == 0:
        return None
    return float(np.mean(mean * (1 - mean)) / (replicates - 1) / total)


def metadata(plan: Plan, design: Design, outcomes: dict[str, np.ndarray], seconds: float, workers: int = 1) -> dict:
    """What manifest.json says of an analysis, under "analysis", as ``write`` takes it.

    Args:
        plan: the methods' points (``designs``).
        design: the points realized and simulated (``sim.runs.explore.Design``).
        outcomes: the outcomes of every point (``sim.runs.explore.run``).
        seconds: how long the design took to run.
        workers: how many processes ran it.

    Returns:
        The methods and their settings, the factors, the outcomes with their spread and, for survival, the
        share of its variance that is replicate noise; how many points were redrawn to keep the sourced orders.
    """
    from sim.runs import explore

    methods = list(plan.rows)
    measured = {k: outcomes[k] for k in explore.OUTCOMES}
    return {
        "analysis": {
            "methods": methods,
            "factors": [f.__dict__ for f in design.factors],
            "points": {m: part.stop - part.start for m, part in plan.rows.items()},
            "sobol_base_samples": plan.samples if "sobol" in methods else None,
            "morris_trajectories": plan.trajectories if "morris" in methods else None,
            "morris_levels": plan.levels,
            "replicates_per_point": design.replicates,
            "common_random_numbers": design.common_noise,
            "strategies": list(design.strategies),
            "bootstrap_resamples": RESAMPLES,
            "confidence": CONFIDENCE,
            "outcomes": {k: explore.DESCRIPTIONS[k] for k in explore.OUTCOMES},
            "noise_share_of_survival": noise_share(outcomes["survival_probability"], design.replicates),
            "outcome_spread": spread(plan, measured),
            "points_redrawn_to_keep_orders": redrawn(plan, design),
            "seconds": round(seconds, 1),
            "workers": workers,
        }
    }


def redrawn(plan: Plan, design: Design) -> int:
    """How many points had a parameter redrawn to keep the sourced orders (their values differ from the plan's)."""
    moved = [design.values[f.name] != plan.x[:, j] for j, f in enumerate(design.factors) if f.kind == "parameter"]
    return int(np.sum(np.any(moved, axis=0))) if moved else 0


def top(rows: list[dict], method: str, outcome: str, index: str, n: int = 10) -> list[dict]:
    """The ``n`` highest-ranked factors of one index."""
    chosen = [r for r in rows if (r["method"], r["outcome"], r["index"]) == (method, outcome, index)]
    return sorted(chosen, key=lambda r: r["rank"])[:n]


# -- a scenario's analysis, written ----------------------------------------------------
def write_table(rows: list[dict], columns: Sequence[str], folder: Path, stem: str) -> list[Path]:
    """``stem``.csv and ``stem``.parquet of the same rows."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from sim.runs.results import write_csv

    pq.write_table(pa.table({c: [r[c] for r in rows] for c in columns}), folder / f"{stem}.parquet", compression="zstd")
    write_csv(folder / f"{stem}.csv", columns, ([("" if r[c] is None else r[c]) for c in columns] for r in rows))
    return [folder / f"{stem}.csv", folder / f"{stem}.parquet"]


def write_points(design: Design, outcomes: dict[str, np.ndarray], folder: Path, stem: str = "points") -> list[Path]:
    """Every design point: its factor values and outcomes (Parquet only: it can be large)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    columns = {"point": np.arange(design.points)} | dict(design.values) | dict(outcomes)
    pq.write_table(pa.table(columns), folder / f"{stem}.parquet", compression="zstd")
    return [folder / f"{stem}.parquet"]


def write(
    folder: Path,
    design: Design,
    outcomes: dict[str, np.ndarray],
    rows: list[dict],
    meta: dict,
    figures: list[Path],
) -> list[Path]:
    """sensitivity.csv/.parquet, points.parquet and manifest.json, beside the ``figures`` already drawn there."""
    import json

    from sim.runs.results import manifest

    files = write_table(rows, COLUMNS, folder, "sensitivity")
    files += write_points(design, outcomes, folder)
    files += figures
    meta = manifest(design.scenario, design.replicates, design.seed, files) | meta
    (folder / "manifest.json").write_text(json.dumps(meta, indent=2) + "\n")
    return files
