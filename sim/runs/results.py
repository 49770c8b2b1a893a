"""Results of an ensemble: streamed aggregates, the summary, trajectories and the manifest.

An ``Aggregate`` takes each step's outcomes for a chunk of runs and keeps only
what the summary and plots need: exact counts of failures, fixed-point integer
sums (so means are identical whatever the chunking, the number of workers or
the order of merging), and fixed-bin histograms from which percentile bands are
read. Memory does not grow with the number of runs; a percentile read from a
histogram is within one bin (1/BINS of the series' span) of the exact one.
"""

from __future__ import annotations

import csv
import hashlib
import json
import platform
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from sim.model import kernels
from sim.model.domain import DIMENSIONS, POWERS, TIERS
from sim.model.observations import SERIES
from sim.model.outcomes import Failure
from sim.runs.fixed import SCALE, rounded

if TYPE_CHECKING:
    import pyarrow as pa
    import pyarrow.parquet as pq

    from sim.model.balance import BalanceModel
    from sim.runs.scenario import Scenario
    from sim.runs.tally import StrategyTally

BINS = 2000
# The series an Aggregate keeps, by name: (its columns, the lower and upper edges of its histogram).
Series = Mapping[str, tuple[tuple[str, ...], float, float]]


def series_named(names: Iterable[str] | None) -> Series | None:
    """The series ``names`` (None: all of them, the Aggregate's default)."""
    return None if names is None else {k: SERIES[k] for k in names}


class Aggregate:
    """Bounded-memory, order-independent summary of any number of runs."""

    def __init__(self, steps: int, series: Series | None = None) -> None:
        """An empty summary of ``steps`` steps (and step 0) of the ``series`` (default: all of ``SERIES``)."""
        self.steps = steps
        self.series = series or SERIES
        self.runs = 0
        t = steps + 1
        self.hist = {k: np.zeros((t, len(c), BINS), np.int64) for k, (c, _, _) in self.series.items()}
        self.sums = {k: np.zeros((t, len(c)), np.int64) for k, (c, _, _) in self.series.items()}
        self.tiers = np.zeros((t, len(POWERS), len(TIERS)), np.int64)
        self.failures = np.zeros((len(Failure), t), np.int64)  # runs whose first failure came at step t
        self.dropped_by_power = 0  # runs whose dropped partner was the power's walking away, not Vietnam's choice
        self.tally: StrategyTally | None = None  # the same runs under every strategy (sim.runs.tally), when asked for

    # -- shipping: a chunk's Aggregate goes from a worker to the command ---------------
    def __getstate__(self) -> dict[str, Any]:
        """The histograms' counts in the narrowest type that holds them: a fifth of the bytes to pickle."""
        state = self.__dict__.copy()
        state["hist"] = {k: v.astype(np.min_scalar_type(int(v.max()))) for k, v in self.hist.items()}
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        """Back from shipping: the counts in int64 again."""
        state["hist"] = {k: v.astype(np.int64) for k, v in state["hist"].items()}
        self.__dict__.update(state)

    # -- filling ---------------------------------------------------------------
    def observe(self, step: int, values: dict[str, np.ndarray], scalars: dict[str, np.ndarray] | None = None) -> None:
        """Add one step of a chunk: ``values`` as from ``observations`` (``kernels.accumulate``, ``count_tiers``)."""
        for key, x in values.items():
            if key in self.series:
                _, lo, hi = self.series[key]
                kernels.accumulate(self.hist[key][step], self.sums[key][step], x, lo, hi, float(SCALE))
        if "tier" in values:
            kernels.count_tiers(self.tiers[step], values["tier"])

    def close_chunk(
        self, verdict_mode: np.ndarray, verdict_step: np.ndarray, dropped_by_power: np.ndarray | None = None
    ) -> None:
        """Count the chunk's runs and their verdicts (after its last step), and which dropped partners walked away."""
        self.runs += len(verdict_mode)
        if dropped_by_power is not None:
            self.dropped_by_power += int(np.count_nonzero(dropped_by_power))
        step = np.where(verdict_step < 0, self.steps, verdict_step)
        np.add.at(self.failures, (verdict_mode.astype(np.int64), step), 1)

    def merge(self, other: Aggregate) -> Aggregate:
        """Add the counts of ``other`` (other runs of the same steps and series) to these; exact in any order."""
        for key in self.hist:
            self.hist[key] += other.hist[key]
            self.sums[key] += other.sums[key]
        self.tiers += other.tiers
        self.failures += other.failures
        self.dropped_by_power += other.dropped_by_power
        self.runs += other.runs
        if other.tally is not None:
            if self.tally is None:
                self.tally = type(other.tally)(other.tally.names)
            self.tally.merge(other.tally)
        return self

    # -- reading ---------------------------------------------------------------
    def mean(self, key: str) -> np.ndarray:
        """Exact mean over runs (to 1e-9), shape (steps+1, columns)."""
        return self.sums[key] / SCALE / max(self.runs, 1)

    def percentiles(self, key: str, qs: Sequence[float]) -> np.ndarray:
        """Percentiles (0-100) from the histogram, shape (steps+1, columns, len(qs))."""
        _, lo, hi = self.series[key]
        h = self.hist[key]
        cum = np.cumsum(h, axis=-1)
        n = cum[..., -1:]
        out = np.empty((*h.shape[:2], len(qs)))
        for j, q in enumerate(qs):
            target = np.maximum(q / 100.0 * n, 1e-12)
            b = np.minimum(np.sum(cum < target, axis=-1, keepdims=True), BINS - 1)
            below = np.take_along_axis(cum, b, -1) - np.take_along_axis(h, b, -1)
            inside = np.take_along_axis(h, b, -1)
            frac = np.divide(target - below, inside, out=np.full(inside.shape, 0.5), where=inside > 0)
            out[..., j] = (lo + (b + np.clip(frac, 0, 1)) * (hi - lo) / BINS)[..., 0]
        return out

    def survival_probability(self) -> float:
        """The share of runs that never failed."""
        return float(self.failures[Failure.NONE].sum()) / max(self.runs, 1)

    def failure_modes(self) -> dict[str, float]:
        """The share of runs that failed, by the mode of their first failure."""
        n = max(self.runs, 1)
        return {f.label: float(self.failures[f].sum()) / n for f in Failure if f != Failure.NONE}

    def survival_curve(self) -> np.ndarray:
        """Share of runs still multi-aligned at each step."""
        failed = self.failures[1:].sum(axis=0).cumsum()
        return 1.0 - failed / max(self.runs, 1)

    def failure_curves(self) -> dict[str, np.ndarray]:
        """Cumulative share of runs failed by each mode at each step."""
        n = max(self.runs, 1)
        return {f.label: self.failures[f].cumsum() / n for f in Failure if f != Failure.NONE}

    def stats(self, key: str, column: int, step: int = -1) -> dict[str, float]:
        """Mean and 5th, 50th and 95th percentiles of one column of a series at ``step`` (default: the last)."""
        p05, p50, p95 = self.percentiles(key, (5, 50, 95))[step, column]
        return {
            "mean": rounded(self.mean(key)[step, column]),
            "p05": rounded(p05),
            "p50": rounded(p50),
            "p95": rounded(p95),
        }


def summary(scenario: Scenario, agg: Aggregate, runs: int, seed: int) -> dict[str, object]:
    """The summary.json of an ensemble of ``scenario``: survival, failure modes and the final state."""
    return {
        "scenario": scenario.name,
        "runs": runs,
        "seed": seed,
        "start": str(scenario.start),
        "horizon": str(scenario.horizon),
        "steps": scenario.steps,
        "survival_probability": rounded(agg.survival_probability()),
        "failure_modes": {k: rounded(v) for k, v in agg.failure_modes().items()},
        # of the dropped partners, the share of runs in which the power walked away (the rest: Vietnam let it go)
        "dropped_partner_by": {
            "power": rounded(agg.dropped_by_power / max(agg.runs, 1)),
            "vietnam": rounded((agg.failures[Failure.DROPPED_PARTNER].sum() - agg.dropped_by_power) / max(agg.runs, 1)),
        },
        "final_alignment": {p: agg.stats("alignment", i) for i, p in enumerate(POWERS)},
        "final_tier_shares": {
            p: {t: rounded(agg.tiers[-1, i, j] / max(agg.runs, 1)) for j, t in enumerate(TIERS)}
            for i, p in enumerate(POWERS)
        },
        "hedging_index": agg.stats("hedging_index", 0),
        "security_satisfaction": {
            "mean_of_dimensions": agg.stats("security", 0),
            **{d: agg.stats("satisfaction", i) for i, d in enumerate(DIMENSIONS)},
        },
        "percentile_error": 1.0 / BINS,
        "strategy": scenario.strategy,
        **({"strategies": _strategies(agg.tally)} if agg.tally is not None else {}),
    }


def _strategies(tally: StrategyTally) -> dict[str, object]:
    """The strategies compared on the same runs, each with its description."""
    from sim.model.strategies import STRATEGIES
    from sim.runs.tally import comparison

    return comparison(tally, {name: STRATEGIES[name].description for name in tally.names})


def file_hashes(files: Sequence[Path]) -> dict[str, str]:
    """Each file's SHA-256 by its name: what a manifest lists, and what ``--force`` checks before replacing."""
    return {f.name: hashlib.sha256(f.read_bytes()).hexdigest() for f in files}


def environment() -> dict[str, str]:
    """The versions a result was made with."""
    import mesa

    return {"python": platform.python_version(), "numpy": np.__version__, "mesa": mesa.__version__}


def write_csv(path: Path, columns: Sequence[str], rows: Iterable[Iterable[object]]) -> Path:
    """A CSV table: a header of ``columns``, then ``rows`` as given, lines ending in a bare newline."""
    with open(path, "w", newline="") as f:
        table = csv.writer(f, lineterminator="\n")
        table.writerow(columns)
        table.writerows(rows)
    return path


def manifest(scenario: Scenario, runs: int, seed: int, files: list[Path]) -> dict[str, object]:
    """What a result folder was made from, so it can be made again."""
    from sim import __version__

    params = scenario.resolved_parameters
    return {
        "package_version": __version__,
        "scenario": {"name": scenario.name, "file": scenario.path, "content_sha256": scenario.content_hash()},
        "flattened_scenario": scenario.as_dict(),
        "runs": runs,
        "seed": seed,
        "resolved_parameters": {
            path: {
                "value": p.value,
                "range": list(p.range) if p.range else None,
                "drawn_per_run": bool(p.range and (scenario.uncertainty or p.uncertain)),
            }
            for path, p in params.entries.items()
        },
        "time": params.time,
        "environment": environment(),
        "files": file_hashes(files),
    }


def write_json(path: Path, data: Mapping[str, object]) -> Path:
    """``data`` as indented JSON in ``path``, keys in their own order; returns ``path``."""
    path.write_text(json.dumps(data, indent=2, sort_keys=False) + "\n")
    return path


class TrajectoryWriter:
    """Per-step trajectories in long format (one row per run, step and power), Parquet, chunk by chunk.

    Rows are in the order run, step, power, so that the chunks of an ensemble,
    written one after another, give the same rows whatever the chunking.
    """

    def __init__(self, path: Path | pa.NativeFile) -> None:
        """A writer to ``path`` (a file, or a pyarrow stream), opened with the first chunk."""
        self.path = path
        self.writer: pq.ParquetWriter | None = None

    def write(self, model: BalanceModel) -> None:
        """Append the trajectories of ``model``'s runs (recorded with ``record=True``)."""
        import pyarrow as pa
        import pyarrow.parquet as pq

        t = model.trajectories()
        steps, runs, powers = t["alignment"].shape
        step = np.tile(np.repeat(np.arange(steps), powers), runs)
        dates = np.array([str(d) for d in model.dates])
        run = np.repeat(model.run_index.astype(np.int64), steps * powers)
        power = np.tile(np.array(POWERS), steps * runs)

        def per_power(x: np.ndarray) -> np.ndarray:
            return x.swapaxes(0, 1).reshape(-1)

        def per_run(x: np.ndarray) -> np.ndarray:
            return np.repeat(x.swapaxes(0, 1).reshape(runs * steps, -1), powers, axis=0)

        columns = {
            "run": run,
            "step": step,
            "date": dates[step],
            "power": power,
            "alignment": per_power(t["alignment"]),
            "tier": np.array(TIERS)[per_power(t["tier"])],
            "courtship": per_power(t["courtship"]),
            "coercion": per_power(t["coercion"]),
            "memory": per_power(t["memory"]),
            "hedging_index": per_run(t["hedging_index"])[:, 0],
        }
        sat = per_run(t["satisfaction"])
        for i, d in enumerate(DIMENSIONS):
            columns[f"satisfaction_{d}"] = sat[:, i]
        table = pa.table(columns)
        if self.writer is None:
            self.writer = pq.ParquetWriter(self.path, table.schema, compression="zstd")
        self.writer.write_table(table)

    def close(self) -> None:
        """Finish the file (nothing was opened if no chunk was written)."""
        if self.writer is not None:
            self.writer.close()
