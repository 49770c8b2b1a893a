"""Ensemble execution: a scenario's runs in chunks, each chunk through the same agent rules.

Run *i* draws its random numbers from (seed, i) alone (``sim.streams``), so a
chunk of runs [first, first + n) reproduces exactly those runs of the whole
ensemble, and aggregates merge exactly (``sim.results.Aggregate``). The result
is therefore the same bit for bit whatever the chunk size.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sim.results import Aggregate

DEFAULT_CHUNK = 10_000


@dataclass(frozen=True)
class Chunk:
    first_run: int
    runs: int


def chunks(runs: int, size: int = DEFAULT_CHUNK) -> list[Chunk]:
    return [Chunk(first, min(size, runs - first)) for first in range(0, runs, size)]


def run_chunk(scenario, chunk: Chunk, seed: int, keep_model: bool = False):
    """Simulate one chunk; returns its Aggregate (and the model, when asked, for trajectories)."""
    agg = Aggregate(scenario.steps)
    model = scenario.model(runs=chunk.runs, seed=seed, first_run=chunk.first_run, record=keep_model, observers=[agg])
    model.run_for(scenario.steps)
    agg.close_chunk(model.verdict.mode, model.verdict.step)
    return agg, (model if keep_model else None)


def simulate(
    scenario,
    runs: int | None = None,
    seed: int | None = None,
    chunk_size: int = DEFAULT_CHUNK,
    on_chunk: Callable | None = None,
    keep_models: bool = False,
) -> Aggregate:
    """Run every chunk in turn and merge; ``on_chunk(chunk, model_or_None)`` after each."""
    runs = runs or scenario.runs
    seed = scenario.seed if seed is None else seed
    total = Aggregate(scenario.steps)
    for c in chunks(runs, chunk_size):
        agg, model = run_chunk(scenario, c, seed, keep_model=keep_models)
        total.merge(agg)
        if on_chunk is not None:
            on_chunk(c, model)
    return total
