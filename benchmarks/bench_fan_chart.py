"""Seconds from a slider move to a new fan chart in the dashboard. Prints JSON.

A slider move rebuilds the class's world from the lesson, runs the Monte Carlo
fan to the horizon (40 quarters) and draws it as the PNG the page shows. Each
figure is the median of ``--repeats`` moves, alternating the slider between
two values so that nothing is cached.

    python benchmarks/bench_fan_chart.py [--runs 100 300 1000] [--repeats 5]
"""

from __future__ import annotations

import argparse
import io
import json
import statistics
import time

from sim.app import DPI, fan_figure
from sim.classroom import SCENARIOS, Lesson


def slider_move(lesson: Lesson, value: float) -> dict[str, float]:
    started = time.perf_counter()
    lesson.set("cn_threat", value)
    model = lesson.model()
    fan = model.fan()
    simulated = time.perf_counter()
    fan_figure(model, fan).savefig(io.BytesIO(), format="png", dpi=DPI)
    drawn = time.perf_counter()
    return {"fan_s": simulated - started, "figure_s": drawn - simulated, "total_s": drawn - started}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, nargs="+", default=[100, 300, 1000])
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args()
    results = []
    for runs in args.runs:
        lesson = Lesson(SCENARIOS / "perfect_storm.yaml", fan_runs=runs)
        slider_move(lesson, 0.5)  # warm-up: first allocations and font cache
        moves = [slider_move(lesson, 0.4 + 0.1 * (i % 2)) for i in range(args.repeats)]
        median = {key: round(statistics.median(m[key] for m in moves), 3) for key in moves[0]}
        results.append({"runs": runs, "steps": lesson.what_if().steps, **median})
    print(json.dumps({"scenario": "perfect_storm", "repeats": args.repeats, "slider_move": results}, indent=2))


if __name__ == "__main__":
    main()
