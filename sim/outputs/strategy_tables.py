"""The strategies tables of the README and ODD, made from runs: ``python -m sim.outputs.strategy_tables``.

Every shipped scenario but the history is run with every parameter drawn from its range (``uncertainty`` on)
at its own seed, under every registered strategy on common random numbers (``sim.runs.tally``). Three tables:

- survival under each strategy, and the value of hedging against the best alternative (paired, 95% interval);
- mean security satisfaction under each, the hedger's paired gain over the most secure alternative, and how
  often a power coerces at the line for a year under the hedger and under a frozen Vietnam;
- whether failure means Vietnam is worse off: each strategy's failed runs against its surviving runs, and
  over the runs where the hedger and another strategy part ways (one fails, the other survives), how secure
  the failing Vietnam was against the surviving one.

The tables are printed as Markdown; the documents carry what this printed, with the runs and the date.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from collections.abc import Sequence

from sim.model.strategies import DEFAULT, STRATEGIES
from sim.runs.ensemble import execute
from sim.runs.scenario import SHIPPED, Scenario, load_scenario
from sim.runs.tally import StrategyTally

HISTORY = "history_1986_2025.yaml"  # a retelling of the record, not a what-if: not in the tables


def shipped() -> list[Scenario]:
    """The shipped what-if scenarios, in the order of their files, each with its parameters drawn from their ranges."""
    found = [load_scenario(p) for p in sorted(SHIPPED.glob("*.yaml")) if p.name != HISTORY]
    return [dataclasses.replace(s, uncertainty=True) for s in found]


def tallies(scenarios: Sequence[Scenario], runs: int) -> list[StrategyTally]:
    """Each scenario's runs under every registered strategy, on common random numbers, at its own seed."""
    out = []
    for scenario in scenarios:
        (agg,) = execute([scenario], runs, scenario.seed, strategies=tuple(STRATEGIES)).values()
        assert agg.tally is not None  # asked for with strategies
        out.append(agg.tally)
    return out


def _pct(x: float) -> str:
    return f"{x:.1%}"


def _signed_pct(x: float) -> str:
    return f"{x:+.1%}"


def _maybe(x: float | None) -> str:
    return "—" if x is None else f"{x:.3f}"


def survival_table(scenarios: Sequence[Scenario], tallied: Sequence[StrategyTally]) -> str:
    """Survival under each strategy, and the value of hedging against the best alternative."""
    names = tallied[0].names
    rows = [
        "| scenario | " + " | ".join(names) + " | value of hedging against the best alternative (95% CI) |",
        "|---|" + "---|" * (len(names) + 1),
    ]
    for scenario, tally in zip(scenarios, tallied, strict=True):
        others = [n for n in names if n != DEFAULT]
        best = max(others, key=tally.survival)
        diff, lo, hi = tally.paired_survival(DEFAULT, best)
        cells = [_pct(tally.survival(n)) for n in names]
        value = f"{_signed_pct(diff)} ({_signed_pct(lo)} to {_signed_pct(hi)}) vs {best}"
        rows.append(f"| {scenario.name} | " + " | ".join(cells) + f" | {value} |")
    return "\n".join(rows)


def security_table(scenarios: Sequence[Scenario], tallied: Sequence[StrategyTally]) -> str:
    """Mean security under each strategy, the hedger's paired gain over the most secure alternative, coercion."""
    names = tallied[0].names
    rows = [
        "| scenario | " + " | ".join(names) + " | security, hedge − the most secure alternative (95% CI) "
        "| coerced for a year: hedge / frozen |",
        "|---|" + "---|" * (len(names) + 2),
    ]
    for scenario, tally in zip(scenarios, tallied, strict=True):
        others = [n for n in names if n != DEFAULT]
        secure = max(others, key=tally.security_mean)
        gap, lo, hi = tally.security_gap(secure)
        coerced = [tally.coerced[names.index(n)] / max(tally.runs, 1) for n in (DEFAULT, "frozen")]
        cells = [f"{tally.security_mean(n):.3f}" for n in names]
        rows.append(
            f"| {scenario.name} | " + " | ".join(cells) + f" | {gap:+.3f} ({lo:+.3f} to {hi:+.3f}) vs {secure} "
            f"| {coerced[0]:.0%} / {coerced[1]:.0%} |"
        )
    return "\n".join(rows)


def fates_table(scenarios: Sequence[Scenario], tallied: Sequence[StrategyTally]) -> str:
    """Failure means Vietnam is worse off: failed against surviving runs, alone and paired with the hedger."""
    rows = [
        "| scenario | strategy | survival | security of failed / surviving runs "
        "| runs where only the hedger fails: its security / the other's "
        "| runs where only this one fails: its security / the hedger's |",
        "|---|---|---|---|---|---|",
    ]
    for scenario, tally in zip(scenarios, tallied, strict=True):
        for name in tally.names:
            failed, surviving = tally.security_by_fate(name)
            if failed is None:  # never fails: nothing to set beside its survivors
                continue
            paired = []
            for a, b in ((DEFAULT, name), (name, DEFAULT)):
                runs, fa, fb = tally.paired_fates(a, b) if name != DEFAULT else (0, None, None)
                paired.append("—" if not runs else f"{runs}: {_maybe(fa)} / {_maybe(fb)}")
            rows.append(
                f"| {scenario.name} | {name} | {_pct(tally.survival(name))} | {_maybe(failed)} / {_maybe(surviving)} "
                f"| {paired[0]} | {paired[1]} |"
            )
    return "\n".join(rows)


def main(argv: Sequence[str] | None = None) -> int:
    """Print the three tables for ``--runs`` runs of each shipped scenario."""
    parser = argparse.ArgumentParser(prog="python -m sim.outputs.strategy_tables", description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=1000, help="runs per scenario (default 1000)")
    args = parser.parse_args(argv)
    scenarios = shipped()
    tallied = tallies(scenarios, args.runs)
    for table in (survival_table, security_table, fates_table):
        print(table(scenarios, tallied), end="\n\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
