"""Design points per second on the path `bamboo sensitivity` takes, and the default design's size. Prints JSON.

A design of ``--points`` Sobol' points over every open factor of a scenario,
each simulated over ``--replicates`` runs under every strategy (the value of
hedging needs them all), in this process. From the rate, the time of the
default design (Morris and Sobol', sim.analysis.sensitivity's defaults) on one core.

    python benchmarks/bench_sensitivity.py [--scenario scenarios/caatsa_enforced.yaml] [--points 1024]
"""

from __future__ import annotations

import argparse
import json
import os
import time

from sim.analysis import sensitivity
from sim.runs import explore
from sim.runs.scenario import load_scenario


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--scenario", default="scenarios/caatsa_enforced.yaml")
    ap.add_argument("--points", type=int, default=1024)
    ap.add_argument("--replicates", type=int, default=sensitivity.REPLICATES)
    args = ap.parse_args()
    scenario = load_scenario(args.scenario)
    found = explore.factors(scenario)
    plan = sensitivity.designs(explore.problem(found), ("sobol",), samples=16, seed=1)
    x = plan.x[: args.points]
    design = explore.Design(
        scenario, found, explore.realize(scenario, found, x), args.replicates, 1, explore.strategies_for("hedge", True)
    )
    started = time.perf_counter()
    explore.run(design)
    seconds = time.perf_counter() - started
    default = sensitivity.SOBOL_SAMPLES * (len(found) + 2) + sensitivity.MORRIS_TRAJECTORIES * (len(found) + 1)
    rate = design.points / seconds
    print(
        json.dumps(
            {
                "scenario": scenario.name,
                "factors": len(found),
                "points": design.points,
                "replicates": args.replicates,
                "strategies": len(design.strategies),
                "seconds": round(seconds, 2),
                "points_per_second": round(rate, 1),
                "default_design_points": default,
                "default_design_seconds_one_core": round(default / rate),
                "load_average": os.getloadavg()[0],
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
