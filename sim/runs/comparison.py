"""Paired comparison of two scenarios: the same runs, with common random numbers, one against the other.

Run ``i`` of each scenario draws from the same streams (same seed, same run
index), so differences come from the scenarios, not from the draws. The
difference in survival is read from the paired outcomes, with its 95%
interval; the difference in alignment is aggregated step by step.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from sim.model.domain import POWERS
from sim.model.outcomes import Failure
from sim.runs.chunks import DEFAULT_CHUNK, chunks
from sim.runs.results import Aggregate
from sim.runs.tally import paired_difference

if TYPE_CHECKING:
    from sim.runs.scenario import Scenario

DIFFERENCE_SERIES = {"alignment": (POWERS, -1.0, 1.0)}  # B minus A, per power


@dataclass
class Comparison:
    """What ``compare`` found over ``runs`` paired runs."""

    a: Scenario  # the scenarios compared
    b: Scenario
    runs: int
    seed: int
    difference: Aggregate  # alignment of B minus A, per step
    survived: np.ndarray = field(default_factory=lambda: np.zeros((2, 2), np.int64))  # [A survived, B survived]
    final: dict = field(default_factory=lambda: {k: np.zeros(len(POWERS)) for k in ("a", "b")})  # summed over runs

    @property
    def survival(self) -> tuple[float, float]:
        """Survival probability of A and of B."""
        return self.survived[1].sum() / self.runs, self.survived[:, 1].sum() / self.runs

    def survival_difference(self) -> tuple[float, float, float]:
        """Survival of B minus that of A, with its 95% interval (normal approximation, paired)."""
        only_a, only_b = self.survived[1, 0] / self.runs, self.survived[0, 1] / self.runs
        return paired_difference(only_b, only_a, self.runs)

    def final_alignment_mean(self, which: str) -> dict[str, float]:
        """Mean final tie per power under scenario ``which`` ("a" or "b")."""
        return {p: round(float(self.final[which][i] / self.runs), 6) for i, p in enumerate(POWERS)}

    def final_alignment_difference(self) -> dict[str, dict]:
        """Per power, the paired difference of the tie (B minus A) over time."""
        return {p: self.difference.stats("alignment", i) for i, p in enumerate(POWERS)}

    def report(self, parameters: str | Path | None = None) -> dict[str, object]:
        """The comparison as ``bamboo compare`` writes it in compare.json.

        Args:
            parameters: the posterior file the runs drew their parameters from, if any (recorded, not read).

        Returns:
            Each scenario's name, file and survival; their paired difference with its 95% interval and the
            runs counted by which of the two survived; the final alignment's difference (B minus A) and means.
        """
        pa, pb = self.survival
        survived = self.survived
        _, lo, hi = self.survival_difference()
        return {
            "a": {"scenario": self.a.name, "file": self.a.path, "survival_probability": round(float(pa), 6)},
            "b": {"scenario": self.b.name, "file": self.b.path, "survival_probability": round(float(pb), 6)},
            "runs": self.runs,
            "seed": self.seed,
            "common_random_numbers": True,
            "parameters": str(parameters) if parameters else None,
            "survival_difference": round(float(pb - pa), 6),
            "survival_difference_95ci": [round(lo, 6), round(hi, 6)],
            "paired_survival": {
                "both_survive": int(survived[1, 1]),
                "only_a_survives": int(survived[1, 0]),
                "only_b_survives": int(survived[0, 1]),
                "neither_survives": int(survived[0, 0]),
            },
            "final_alignment_difference": self.final_alignment_difference(),
            "final_alignment_mean": {"a": self.final_alignment_mean("a"), "b": self.final_alignment_mean("b")},
            "failure_mode_labels": [f.label for f in Failure],
        }


def compare(
    a: Scenario,
    b: Scenario,
    runs: int | None = None,
    seed: int | None = None,
    chunk: int = DEFAULT_CHUNK,
    on_chunk: Callable[[int], None] | None = None,
) -> Comparison:
    """B against A over the same ``runs`` (default: A's) from ``seed`` (default: A's), chunk by chunk.

    ``on_chunk(runs)`` is told as each chunk finishes. The scenarios must share their start and horizon.
    """
    if (a.start, a.horizon) != (b.start, b.horizon):
        raise ValueError(
            f"start and horizon ({b.start} to {b.horizon}) must match ({a.start} to {a.horizon}) "
            "for a paired comparison"
        )
    runs = runs or a.runs
    seed = a.seed if seed is None else seed
    result = Comparison(a, b, runs, seed, Aggregate(a.steps, DIFFERENCE_SERIES))
    for c in chunks(runs, chunk):
        ma = a.model(runs=c.runs, seed=seed, first_run=c.first_run)
        mb = b.model(runs=c.runs, seed=seed, first_run=c.first_run)
        ma.run_for(a.steps)
        mb.run_for(b.steps)
        ta, tb = ma.trajectories()["alignment"], mb.trajectories()["alignment"]
        for t in range(a.steps + 1):
            result.difference.observe(t, {"alignment": tb[t] - ta[t]})
        result.difference.close_chunk(np.zeros(c.runs, np.int8), np.full(c.runs, -1))
        sa, sb = ma.verdict.survived, mb.verdict.survived
        np.add.at(result.survived, (sa.astype(int), sb.astype(int)), 1)
        result.final["a"] += ta[-1].sum(axis=0)
        result.final["b"] += tb[-1].sum(axis=0)
        if on_chunk is not None:
            on_chunk(c.runs)
    return result
