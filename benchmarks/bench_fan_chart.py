"""Seconds from a slider move to a new fan chart in the dashboard. Prints JSON.

A slider move rebuilds the class's world from the lesson, runs the Monte Carlo
fan to the horizon (40 quarters) and builds the chart the browser draws (an
ECharts option, sent as JSON). Each figure is the median of ``--repeats``
moves, each to a slider value not seen before, so that the fan cache never
answers.

    python benchmarks/bench_fan_chart.py [--runs 100 300 1000] [--repeats 5]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

from sim.classroom.charts import fan_chart
from sim.classroom.lesson import SCENARIOS, Lesson
from sim.outputs.plots import QS


def slider_move(lesson: Lesson, value: float) -> dict[str, float]:
    started = time.perf_counter()
    lesson.set("cn_threat", value)
    model = lesson.model()
    fan = model.fan()
    simulated = time.perf_counter()
    q = fan.aggregate.percentiles("alignment", QS)
    sent = json.dumps(fan_chart(model, q, fan.runs))
    drawn = time.perf_counter()
    return {
        "fan_s": simulated - started,
        "chart_s": drawn - simulated,
        "total_s": drawn - started,
        "chart_kb": len(sent) / 1024,
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, nargs="+", default=[100, 300, 1000])
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args()
    results = []
    for runs in args.runs:
        lesson = Lesson(SCENARIOS / "perfect_storm.yaml", fan_runs=runs)
        slider_move(lesson, 0.5)  # warm-up: first allocations
        moves = [slider_move(lesson, 0.30 + 0.01 * i) for i in range(args.repeats)]
        median = {key: round(statistics.median(m[key] for m in moves), 3) for key in moves[0]}
        results.append({"runs": runs, "steps": lesson.what_if().steps, **median})
    print(json.dumps({"scenario": "perfect_storm", "repeats": args.repeats, "slider_move": results}, indent=2))


if __name__ == "__main__":
    main()
