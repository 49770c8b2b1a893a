"""Rebuild the series derived from the raw public datasets: ``python -m sim.analysis.rebuild``.

It rewrites ``sim/data/arms_deliveries.csv`` and ``sim/data/un_agreement.csv`` from ``../shared/data/``
(``sim.analysis.datasets`` derives them) and checks the arms series' period sums against the shares the record
states (``sim.analysis.record``, which itself reads the derived series); ``--check`` writes nothing and fails when
a committed file differs from its rebuild.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from sim.analysis.datasets import PACKAGE_DATA, DatasetError, arms_deliveries, check_stated, derive, shared_data
from sim.analysis.record import stated_arms_shares


def main(argv: Sequence[str] | None = None) -> int:
    """Rebuild the derived series (``python -m sim.analysis.rebuild``); exit status 1 if a check fails."""
    parser = argparse.ArgumentParser(prog="python -m sim.analysis.rebuild", description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, default=None, help="the raw data (default: ../shared/data)")
    parser.add_argument("--out", type=Path, default=PACKAGE_DATA, help="where to write (default: sim/data)")
    parser.add_argument("--check", action="store_true", help="write nothing; fail if a committed file differs")
    args = parser.parse_args(argv)
    source = args.source or shared_data()
    try:
        files = derive(source)
        wrong = check_stated(arms_deliveries(source), stated_arms_shares())
    except DatasetError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    for line in wrong:
        print(f"error: the stated share is not reproduced: {line}", file=sys.stderr)
    for name, text in files.items():
        target = args.out / name
        if args.check:
            same = target.is_file() and target.read_text(encoding="utf-8") == text
            if not same:
                wrong.append(name)
                print(f"error: {target} differs from its rebuild", file=sys.stderr)
        else:
            target.write_text(text, encoding="utf-8", newline="\n")
            print(f"wrote {target}")
    return 1 if wrong else 0


if __name__ == "__main__":
    sys.exit(main())
