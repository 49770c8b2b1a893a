"""Sensitivity analysis: indices right on functions with known indices, and `bamboo sensitivity` end to end."""

import json

import numpy as np
import pyarrow.parquet as pq
import pytest
from conftest import SCENARIOS, run_cli

from sim.analysis import sensitivity
from sim.cli.main import main
from sim.outputs import plots
from sim.runs import explore
from sim.runs.checkpoint import Checkpoint
from sim.runs.scenario import load_scenario


def by(rows, method, index, outcome="y"):
    return {r["factor"]: r for r in rows if (r["method"], r["index"], r["outcome"]) == (method, index, outcome)}


# -- the analysis on functions whose indices are known --------------------------------
ISHIGAMI = {"num_vars": 3, "names": ["x1", "x2", "x3"], "bounds": [[-np.pi, np.pi]] * 3}
A, B = 7.0, 0.1
# Ishigami and Homma (1990): analytic variances of each term
V1 = 0.5 * (1 + B * np.pi**4 / 5) ** 2
V2 = A**2 / 8
V13 = B**2 * np.pi**8 * (1 / 18 - 1 / 50)
V = V1 + V2 + V13
EXPECTED_S1 = {"x1": V1 / V, "x2": V2 / V, "x3": 0.0}
EXPECTED_ST = {"x1": (V1 + V13) / V, "x2": V2 / V, "x3": V13 / V}


def ishigami(x):
    return {"y": np.sin(x[:, 0]) + A * np.sin(x[:, 1]) ** 2 + B * x[:, 2] ** 4 * np.sin(x[:, 0])}


@pytest.fixture(scope="module")
def ishigami_rows():
    return sensitivity.analyse(ISHIGAMI, ishigami, samples=2048, trajectories=60, seed=7)


@pytest.mark.parametrize("index,expected", [("S1", EXPECTED_S1), ("ST", EXPECTED_ST)])
def test_sobol_indices_of_ishigami_are_its_analytic_ones(ishigami_rows, index, expected):
    found = by(ishigami_rows, "sobol", index)
    for name, value in expected.items():
        r = found[name]
        assert abs(r["estimate"] - value) < 0.04, (name, r, value)
        assert r["ci_low"] - 0.02 <= value <= r["ci_high"] + 0.02, (name, r, value)


def test_morris_ranks_ishigami_as_its_total_indices_do(ishigami_rows):
    mu = by(ishigami_rows, "morris", "mu_star")
    assert mu["x3"]["estimate"] > 0  # x3 acts only with x1: no first-order effect, yet it matters
    assert {r["factor"]: r["rank"] for r in mu.values()}["x2"] <= 2


def test_a_linear_model_has_first_order_equal_to_total_and_the_known_shares():
    weights = np.array([4.0, 2.0, 1.0, 0.0])
    problem = {"num_vars": 4, "names": list("abcd"), "bounds": [[0, 1]] * 4}
    rows = sensitivity.analyse(problem, lambda x: {"y": x @ weights}, samples=1024, trajectories=40, seed=3)
    share = weights**2 / (weights**2).sum()  # uniform inputs, equal variances
    s1, st, mu = by(rows, "sobol", "S1"), by(rows, "sobol", "ST"), by(rows, "morris", "mu_star")
    for name, expected in zip("abcd", share, strict=True):
        assert abs(s1[name]["estimate"] - expected) < 0.03
        assert abs(st[name]["estimate"] - expected) < 0.03
    assert [mu[n]["rank"] for n in "abcd"] == [1, 2, 3, 4]
    assert mu["a"]["estimate"] == pytest.approx(4.0)  # a linear model's elementary effect is its slope
    assert mu["d"]["estimate"] == 0.0


def test_an_outcome_that_never_varies_depends_on_no_factor():
    rows = sensitivity.analyse(ISHIGAMI, lambda x: {"y": np.ones(len(x))}, samples=64, trajectories=4, seed=1)
    assert all(r["estimate"] == 0.0 for r in rows)


def test_noise_share_says_how_much_of_the_spread_is_replicate_noise():
    assert sensitivity.noise_share(np.array([0.0, 1.0, 0.0, 1.0]), 16) == 0.0
    assert sensitivity.noise_share(np.full(5, 0.5), 16) is None  # no spread to explain
    mixed = np.array([0.25, 0.75])
    assert sensitivity.noise_share(mixed, 4) == pytest.approx(0.1875 / 3 / 0.0625)


# -- Bamboo through the same code -------------------------------------------------------
FACTORS = "powers.US.tolerance.RU,behaviour.coercion_gain,events[0].magnitude"


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    out = tmp_path_factory.mktemp("sensitivity") / "caatsa"
    args = ["sensitivity", SCENARIOS / "caatsa_enforced.yaml", "--factors", FACTORS, "--samples", 16]
    args += ["--trajectories", 6, "--replicates", 8, "--chunk", 200, "--out", out]
    done = run_cli(*args)
    assert done.returncode == 0, done.stderr
    return out, done


@pytest.mark.slow
def test_bamboo_sensitivity_writes_indices_figures_and_manifest(small):
    out, done = small
    names = {p.name for p in out.iterdir()}
    assert {"sensitivity.csv", "sensitivity.parquet", "points.parquet", "manifest.json"} <= names
    assert {"sobol.png", "sobol.svg", "morris.png", "morris.svg"} <= names
    table = pq.read_table(out / "sensitivity.parquet").to_pylist()
    outcomes = set(explore.OUTCOMES)
    assert {r["outcome"] for r in table} == outcomes
    assert {r["factor"] for r in table} == set(FACTORS.split(","))
    # per outcome and factor: S1 and ST (Sobol'), mu_star and sigma (Morris)
    assert len(table) == len(outcomes) * 3 * 4
    meta = json.loads((out / "manifest.json").read_text())["analysis"]
    assert meta["replicates_per_point"] == 8 and meta["common_random_numbers"]
    assert meta["points"] == {"morris": 6 * 4, "sobol": 16 * 5}
    assert set(meta["strategies"]) == {"hedge", "frozen", "random", "redline", "tit-for-tat"} | {
        "align:US",
        "align:CN",
        "align:RU",
    }
    assert "sobol ST of survival" in done.stdout


@pytest.mark.slow
@pytest.mark.xfail(
    strict=True,
    reason="since Vietnam learns the lines instead of reading them (docs/ODD.md 10.10), the US line on the Russia "
    "tie reaches that tie only through the coercion Vietnam meets: the tie's spread over the design is 0.012 "
    "(0.02 asked), and 0.009 since the lines move (10.12)",
)
def test_under_caatsa_survival_hangs_on_nothing_and_us_tolerance_drives_the_russia_tie(small):
    """Under CAATSA survival is 1 everywhere; US tolerance of the Russia tie is what moves that tie.

    CAATSA no longer breaks the balance (coercion is reported beside the verdict): survival's indices are 0.
    What CAATSA moves is the Russia tie, and US tolerance of it moves it most, far more than how fast a
    slighted power's coercion builds.
    """
    out, _ = small
    rows = pq.read_table(out / "sensitivity.parquet").to_pylist()
    points = pq.read_table(out / "points.parquet").to_pydict()
    assert np.all(np.array(points["survival_probability"]) == 1.0)
    assert all(r["estimate"] == 0.0 for r in rows if r["outcome"] == "survival_probability")
    assert np.std(points["alignment_RU"]) > 0.02
    st = by(rows, "sobol", "ST", "alignment_RU")
    assert st["powers.US.tolerance.RU"]["estimate"] > 0.3
    assert st["powers.US.tolerance.RU"]["estimate"] > 2 * st["behaviour.coercion_gain"]["estimate"]
    mu = by(rows, "morris", "mu_star", "alignment_RU")
    assert mu["powers.US.tolerance.RU"]["rank"] == 1
    assert mu["powers.US.tolerance.RU"]["estimate"] > 10 * mu["behaviour.coercion_gain"]["estimate"]


@pytest.fixture(scope="module")
def storm(tmp_path_factory):
    out = tmp_path_factory.mktemp("sensitivity") / "storm"
    args = ["sensitivity", SCENARIOS / "perfect_storm.yaml", "--factors", STORM_FACTORS, "--samples", 16]
    done = run_cli(*args, "--trajectories", 6, "--replicates", 8, "--chunk", 200, "--out", out, "--quiet")
    assert done.returncode == 0, done.stderr
    return out


STORM_FACTORS = "powers.CN.reliability,thresholds.isolation,behaviour.courtship_decay"


@pytest.mark.slow
def test_the_indices_see_what_drives_survival_in_the_perfect_storm(storm):
    """Where multi-alignment still fails (isolation), China's reliability matters far more than a factor of none.

    The factor of no consequence is how fast courtship fades.
    """
    rows = pq.read_table(storm / "sensitivity.parquet").to_pylist()
    st = by(rows, "sobol", "ST", "survival_probability")
    assert st["powers.CN.reliability"]["estimate"] > 0.3
    assert st["powers.CN.reliability"]["estimate"] > 10 * st["behaviour.courtship_decay"]["estimate"]
    mu = by(rows, "morris", "mu_star", "survival_probability")
    assert mu["powers.CN.reliability"]["rank"] == 1
    survival = np.array(pq.read_table(storm / "points.parquet").to_pydict()["survival_probability"])
    assert 0 < survival.mean() < 1 and survival.std() > 0.05


# -- the analysis's report through the library, as a notebook runs it ---------------------
@pytest.fixture(scope="module")
def both(tmp_path_factory):
    """A small analysis by ``bamboo sensitivity``, and the same one through the library: (its folder, plan, ...)."""
    out = tmp_path_factory.mktemp("sensitivity") / "cli"
    names = ["powers.US.tolerance.RU", "events[0].magnitude"]
    args = ["sensitivity", SCENARIOS / "caatsa_enforced.yaml", "--factors", ",".join(names), "--samples", 4]
    done = run_cli(*args, "--trajectories", 3, "--replicates", 2, "--seed", 5, "--out", out, "--quiet")
    assert done.returncode == 0, done.stderr
    scenario = load_scenario(SCENARIOS / "caatsa_enforced.yaml")
    found = explore.factors(scenario, names)
    plan, design = sensitivity.design(scenario, found, samples=4, trajectories=3, replicates=2, seed=5)
    outcomes = explore.run(design)
    return out, plan, design, outcomes


def test_the_metadata_is_what_bamboo_sensitivity_writes(both):
    out, plan, design, outcomes = both
    written = json.loads((out / "manifest.json").read_text())["analysis"]
    meta = sensitivity.metadata(plan, design, outcomes, written["seconds"])  # the time taken differs
    assert json.loads(json.dumps(meta)) == {"analysis": written}


def test_the_figures_are_what_bamboo_sensitivity_draws(both, tmp_path):
    out, plan, design, outcomes = both
    rows = sensitivity.indices(plan, {k: outcomes[k] for k in explore.OUTCOMES})
    files = plots.save_sensitivity(rows, plan, design, tmp_path)
    assert [f.name for f in files] == ["morris.png", "morris.svg", "sobol.png", "sobol.svg"]
    for f in files:
        assert f.read_bytes() == (out / f.name).read_bytes(), f.name


def test_the_outcomes_are_means_over_replicates_with_common_random_numbers():
    scenario = load_scenario(SCENARIOS / "caatsa_enforced.yaml")
    found = explore.factors(scenario, ["powers.US.tolerance.RU"])
    x = np.array([[0.7], [0.7], [0.8]])
    design = explore.Design(scenario, found, explore.realize(scenario, found, x), 10, 5)
    out = explore.run(design, chunk_size=10)
    s = out["survival_probability"]
    assert s[0] == s[1]  # the same point, the same replicates: the same runs
    assert np.all(s * 10 == np.round(s * 10))  # a share of 10 runs
    one = scenario.model(runs=10, seed=5, values={"powers.US.tolerance.RU": np.full(10, 0.8)}, record=False)
    one.run_for(scenario.steps)
    assert s[2] == one.verdict.survived.mean()  # replicate j is run j of the scenario, at the point's values


def test_a_design_resumes_from_its_finished_chunks_to_the_same_result(tmp_path):
    scenario = load_scenario(SCENARIOS / "caatsa_enforced.yaml")
    found = explore.factors(scenario, ["powers.US.tolerance.RU", "events[0].magnitude"])
    x = np.column_stack([np.linspace(0.67, 0.85, 12), np.linspace(0.7, 1.0, 12)])
    design = explore.Design(scenario, found, explore.realize(scenario, found, x), 4, 2)
    whole = explore.run(design, chunk_size=16)
    store = Checkpoint.open(tmp_path / "kept", design.identity(), resume=False, force=False)
    first = design.chunks(16)[0]
    store.save_arrays(0, first, explore.simulate_points(*design.task(first)))
    resumed = []
    again = explore.run(design, 16, checkpoint=store, on_chunk=lambda runs, was: resumed.append(was))
    assert resumed == [True, False, False]
    for key in whole:
        np.testing.assert_array_equal(whole[key], again[key])
    with pytest.raises(Exception, match="different run"):
        Checkpoint.open(tmp_path / "kept", {**design.identity(), "seed": 3}, resume=True, force=False)


@pytest.mark.slow
def test_two_workers_give_the_same_indices_as_one(small, tmp_path):
    out, _ = small
    args = ["sensitivity", SCENARIOS / "caatsa_enforced.yaml", "--factors", FACTORS, "--samples", 16]
    args += ["--trajectories", 6, "--replicates", 8, "--chunk", 200, "--workers", 2, "--quiet"]
    assert main([*map(str, args), "--out", str(tmp_path / "two")]) == 0
    assert (tmp_path / "two" / "sensitivity.csv").read_bytes() == (out / "sensitivity.csv").read_bytes()


def test_every_draw_of_a_design_keeps_the_sourced_orders():
    scenario = load_scenario(SCENARIOS / "status_quo.yaml")
    found = explore.factors(scenario)
    plan = sensitivity.designs(explore.problem(found), samples=64, trajectories=4, seed=1)
    values = explore.realize(scenario, found, plan.x)
    for hi, lo in scenario.parameter_set.orders:
        assert np.all(values[hi] > values[lo]), (hi, lo)
    again = explore.realize(scenario, found, plan.x)  # a function of the point alone
    assert all(np.array_equal(values[k], again[k]) for k in values)


@pytest.mark.parametrize(
    "args,expected",
    [
        (["--factors", "powers.US.tolerence.RU"], "did you mean 'powers.US.tolerance.RU'"),
        (["--samples", "100"], "power of two"),
        (["--methods", "fast"], "--methods"),
    ],
)
def test_bad_requests_are_refused_with_what_was_expected(args, expected, tmp_path, capsys):
    code = main(["sensitivity", str(SCENARIOS / "caatsa_enforced.yaml"), *args, "--out", str(tmp_path / "o")])
    assert code == 2
    assert expected in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


@pytest.mark.slow
def test_an_interrupted_analysis_resumes_to_the_same_indices(small, tmp_path, monkeypatch, capsys):
    out, _ = small
    args = ["sensitivity", str(SCENARIOS / "caatsa_enforced.yaml"), "--factors", FACTORS, "--samples", "16"]
    args += ["--trajectories", "6", "--replicates", "8", "--chunk", "200", "--out", str(tmp_path / "o")]
    real, calls = explore.simulate_points, []

    def interrupted(*a, **k):
        calls.append(1)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return real(*a, **k)

    monkeypatch.setattr(explore, "simulate_points", interrupted)
    assert main(args) == 130
    assert "--resume" in capsys.readouterr().err and not (tmp_path / "o").exists()
    monkeypatch.setattr(explore, "simulate_points", real)
    assert main([*args, "--resume"]) == 0
    assert "resuming: 2 of 5 chunk(s)" in capsys.readouterr().err
    assert (tmp_path / "o" / "sensitivity.csv").read_bytes() == (out / "sensitivity.csv").read_bytes()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["o"]  # the finished chunks are gone
