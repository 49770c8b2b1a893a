"""Bamboo for the EMA Workbench: a scenario as an EMA model, to sample, evaluate and analyse with EMA's own tools.

``model(scenario)`` gives an EMA ``ReplicatorModel`` (or, with
``replications=None``, a ``Model``) whose uncertainties are the scenario's open
factors (``sim.runs.explore``: every parameter with a range, every event
magnitude or date given as a range) and whose outcomes are the summary's:
survival probability, the final alignment with each power, the failure
modes' shares and, with ``compare=True``, the value of hedging. One
experiment simulates ``runs`` runs of its point through the vectorised model
(``sim.runs.explore.simulate_points``, the code ``bamboo sensitivity`` runs), so an
EMA replication is a seed, and within it the runs average out Vietnam's
choice noise.

EMA names must be Python identifiers: ``powers.US.reach`` is
``powers__US__reach`` and ``events[0].magnitude`` is ``events_0__magnitude``
(``ema_name``). Example (docs/sensitivity.md)::

    from ema_workbench import MultiprocessingEvaluator
    from sim.analysis import ema

    bamboo = ema.model("scenarios/caatsa_enforced.yaml", runs=200, replications=3)
    with MultiprocessingEvaluator(bamboo, n_processes=2) as evaluator:
        experiments, outcomes = evaluator.perform_experiments(scenarios=100)
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from sim.analysis.discovery import quiet
from sim.runs import explore

if TYPE_CHECKING:  # the EMA Workbench is imported when a model is made: it is slow to import
    from ema_workbench import Model

    from sim.runs.scenario import Scenario


def ema_name(factor: str) -> str:
    """A factor's name as a Python identifier."""
    return factor.replace("]", "").replace("[", "_").replace(".", "__")


class Experiment:
    """The function EMA calls: one point's factor values (and a seed) in, the summary's outcomes out.

    A plain picklable object, so EMA's multiprocessing evaluator can ship it.
    """

    def __init__(
        self, scenario: Scenario, factors: list[explore.Factor], runs: int, strategies: tuple[str, ...]
    ) -> None:
        """Points of ``scenario`` over ``factors``, each run ``runs`` times under each of ``strategies``."""
        self.scenario, self.factors, self.runs, self.strategies = scenario, factors, runs, strategies

    def __call__(self, seed: int | None = None, **point: float) -> dict[str, float]:
        """The outcomes at ``point`` (factor values by their EMA names), with the scenario's seed or ``seed``."""
        x = np.array([[float(point[ema_name(f.name)]) for f in self.factors]])
        values = {k: v for k, v in explore.realize(self.scenario, self.factors, x).items()}
        kinds = {f.name: f.kind for f in self.factors}
        seed = self.scenario.seed if seed is None else int(seed)
        out = explore.simulate_points(self.scenario, kinds, values, 0, self.runs, seed, self.strategies)
        result = {"survival_probability": float(out[f"survival_{self.strategies[0]}"][0])}
        result |= {k: float(out[k][0]) for k in out if k.startswith("alignment_") or k in explore.MODES}
        if len(self.strategies) > 1:
            best = max(float(out[f"survival_{s}"][0]) for s in self.strategies[1:])
            result["value_of_hedging"] = result["survival_probability"] - best
        return result


def model(
    scenario: str | Path | Scenario,
    runs: int = 100,
    replications: int | None = 2,
    factors: list[str] | None = None,
    compare: bool = False,
    name: str = "bamboo",
) -> Model:
    """The scenario (a path or a loaded Scenario) as an EMA ReplicatorModel (a Model with ``replications=None``)."""
    from sim.runs.scenario import Scenario, load_scenario

    if not isinstance(scenario, Scenario):
        scenario = load_scenario(scenario)
    chosen = explore.factors(scenario, factors)
    strategies = explore.strategies_for(scenario.strategy, compare)
    experiment = Experiment(scenario, chosen, runs, strategies)
    with quiet():
        from ema_workbench import Model, RealParameter, ReplicatorModel, ScalarOutcome

        if replications is None:
            ema = Model(name, function=experiment)
        else:
            ema = ReplicatorModel(name, function=experiment)
            ema.replications = [{"seed": scenario.seed + i} for i in range(replications)]
        ema.uncertainties = [RealParameter(ema_name(f.name), f.low, f.high) for f in chosen]
        names = ["survival_probability", *(f"alignment_{p}" for p in ("US", "CN", "RU")), *explore.MODES]
        names += ["value_of_hedging"] if compare else []
        # a replicated outcome is the mean over the replications (seeds): a scalar, as EMA's analyses expect
        reduce = None if replications is None else np.mean
        ema.outcomes = [ScalarOutcome(n, function=reduce) for n in names]
    return ema
