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

from sim.analysis import summaries
from sim.analysis.calibration import ACCEPT, DRAWS, Simulator, keeps_orders, nearest, reference_table, reject
from sim.analysis.record import ArmsPeriod, Record
from sim.runs.scenario import Scenario

TRUTHS = 20  # truths share one reference table, so each costs one history and a sort


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
    draws: int = DRAWS,
    accept: float = ACCEPT,
    seed: int = 2025,
) -> dict[str, object]:
    """Twin experiments at ``truths`` truths: each parameter's interval, whether it held the truth, how narrow.

    The calibration is ``bamboo calibrate``'s (ABC rejection); its reference table, drawn from the prior
    independently of every truth, serves them all.
    """
    rng = np.random.default_rng(seed)
    params = scenario.resolved_parameters
    started = time.perf_counter()
    table = reference_table(scenario, record, cutoff, paths, draws, seed)
    rows: list[dict[str, float | int | bool | str]] = []
    for t in range(truths):
        truth = draw_truth(scenario, paths, rng)
        made = twin_record(scenario, record, cutoff, truth, seed=seed + 1000 + t)
        summary = reject(scenario, made, cutoff, list(paths), accept=accept, seed=seed, table=table).posterior.summary()
        for p in paths:
            lo, hi = params[p].range  # type: ignore[misc]
            q05, q95 = summary[p]["q05"], summary[p]["q95"]
            rows.append({
                "truth": t, "parameter": p, "value": truth[p], "q05": q05, "q95": q95,
                "held": bool(q05 <= truth[p] <= q95), "width_over_prior": (q95 - q05) / (hi - lo),
            })  # fmt: skip
    held = [bool(r["held"]) for r in rows]
    by_parameter = {}
    for p in paths:
        mine = [r for r in rows if r["parameter"] == p]
        widths = [float(r["width_over_prior"]) for r in mine]
        by_parameter[p] = {
            "held": sum(bool(r["held"]) for r in mine),
            "mean_width_over_prior": round(float(np.mean(widths)), 3),
        }
    return {
        "truths": truths,
        "parameters": list(paths),
        "coverage": sum(held) / len(held),
        "pairs": len(held),
        "mean_width_over_prior": float(np.mean([float(r["width_over_prior"]) for r in rows])),
        "by_parameter": by_parameter,
        "settings": {"draws": draws, "accept": accept, "seed": seed},
        "seconds": round(time.perf_counter() - started, 1),
        "rows": rows,
    }


def rise_years_by_seed(
    scenario: Scenario, record: Record, cutoff: int, paths: Sequence[str], seeds: Sequence[int], draws: int = DRAWS
) -> dict[int, dict[str, float]]:
    """For each seed, the calibration on the record and the median year of each rise among its kept draws."""
    out = {}
    for seed in seeds:
        table = reference_table(scenario, record, cutoff, paths, draws, seed)
        kept, _ = nearest(table, summaries.of_record(record, cutoff))
        medians = np.median(table.statistics[kept], axis=0)
        out[seed] = {n: float(m) for n, m in zip(table.names, medians, strict=True) if n.startswith("rise:")}
    return out


def main(argv: Sequence[str] | None = None) -> int:
    """Run the twin experiments on the history scenario's screened parameters and print the report as JSON."""
    from sim.analysis.history import with_world
    from sim.analysis.record import load_record
    from sim.analysis.screening import screen
    from sim.runs.scenario import SHIPPED, load_scenario

    parser = argparse.ArgumentParser(prog="python -m sim.analysis.twin", description=__doc__.splitlines()[0])
    parser.add_argument("--truths", type=int, default=TRUTHS)
    parser.add_argument("--draws", type=int, default=DRAWS)
    parser.add_argument("--cutoff", type=int, default=2012)
    args = parser.parse_args(argv)
    scenario = with_world(load_scenario(SHIPPED / "history_1986_2025.yaml"))
    record = load_record()
    free = [q.path for q in scenario.resolved_parameters.free() if q.path not in scenario.parameters]
    kept = screen(scenario, record, args.cutoff, free).kept
    report = run(scenario, record, args.cutoff, kept, truths=args.truths, draws=args.draws)
    seeds = rise_years_by_seed(scenario, record, args.cutoff, kept, (2025, 7), args.draws)
    apart = max(abs(seeds[2025][n] - seeds[7][n]) for n in seeds[2025])
    report |= {"rise_years_by_seed": seeds, "largest_difference_between_seeds": apart}
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
