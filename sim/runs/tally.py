"""Strategies side by side: the same runs under each of Vietnam's strategies, with common random numbers.

A ``StrategyTally`` keeps, for a chunk of runs simulated under every
strategy (same seed, same run indices, so the same worlds and the same
noise), exact counts that merge by addition: how many runs survived under
each combination of strategies (so every paired comparison can be read
off), each strategy's failure modes, and fixed-point sums of each run's
mean security satisfaction and of its paired difference from the model's
own strategy. ``comparison`` turns a tally into the ``strategies`` block of
``summary.json``: survival and satisfaction per strategy, and the value of
hedging with 95% intervals (docs/ODD.md 7.9).
"""

from __future__ import annotations

import math

import numpy as np

from sim.model.outcomes import Failure
from sim.model.strategies import DEFAULT
from sim.runs.fixed import SCALE, rounded

Z95 = 1.959963984540054  # the normal quantile of a two-sided 95% interval


def paired_difference(only_first: float, only_second: float, runs: int) -> tuple[float, float, float]:
    """A paired difference of two survival shares, with its 95% interval (normal approximation).

    Args:
        only_first: the share of runs in which only the first survived.
        only_second: the share of runs in which only the second survived.
        runs: the number of paired runs.

    Returns:
        The first's survival minus the second's, and the interval's ends, within [-1, 1].
    """
    diff = float(only_first - only_second)
    half = Z95 * math.sqrt(max(only_first + only_second - diff * diff, 0.0) / runs)
    return diff, max(diff - half, -1.0), min(diff + half, 1.0)


class RunMeans:
    """An observer: each run's mean security satisfaction over the steps it observes."""

    def __init__(self) -> None:
        """No step observed yet."""
        self.total: np.ndarray | None = None
        self.steps = 0

    def observe(self, step: int, values: dict[str, np.ndarray], scalars: object = None) -> None:
        """Add this step's security satisfaction (the first column of ``values["security"]``) to each run's total."""
        security = values["security"][:, 0]
        self.total = security.copy() if self.total is None else self.total + security
        self.steps += 1

    @property
    def mean(self) -> np.ndarray:
        """Each run's mean satisfaction; an error before any step is observed."""
        if self.total is None:
            raise ValueError("no step observed")
        return self.total / max(self.steps, 1)


class StrategyTally:
    """Exact, mergeable counts of the same runs under several strategies."""

    ARRAYS = ("patterns", "modes", "security", "gap", "gap_sq", "coerced", "security_by_pattern")  # merge and keep

    def __init__(self, names: tuple[str, ...]) -> None:
        """An empty tally of the strategies ``names``, which must include the model's own."""
        if DEFAULT not in names:
            raise ValueError(f"a comparison of strategies needs the model's own, {DEFAULT!r}")
        self.names = tuple(names)
        self.runs = 0
        n = len(self.names)
        self.patterns = np.zeros(2**n, np.int64)  # runs by which strategies survived them (bit s: strategy s)
        self.modes = np.zeros((n, len(Failure)), np.int64)
        self.security = np.zeros(n, np.int64)  # sum of each run's mean satisfaction
        self.gap = np.zeros(n, np.int64)  # sum of the paired difference from the model's own strategy
        self.gap_sq = np.zeros(n, np.int64)  # and of its square
        self.coerced = np.zeros(n, np.int64)  # runs in which a power coerced at the coercion line for a spell
        # sum of each run's mean satisfaction under each strategy, by the run's survival pattern: the paired fates
        self.security_by_pattern = np.zeros((n, 2**n), np.int64)

    def add(
        self,
        survived: dict[str, np.ndarray],
        modes: dict[str, np.ndarray],
        security: dict[str, np.ndarray],
        coerced: dict[str, np.ndarray] | None = None,
    ) -> None:
        """One chunk: per strategy, each run's survival, failure mode, mean satisfaction and coercion (same runs)."""
        code = sum(survived[name].astype(np.int64) << s for s, name in enumerate(self.names))
        self.patterns += np.bincount(code, minlength=self.patterns.size)
        own = security[DEFAULT]
        for s, name in enumerate(self.names):
            fixed = np.rint(security[name] * SCALE).astype(np.int64)
            np.add.at(self.security_by_pattern[s], code, fixed)  # integers: exact in any order of chunks
            self.modes[s] += np.bincount(modes[name].astype(np.int64), minlength=len(Failure))
            self.security[s] += fixed.sum()
            gap = own - security[name]
            self.gap[s] += np.rint(gap * SCALE).astype(np.int64).sum()
            self.gap_sq[s] += np.rint(gap * gap * SCALE).astype(np.int64).sum()
            if coerced is not None:
                self.coerced[s] += int(np.count_nonzero(coerced[name]))
        self.runs += len(own)

    def merge(self, other: StrategyTally) -> StrategyTally:
        """Add the counts of ``other`` (a tally of other runs under the same strategies) to this one."""
        if other.names != self.names:
            raise ValueError(f"cannot merge tallies of {other.names} into {self.names}")
        for key in self.ARRAYS:
            getattr(self, key)[...] += getattr(other, key)
        self.runs += other.runs
        return self

    # -- reading -------------------------------------------------------------
    def _survived(self, s: int) -> np.ndarray:
        """Which survival patterns have strategy ``s`` surviving (a mask over ``patterns``)."""
        return (np.arange(self.patterns.size) >> s) & 1 == 1

    def survival(self, name: str) -> float:
        """The share of runs that survived under strategy ``name``."""
        return float(self.patterns[self._survived(self.names.index(name))].sum()) / max(self.runs, 1)

    def paired_survival(self, a: str, b: str) -> tuple[float, float, float]:
        """Survival of ``a`` minus that of ``b`` over the same runs, with its 95% interval (normal, paired)."""
        sa, sb = self._survived(self.names.index(a)), self._survived(self.names.index(b))
        n = max(self.runs, 1)
        only_a = float(self.patterns[sa & ~sb].sum()) / n
        only_b = float(self.patterns[~sa & sb].sum()) / n
        return paired_difference(only_a, only_b, n)

    def security_mean(self, name: str) -> float:
        """The mean over runs of each run's mean security satisfaction under ``name``."""
        return float(self.security[self.names.index(name)]) / SCALE / max(self.runs, 1)

    def security_by_fate(self, name: str) -> tuple[float | None, float | None]:
        """The mean satisfaction of ``name``'s failed runs and of its surviving runs (None where there are none).

        A failure should leave Vietnam worse off: a verdict that fails runs
        more secure than those it passes is judging something else.
        """
        s = self.names.index(name)
        kept = self._survived(s)
        survivors = int(self.patterns[kept].sum())
        failures = self.runs - survivors
        failed = float(self.security_by_pattern[s][~kept].sum()) / SCALE
        surviving = float(self.security_by_pattern[s][kept].sum()) / SCALE
        return (failed / failures if failures else None, surviving / survivors if survivors else None)

    def paired_fates(self, a: str, b: str) -> tuple[int, float | None, float | None]:
        """Over the runs where ``a`` fails and ``b`` survives: their number, and each one's mean satisfaction there.

        The same worlds and noise (common random numbers), so the two means compare
        a failing Vietnam with a surviving one in the very same runs.
        """
        sa, sb = self._survived(self.names.index(a)), self._survived(self.names.index(b))
        where = ~sa & sb
        runs = int(self.patterns[where].sum())
        if not runs:
            return 0, None, None
        mean = [float(self.security_by_pattern[self.names.index(x)][where].sum()) / SCALE / runs for x in (a, b)]
        return runs, mean[0], mean[1]

    def security_gap(self, name: str) -> tuple[float, float, float]:
        """Mean satisfaction of the model's own strategy minus ``name``'s, paired, with its 95% interval."""
        s, n = self.names.index(name), max(self.runs, 1)
        mean = float(self.gap[s]) / SCALE / n
        var = max(float(self.gap_sq[s]) / SCALE / n - mean * mean, 0.0)
        half = Z95 * math.sqrt(var / n)
        return mean, mean - half, mean + half


def _maybe(value: float | None) -> float | None:
    return None if value is None else rounded(value)


def _only_one_fails(tally: StrategyTally, name: str) -> dict[str, object]:
    """The runs where only one of the model's strategy and ``name`` fails, and how secure each was in them."""
    out: dict[str, object] = {}
    for label, failing, surviving in (("model_fails", DEFAULT, name), ("this_fails", name, DEFAULT)):
        runs, fails, survives = tally.paired_fates(failing, surviving)
        out[label] = {
            "runs": runs,
            "security_of_the_failing": _maybe(fails),
            "security_of_the_surviving": _maybe(survives),
        }
    return out


def comparison(tally: StrategyTally, descriptions: dict[str, str]) -> dict[str, object]:
    """The ``strategies`` block of summary.json."""
    n = max(tally.runs, 1)
    per = {}
    for s, name in enumerate(tally.names):
        gap = tally.security_gap(name)
        per[name] = {
            "description": descriptions[name],
            "survival_probability": rounded(tally.survival(name)),
            "failure_modes": {f.label: rounded(tally.modes[s, f] / n) for f in Failure if f != Failure.NONE},
            "mean_security_satisfaction": rounded(tally.security_mean(name)),
            "mean_security_satisfaction_of_failed_runs": _maybe(tally.security_by_fate(name)[0]),
            "mean_security_satisfaction_of_surviving_runs": _maybe(tally.security_by_fate(name)[1]),
            "share_coerced": rounded(tally.coerced[s] / n),
            **({} if name == DEFAULT else {"when_only_one_fails": _only_one_fails(tally, name)}),
            "satisfaction_gap_of_hedging": {"mean": rounded(gap[0]), "ci95": [rounded(gap[1]), rounded(gap[2])]},
        }
    others = [name for name in tally.names if name != DEFAULT]
    block: dict[str, object] = {
        "runs": tally.runs,
        "common_random_numbers": True,
        "model_strategy": DEFAULT,
        "by_strategy": per,
    }
    if others:
        best = max(others, key=tally.survival)
        worst = min(others, key=tally.survival)
        value = {}
        for label, other in (("best", best), ("worst", worst)):
            diff, lo, hi = tally.paired_survival(DEFAULT, other)
            value[f"against_{label}"] = {
                "strategy": other,
                "survival_difference": rounded(diff),
                "ci95": [rounded(lo), rounded(hi)],
            }
        block["value_of_hedging"] = value
    return block
