"""Runs per second: idiomatic Mesa (batch_run over 1-run models) against the ensemble path.

All run the status quo for 40 quarterly steps through the same compiled agent
rules, side by side in one run: Mesa's batch_run, the ensemble path in this
process and on two worker processes, and for reference batch_run of the same
rules uncompiled (``NUMBA_DISABLE_JIT=1``; see ``sim.runs.bench``). Prints JSON; the same as ``bamboo bench``.

    python benchmarks/bench_ensemble.py [--mesa-runs 40] [--ensemble-runs 50000] [--pool-runs 1000000] [--steps 40]
"""

from __future__ import annotations

import sys

from sim.cli.main import main

if __name__ == "__main__":
    sys.exit(main(["bench", *sys.argv[1:]]))
