"""How the cost of ``bamboo run`` grows with runs and with the horizon; peak memory of the whole process tree.

Each measurement runs the command line as a user does (status quo, no
trajectories, summary, plots and manifest written), samples the resident
memory of the command and all its worker processes together (summed RSS, and
summed PSS, which counts a page shared by several processes once), and prints
one JSON line with the load average before and after and the CPU seconds of
all the processes (what a quiet machine needs, divided by its cores). The wall
time includes start-up and the figures (a few seconds).

    python benchmarks/scale.py --runs 1000 10000 100000 1000000 --workers 2
    python benchmarks/scale.py --runs 100000 --steps 20 40 80 --workers 2
    python benchmarks/scale.py --runs 1000000 --workers 2 --strategies none
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
import tempfile
import time
from pathlib import Path

import psutil

from sim.model.calendar import Month

STATUS_QUO = Path(__file__).resolve().parent.parent / "scenarios" / "status_quo.yaml"


def tree_memory(proc: psutil.Process, cpu: dict[int, float]) -> tuple[int, int]:
    """Resident memory of the process and all its children: summed RSS (shared pages counted in every
    process) and summed PSS (each shared page split among the processes that share it: the memory used).

    Records each process's CPU seconds so far in ``cpu``, by process id.
    """
    rss = pss = 0
    for p in [proc, *proc.children(recursive=True)]:
        with contextlib.suppress(psutil.Error):
            info = p.memory_full_info()
            rss += info.rss
            pss += getattr(info, "pss", info.rss)
            times = p.cpu_times()
            cpu[p.pid] = times.user + times.system
    return rss, pss


def measure(runs: int, steps: int, workers: int, folder: Path, strategies: str = "all") -> dict:
    scenario = folder / f"status_quo_{steps}.yaml"
    horizon = Month.parse("2025-07").plus(3 * steps)  # the status quo starts in 2025-07; a step is a quarter
    scenario.write_text(
        f"name: Status quo, {steps} steps\ndescription: timing\nbase: {STATUS_QUO}\nhorizon: {horizon}\n"
    )
    out = folder / f"out_{runs}_{steps}_{workers}"
    command = [sys.executable, "-m", "sim", "run", str(scenario), "--runs", str(runs), "--workers", str(workers)]
    command += ["--no-trajectories", "--quiet", "--strategies", strategies, "--out", str(out)]
    start = time.perf_counter()
    proc = psutil.Popen(command)
    peak = peak_pss = 0
    cpu: dict[int, float] = {}
    load = [round(psutil.getloadavg()[0], 2)]
    while proc.poll() is None:
        rss, pss = tree_memory(proc, cpu)
        peak, peak_pss = max(peak, rss), max(peak_pss, pss)
        time.sleep(0.1)
    load.append(round(psutil.getloadavg()[0], 2))
    seconds = time.perf_counter() - start
    if proc.returncode:
        raise SystemExit(f"bamboo run failed with status {proc.returncode}")
    summary = json.loads((out / "summary.json").read_text())
    assert summary["steps"] == steps and summary["runs"] == runs
    return {
        "runs": runs,
        "steps": steps,
        "workers": workers,
        "strategies": strategies,
        "seconds": round(seconds, 1),
        "runs_per_s": round(runs / seconds, 1),
        "us_per_run_step": round(1e6 * seconds / (runs * steps), 2),
        "peak_tree_rss_mib": round(peak / 2**20, 1),
        "peak_tree_pss_mib": round(peak_pss / 2**20, 1),
        "cpu_seconds": round(sum(cpu.values()), 1),  # of every process, as last sampled (0.1 s before its end)
        "load_average": load,
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, nargs="+", default=[1000, 10_000, 100_000])
    ap.add_argument("--steps", type=int, nargs="+", default=[40])
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--strategies", default="all", help="as bamboo run's --strategies: all, none or a list")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        for steps in args.steps:
            for runs in args.runs:
                print(json.dumps(measure(runs, steps, args.workers, Path(tmp), args.strategies)), flush=True)


if __name__ == "__main__":
    main()
