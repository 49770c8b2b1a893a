"""The strategies tables (sim.outputs.strategy_tables): what the runs say, row by row."""

import functools
from pathlib import Path

from sim.model.strategies import DEFAULT, STRATEGIES
from sim.outputs import strategy_tables


@functools.cache
def two():
    """The status quo and the perfect storm, 60 runs each, every parameter drawn."""
    scenarios = [s for s in strategy_tables.shipped() if s.name in ("Status quo", "Perfect storm")]
    return scenarios, strategy_tables.tallies(scenarios, 60)


def test_the_shipped_scenarios_are_drawn_and_the_history_left_out():
    scenarios = strategy_tables.shipped()
    assert scenarios and all(s.uncertainty for s in scenarios)
    assert not any("1986" in s.name for s in scenarios)
    assert [Path(s.path).name for s in scenarios] == sorted(Path(s.path).name for s in scenarios)


def test_the_survival_table_says_what_the_tally_counted():
    scenarios, tallied = two()
    lines = strategy_tables.survival_table(scenarios, tallied).splitlines()
    assert lines[0].split(" | ")[1:-1] == list(STRATEGIES) and len(lines) == 2 + len(scenarios)
    for line, tally in zip(lines[2:], tallied, strict=True):
        cells = line.strip("| ").split(" | ")
        assert cells[1 : 1 + len(STRATEGIES)] == [f"{tally.survival(n):.1%}" for n in STRATEGIES]
        best = max((n for n in STRATEGIES if n != DEFAULT), key=tally.survival)
        assert cells[-1].endswith(f"vs {best}")


def test_the_fates_table_lists_only_strategies_that_fail_with_their_paired_runs():
    scenarios, tallied = two()
    rows = [r.strip("| ").split(" | ") for r in strategy_tables.fates_table(scenarios, tallied).splitlines()[2:]]
    for scenario, tally in zip(scenarios, tallied, strict=True):
        failing = [n for n in tally.names if tally.survival(n) < 1.0]
        assert [r[1] for r in rows if r[0] == scenario.name] == failing
    storm = next(t for s, t in zip(scenarios, tallied, strict=True) if s.name == "Perfect storm")
    aligner = next(r for r in rows if r[0] == "Perfect storm" and r[1] == "align:US")
    runs, mine, hedger = storm.paired_fates("align:US", DEFAULT)
    assert aligner[5] == f"{runs}: {mine:.3f} / {hedger:.3f}"
