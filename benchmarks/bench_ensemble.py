"""Runs per second: idiomatic Mesa (batch_run over 1-run models) against the ensemble path.

Both run the status quo for 40 quarterly steps through the same agent rules,
side by side in one process (see ``sim.bench``). Prints JSON; the same as
``bamboo bench``.

    python benchmarks/bench_ensemble.py [--mesa-runs 40] [--ensemble-runs 10000] [--steps 40]
"""

from __future__ import annotations

import sys

from sim.cli import main

if __name__ == "__main__":
    sys.exit(main(["bench", *sys.argv[1:]]))
