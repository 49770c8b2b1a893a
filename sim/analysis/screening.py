"""Which free parameters the record can tell apart: Sobol' total indices of the calibration's statistics (SALib).

A calibration can only learn a parameter that moves what it is matched on. Each free parameter's total Sobol'
index is estimated for each summary statistic of ``sim.analysis.summaries`` over the parameters' ranges
(Saltelli's sampling, one realisation per point). The points of one base sample (its two matrices' rows and
the rows between them) meet the same noise (common random numbers, each block one run of the ensemble): a
parameter's index then measures what changing it does to one history, averaged over histories, and not the
noise that every fresh realisation adds, which would give every parameter a large index. A
parameter is calibrated if its total index reaches SCREEN for at least one statistic, and otherwise left at its
default. The points cover the whole box of the ranges, the sources' orders included or not: screening asks what
moves the statistics, not what is plausible.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from sim.analysis.calibration import TABLE_CHUNK, Simulator
from sim.analysis.record import Record
from sim.runs.scenario import Scenario

SCREEN = 0.05  # the total index a parameter must reach on some statistic; fixed before any index was computed
SAMPLES = 1024  # Saltelli's base sample: (parameters + 2) points each; a power of two, as Sobol' sequences need


@dataclass(frozen=True)
class Screening:
    """The total indices, (statistics, parameters), with their 95% half-widths, and the parameters kept."""

    statistics: tuple[str, ...]
    paths: tuple[str, ...]
    total: np.ndarray
    confidence: np.ndarray
    points: int

    @property
    def kept(self) -> tuple[str, ...]:
        """The parameters whose total index reaches SCREEN on at least one statistic, in the given order."""
        top = np.nan_to_num(self.total, nan=0.0).max(axis=0)
        return tuple(p for p, t in zip(self.paths, top, strict=True) if t >= SCREEN)

    def report(self) -> dict[str, object]:
        """The screening as calibration.json records it: each parameter's largest index and on what statistic."""
        rows = {}
        for j, path in enumerate(self.paths):
            column = np.nan_to_num(self.total[:, j], nan=0.0)
            i = int(column.argmax())
            rows[path] = {
                "largest_total_index": round(float(column[i]), 4),
                "on": self.statistics[i],
                "ci95_half_width": round(float(np.nan_to_num(self.confidence[i, j])), 4),
                "calibrated": path in self.kept,
            }
        return {"method": "Sobol' total indices (SALib), Saltelli sampling", "threshold": SCREEN,
                "points": self.points, "parameters": rows}  # fmt: skip


def screen(
    scenario: Scenario, record: Record, cutoff: int, paths: Sequence[str], samples: int = SAMPLES, seed: int = 2025
) -> Screening:
    """The total Sobol' indices of each statistic with respect to each of ``paths`` over their ranges."""
    from SALib.analyze import sobol as sobol_analysis
    from SALib.sample import sobol as sobol_sample

    params = scenario.resolved_parameters
    ranges = [params[p].range for p in paths]
    if any(r is None for r in ranges):
        raise ValueError("every screened parameter needs a range")
    problem = {"num_vars": len(paths), "names": list(paths), "bounds": [list(r) for r in ranges if r is not None]}
    points = sobol_sample.sample(problem, samples, calc_second_order=False, seed=seed)
    simulate = Simulator(scenario, record, cutoff)
    per_base = len(paths) + 2  # SALib's rows of one base sample, together: A, A with each column of B, B
    noise = np.arange(len(points)) // per_base
    stats = simulate.over(paths, points, seed, noise, chunk=TABLE_CHUNK // per_base * per_base)  # whole base samples
    total = np.full((len(simulate.names), len(paths)), np.nan)
    confidence = np.full_like(total, np.nan)
    for i in range(stats.shape[1]):
        y = stats[:, i]
        if np.ptp(y) == 0:  # the statistic never moves (a rise no run makes by the cut-off): nothing to attribute
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            # a statistic that moves in few runs can be constant in a bootstrap resample: SALib counts that
            # resample's index as zero, nothing to attribute, and says so; the interval is still reported
            warnings.filterwarnings("ignore", message="Constant values encountered", category=UserWarning)
            indices = sobol_analysis.analyze(problem, y, calc_second_order=False, seed=seed, print_to_console=False)
        total[i], confidence[i] = indices["ST"], indices["ST_conf"]
    return Screening(tuple(simulate.names), tuple(paths), total, confidence, len(points))
