"""README.md's Python example, run as a doctest from the repository root: what it shows is what Bamboo gives."""

import doctest
import re

import pytest
from conftest import REPO

README = REPO / "README.md"
BLOCK = re.compile(r"^```(\w*)\n(.*?)^```", re.M | re.S)


def test_every_python_example_in_the_readme_is_a_doctest():
    kinds = [m.group(1) for m in BLOCK.finditer(README.read_text(encoding="utf-8"))]
    assert "pycon" in kinds and "python" not in kinds  # an example without prompts would go untested


def test_the_readme_s_python_example_gives_what_it_shows(monkeypatch):
    monkeypatch.chdir(REPO)  # the example names scenario files from the repository root
    text = README.read_text(encoding="utf-8")
    parser, report = doctest.DocTestParser(), []
    runner = doctest.DocTestRunner(optionflags=doctest.NORMALIZE_WHITESPACE)
    for block in BLOCK.finditer(text):
        if block.group(1) == "pycon":
            line = text.count("\n", 0, block.start(2))
            runner.run(parser.get_doctest(block.group(2), {}, "README.md", str(README), line), out=report.append)
    results = runner.summarize(verbose=False)
    assert results.attempted > 10
    assert results.failed == 0, "".join(report)


@pytest.mark.slow
def test_the_strategies_tables_are_what_the_runs_say_now():
    """README's two strategies tables and ODD's fates table are the script's output for the model as it is.

    A change of the model that moves them fails here until they are made again
    (``python -m sim.outputs.strategy_tables --runs 1000``).
    """
    from sim.outputs import strategy_tables

    scenarios = strategy_tables.shipped()
    tallied = strategy_tables.tallies(scenarios, 1000)
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    odd = (REPO / "docs" / "ODD.md").read_text(encoding="utf-8")
    assert strategy_tables.survival_table(scenarios, tallied) in readme
    assert strategy_tables.security_table(scenarios, tallied) in readme
    assert strategy_tables.fates_table(scenarios, tallied) in odd


def test_the_facts_tables_are_what_bamboo_facts_prints_now():
    """README's and ODD's facts tables are ``bamboo facts --draws 100 --reps 30`` for the model as it is.

    A change of the model or of a fact's null or ablation that moves a count fails here until the tables are made
    again (``./bamboo facts --draws 100 --reps 30``).
    """
    from sim.analysis.facts import table

    made = table(draws=100, reps=30)
    for doc in (REPO / "README.md", REPO / "docs" / "ODD.md"):
        assert made in doc.read_text(encoding="utf-8"), doc.name
