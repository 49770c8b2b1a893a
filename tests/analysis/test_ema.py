"""The EMA Workbench adapter: Bamboo driven by EMA's own evaluator, with EMA's names and outcomes."""

import numpy as np
import pytest
from conftest import SCENARIOS

from sim.analysis import ema
from sim.analysis.discovery import quiet
from sim.runs import explore
from sim.runs.scenario import load_scenario

pytestmark = pytest.mark.slow  # EMA's evaluator, and its imports (scikit-learn, statsmodels): seconds

FACTORS = ["powers.US.tolerance.RU", "events[0].magnitude"]


@pytest.fixture(scope="module")
def performed():
    scenario = load_scenario(SCENARIOS / "caatsa_enforced.yaml")
    model = ema.model(scenario, runs=12, replications=2, factors=FACTORS, compare=True)
    with quiet():
        from ema_workbench import SequentialEvaluator

        with SequentialEvaluator(model) as evaluator:
            experiments, outcomes = evaluator.perform_experiments(scenarios=3)
    return scenario, experiments, outcomes


def test_uncertainties_are_the_scenarios_open_factors_with_their_ranges():
    model = ema.model(SCENARIOS / "caatsa_enforced.yaml", runs=4)
    scenario = load_scenario(SCENARIOS / "caatsa_enforced.yaml")
    factors = explore.factors(scenario)
    assert [u.name for u in model.uncertainties] == [ema.ema_name(f.name) for f in factors]
    assert {u.name: (u.lower_bound, u.upper_bound) for u in model.uncertainties}["powers__US__reach"] == (0.65, 0.9)
    assert ema.ema_name("events[0].magnitude") == "events_0__magnitude"


def test_emas_sequential_evaluator_runs_bamboo_and_gets_the_summary_outcomes(performed):
    _, experiments, outcomes = performed
    assert len(experiments) == 3
    expected = {"survival_probability", "alignment_US", "alignment_CN", "alignment_RU", "value_of_hedging"}
    assert expected | set(explore.MODES) == set(outcomes)
    assert all(v.shape == (3,) for v in outcomes.values())
    assert np.all((outcomes["survival_probability"] >= 0) & (outcomes["survival_probability"] <= 1))


def test_an_ema_experiment_is_the_bamboo_design_point_averaged_over_its_seeds(performed):
    scenario, experiments, outcomes = performed
    factors = explore.factors(scenario, FACTORS)
    row = experiments.iloc[1]
    x = np.array([[row[ema.ema_name(f.name)] for f in factors]])
    values = explore.realize(scenario, factors, x)
    kinds = {f.name: f.kind for f in factors}
    direct = [explore.simulate_points(scenario, kinds, values, 0, 12, seed, ("hedge",)) for seed in (1, 2)]
    assert scenario.seed == 1  # the replications are seeds 1 and 2
    expected = np.mean([d["survival_hedge"][0] for d in direct])
    assert outcomes["survival_probability"][1] == pytest.approx(expected)
