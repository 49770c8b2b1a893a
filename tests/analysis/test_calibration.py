"""Calibration by ABC-SMC: it recovers known parameters from a record the model itself made (a twin experiment)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from conftest import SCENARIOS, run_cli

from sim.analysis.calibration import Simulator, Table, calibrate, keeps_orders, nearest, reject
from sim.analysis.history import with_world
from sim.analysis.posterior import save_posterior
from sim.analysis.record import load_record
from sim.analysis.screening import screen
from sim.analysis.summaries import of_record, rise_years
from sim.analysis.twin import draw_truth, twin_record
from sim.analysis.twin import run as twin_run
from sim.model.params import load_parameters
from sim.runs.scenario import load_scenario

TRUTH = {"behaviour.step_size": 0.022, "behaviour.tier_patience": 3.4}  # away from the middle of the ranges


@pytest.fixture(scope="module")
def twin():
    """The history scenario, and the record its model writes at TRUTH: one history to 2011, tiers and arms."""
    scenario = with_world(load_scenario(SCENARIOS / "history_1986_2025.yaml"))
    return scenario, twin_record(scenario, load_record(), 2011, TRUTH, seed=99)


def test_a_rise_is_the_first_year_a_tie_enters_a_tier_from_below_and_a_jump_enters_every_tier_it_passes():
    years = np.arange(2000, 2006)
    tiers = np.array([[0, 1, 1, 3, 3, 3], [4, 4, 0, 0, 2, 2], [2, 2, 2, 2, 2, 2]])  # (powers, years)
    got = rise_years(tiers, years)
    assert got.tolist() == [[2001, 2003, 2003], [2004, 2004, 2006], [2006, 2006, 2006]]  # 2006: never (censored)


def test_the_records_statistics_are_its_rises_and_its_arms_shares():
    stats = of_record(load_record(), 2012)
    assert stats["rise:CN:strategic"] == stats["rise:CN:comprehensive_strategic"] == 2008  # the jump of 2008
    assert stats["rise:RU:strategic"] == 2001 and stats["rise:US:comprehensive"] == 2013  # 2013: after the cut-off
    assert [k for k in stats if k.startswith("arms:")] == ["arms:RU:2000-2004", "arms:RU:2005-2009"]


def test_the_statistics_are_nearer_the_twin_record_at_the_truth_than_away_from_it(twin):
    """Over 200 histories each, scaled by their spread, the truth's statistics sit nearer the record it wrote."""
    scenario, record = twin
    simulate = Simulator(scenario, record, 2011)
    observed = np.array(list(of_record(record, 2011).values()))
    near = simulate(TRUTH, seed=5, runs=200)
    far = simulate({"behaviour.step_size": 0.011, "behaviour.tier_patience": 5.8}, seed=5, runs=200)
    scale = np.maximum(np.concatenate([near, far]).std(axis=0), 1e-9)

    def distance(stats):
        return float(np.mean(np.sqrt((((stats - observed) / scale) ** 2).sum(axis=1))))

    assert distance(near) < distance(far)


def test_histories_given_the_same_run_index_meet_the_same_noise(twin):
    """Common random numbers for the screening: the same values and run index give the same history.

    Another index, another history.
    """
    scenario, record = twin
    simulate = Simulator(scenario, record, 2011)
    same = simulate({}, seed=5, runs=3, run_index=np.array([7, 7, 8]))
    assert np.array_equal(same[0], same[1]) and not np.array_equal(same[0], same[2])


def test_a_truth_is_drawn_within_the_ranges_and_keeps_the_sourced_orders(twin):
    scenario, _ = twin
    paths = ["hedger.inertia.US", "hedger.inertia.CN", "hedger.inertia.RU"]
    rng = np.random.default_rng(1)
    for _ in range(50):
        truth = draw_truth(scenario, paths, rng)
        assert truth["hedger.inertia.RU"] > truth["hedger.inertia.CN"] > truth["hedger.inertia.US"]
    assert not keeps_orders({"hedger.inertia.US": 0.9, "hedger.inertia.CN": 0.3}, scenario.resolved_parameters.orders)


def test_the_screening_keeps_what_moves_the_statistics_and_drops_what_does_not(twin):
    """A planted null: a parameter the history's dynamics never read has total index 0 and is not calibrated."""
    scenario, record = twin
    paths = ["behaviour.step_size", "thresholds.isolation"]  # the second: only the verdict reads it
    found = screen(scenario, record, 2011, paths, samples=64)
    assert found.kept == ("behaviour.step_size",)
    report = found.report()["parameters"]
    assert report["behaviour.step_size"]["largest_total_index"] > 0.3 and report["behaviour.step_size"]["calibrated"]


@pytest.fixture(scope="module")
def twin_report(twin):
    """Ten truths drawn from the prior, one reference table of 5,000 draws, the step size and tier patience free."""
    scenario, _ = twin
    return twin_run(scenario, load_record(), 2011, list(TRUTH), truths=10, draws=5000, seed=3)


def test_calibration_recovers_known_parameters_from_twin_records(twin_report):
    """The 90% intervals hold at least 80% of the (truth, parameter) pairs, and are narrower than the prior's.

    A calibration that learnt nothing would keep draws from the prior: with 50 kept draws a 5-95% interval
    spans 0.9 of the prior's range give or take about 0.044, so 0.014 over ten truths; its coverage would be
    90% as well. Narrower than 0.8 on average over the free parameters is what learning from the record shows.
    """
    assert twin_report["coverage"] >= 0.8, twin_report["by_parameter"]
    widths = [p["mean_width_over_prior"] for p in twin_report["by_parameter"].values()]
    assert np.mean(widths) < 0.8, twin_report["by_parameter"]


@pytest.mark.xfail(
    strict=True,
    reason="since tier patience is drawn from [1, 12] and an upgrade names its tier (docs/ODD.md 10.18, 10.19), "
    "the rises' years are explained by the patience as much as by the step size: the step size's interval is "
    "0.77 of its prior (two thirds asked; 9 of 10 truths held), the patience's 0.57; over 20 truths and all 11 "
    "calibrated parameters the step size's is 0.76, the patience's 0.54 (docs/validation.md)",
)
def test_the_step_size_the_rises_hang_on_is_narrowed_to_two_thirds_of_its_prior(twin_report):
    assert twin_report["by_parameter"]["behaviour.step_size"]["mean_width_over_prior"] < 2 / 3


def test_rejection_keeps_the_draws_nearest_the_record_with_equal_weights(twin):
    """The kept draws are the nearest in MAD-scaled distance; a statistic that never varies is left out."""
    scenario, record = twin
    table = Table(
        ("a",),
        np.array([[0.0], [1.0], [2.0], [3.0]]),
        np.array([[10.0, 5.0], [11.0, 5.0], [14.0, 5.0], [20.0, 5.0]]),
        ("x", "y"),
        0.0,
    )
    kept, threshold = nearest(table, {"x": 10.9, "y": 99.0}, accept=0.5)  # y never varies: it cannot be matched
    assert kept.tolist() == [1, 0] and threshold == pytest.approx(0.9 / 2.0)  # MAD of x: 2.0
    fit = reject(scenario, record, 2011, ["behaviour.step_size"], draws=200, accept=0.05, seed=1)
    assert len(fit.posterior.weights) == 10 and np.allclose(fit.posterior.weights, 0.1) and fit.ess == 10


@pytest.mark.slow
def test_calibrate_writes_a_posterior_that_history_takes(tmp_path):
    import json

    from sim.analysis.posterior import load_posterior
    from sim.cli.main import main
    from sim.model.params import load_parameters

    out = tmp_path / "cal"
    args = ["calibrate", "--method", "smc", "--population", "10", "--generations", "1", "--reps", "3", "--quiet"]
    assert main([*args, "--out", str(out)]) == 0
    report = json.loads((out / "calibration.json").read_text())
    assert report["evaluations"] >= 10 and report["cutoff"] == 2012
    screened = report["screening"]["parameters"]
    assert len(screened) == len(load_parameters().free()) and set(report["posterior"]) == {
        p for p, row in screened.items() if row["calibrated"]
    }
    assert len(load_posterior(out / "posterior.csv", load_parameters()).weights) == 10
    assert (
        main(
            [
                "history",
                "--runs",
                "20",
                "--quiet",
                "--parameters",
                str(out / "posterior.csv"),
                "--out",
                str(tmp_path / "h"),
            ]
        )
        == 0
    )


def test_calibrate_refuses_a_bad_time_cap(tmp_path, capsys):
    from sim.cli.main import main

    assert main(["calibrate", "--minutes", "0", "--out", str(tmp_path / "c")]) == 2
    assert "--minutes" in capsys.readouterr().err and not (tmp_path / "c").exists()


# -- the calibration's report through the library, as a notebook runs it ------------------
@pytest.fixture(scope="module")
def both(tmp_path_factory):
    """A small calibration by ``bamboo calibrate``, and the same one through the library: (its folder, fit)."""
    out = tmp_path_factory.mktemp("calibration") / "cli"
    path = SCENARIOS / "history_1986_2025.yaml"
    args = ["calibrate", "--scenario", path, "--method", "smc", "--population", 10, "--generations", 1, "--reps", 2]
    args += ["--seed", 4, "--all"]
    done = run_cli(*args, "--out", out, "--quiet")
    assert done.returncode == 0, done.stderr
    scenario = with_world(load_scenario(path))
    free = [q.path for q in scenario.resolved_parameters.free() if q.path not in scenario.parameters]
    fit = calibrate(scenario, load_record(), 2012, free, population=10, generations=1, reps=2, seed=4)
    return out, fit


@pytest.mark.slow
def test_the_report_is_what_bamboo_calibrate_writes(both):
    out, fit = both
    written = json.loads((out / "calibration.json").read_text())
    report = fit.report(SCENARIOS / "history_1986_2025.yaml")
    written.pop("screening")  # bamboo calibrate adds the screening of the parameters to the fit's report
    assert json.loads(json.dumps(report)) == written | {"seconds": report["seconds"]}  # the time taken differs


@pytest.mark.slow
def test_the_posterior_file_is_what_bamboo_calibrate_writes(both, tmp_path):
    out, fit = both
    lines = fit.header(SCENARIOS / "history_1986_2025.yaml")
    assert lines[0].endswith(f"{len(load_parameters().free())} free parameters to the record 1986-2012")
    written = save_posterior(fit.posterior, tmp_path / "posterior.csv", lines)
    assert written.read_bytes() == (out / "posterior.csv").read_bytes()
