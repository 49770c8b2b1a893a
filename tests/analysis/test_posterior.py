"""A calibrated posterior: read and written with its errors named, drawn run by run, used by the model."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from sim.analysis.posterior import Posterior, PosteriorError, load_posterior, narrowed, save_posterior
from sim.model.balance import BalanceModel
from sim.model.params import load_parameters
from sim.model.streams import Streams

PARAMS = load_parameters()
PATHS = ("behaviour.step_size", "behaviour.tier_patience")


def posterior(weights=(0.5, 0.5, 0.0)) -> Posterior:
    particles = np.array([[0.012, 3.0], [0.02, 5.0], [0.024, 6.0]])
    w = np.array(weights, dtype=float)
    return Posterior(PATHS, particles, w / w.sum())


def test_a_posterior_survives_writing_and_reading(tmp_path):
    path = save_posterior(posterior(), tmp_path / "p.csv", ["made by hand"])
    again = load_posterior(path, PARAMS)
    assert again.paths == PATHS
    assert np.array_equal(again.particles, posterior().particles) and np.allclose(again.weights, posterior().weights)


def test_each_run_draws_its_particle_from_its_own_stream_whatever_the_ensemble():
    p = posterior()
    whole = p.draw(Streams(7, np.arange(0, 1000, dtype=np.uint64)))
    part = p.draw(Streams(7, np.arange(600, 1000, dtype=np.uint64)))
    assert np.array_equal(whole[PATHS[0]][600:], part[PATHS[0]])
    chosen = set(whole[PATHS[1]].tolist())
    assert chosen == {3.0, 5.0}  # the particle of weight zero is never drawn
    assert abs(np.mean(whole[PATHS[1]] == 3.0) - 0.5) < 0.06


def test_the_model_takes_its_values_from_the_posterior_and_a_scenario_keeps_its_own():
    model = BalanceModel(runs=200, rng=3, parameters=PARAMS.with_posterior(posterior()))
    assert set(np.unique(model.base["behaviour.step_size"])) == {0.012, 0.02}
    kept = PARAMS.with_overrides({"behaviour.step_size": 0.015}).with_posterior(
        posterior().without(["behaviour.step_size"])
    )
    model = BalanceModel(runs=50, rng=3, parameters=kept)
    assert (model.base["behaviour.step_size"] == 0.015).all()
    assert set(np.unique(model.base["behaviour.tier_patience"])) <= {3.0, 5.0}


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ("", ":0: header:"),
        ("weight,behaviour.stepsize\n1,0.01\n", ":1: behaviour.stepsize: unknown parameter"),
        ("weight,behaviour.step_size\n", ":1: particles:"),
        ("weight,behaviour.step_size\n1,0.01,3\n", ":2: row:"),
        ("# note\nweight,behaviour.step_size\n1,abc\n", ":3: behaviour.step_size: expected a number"),
        ("weight,behaviour.step_size\n-1,0.01\n", ":2: weight:"),
        ("weight,behaviour.step_size\n0,0.01\n", ":1: weight: expected weights that add up"),
        ("weight,hedger.four_nos\n1,7\n", ":2: hedger.four_nos: expected a number in [0, 1]"),
    ],
)
def test_a_bad_posterior_names_the_line_and_field(tmp_path, text, where):
    bad = tmp_path / "p.csv"
    bad.write_text(text, encoding="utf-8")
    with pytest.raises(PosteriorError, match=re.escape(f"{bad}{where}")):
        load_posterior(bad, PARAMS)


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ("weight,hedger.tier.US\n1,2.5\n", ":2: hedger.tier.US: expected a whole tier index (0 to 4), got 2.5"),
        ("weight,hedger.tier.US\n1,1\n1,4\n", ":3: hedger.tier.US: starts as an alliance while the Four No's"),
        ("weight,thresholds.persistence\n1,1e19\n", ":2: thresholds.persistence: expected a number in [1, 200]"),
        ("weight,behaviour.temperature\n1,1e300\n", ":2: behaviour.temperature: expected a number in [0, 1e+06]"),
        ("weight,thresholds.strategic\n1,0.05\n", ":0: particles: thresholds: tiers must rise strictly in every"),
        ('"weight,\nbehaviour.step_size"\n1,0.02\n', ":1: row: a quoted field runs past the end of the line"),
        ("weight,behaviour.step_size\n1,0.02\n" + "2" * 200_000 + ",0.02\n", ":3: row: a field of more than 131,072"),
        ("weight,behaviour.step_size\n1,0.02\n1," + "9" * 100_000 + "\n", ":3: behaviour.step_size: expected a"),
        ("weight,behaviour.\x1b[2Jstep_size\n1,0.02\n", ":1: behaviour.\\x1b[2Jstep_size: unknown parameter"),
    ],
)
def test_a_posterior_s_values_obey_a_scenario_s_rules_and_its_faults_are_one_line(tmp_path, text, where):
    bad = tmp_path / "p.csv"
    bad.write_text(text, encoding="utf-8")
    with pytest.raises(PosteriorError, match=re.escape(f"{bad}{where}")) as info:
        load_posterior(bad, PARAMS)
    assert len(str(info.value)) < 400 and str(info.value).isprintable()


def test_weights_near_the_largest_number_are_drawn_by_weight_without_overflow(tmp_path):
    path = tmp_path / "p.csv"
    path.write_text("weight,behaviour.step_size\n1e308,0.012\n1e308,0.02\n0,0.024\n", encoding="utf-8")
    with np.errstate(over="raise", invalid="raise"):
        loaded = load_posterior(path, PARAMS)
    assert np.allclose(loaded.weights, [0.5, 0.5, 0.0])
    drawn = loaded.draw(Streams(1, np.arange(2000, dtype=np.uint64)))["behaviour.step_size"]
    assert 0.4 < np.mean(drawn == 0.012) < 0.6 and not np.any(drawn == 0.024)


@pytest.mark.slow
def test_run_with_a_posterior_is_the_same_on_one_worker_or_two_and_differs_from_the_defaults(tmp_path):
    from conftest import SCENARIOS

    from sim.cli.main import main

    path = save_posterior(posterior((0.3, 0.7, 0.0)), tmp_path / "p.csv", [])
    args = ["run", str(SCENARIOS / "status_quo.yaml"), "--runs", "400", "--chunk", "150", "--quiet"]
    args += ["--strategies", "none", "--no-trajectories"]
    for name, extra in (("one", []), ("two", ["--workers", "2"])):
        assert main([*args, "--parameters", str(path), "--out", str(tmp_path / name), *extra]) == 0
    assert main([*args, "--out", str(tmp_path / "defaults")]) == 0
    one, two, defaults = ((tmp_path / k / "summary.json").read_bytes() for k in ("one", "two", "defaults"))
    assert one == two and one != defaults


def test_sensitivity_takes_the_posteriors_spread_as_the_ranges(tmp_path):
    from conftest import SCENARIOS

    from sim.runs.explore import factors
    from sim.runs.scenario import load_scenario

    particles = np.column_stack([np.linspace(0.012, 0.02, 21), np.linspace(3.0, 4.0, 21)])
    path = save_posterior(Posterior(PATHS, particles, np.full(21, 1 / 21)), tmp_path / "p.csv", [])
    scenario = load_scenario(SCENARIOS / "caatsa_enforced.yaml")
    scenario = narrowed(scenario, load_posterior(path, scenario.parameter_set).without(scenario.parameters))
    ranges = {f.name: (f.low, f.high) for f in factors(scenario)}
    assert ranges["behaviour.step_size"] == pytest.approx((0.0124, 0.0196))
    assert ranges["behaviour.tier_patience"] == pytest.approx((3.05, 3.95))
    assert ranges["behaviour.temperature"] == PARAMS["behaviour.temperature"].range  # not calibrated here


@pytest.mark.parametrize("name", ["/dev/zero", "folder"])
def test_a_posterior_that_is_a_device_or_a_folder_is_refused_without_reading_it(tmp_path, name):
    path = tmp_path / name if name == "folder" else Path(name)
    if name == "folder":
        path.mkdir()
    elif not path.exists():
        pytest.skip("no /dev/zero")
    with pytest.raises(PosteriorError, match=r"expected a CSV file, found a (device|folder)"):
        load_posterior(path, PARAMS)


def test_a_posterior_larger_than_the_limit_is_refused(tmp_path, monkeypatch):
    from sim.model import limits

    monkeypatch.setattr(limits, "MAX_DATA_BYTES", 64)
    path = save_posterior(posterior(), tmp_path / "p.csv", ["x" * 100])
    with pytest.raises(PosteriorError, match="larger than 0 KiB, the limit for a posterior file"):
        load_posterior(path, PARAMS)


def test_the_dashboard_draws_each_run_from_a_posterior_as_bamboo_run_does(tmp_path):
    from conftest import SCENARIOS

    from sim.classroom.lesson import Lesson
    from sim.classroom.possible_worlds import FanSummary, compute_fan, same_world
    from sim.cli.commands import _with_posterior
    from sim.model.strategies import DEFAULT
    from sim.runs.scenario import load_scenario

    path = save_posterior(posterior((0.3, 0.7, 0.0)), tmp_path / "p.csv", [])
    scenario = SCENARIOS / "status_quo.yaml"
    calibrated = Lesson(scenario, seed=7, posterior=load_posterior(path, PARAMS))
    ran = _with_posterior(load_scenario(scenario), path).model(runs=60, seed=7)
    shown = same_world(calibrated.what_if(), 7, (), 60, DEFAULT)
    for m in (ran, shown):
        m.run_for(16)
    assert np.array_equal(ran.trajectories()["alignment"], shown.trajectories()["alignment"])
    assert set(calibrated.model().base["behaviour.step_size"]) <= {0.012, 0.02}  # the class's world: a particle
    fans = [FanSummary.of(compute_fan(lesson.what_if(), 7, (), 60, DEFAULT)) for lesson in (calibrated, Lesson(seed=7))]
    assert not np.array_equal(fans[0].q, fans[1].q)


def test_a_dial_keeps_its_value_and_the_posterior_the_rest():
    from sim.classroom.lesson import Lesson

    lesson = Lesson(posterior=posterior())
    lesson.set("cn_threat", 0.9)
    parameters = lesson.what_if().parameter_set
    assert parameters.posterior.paths == PATHS  # the dial is not a calibrated parameter: the posterior stays whole
    model = lesson.model()
    assert model.base["powers.CN.threat.territory"][0] == 0.9
    assert model.base["behaviour.step_size"][0] in (0.012, 0.02)


def test_bamboo_app_takes_a_posterior_and_refuses_a_bad_one_before_serving(tmp_path, monkeypatch, capsys):
    import sim.classroom.dashboard
    from sim.cli.main import main

    served = []
    monkeypatch.setattr(
        sim.classroom.dashboard, "serve", lambda host, port, posterior=None: served.append(posterior) or 0
    )
    good = save_posterior(posterior(), tmp_path / "p.csv", [])
    assert main(["app", "--parameters", str(good)]) == 0
    assert served[0].paths == PATHS
    bad = tmp_path / "bad.csv"
    bad.write_text("weight,hedger.four_nos\n1,7\n")
    assert main(["app", "--parameters", str(bad)]) == 2
    assert "bad.csv:2: hedger.four_nos: expected a number in [0, 1]" in capsys.readouterr().err
    assert len(served) == 1  # no server for a bad file
