"""The documents against the code: docs/ODD.md's parameter tables, event catalogue and parameter paths,
and docs/safety.md's limits table."""

import re

import pytest
from conftest import REPO

from sim.model import limits
from sim.model.events import EVENT_TYPES
from sim.model.params import load_parameters
from sim.model.strategies import STRATEGIES
from sim.outputs.doc_tables import (
    assumption_table,
    free_parameter_table,
    order_table,
    parameter_counts,
    parameter_table,
)

DOCS = REPO / "docs"
ODD = (DOCS / "ODD.md").read_text(encoding="utf-8")
SAFETY = (DOCS / "safety.md").read_text(encoding="utf-8")


def between(marker: str, text: str = ODD) -> str:
    """The text between ``<!-- marker:start -->`` and ``<!-- marker:end -->``, without surrounding blank lines."""
    found = re.findall(rf"<!-- {marker}:start -->\n(.*?)\n<!-- {marker}:end -->", text, flags=re.S)
    assert len(found) == 1, f"expected one {marker} block, found {len(found)}"
    return found[0].strip("\n")


def section(number: str) -> str:
    """The text of section ``number`` (e.g. "6.4") up to the next heading of the same or a higher level."""
    level = "#" * (number.count(".") + 2)
    match = re.search(rf"^{level} {re.escape(number)} .*?(?=^#{{2,{len(level)}}} )", ODD, flags=re.S | re.M)
    assert match, f"section {number} not found in docs/ODD.md"
    return match.group(0)


@pytest.mark.parametrize(
    ("marker", "table"),
    [("parameter-table", parameter_table), ("free-parameter-table", free_parameter_table)],
)
def test_parameter_tables_match_the_data_file(marker, table):
    assert between(marker) == table()


def test_the_assumption_table_matches_the_data_file():
    assert between("assumption-table") == assumption_table()
    assert "assumption-table" in section("8.4")


def test_the_order_table_matches_the_data_file():
    assert between("order-table") == order_table()
    assert "order-table" in section("8.5")


def test_parameter_counts_match_the_data_file():
    assert parameter_counts() in section("8.1")


@pytest.mark.parametrize("name", sorted(EVENT_TYPES))
def test_every_event_type_is_in_the_catalogue(name):
    assert f"`{name}`" in section("6.4")


@pytest.mark.parametrize("name", list(STRATEGIES))
def test_every_strategy_is_documented(name):
    assert f"`{name}`" in section("2.4")


@pytest.mark.parametrize("path", list(load_parameters().entries))
def test_every_parameter_path_is_documented(path):
    assert f"`{path}`" in ODD


def test_the_limits_table_matches_the_code():
    assert between("limits-table", SAFETY) == limits.table()
