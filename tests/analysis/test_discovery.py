"""Scenario discovery: PRIM finds a planted box; a discovered box, run as a scenario, collapses at its density."""

import json

import numpy as np
import pandas as pd
import pytest
from conftest import SCENARIOS, bamboo, run_cli

from sim.analysis import discovery
from sim.cli.main import main
from sim.outputs import plots
from sim.runs import explore
from sim.runs.ensemble import simulate
from sim.runs.scenario import load_scenario

# the perfect storm with the US retreat's date and strength left open: multi-alignment collapses in some runs
# (under enforced CAATSA alone it no longer does: a power's coercion is reported beside the verdict, not a failure)
STORM_WHEN = SCENARIOS / "discovery" / "storm_when.yaml"


@pytest.mark.slow
def test_prim_finds_a_planted_box():
    rng = np.random.default_rng(4)
    x = pd.DataFrame(rng.random((4000, 5)), columns=[f"x{i}" for i in range(5)])
    inside = (x["x0"] < 0.3) & (x["x2"] > 0.6)
    y = np.where(inside, rng.random(4000) < 0.9, rng.random(4000) < 0.03)  # noisy: 90% in the box, 3% outside
    (box,), _ = discovery.find_boxes(x, y, boxes=1)
    assert set(box.limits) == {"x0", "x2"}  # the noise dimensions are not restricted
    assert box.limits["x0"][1] == pytest.approx(0.3, abs=0.05)
    assert box.limits["x2"][0] == pytest.approx(0.6, abs=0.05)
    assert box.density == pytest.approx(0.9, abs=0.05)
    assert box.coverage > 0.6  # the planted box itself holds 80% of the cases (the rest is noise outside)
    assert box.coverage == pytest.approx(y[box.contains(x)].sum() / y.sum())


@pytest.mark.slow
def test_prim_on_noise_restricts_nothing_it_cannot_tell_from_chance():
    rng = np.random.default_rng(5)
    x = pd.DataFrame(rng.random((3000, 4)), columns=list("abcd"))
    y = rng.random(3000) < 0.2
    boxes, _ = discovery.find_boxes(x, y, boxes=1)
    assert all(len(b.limits) <= 1 for b in boxes)


@pytest.fixture(scope="module")
def found(tmp_path_factory):
    """In its own process, as a user runs it (PRIM's memory stays out of the test process)."""
    out = tmp_path_factory.mktemp("discovery") / "storm"
    args = ["discover", STORM_WHEN, "--points", 8000, "--out", out, "--quiet"]
    done = bamboo(*args)
    assert done.returncode == 0, done.stderr
    return out


@pytest.mark.slow
def test_bamboo_discover_writes_boxes_trajectories_and_scenarios(found):
    names = {p.name for p in found.iterdir()}
    assert {"boxes.csv", "boxes.parquet", "peeling.csv", "peeling.parquet", "points.parquet"} <= names
    assert {"peeling_1.png", "peeling_1.svg", "box_1.yaml", "manifest.json"} <= names
    boxes = pd.read_csv(found / "boxes.csv")
    assert {"coverage", "density", "restricted", "dimension", "low", "high", "quasi_p"} <= set(boxes.columns)
    assert (boxes["low"] <= boxes["high"]).all() and (boxes["quasi_p"] <= discovery.SIGNIFICANCE).all()
    meta = json.loads((found / "manifest.json").read_text())
    assert meta["discovery"]["points"] == 8000 and set(meta["files"]) == names - {"manifest.json"}


@pytest.mark.slow
def test_a_discovered_box_run_as_a_scenario_collapses_at_its_density(found):
    boxes = pd.read_csv(found / "boxes.csv").drop_duplicates("box").set_index("box")
    scenario = load_scenario(found / "box_1.yaml")
    runs = 6000
    agg = simulate(scenario, runs=runs, seed=scenario.seed + 1000)  # runs the design never saw
    rate = 1 - agg.survival_probability()
    density, se = boxes.loc[1, "density"], boxes.loc[1, "density_se"]
    overall = json.loads((found / "manifest.json").read_text())["discovery"]["collapse_rate"]
    assert 0 < overall < 0.25 and density > 2 * overall  # the box is far denser in collapses than the whole
    assert abs(rate - density) <= 3 * np.hypot(se, np.sqrt(rate * (1 - rate) / runs)), (rate, density, se)


@pytest.mark.slow
def test_a_box_file_restricts_what_the_box_restricts(found):
    boxes = pd.read_csv(found / "boxes.csv")
    scenario = load_scenario(found / "box_1.yaml")
    for _, row in boxes[boxes["box"] == 1].iterrows():
        name = row["dimension"]
        if name.startswith("events[") and name.endswith(".magnitude"):
            i = int(name[7 : name.index("]")])
            assert scenario.events[i].fields["magnitude"][0] == pytest.approx(row["low"], abs=1e-6)
        elif name.startswith("events["):  # a date: the box's quarters, as months
            i = int(name[7 : name.index("]")])
            at = scenario.events[i].fields["at"]
            assert str(at[0] if isinstance(at, list) else at) == str(explore.month_of(row["low"]))
        else:
            assert scenario.parameter_set[name].range == pytest.approx((row["low"], row["high"]), abs=1e-6)


def test_a_scenario_where_nothing_collapses_is_refused_plainly(tmp_path, capsys):
    (tmp_path / "calm.yaml").write_text("name: calm\ndescription: no events\nuncertainty: true\n")
    out = tmp_path / "out"
    args = [
        "discover",
        str(tmp_path / "calm.yaml"),
        "--points",
        "20",
        "--factors",
        "powers.RU.reach",
        "--out",
        str(out),
    ]
    assert main(args) == 2
    assert "never collapsed in 20 runs" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["calm.yaml"]  # no output, no checkpoint left


# -- the discovery's report through the library, as a notebook runs it --------------------
@pytest.fixture(scope="module")
def both(tmp_path_factory):
    """A small discovery by ``bamboo discover``, and the same one through the library: (its folder, design, ...)."""
    out = tmp_path_factory.mktemp("discovery") / "cli"
    names = ["powers.CN.reliability", "thresholds.isolation", "events[0].magnitude"]
    args = ["discover", SCENARIOS / "perfect_storm.yaml", "--factors", ",".join(names), "--points", 400]
    done = run_cli(*args, "--seed", 3, "--out", out, "--quiet")
    assert done.returncode == 0, done.stderr
    scenario = load_scenario(SCENARIOS / "perfect_storm.yaml")
    design = discovery.design(scenario, explore.factors(scenario, names), points=400, seed=3)
    outcomes = explore.run(design)
    return out, design, outcomes


@pytest.mark.slow  # two discoveries of 400 points each (the fixture)
def test_the_metadata_is_what_bamboo_discover_writes(both):
    out, design, outcomes = both
    written = json.loads((out / "manifest.json").read_text())["discovery"]
    meta = discovery.metadata(design, outcomes, written["seconds"])  # the time taken differs
    assert json.loads(json.dumps(meta)) == {"discovery": written}


@pytest.mark.slow  # two discoveries of 400 points each (the fixture)
def test_the_peeling_figures_are_what_bamboo_discover_draws(both, tmp_path):
    out, design, outcomes = both
    boxes, trajectories = discovery.find_boxes(pd.DataFrame(design.values), discovery.collapsed(outcomes))
    figures = plots.save_peeling(design, boxes, trajectories, tmp_path)
    assert sorted(figures) == [1, 2]
    for f in (f for files in figures.values() for f in files):
        assert f.read_bytes() == (out / f.name).read_bytes(), f.name
