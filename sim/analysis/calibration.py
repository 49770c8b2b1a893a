"""Calibration of the free parameters to the record up to a cut-off year, by ABC-SMC (pyabc).

Each particle is a point of the free parameters, within their documented
ranges (uniform priors) and keeping the orders the sources fix (a particle
that breaks one is as far from the record as possible). Its simulation runs
the history scenario to the end of the cut-off year over ``reps`` runs that
share their random numbers with every other particle's (common random
numbers, so that particles differ by their parameters, not their luck), and
its distance to the record is the ranked probability score of its tier
distribution over the in-sample years (``sim.analysis.scoring``): 0 retells the record
exactly, 1 is as far from it as can be.

pyabc draws its proposals from NumPy's global generator; the calibration
seeds it for the run and restores it afterwards, so that one process with a
given seed gives the same posterior. With ``workers`` > 1, pyabc's parallel
sampler reseeds its processes itself: the posterior is then not reproducible
bit for bit.
"""

from __future__ import annotations

import contextlib
import datetime
import logging
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING

import numpy as np

from sim.analysis.measurement import tier_distribution
from sim.analysis.posterior import Posterior
from sim.analysis.record import Record
from sim.analysis.scoring import ranked_probability
from sim.model.calendar import Month
from sim.model.params import ParameterSet
from sim.runs.scenario import Scenario

if TYPE_CHECKING:  # pyabc is slow to import: calibrate imports it when it runs
    from pyabc.transition import Transition

WORST = 1.0  # the largest ranked probability score: the distance of a particle that breaks a sourced order
# stop when a generation brings the threshold down by less than this (in RPS): past that point ABC-SMC's
# importance weights collapse onto a few particles while the fit barely improves
MIN_EPS_DIFF = 0.005
LOCAL_SHARE = 0.25  # the share of the population whose covariance perturbs a particle (pyabc LocalTransition)
METHOD = "ABC-SMC (pyabc), distance: in-sample ranked probability score of the tier distribution"  # as reported


def transition(pyabc: ModuleType, population: int, dimensions: int) -> Transition:
    """The perturbation kernel of pyabc: a local one where the population allows, else one global kernel.

    With sixteen parameters, a single global kernel lets the importance weights collapse onto one particle
    (an effective sample size of 1 of 100, measured); a local kernel, each particle perturbed by the
    covariance of its nearest quarter, keeps about five. A local covariance needs more neighbours than
    dimensions, so a small population falls back on the global kernel.
    """
    if LOCAL_SHARE * population > dimensions + 1:
        return pyabc.LocalTransition(k_fraction=LOCAL_SHARE)
    return pyabc.MultivariateNormalTransition()


class CalibrationError(RuntimeError):
    """ABC-SMC could not go on (its weights vanished): the message says what to try."""


def key(path: str) -> str:
    """The name pyabc knows a parameter by (dots are not welcome in its database)."""
    return path.replace(".", "__")


@dataclass
class Fit:
    """What a calibration found: the posterior, how it got there, and what it was asked."""

    posterior: Posterior
    epsilons: list[float]
    evaluations: int
    seconds: float
    ess: float  # effective sample size of the final population, 1 / sum of squared weights
    prior: dict[str, tuple[float, float]]
    years: tuple[int, int]  # the record's first year and the cut-off: the years fitted
    seed: int
    settings: dict[str, float]  # population, generations, reps, minutes, workers, as calibrate was called

    def report(self, scenario: str | Path) -> dict[str, object]:
        """The calibration as ``bamboo calibrate`` writes it in calibration.json.

        Args:
            scenario: the scenario file calibrated, as its reader knows it (it is recorded, not read).

        Returns:
            The scenario, cut-off, method, settings and seed; the thresholds by generation, the simulations
            run, the time taken and the effective sample size; each parameter's prior range and posterior.
        """
        return {
            "scenario": str(scenario),
            "cutoff": self.years[1],
            "method": METHOD,
            "settings": dict(self.settings),
            "seed": self.seed,
            "epsilons": list(self.epsilons),
            "evaluations": self.evaluations,
            "seconds": round(self.seconds, 1),
            "effective_sample_size": round(self.ess, 1),
            "prior": {p: list(r) for p, r in self.prior.items()},
            "posterior": self.posterior.summary(),
        }

    def header(self, scenario: str | Path) -> list[str]:
        """The comment lines above the posterior in posterior.csv: what was fitted, how, and how to use it.

        Args:
            scenario: the scenario file calibrated, as its reader knows it.

        Returns:
            The lines, without their ``#`` (``sim.analysis.posterior.save_posterior`` adds it).
        """
        (first, cutoff), fitted = self.years, len(self.posterior.paths)
        return [
            f"Bamboo posterior: ABC-SMC (pyabc) of {fitted} free parameters to the record {first}-{cutoff}",
            f"scenario {scenario}; population {self.settings['population']}, {len(self.epsilons)} generations, "
            f"{self.settings['reps']} runs per particle, seed {self.seed}",
            "use: bamboo run|compare|history --parameters posterior.csv",
        ]


def keeps_orders(values: Mapping[str, float], orders: Iterable[tuple[str, str]]) -> bool:
    """Whether the values keep every sourced order (higher, lower) between two of them; others are not judged."""
    return all(values[hi] > values[lo] for hi, lo in orders if hi in values and lo in values)


class Distance:
    """The in-sample distance of a scenario's run, with given parameter values, from the record."""

    def __init__(self, scenario: Scenario, record: Record, cutoff: int, reps: int, seed: int) -> None:
        """The distance over the record's years up to ``cutoff``, each point run ``reps`` times from ``seed``."""
        self.scenario, self.record, self.reps, self.seed = scenario, record, reps, seed
        self.window = record.window(record.years[0], cutoff)
        self.steps = scenario.calendar.step_of(Month(cutoff + 1, 1))
        self.orders = scenario.resolved_parameters.orders

    def __call__(self, values: dict[str, float]) -> float:
        """The mean ranked probability score of the run with ``values``; WORST if they break a sourced order."""
        if not keeps_orders(values, self.orders):
            return WORST
        model = self.scenario.model(
            runs=self.reps,
            seed=self.seed,
            horizon=self.steps,
            values={path: np.full(self.reps, v) for path, v in values.items()},
        )
        model.run_for(self.steps)
        years = self.record.years[self.window]
        probs = tier_distribution(model.trajectories()["tier"], self.scenario.calendar, years)
        return float(ranked_probability(probs, self.record.tiers[:, self.window]).mean())


def _priors(params: ParameterSet, paths: Iterable[str]) -> dict[str, tuple[float, float]]:
    """Each calibrated parameter's range, over which its prior is uniform.

    Raises:
        ValueError: a parameter has no range to calibrate it within.
    """
    out = {}
    for path in paths:
        rng = params[path].range
        if rng is None:
            raise ValueError(f"{path} has no range to calibrate it within")
        out[path] = rng
    return out


@contextlib.contextmanager
def _seeded(seed: int) -> Iterator[None]:
    """NumPy's global generator, which pyabc samples from, seeded for the calibration and restored after it."""
    state = np.random.get_state()  # noqa: NPY002 - pyabc's own generator, not the model's
    np.random.seed(seed)  # noqa: NPY002
    try:
        yield
    finally:
        np.random.set_state(state)  # noqa: NPY002


def calibrate(
    scenario: Scenario,
    record: Record,
    cutoff: int,
    paths: list[str],
    *,
    population: int = 100,
    generations: int = 8,
    reps: int = 20,
    seed: int = 2025,
    minutes: float = 25.0,
    workers: int = 1,
    on_evaluation: Callable[[], object] | None = None,
) -> Fit:
    """ABC-SMC over ``paths`` (each with a range) to the record up to ``cutoff``.

    It stops after ``generations`` populations or ``minutes`` of wall time, whichever comes first.
    ``on_evaluation`` is called after each simulation (a progress bar's update).

    Raises:
        CalibrationError: ABC-SMC could not go on.
    """
    import pyabc

    logging.getLogger("ABC").setLevel(logging.WARNING)  # the caller shows progress; pyabc's log is noise
    distance = Distance(scenario, record, cutoff, reps, seed)
    params = scenario.resolved_parameters
    prior = _priors(params, paths)
    names = {key(path): path for path in paths}

    # pyabc works in the unit cube, each side one parameter's range: its transition kernel then sees
    # comparable scales (the ranges run from about 0.01 wide to 17 wide) and its densities stay finite
    def scaled(k: str, u: float) -> float:
        lo, hi = prior[names[k]]
        return lo + float(u) * (hi - lo)

    def model(particle: Mapping[str, float]) -> dict[str, float]:
        d = distance({names[k]: scaled(k, u) for k, u in particle.items()})
        if on_evaluation is not None:
            on_evaluation()
        return {"rps": d}

    class Ordered(pyabc.Distribution):
        """Uniform over the unit cube of the ranges, less the points that break a sourced order."""

        def keeps(self, x: Mapping[str, float]) -> bool:
            """Whether the point ``x`` of the unit cube keeps every sourced order."""
            return keeps_orders({names[k]: scaled(k, u) for k, u in x.items()}, params.orders)

        def rvs(self, *args: object, **kwargs: object) -> Mapping[str, float]:
            """A point drawn uniformly from those that keep the orders."""
            while not self.keeps(x := super().rvs(*args, **kwargs)):
                pass
            return x

        def pdf(self, x: Mapping[str, float]) -> float:
            """The uniform density at ``x``, zero where an order is broken."""
            return super().pdf(x) if self.keeps(x) else 0.0

    sampler = pyabc.sampler.SingleCoreSampler() if workers == 1 else pyabc.sampler.MulticoreEvalParallelSampler(workers)
    abc = pyabc.ABCSMC(
        model,
        Ordered(**{key(p): pyabc.RV("uniform", 0.0, 1.0) for p in paths}),
        lambda x, x0: abs(x["rps"] - x0["rps"]),
        population_size=population,
        sampler=sampler,
        transitions=transition(pyabc, population, len(paths)),
    )
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="bamboo-abc-") as tmp, _seeded(seed):
        abc.new(f"sqlite:///{Path(tmp) / 'abc.db'}", {"rps": 0.0})
        try:
            history = abc.run(
                max_nr_populations=generations,
                max_walltime=datetime.timedelta(minutes=minutes),
                min_eps_diff=MIN_EPS_DIFF,
            )
        except (AssertionError, ValueError, np.linalg.LinAlgError) as exc:
            raise CalibrationError(
                f"ABC-SMC stopped: {exc}; its weights vanished, which a larger --population usually cures"
            ) from None
        frame, weights = history.get_distribution(m=0, t=history.max_t)
        epsilons = [float(e) for e in history.get_all_populations()["epsilon"].to_numpy()[1:]]
        evaluations = int(history.total_nr_simulations)
        unit = frame[[key(p) for p in paths]].to_numpy(dtype=float)
        particles = np.array([lo for lo, _ in prior.values()]) + unit * np.array([hi - lo for lo, hi in prior.values()])
    seconds = time.perf_counter() - start
    posterior = Posterior(tuple(paths), particles, np.asarray(weights, dtype=float) / np.sum(weights))
    ess = float(1.0 / np.sum(posterior.weights**2))
    settings: dict[str, float] = {"population": population, "generations": generations, "reps": reps}
    settings |= {"minutes": minutes, "workers": workers}
    return Fit(posterior, epsilons, evaluations, seconds, ess, prior, (int(record.years[0]), cutoff), seed, settings)
