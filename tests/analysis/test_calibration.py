"""Calibration by ABC-SMC: it recovers known parameters from a record the model itself made (a twin experiment)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from conftest import SCENARIOS, run_cli

from sim.analysis.calibration import Distance, calibrate
from sim.analysis.history import with_world
from sim.analysis.measurement import tier_distribution
from sim.analysis.posterior import save_posterior
from sim.analysis.record import Record, load_record
from sim.analysis.scoring import modal
from sim.model.balance import BalanceModel
from sim.model.calendar import Month
from sim.model.params import load_parameters
from sim.runs.scenario import load_scenario

TRUTH = {"behaviour.step_size": 0.022, "behaviour.tier_patience": 3.4}  # away from the middle of the ranges


@pytest.fixture(scope="module")
def twin():
    """The history scenario, and the record its model makes with TRUTH: the modal tier by year over 200 runs."""
    scenario = with_world(load_scenario(SCENARIOS / "history_1986_2025.yaml"))
    years = np.arange(1986, 2013)
    steps = scenario.calendar.step_of(Month(2013, 1))
    model = BalanceModel(
        runs=200,
        rng=99,
        parameters=scenario.parameter_set,
        horizon=steps,
        events=[e.build() for e in scenario.events],
        values={k: np.full(200, v) for k, v in TRUTH.items()},
    )
    model.run_for(steps)
    tiers = modal(tier_distribution(model.trajectories()["tier"], scenario.calendar, years))
    return scenario, Record(years, tiers)


def test_the_distance_is_smaller_at_the_truth_than_away_from_it(twin):
    scenario, record = twin
    distance = Distance(scenario, record, cutoff=2011, reps=20, seed=5)
    at_truth = distance(TRUTH)
    assert at_truth < distance({"behaviour.step_size": 0.011, "behaviour.tier_patience": 5.8})
    assert at_truth < 0.05


def test_a_particle_that_breaks_a_sourced_order_is_as_far_as_can_be(twin):
    scenario, record = twin
    distance = Distance(scenario, record, cutoff=2011, reps=5, seed=5)
    assert distance({"hedger.inertia.US": 0.9, "hedger.inertia.CN": 0.3}) == 1.0


@pytest.mark.slow
def test_calibration_recovers_known_parameters_from_a_twin_record(twin):
    scenario, record = twin
    fit = calibrate(scenario, record, 2011, list(TRUTH), population=30, generations=3, reps=10, seed=3)
    summary = fit.posterior.summary()
    for path, value in TRUTH.items():
        lo, hi = fit.prior[path]
        assert abs(summary[path]["mean"] - value) < 0.5 * abs((lo + hi) / 2 - value), (path, summary[path])
        assert summary[path]["q05"] <= value <= summary[path]["q95"], (path, summary[path])
    assert fit.epsilons == sorted(fit.epsilons, reverse=True)


@pytest.mark.slow
def test_calibrate_writes_a_posterior_that_history_takes(tmp_path):
    import json

    from sim.analysis.posterior import load_posterior
    from sim.cli.main import main
    from sim.model.params import load_parameters

    out = tmp_path / "cal"
    args = ["calibrate", "--population", "10", "--generations", "1", "--reps", "3", "--quiet"]
    assert main([*args, "--out", str(out)]) == 0
    report = json.loads((out / "calibration.json").read_text())
    assert report["evaluations"] >= 10 and report["cutoff"] == 2012
    assert len(report["posterior"]) == len(load_parameters().free())
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
    args = ["calibrate", "--scenario", path, "--population", 10, "--generations", 1, "--reps", 2, "--seed", 4]
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
    assert json.loads(json.dumps(report)) == written | {"seconds": report["seconds"]}  # the time taken differs


@pytest.mark.slow
def test_the_posterior_file_is_what_bamboo_calibrate_writes(both, tmp_path):
    out, fit = both
    lines = fit.header(SCENARIOS / "history_1986_2025.yaml")
    assert lines[0].endswith(f"{len(load_parameters().free())} free parameters to the record 1986-2012")
    written = save_posterior(fit.posterior, tmp_path / "posterior.csv", lines)
    assert written.read_bytes() == (out / "posterior.csv").read_bytes()
