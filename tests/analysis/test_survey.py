"""What each stylized fact hangs on (sim.analysis.survey, ``bamboo facts --out``): per-draw verdicts and drivers."""

import csv
import hashlib
import json
import math

import numpy as np
import pytest
from conftest import run_cli
from hypothesis import given
from hypothesis import strategies as st

from sim.analysis import survey
from sim.analysis.facts import FACTS, Design, Result, Verdict

DRAWS = 40


@pytest.fixture(scope="module")
def design():
    return Design.latin_hypercube(draws=DRAWS, reps=1, seed=3)


def planted(design, path, number=2):
    """A verdict whose effect rises with one parameter and holds above its median, nothing else mattering."""
    x = design.values[path]
    effect = np.exp(x)  # monotone, not linear: a rank correlation of exactly 1
    holds = x > np.median(x)
    nothing = Result(np.zeros(design.draws), np.zeros(design.draws, bool), {})
    return Verdict(number, FACTS[number], True, Result(effect, holds, {}), nothing)


def test_drivers_put_the_parameter_a_fact_hangs_on_first(design):
    rows = survey.drivers(design, [planted(design, "powers.RU.tie_cost")])
    assert [r["fact"] for r in rows] == [2] * len(survey.ranged(design))
    first = rows[0]
    assert first["parameter"] == "powers.RU.tie_cost"
    assert first["spearman_rho"] == pytest.approx(1.0)
    assert (first["holds_below_median"], first["holds_above_median"]) == (0.0, 1.0)
    others = [abs(r["spearman_rho"]) for r in rows[1:]]
    assert others == sorted(others, reverse=True) and max(others) < 0.6  # the rest is noise among 40 draws


def test_drivers_rank_each_fact_on_its_own(design):
    rows = survey.drivers(design, [planted(design, "powers.US.reach", 2), planted(design, "hedger.demand.regime", 6)])
    firsts = {r["fact"]: r["parameter"] for r in reversed(rows)}  # each fact's first row wins
    assert firsts == {2: "powers.US.reach", 6: "hedger.demand.regime"}


def test_draws_table_has_a_row_per_draw_with_the_values_and_the_verdicts(design):
    v = planted(design, "powers.RU.reach")
    columns = survey.draw_columns(design, [v])
    assert all(len(c) == DRAWS for c in columns.values())
    assert list(columns)[:2] == ["draw", "thresholds.isolation"]
    for path in survey.ranged(design):
        np.testing.assert_array_equal(columns[path], design.values[path])
    np.testing.assert_array_equal(columns["fact_2_holds"], v.result.holds.astype(int))
    np.testing.assert_array_equal(columns["fact_2_effect"], v.result.effect)
    assert columns["fact_2_ablated_holds"].sum() == 0


@given(st.lists(st.floats(-1e6, 1e6), min_size=3, max_size=30, unique=True), st.randoms())
def test_rank_correlation_is_a_rank_statistic(xs, rnd):
    x = np.array(xs)
    y = x.copy()
    rnd.shuffle(y)
    rho = survey.rank_correlation(x, y)
    assert -1.0 <= rho <= 1.0
    bent = np.where(x > 0, 4.0 * x, 2.0 * x)  # increasing and not linear; powers of two keep every value apart
    assert survey.rank_correlation(bent, y) == pytest.approx(rho)
    assert survey.rank_correlation(x, bent) == pytest.approx(1.0)
    assert survey.rank_correlation(-x, y) == pytest.approx(-rho)


def test_rank_correlation_is_undefined_without_variation():
    assert math.isnan(survey.rank_correlation(np.ones(5), np.arange(5.0)))
    assert math.isnan(survey.rank_correlation(np.arange(5.0), np.ones(5)))
    assert math.isnan(survey.rank_correlation(np.arange(2.0), np.arange(2.0)))


def _read(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


@pytest.mark.slow
def test_facts_out_writes_the_verdicts_behind_the_table(tmp_path):
    out = tmp_path / "facts"
    done = run_cli("facts", "--draws", 3, "--reps", 2, "--seed", 5, "--out", out)
    assert done.returncode == 0, done.stderr
    assert done.stdout.endswith(f"wrote {out}/: facts.md, draws.csv, drivers.csv, manifest.json\n")
    table = (out / "facts.md").read_text()
    assert table in done.stdout
    draws, drivers = _read(out / "draws.csv"), _read(out / "drivers.csv")
    assert len(draws) == 3
    ranged = len(survey.ranged(Design.latin_hypercube(draws=3, reps=2, seed=5)))
    assert len(drivers) == len(FACTS) * ranged
    for number in FACTS:  # each row of the table counts what draws.csv lists
        held = sum(int(row[f"fact_{number}_holds"]) for row in draws)
        ablated = sum(int(row[f"fact_{number}_ablated_holds"]) for row in draws)
        row = next(line for line in table.splitlines() if line.startswith(f"| {number}. "))
        assert f"| {held} of 3 (" in row and row.endswith(f"| {ablated} of 3 |")
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["design"] == {"draws": 3, "reps": 2, "seed": 5, "ranged_parameters": ranged}
    assert set(manifest["files"]) == {"facts.md", "draws.csv", "drivers.csv"}
    for name, digest in manifest["files"].items():
        assert hashlib.sha256((out / name).read_bytes()).hexdigest() == digest


@pytest.mark.slow
def test_facts_out_never_replaces_a_folder_unasked(tmp_path):
    out = tmp_path / "kept"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    done = run_cli("facts", "--draws", 2, "--reps", 2, "--out", out)
    assert done.returncode == 2 and "add --force" in done.stderr
    assert done.stdout == ""  # refused before any work
    assert [p.name for p in out.iterdir()] == ["notes.txt"]
    done = run_cli("facts", "--draws", 2, "--reps", 2, "--out", out, "--force")
    assert done.returncode == 2 and "no manifest.json of Bamboo's" in done.stderr  # not Bamboo's: never removed
    assert [p.name for p in out.iterdir()] == ["notes.txt"]


@pytest.mark.slow
def test_facts_out_replaces_its_own_folder_with_force(tmp_path):
    out = tmp_path / "facts"
    assert run_cli("facts", "--draws", 2, "--reps", 2, "--seed", 1, "--out", out).returncode == 0
    first = (out / "draws.csv").read_text()
    done = run_cli("facts", "--draws", 2, "--reps", 2, "--seed", 2, "--out", out, "--force")
    assert done.returncode == 0, done.stderr
    assert (out / "draws.csv").read_text() != first
    assert json.loads((out / "manifest.json").read_text())["design"]["seed"] == 2
