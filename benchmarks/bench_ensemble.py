"""Runs per second: idiomatic Mesa (batch_run over 1-run models) against the ensemble path.

Both run the status quo for 40 quarterly steps through the same agent rules,
side by side in one process. Prints JSON.

    python benchmarks/bench_ensemble.py [--mesa-runs 40] [--ensemble-runs 10000]
"""

from __future__ import annotations

import argparse
import json
import resource
import time

import mesa

from sim import BalanceModel

STEPS = 40


def mesa_batch(runs: int) -> float:
    start = time.perf_counter()
    mesa.batch_run(
        BalanceModel,
        parameters={"runs": 1},
        rng=list(range(runs)),
        max_steps=STEPS,
        number_processes=1,
        display_progress=False,
    )
    return time.perf_counter() - start


def ensemble(runs: int) -> float:
    start = time.perf_counter()
    BalanceModel(runs=runs, rng=1, record=False).run_for(STEPS)
    return time.perf_counter() - start


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--mesa-runs", type=int, default=40)
    ap.add_argument("--ensemble-runs", type=int, default=10_000)
    args = ap.parse_args()
    ensemble(10)  # warm-up: imports and first allocations
    t_mesa = mesa_batch(args.mesa_runs)
    t_ens = ensemble(args.ensemble_runs)
    mesa_rate, ens_rate = args.mesa_runs / t_mesa, args.ensemble_runs / t_ens
    print(
        json.dumps(
            {
                "steps": STEPS,
                "mesa_runs": args.mesa_runs,
                "ensemble_runs": args.ensemble_runs,
                "mesa_runs_per_s": round(mesa_rate, 2),
                "ensemble_runs_per_s": round(ens_rate, 1),
                "speedup": round(ens_rate / mesa_rate, 1),
                "ensemble_us_per_run_step": round(1e6 * t_ens / (args.ensemble_runs * STEPS), 3),
                "peak_memory_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
