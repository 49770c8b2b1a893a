"""Calibration of the free parameters to the record up to a cut-off year, by ABC-SMC (pyabc).

Each particle is a point of the free parameters, within their documented
ranges (uniform priors) and keeping the orders the sources fix. Its
simulation is one realisation of the history scenario to the end of the
cut-off year, with its own random numbers (the record is one history: its
noise is part of what is matched), summarised by the statistics of
``sim.analysis.summaries``: when each tie rose into each tier, and Russia's
share of the arms delivered by period. The distance to the record's own
statistics is pyabc's adaptive weighted Euclidean distance, each statistic
scaled by its median absolute deviation across the particles of the
generation, so that a year of delay and a tenth of the arms share are
weighed by how much each varies. A generation's threshold is the median of
its distances; the calibration stops after ``generations`` populations,
when the acceptance rate falls below MIN_ACCEPTANCE (more particles would
cost more than they tell), or at its time cap.

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
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING

import numpy as np

from sim.analysis import summaries
from sim.analysis.measurement import arms_by_step, run_means, year_end_steps
from sim.analysis.posterior import Posterior
from sim.analysis.record import Record
from sim.model.calendar import Month
from sim.model.params import ParameterSet
from sim.runs.scenario import Scenario

if TYPE_CHECKING:  # pyabc is slow to import: calibrate imports it when it runs
    from pyabc.transition import Transition

# stop when fewer than this share of a generation's simulations are accepted (pyabc's min_acceptance_rate): a
# generation costs population / rate simulations, so the last one at 5% costs twenty populations, which is what
# a twin experiment of five truths can spend on two cores in a quarter of an hour (set for the cost, before
# any coverage was seen; at 2% one generation alone took 7,000 simulations)
MIN_ACCEPTANCE = 0.05
TABLE_CHUNK = 5000  # draws simulated at once
DRAWS = 20_000  # prior draws of an ABC rejection: its reference table
ACCEPT = 0.01  # the share of the reference table nearest the record that is kept: 200 of 20,000
LOCAL_SHARE = 0.25  # the share of the population whose covariance perturbs a particle (pyabc LocalTransition)
METHOD = (
    "ABC-SMC (pyabc), one realisation per particle with its own noise; distance: adaptive weighted Euclidean "
    "(MAD scales) over the summary statistics of sim.analysis.summaries (each tie's rise into each tier, "
    "Russia's arms share by period)"
)  # as reported


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
    settings: dict[str, float]  # as calibrate or reject was called: its sizes, caps and workers
    method: str = METHOD

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
            "method": self.method,
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
        if self.method == REJECTION:
            return [
                f"Bamboo posterior: ABC rejection of {fitted} free parameters to the record {first}-{cutoff}",
                f"scenario {scenario}; {self.settings['draws']:,.0f} draws from the prior, the nearest "
                f"{self.settings['accept']:.1%} kept, seed {self.seed}",
                "use: bamboo run|compare|history --parameters posterior.csv",
            ]
        return [
            f"Bamboo posterior: ABC-SMC (pyabc) of {fitted} free parameters to the record {first}-{cutoff}",
            f"scenario {scenario}; population {self.settings['population']}, {len(self.epsilons)} generations, "
            f"{self.settings['reps']} runs per particle, seed {self.seed}",
            "use: bamboo run|compare|history --parameters posterior.csv",
        ]


def keeps_orders(values: Mapping[str, float], orders: Iterable[tuple[str, str]]) -> bool:
    """Whether the values keep every sourced order (higher, lower) between two of them; others are not judged."""
    return all(values[hi] > values[lo] for hi, lo in orders if hi in values and lo in values)


class Simulator:
    """Realisations of the history scenario, with given parameter values, summarised as the record is."""

    def __init__(self, scenario: Scenario, record: Record, cutoff: int) -> None:
        """Runs to the end of ``cutoff``, summarised over the record's years up to it."""
        self.scenario, self.record = scenario, record
        self.years = record.years[record.years <= cutoff]
        self.steps = scenario.calendar.step_of(Month(cutoff + 1, 1))
        self.names = summaries.names(record, cutoff)
        self.periods = [(p.first, p.last) for p in record.russian_arms_share if p.last <= cutoff]

    def realise(
        self, values: Mapping[str, float | np.ndarray], seed: int, runs: int = 1, run_index: np.ndarray | None = None
    ) -> tuple[np.ndarray, dict[tuple[int, int], np.ndarray]]:
        """``runs`` histories from ``seed``: tiers by year's end, and Russia's arms share by period, per run.

        The tiers are (runs, powers, years); the shares, per period, a value per run (NaN where nothing was
        delivered). ``values`` holds a value per run or one for all. ``run_index`` gives each run the random
        numbers of that run of the ensemble (default: runs 0, 1, ...): runs given the same index meet the same
        noise, and differ only by their values.
        """
        model = self.scenario.model(
            runs=runs,
            seed=seed,
            horizon=self.steps,
            values={path: np.broadcast_to(np.asarray(v, dtype=float), runs).copy() for path, v in values.items()},
            run_index=run_index,
        )
        calendar = self.scenario.calendar
        dated = np.array([calendar.date(k).year for k in range(1, self.steps + 1)])
        shares = arms_by_step(model, self.steps)
        by_period = {(first, last): run_means(shares, dated, first, last) for first, last in self.periods}
        tier = model.trajectories()["tier"]  # (steps + 1, runs, powers)
        at = year_end_steps(calendar, self.years, tier.shape[0])
        return np.transpose(tier[at], (1, 2, 0)), by_period

    def __call__(
        self, values: Mapping[str, float | np.ndarray], seed: int, runs: int = 1, run_index: np.ndarray | None = None
    ) -> np.ndarray:
        """The statistics of ``runs`` histories (``realise``), (runs, statistics) in the order of ``names``."""
        by_year, by_period = self.realise(values, seed, runs, run_index)
        return summaries.of_runs(by_year, self.years, by_period, self.record)

    def over(
        self, paths: Sequence[str], points: np.ndarray, seed: int, run_index: np.ndarray, chunk: int = TABLE_CHUNK
    ) -> np.ndarray:
        """The statistics of one history per point (points, paths), run ``run_index[i]``'s noise for point ``i``.

        Simulated ``chunk`` points at a time, so that a large design holds only one chunk's histories at once.
        """
        blocks = []
        for first in range(0, len(points), chunk):
            block = points[first : first + chunk]
            values = {p: block[:, j] for j, p in enumerate(paths)}
            blocks.append(self(values, seed, len(block), run_index=run_index[first : first + chunk]))
        return np.concatenate(blocks)


REJECTION = (
    "ABC rejection: a reference table of draws from the prior, each one realisation with its own noise, "
    "simulated at once; the draws whose summary statistics (sim.analysis.summaries) lie nearest the record's, "
    "each statistic scaled by its median absolute deviation over the table, are kept with equal weights"
)


def draw_prior(scenario: Scenario, paths: Sequence[str], draws: int, rng: np.random.Generator) -> np.ndarray:
    """``draws`` points uniform over the parameters' ranges that keep every sourced order, (draws, parameters)."""
    params = scenario.resolved_parameters
    ranges = np.array([params[p].range for p in paths], dtype=float)
    kept: list[np.ndarray] = []
    while sum(len(k) for k in kept) < draws:
        points = ranges[:, 0] + rng.random((draws, len(paths))) * (ranges[:, 1] - ranges[:, 0])
        keep = [keeps_orders(dict(zip(paths, row, strict=True)), params.orders) for row in points]
        kept.append(points[np.array(keep, dtype=bool)])
    return np.concatenate(kept)[:draws]


@dataclass(frozen=True)
class Table:
    """A reference table: prior draws (draws, parameters) over ``paths`` and their statistics (draws, statistics)."""

    paths: tuple[str, ...]
    points: np.ndarray
    statistics: np.ndarray
    names: tuple[str, ...]
    seconds: float


def reference_table(
    scenario: Scenario, record: Record, cutoff: int, paths: Sequence[str], draws: int = DRAWS, seed: int = 2025
) -> Table:
    """``draws`` prior draws, each simulated once with its own noise (run ``i`` of the seed's ensemble)."""
    start = time.perf_counter()
    points = draw_prior(scenario, paths, draws, np.random.default_rng(seed))
    simulate = Simulator(scenario, record, cutoff)
    statistics = simulate.over(paths, points, seed, np.arange(len(points)))
    return Table(tuple(paths), points, statistics, tuple(simulate.names), time.perf_counter() - start)


def nearest(table: Table, observed: Mapping[str, float], accept: float = ACCEPT) -> tuple[np.ndarray, float]:
    """The indices of the table's draws nearest ``observed``, and the distance of the farthest kept.

    Each statistic is scaled by its median absolute deviation over the table; one that never varies (a rise no
    draw makes by the cut-off) tells nothing and is left out.
    """
    y = np.array([observed[n] for n in table.names])
    stats = table.statistics
    mad = np.median(np.abs(stats - np.median(stats, axis=0)), axis=0)
    used = mad > 0
    distance = np.sqrt((((stats[:, used] - y[used]) / mad[used]) ** 2).sum(axis=1))
    k = max(1, round(accept * len(distance)))
    order = np.argsort(distance, kind="stable")[:k]
    return order, float(distance[order[-1]])


def reject(
    scenario: Scenario,
    record: Record,
    cutoff: int,
    paths: list[str],
    *,
    draws: int = DRAWS,
    accept: float = ACCEPT,
    seed: int = 2025,
    table: Table | None = None,
) -> Fit:
    """ABC rejection over ``paths`` to the record up to ``cutoff``: the nearest ``accept`` of ``draws`` prior draws.

    The model simulates a whole reference table at once (each draw a run of one ensemble), which pyabc's
    one-particle-at-a-time simulations cannot; the kept draws weigh the same, so the effective sample size is
    their number. ``table``, if given, is used instead of simulating one (a twin experiment's truths share it).
    """
    start = time.perf_counter()
    table = table or reference_table(scenario, record, cutoff, paths, draws, seed)
    kept, threshold = nearest(table, summaries.of_record(record, cutoff), accept)
    particles = table.points[kept]
    posterior = Posterior(tuple(paths), particles, np.full(len(kept), 1.0 / len(kept)))
    prior = _priors(scenario.resolved_parameters, paths)
    settings: dict[str, float] = {"draws": len(table.points), "accept": accept}
    seconds = table.seconds + time.perf_counter() - start
    years = (int(record.years[0]), cutoff)
    return Fit(
        posterior, [threshold], len(table.points), seconds, float(len(kept)), prior, years, seed, settings, REJECTION
    )


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
    reps: int = 1,
    seed: int = 2025,
    minutes: float = 25.0,
    workers: int = 1,
    on_evaluation: Callable[[], object] | None = None,
) -> Fit:
    """ABC-SMC over ``paths`` (each with a range) to the record up to ``cutoff``.

    It stops after ``generations`` populations, when fewer than MIN_ACCEPTANCE of a generation's simulations
    are accepted, or after ``minutes`` of wall time, whichever comes first. Each simulation is ``reps``
    realisations whose statistics are averaged (1, the default, matches the record: one history; more narrows
    the noise a particle shows below the record's, and so the posterior below what the record supports).
    ``on_evaluation`` is called after each simulation (a progress bar's update).

    Raises:
        CalibrationError: ABC-SMC could not go on.
    """
    import pyabc

    logging.getLogger("ABC").setLevel(logging.WARNING)  # the caller shows progress; pyabc's log is noise
    simulator = Simulator(scenario, record, cutoff)
    observed = summaries.of_record(record, cutoff)
    params = scenario.resolved_parameters
    prior = _priors(params, paths)
    names = {key(path): path for path in paths}

    # pyabc works in the unit cube, each side one parameter's range: its transition kernel then sees
    # comparable scales (the ranges run from about 0.01 wide to 17 wide) and its densities stay finite
    def scaled(k: str, u: float) -> float:
        lo, hi = prior[names[k]]
        return lo + float(u) * (hi - lo)

    def model(particle: Mapping[str, float]) -> dict[str, float]:
        # each particle its own noise, drawn from the generator pyabc samples from (seeded for the calibration)
        noise = int(np.random.randint(0, 2**31 - 1))  # noqa: NPY002
        stats = simulator({names[k]: scaled(k, u) for k, u in particle.items()}, noise, reps).mean(axis=0)
        if on_evaluation is not None:
            on_evaluation()
        return dict(zip(simulator.names, stats.tolist(), strict=True))

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
        pyabc.AdaptivePNormDistance(p=2, scale_function=pyabc.distance.mad),
        population_size=population,
        sampler=sampler,
        transitions=transition(pyabc, population, len(paths)),
    )
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="bamboo-abc-") as tmp, _seeded(seed):
        abc.new(f"sqlite:///{Path(tmp) / 'abc.db'}", observed)
        try:
            history = abc.run(
                max_nr_populations=generations,
                max_walltime=datetime.timedelta(minutes=minutes),
                min_acceptance_rate=MIN_ACCEPTANCE,
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
