"""Runs per second: idiomatic Mesa against the ensemble path, side by side in one process.

All run the status-quo scenario through the same agent rules, compiled
(``sim.model.kernels``): Mesa's ``batch_run`` over one-run models (a model per run,
as Mesa models are usually run), and the ensemble path (chunks of runs held as
arrays, streamed into an Aggregate) in this process and on two worker
processes, without writing files. For reference, ``batch_run`` also runs the
same rules uncompiled, in a process of its own with ``NUMBA_DISABLE_JIT=1``
(the kernels' Python source, as one debugs them): what compiling buys. The
load average is reported, and the CPU time of the in-process measurements
beside their wall time: the machine may be shared.
"""

from __future__ import annotations

import dataclasses
import json
import os
import resource
import subprocess
import sys
import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # imported where they run, so that the command line starts without them
    from sim.runs.scenario import Scenario


def status_quo(steps: int) -> Scenario:
    """The status-quo scenario, cut or extended to ``steps`` quarterly steps."""
    from sim.runs.scenario import SHIPPED, load_scenario

    scenario = load_scenario(SHIPPED / "status_quo.yaml")
    return dataclasses.replace(scenario, horizon=scenario.calendar.date(steps))


def mesa_batch(scenario: Scenario, runs: int) -> tuple[float, float]:
    """Seconds (wall, CPU) for ``runs`` one-run models through ``mesa.batch_run``."""
    import mesa

    from sim.model.balance import BalanceModel

    start = time.perf_counter()
    cpu = time.process_time()
    mesa.batch_run(
        BalanceModel,
        parameters={
            "runs": 1,
            "parameters": [scenario.parameter_set],
            "horizon": scenario.steps,
        },
        rng=list(range(runs)),
        max_steps=scenario.steps,
        number_processes=1,
        display_progress=False,
    )
    return time.perf_counter() - start, time.process_time() - cpu


def mesa_interpreted(steps: int, runs: int) -> float:
    """Seconds (wall) for ``runs`` one-run models through ``mesa.batch_run``, the rules uncompiled.

    In a process of its own with ``NUMBA_DISABLE_JIT=1``, after one model there (imports, first allocations);
    the uint32 wrap-around of the Philox rounds warns when interpreted, and those warnings are silenced.
    """
    code = (
        "import json; from sim.runs.bench import mesa_batch, status_quo; "
        f"s = status_quo({int(steps)}); mesa_batch(s, 1); print(json.dumps(mesa_batch(s, {int(runs)})))"
    )
    env = {**os.environ, "NUMBA_DISABLE_JIT": "1", "PYTHONWARNINGS": "ignore"}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    return float(json.loads(done.stdout)[0])


def ensemble(scenario: Scenario, runs: int) -> tuple[float, float]:
    """Seconds (wall, CPU) for ``runs`` runs through the ensemble path, in this process."""
    from sim.runs.ensemble import execute

    start = time.perf_counter()
    cpu = time.process_time()
    execute([scenario], runs, scenario.seed)
    return time.perf_counter() - start, time.process_time() - cpu


def two_workers(scenario: Scenario, runs: int) -> float:
    """Seconds for ``runs`` runs on a pool of two worker processes, once they are up: the rate on two cores."""
    from sim.runs.chunks import DEFAULT_CHUNK, Chunk, chunks
    from sim.runs.ensemble import ProcessPool, chunk_task
    from sim.runs.results import Aggregate

    def tasks(n: int, size: int = DEFAULT_CHUNK) -> list[tuple[tuple[int, Chunk], tuple[object, ...]]]:
        """The pool's tasks for ``n`` runs in chunks of ``size``: each keyed by (point, chunk)."""
        return [((0, c), (scenario, 0, c, scenario.seed, None, False, None)) for c in chunks(n, size)]

    with ProcessPool(2) as pool:
        for _ in pool.imap(chunk_task, tasks(400, 100)):  # both workers started, the kernels loaded
            pass
        start = time.perf_counter()
        total = Aggregate(scenario.steps)
        for _, (agg, _) in pool.imap(chunk_task, tasks(runs)):
            total.merge(agg)
        return time.perf_counter() - start


def measure(
    mesa_runs: int = 40, ensemble_runs: int = 50_000, steps: int = 40, pool_runs: int = 1_000_000
) -> dict[str, object]:
    """Every rate of the comparison, for ``steps`` quarterly steps per run, as the report gives it (JSON).

    Args:
        mesa_runs: one-run models through ``mesa.batch_run``, compiled and interpreted.
        ensemble_runs: runs through the ensemble path, in this process.
        steps: quarterly steps per run.
        pool_runs: runs on two worker processes; 0 leaves the pool out.
    """
    scenario = status_quo(steps)
    load_before = os.getloadavg()[0]
    mesa_batch(scenario, 1)  # warm-up: imports, the kernels loaded, first allocations, for both
    ensemble(scenario, 10)
    t_mesa, c_mesa = mesa_batch(scenario, mesa_runs)
    t_plain = mesa_interpreted(steps, mesa_runs)
    t_ens, c_ens = ensemble(scenario, ensemble_runs)
    t_pool = two_workers(scenario, pool_runs) if pool_runs else None
    mesa_rate, plain_rate, ens_rate = mesa_runs / t_mesa, mesa_runs / t_plain, ensemble_runs / t_ens
    out = {
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
        "speedup_in_cpu_time": round((c_mesa / mesa_runs) / (c_ens / ensemble_runs), 1),
        "ensemble_cpu_us_per_run_step": round(1e6 * c_ens / (ensemble_runs * steps), 3),
        "mesa_interpreted_runs_per_s": round(plain_rate, 2),
        "speedup_over_mesa_interpreted": round(ens_rate / plain_rate, 1),
    }
    if t_pool is not None:
        out |= {
            "two_workers_runs": pool_runs,
            "two_workers_runs_per_s": round(pool_runs / t_pool, 1),
            "two_workers_us_per_run_step": round(1e6 * t_pool / (pool_runs * steps), 3),
            "two_workers_speedup": round(pool_runs / t_pool / mesa_rate, 1),
            "two_workers_speedup_over_mesa_interpreted": round(pool_runs / t_pool / plain_rate, 1),
        }
    out["peak_memory_mib"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    out["load_average"] = [round(load_before, 2), round(os.getloadavg()[0], 2)]
    return out
