"""Runs per second: idiomatic Mesa against the ensemble path, side by side in one process.

Both run the status-quo scenario through the same agent rules: Mesa's
``batch_run`` over one-run models (a model per run, as Mesa models are usually
run), and the ensemble path (``sim.ensemble.execute``: chunks of runs held as
arrays, streamed into an Aggregate), in this process, without writing files.
"""

from __future__ import annotations

import dataclasses
import resource
import time
from pathlib import Path

STATUS_QUO = Path(__file__).resolve().parent.parent / "scenarios" / "status_quo.yaml"


def status_quo(steps: int):
    """The status-quo scenario, cut or extended to ``steps`` quarterly steps."""
    from sim.scenario import load_scenario

    scenario = load_scenario(STATUS_QUO)
    return dataclasses.replace(scenario, horizon=scenario.calendar.date(steps))


def mesa_batch(scenario, runs: int) -> float:
    """Seconds for ``runs`` one-run models through ``mesa.batch_run``."""
    import mesa

    from sim.model import BalanceModel

    start = time.perf_counter()
    mesa.batch_run(
        BalanceModel,
        parameters={"runs": 1, "parameters": [scenario.parameter_set], "horizon": scenario.steps},
        rng=list(range(runs)),
        max_steps=scenario.steps,
        number_processes=1,
        display_progress=False,
    )
    return time.perf_counter() - start


def ensemble(scenario, runs: int) -> float:
    """Seconds for ``runs`` runs through the ensemble path, in this process."""
    from sim.ensemble import execute

    start = time.perf_counter()
    execute([scenario], runs, scenario.seed)
    return time.perf_counter() - start


def measure(mesa_runs: int = 40, ensemble_runs: int = 10_000, steps: int = 40) -> dict:
    scenario = status_quo(steps)
    mesa_batch(scenario, 1)  # warm-up: imports and first allocations, for both
    ensemble(scenario, 10)
    t_mesa = mesa_batch(scenario, mesa_runs)
    t_ens = ensemble(scenario, ensemble_runs)
    mesa_rate, ens_rate = mesa_runs / t_mesa, ensemble_runs / t_ens
    return {
        "scenario": scenario.name,
        "steps": steps,
        "mesa_runs": mesa_runs,
        "ensemble_runs": ensemble_runs,
        "mesa_seconds": round(t_mesa, 3),
        "ensemble_seconds": round(t_ens, 3),
        "mesa_runs_per_s": round(mesa_rate, 2),
        "ensemble_runs_per_s": round(ens_rate, 1),
        "speedup": round(ens_rate / mesa_rate, 1),
        "mesa_us_per_run_step": round(1e6 * t_mesa / (mesa_runs * steps), 1),
        "ensemble_us_per_run_step": round(1e6 * t_ens / (ensemble_runs * steps), 3),
        "peak_memory_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }
