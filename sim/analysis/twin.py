"""A calibration that recovers a known truth: twin experiments (``python -m sim.analysis.twin``).

Each truth is a point of the calibrated parameters drawn from their prior (uniform over the ranges, keeping
the sources' orders). The model itself, at that truth, writes a record: one realisation of the history
scenario up to the cut-off, its tiers by year and Russia's arms share by the real record's periods. The
calibration (``sim.analysis.calibration``, the same settings as ``bamboo calibrate``) is then given that record
alone, and its posterior's 5-95% interval of each parameter either holds the truth or not. Over several truths,
a calibration that works holds it in about 90% of (truth, parameter) pairs; it should also narrow the
intervals below the prior's, or it learnt nothing (a posterior equal to its prior covers the truth too).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence

import numpy as np

from sim.analysis.calibration import Simulator, calibrate, keeps_orders
from sim.analysis.record import ArmsPeriod, Record
from sim.runs.scenario import Scenario

TRUTHS = 5


def draw_truth(scenario: Scenario, paths: Sequence[str], rng: np.random.Generator) -> dict[str, float]:
    """A point drawn uniformly from the parameters' ranges, again until it keeps every sourced order."""
    params = scenario.resolved_parameters
    while True:
        truth = {p: float(rng.uniform(*params[p].range)) for p in paths}  # type: ignore[misc]
        if keeps_orders(truth, params.orders):
            return truth


def twin_record(scenario: Scenario, record: Record, cutoff: int, truth: dict[str, float], seed: int) -> Record:
    """The record the model writes at ``truth``: one history's tiers by year and Russia's arms share by period.

    The periods are the real record's up to ``cutoff``; a period in which the history delivered nothing has a
    share of 0, as in ``sim.analysis.summaries``.
    """
    simulator = Simulator(scenario, record, cutoff)
    by_year, by_period = simulator.realise(truth, seed)
    periods = tuple(
        ArmsPeriod(first, last, {"RU": float(np.nan_to_num(share[0], nan=0.0))})
        for (first, last), share in by_period.items()
    )
    return Record(simulator.years, by_year[0].astype(int), arms_imports=periods)


def run(
    scenario: Scenario,
    record: Record,
    cutoff: int,
    paths: Sequence[str],
    *,
    truths: int = TRUTHS,
    population: int = 100,
    generations: int = 8,
    minutes: float = 5.0,
    seed: int = 2025,
    workers: int = 1,
) -> dict[str, object]:
    """Twin experiments at ``truths`` truths: each parameter's interval, whether it held the truth, how narrow."""
    rng = np.random.default_rng(seed)
    params = scenario.resolved_parameters
    rows: list[dict[str, float | int | bool | str]] = []
    started = time.perf_counter()
    for t in range(truths):
        truth = draw_truth(scenario, paths, rng)
        made = twin_record(scenario, record, cutoff, truth, seed=seed + 1000 + t)
        fit = calibrate(
            scenario, made, cutoff, list(paths), population=population, generations=generations,
            seed=seed + t, minutes=minutes, workers=workers,
        )  # fmt: skip
        summary = fit.posterior.summary()
        for p in paths:
            lo, hi = params[p].range  # type: ignore[misc]
            q05, q95 = summary[p]["q05"], summary[p]["q95"]
            rows.append({
                "truth": t, "parameter": p, "value": truth[p], "q05": q05, "q95": q95,
                "held": bool(q05 <= truth[p] <= q95), "width_over_prior": (q95 - q05) / (hi - lo),
            })  # fmt: skip
        print(
            f"truth {t + 1}/{truths}: held {sum(bool(r['held']) for r in rows if r['truth'] == t)} of {len(paths)}; "
            f"ESS {fit.ess:.0f}, {fit.evaluations:,} simulations, {len(fit.epsilons)} generations, "
            f"{fit.seconds:.0f} s",
            file=sys.stderr,
        )
    held = [bool(r["held"]) for r in rows]
    return {
        "truths": truths,
        "parameters": list(paths),
        "coverage": sum(held) / len(held),
        "pairs": len(held),
        "mean_width_over_prior": float(np.mean([float(r["width_over_prior"]) for r in rows])),
        "settings": {"population": population, "generations": generations, "minutes": minutes, "seed": seed},
        "seconds": round(time.perf_counter() - started, 1),
        "rows": rows,
    }


def main(argv: Sequence[str] | None = None) -> int:
    """Run the twin experiments on the history scenario's screened parameters and print the report as JSON."""
    from sim.analysis.history import with_world
    from sim.analysis.record import load_record
    from sim.analysis.screening import screen
    from sim.runs.scenario import SHIPPED, load_scenario

    parser = argparse.ArgumentParser(prog="python -m sim.analysis.twin", description=__doc__.splitlines()[0])
    parser.add_argument("--truths", type=int, default=TRUTHS)
    parser.add_argument("--population", type=int, default=100)
    parser.add_argument("--generations", type=int, default=8)
    parser.add_argument("--minutes", type=float, default=5.0, help="each calibration's time cap")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--cutoff", type=int, default=2012)
    args = parser.parse_args(argv)
    scenario = with_world(load_scenario(SHIPPED / "history_1986_2025.yaml"))
    record = load_record()
    free = [q.path for q in scenario.resolved_parameters.free() if q.path not in scenario.parameters]
    kept = screen(scenario, record, args.cutoff, free).kept
    report = run(
        scenario, record, args.cutoff, kept, truths=args.truths, population=args.population,
        generations=args.generations, minutes=args.minutes, workers=args.workers,
    )  # fmt: skip
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
