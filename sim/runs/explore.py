"""Designs over a scenario's uncertain factors, simulated on the ensemble path: one row of outcomes per point.

A *factor* is whatever a scenario leaves open: a parameter with a range (in
the parameter file or set by the scenario), an event's magnitude given as a
range, or an event's date given as a range of months. A design is a set of
points of its factors' ranges (from SALib's samplers, or a Latin hypercube);
``realize`` maps them to the values runs get, keeping the orders the sources
fix (``sim.model.params.keep_orders``) with redraws hashed from the point, so that
every outcome is a function of the point alone.

Each point is simulated over ``replicates`` runs whose noise differs (choice
noise, and any uncertain parameter that is not a factor), and its outcomes are
the means over them. With ``common_noise`` (sensitivity analysis), replicate
*j* of every point draws the same random numbers (run index *j*), so that two
points differ only by their factors; without it (scenario discovery), every
run has its own index, and a box's density is a collapse rate over
independent runs. The whole design is one vectorised model per chunk of
points, run on the executors of ``sim.runs.ensemble`` (here, a local pool or a Dask
cluster) and kept chunk by chunk in a ``Checkpoint``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from sim.model.calendar import Month
from sim.model.checks import suggest
from sim.model.domain import POWERS
from sim.model.outcomes import Failure
from sim.model.params import Parameter, keep_orders
from sim.model.strategies import DEFAULT, STRATEGIES
from sim.model.streams import Streams
from sim.runs.checkpoint import Checkpoint
from sim.runs.chunks import Chunk
from sim.runs.ensemble import DaskCluster, InProcess, ProcessPool

if TYPE_CHECKING:  # the scenario module imports this one's users
    from sim.runs.scenario import Scenario

DEFAULT_CHUNK = 10_000  # runs simulated at once
ORDER_KEY = 0x0DE5  # the key of the hashed redraws that keep the sources' orders
MODES = tuple(f.label for f in Failure if f != Failure.NONE)
OUTCOMES = (
    "survival_probability",
    *(f"alignment_{p}" for p in POWERS),
    "value_of_hedging",
)
DESCRIPTIONS = {
    "survival_probability": "share of runs in which multi-alignment survives (the model's own strategy)",
    "alignment_US": "final alignment with the United States (mean over runs)",
    "alignment_CN": "final alignment with China (mean over runs)",
    "alignment_RU": "final alignment with Russia (mean over runs)",
    "value_of_hedging": "survival under hedging minus survival under the best alternative strategy",
}


class FactorError(ValueError):
    """A factor named on the command line that the scenario does not leave open."""


@dataclass(frozen=True)
class Factor:
    """One open dimension of a scenario: a parameter, an event's magnitude or an event's date."""

    name: str  # "powers.US.reach", "events[0].magnitude", "events[0].at"
    low: float
    high: float
    kind: str  # "parameter", "magnitude" or "date" (a date is a decimal year on the quarter grid)

    @property
    def event(self) -> int | None:
        """The index of the event the factor belongs to; None for a parameter."""
        return int(self.name[7 : self.name.index("]")]) if self.kind != "parameter" else None


def factors(scenario: Scenario, names: list[str] | None = None, events: bool = True) -> list[Factor]:
    """The scenario's open factors: every ranged parameter and, with ``events``, every event range.

    ``names`` chooses a subset (refused with a suggestion when a name is not open).
    """
    found = [Factor(p.path, *bounds_of(p), "parameter") for p in scenario.resolved_parameters.ranged()]
    if events:
        calendar = scenario.calendar
        for i, spec in enumerate(scenario.events):
            m = spec.fields.get("magnitude")
            if isinstance(m, list) and m[0] < m[1]:
                found.append(Factor(f"events[{i}].magnitude", float(m[0]), float(m[1]), "magnitude"))
            at = spec.fields["at"]
            if isinstance(at, list):
                first, last = (calendar.date(calendar.step_of(d)).decimal_year for d in at)
                if last > first:
                    found.append(Factor(f"events[{i}].at", first, last, "date"))
    if names is None:
        return found
    by_name = {f.name: f for f in found}
    chosen = []
    for name in names:
        if name not in by_name:
            hint = suggest(name, by_name)
            raise FactorError(f"{name}: not an open factor of this scenario{hint}; expected a parameter with a range")
        chosen.append(by_name[name])
    return chosen


def problem(factor_list: list[Factor]) -> dict:
    """The SALib problem: names and bounds (dates included, as decimal years)."""
    return {
        "num_vars": len(factor_list),
        "names": [f.name for f in factor_list],
        "bounds": [[f.low, f.high] for f in factor_list],
    }


def realize(scenario: Scenario, factor_list: list[Factor], x: np.ndarray) -> dict[str, np.ndarray]:
    """Design points given in factor units (rows of ``x``) as the values each point's runs get.

    Dates snap to the quarter the model steps in. Parameters keep the orders
    the sources fix: a point that breaks one draws the parameters of the
    broken pair again, as a run does (``keep_orders``), from uniforms hashed
    from their own positions (``sim.model.streams``), so that the repair is a
    function of the point alone and its values follow the same distribution
    as a run's draws.
    """
    x = np.atleast_2d(np.asarray(x, dtype=float))
    values: dict[str, np.ndarray] = {}
    unit: dict[str, np.ndarray] = {}
    for j, f in enumerate(factor_list):
        span = f.high - f.low
        u = np.clip((x[:, j] - f.low) / span, 0.0, 1.0) if span > 0 else np.zeros(len(x))
        unit[f.name] = u
        values[f.name] = date_grid(scenario, f, u) if f.kind == "date" else np.clip(x[:, j], f.low, f.high)
    params = scenario.resolved_parameters
    drawn = {f.name for f in factor_list if f.kind == "parameter"}
    if drawn:
        full = {path: np.full(len(x), p.value) for path, p in params.entries.items()} | {
            k: v for k, v in values.items() if k in drawn
        }

        def redraw(path: str, attempt: int) -> np.ndarray:
            # a fresh uniform hashed from the point's own position: a function of the point, yet as a new draw
            lo, hi = bounds_of(params[path])
            fresh = Streams(ORDER_KEY, np.ascontiguousarray(unit[path]).view(np.uint64))
            return lo + fresh.uniform(attempt, f"order:{path}")[:, 0] * (hi - lo)

        keep_orders(full, params.orders, drawn, redraw)
        values |= {k: full[k] for k in drawn}
    return values


def bounds_of(p: Parameter) -> tuple[float, float]:
    """The range of a parameter that has one (``ParameterSet.ranged``, a repair of a ranged pair)."""
    if p.range is None:
        raise ValueError(f"{p.path}: has no range")
    return p.range


def date_grid(scenario: Scenario, f: Factor, u: np.ndarray) -> np.ndarray:
    """Unit positions as the decimal years of the quarters a date range spans (each quarter equally likely)."""
    calendar = scenario.calendar
    first, last = step_of_year(scenario, f.low), step_of_year(scenario, f.high)
    steps = first + np.minimum((u * (last - first + 1)).astype(np.int64), last - first)
    return np.array([calendar.date(int(s)).decimal_year for s in steps])


def step_of_year(scenario: Scenario, year: float) -> int:
    """The model step of a decimal year on the quarter grid."""
    return scenario.calendar.step_of(month_of(year))


def month_of(year: float) -> Month:
    """The month a decimal year falls in, to the nearest month: 2025.5 is 2025-07."""
    index = round(float(year) * 12)
    return Month(index // 12, index % 12 + 1)


# -- a design and its execution -------------------------------------------------
# what a worker gets for a chunk of points: scenario, factor kinds, the points' values, the first point,
# replicates, seed, strategies
type PointsTask = tuple[Scenario, dict[str, str], dict[str, np.ndarray], int, int, int, tuple[str, ...]]


@dataclass
class Design:
    """Points of a scenario's factor space, each simulated over ``replicates`` runs."""

    scenario: Scenario
    factors: list[Factor]
    values: dict[str, np.ndarray]  # per point, realized
    replicates: int
    seed: int
    strategies: tuple[str, ...] = (DEFAULT,)
    common_noise: bool = True
    method: dict = field(default_factory=dict)  # what made the points (for the manifest)

    @property
    def points(self) -> int:
        """How many points (0 for a design without factors)."""
        return len(next(iter(self.values.values()))) if self.values else 0

    @property
    def runs(self) -> int:
        """How many runs in all: each point's replicates under each strategy."""
        return self.points * self.replicates * len(self.strategies)

    def identity(self) -> dict:
        """What the finished chunks are of: a resumed design must be this one."""
        digest = hashlib.sha256()
        for name in sorted(self.values):
            digest.update(name.encode() + np.ascontiguousarray(self.values[name]).tobytes())
        return {
            "scenario_sha256": self.scenario.content_hash(),
            "values_sha256": digest.hexdigest(),
            "replicates": self.replicates,
            "seed": self.seed,
            "strategies": list(self.strategies),
            "common_noise": self.common_noise,
        }

    def chunks(self, size: int = DEFAULT_CHUNK) -> list[Chunk]:
        """Whole points per chunk: ``Chunk(first_point, points)``."""
        per = max(1, size // self.replicates)
        return [Chunk(first, min(per, self.points - first)) for first in range(0, self.points, per)]

    def task(self, chunk: Chunk) -> PointsTask:
        """The arguments of ``simulate_points`` for the points of ``chunk``."""
        part = {k: v[chunk.first_run : chunk.first_run + chunk.runs] for k, v in self.values.items()}
        kinds = {f.name: f.kind for f in self.factors}
        return (self.scenario, kinds, part, chunk.first_run, self.replicates, self.seed, self.strategies)


def simulate_points(
    scenario: Scenario,
    kinds: dict[str, str],
    part: dict[str, np.ndarray],
    first_point: int,
    replicates: int,
    seed: int,
    strategies: tuple[str, ...],
    common_noise: bool = True,
) -> dict[str, np.ndarray]:
    """Per-point outcomes of a chunk of points: the unit of work shipped to workers.

    Under each strategy, the same runs (common random numbers): survival;
    under the scenario's own, also the final alignment and the failure modes.
    """
    n = len(next(iter(part.values()))) if part else 1
    runs = n * replicates
    values: dict[str, np.ndarray] = {}
    events: dict[str, np.ndarray] = {}
    for name, column in part.items():
        if kinds[name] == "date":  # the model takes the step the event falls in
            column = np.array([step_of_year(scenario, y) for y in column], dtype=np.int64)
        (values if kinds[name] == "parameter" else events)[name] = np.repeat(column, replicates)
    if common_noise:
        index = np.tile(np.arange(replicates, dtype=np.uint64), n)
    else:
        index = np.arange(first_point * replicates, (first_point + n) * replicates, dtype=np.uint64)
    out = {}
    for name in strategies:
        model = scenario.model(
            runs=runs, seed=seed, record=False, strategy=name, values=values, event_values=events, run_index=index
        )
        model.run_for(scenario.steps)
        per_point = model.verdict.survived.reshape(n, replicates).mean(axis=1)
        out[f"survival_{name}"] = per_point
        if name == strategies[0]:
            final = model.hedger.alignment.reshape(n, replicates, len(POWERS)).mean(axis=1)
            out |= {f"alignment_{p}": final[:, i] for i, p in enumerate(POWERS)}
            mode = model.verdict.mode.reshape(n, replicates)
            out |= {label: (mode == f).mean(axis=1) for f, label in zip(list(Failure)[1:], MODES, strict=True)}
    return out


def _task(args: PointsTask, common_noise: bool) -> dict[str, np.ndarray]:
    """``simulate_points`` on one chunk's arguments (a picklable function for the workers)."""
    return simulate_points(*args, common_noise=common_noise)


def run(
    design: Design,
    chunk_size: int = DEFAULT_CHUNK,
    *,
    run_on: InProcess | ProcessPool | DaskCluster | None = None,
    checkpoint: Checkpoint | None = None,
    on_chunk: Callable | None = None,
) -> dict[str, np.ndarray]:
    """Every point's outcomes, in design order; ``on_chunk(runs, resumed)`` follows each chunk.

    ``survival_probability`` and the alignments are the scenario's own
    strategy's; ``value_of_hedging`` (with more than one strategy) is the
    model's own strategy's survival minus the best alternative's, point by
    point, on the same runs.
    """
    from functools import partial

    parts = design.chunks(chunk_size)
    results: dict[int, dict[str, np.ndarray]] = {}
    todo = []
    per_point_runs = design.replicates * len(design.strategies)
    for c in parts:
        if checkpoint is not None and checkpoint.finished(0, c):
            results[c.first_run] = checkpoint.load_arrays(0, c)
            if on_chunk:
                on_chunk(c.runs * per_point_runs, True)
        else:
            todo.append((c, (design.task(c),)))
    if todo:
        fn = partial(_task, common_noise=design.common_noise)
        with run_on or InProcess() as ex:
            for c, out in ex.imap(fn, todo):
                if checkpoint is not None:
                    checkpoint.save_arrays(0, c, out)
                results[c.first_run] = out
                if on_chunk:
                    on_chunk(c.runs * per_point_runs, False)
    joined = {k: np.concatenate([results[c.first_run][k] for c in parts]) for k in results[parts[0].first_run]}
    own = design.strategies[0]
    table = {"survival_probability": joined[f"survival_{own}"]}
    table |= {f"alignment_{p}": joined[f"alignment_{p}"] for p in POWERS}
    others = [s for s in design.strategies if s != own]
    if others:
        best = np.max([joined[f"survival_{s}"] for s in others], axis=0)
        table["value_of_hedging"] = joined[f"survival_{own}"] - best
    table |= {m: joined[m] for m in MODES}
    table |= {f"survival_{s}": joined[f"survival_{s}"] for s in others}
    return table


def strategies_for(own: str, compare: bool) -> tuple[str, ...]:
    """The scenario's own strategy first, then (to value hedging) every other registered one."""
    return (own, *(s for s in STRATEGIES if s != own)) if compare else (own,)
