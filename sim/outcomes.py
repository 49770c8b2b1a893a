"""Outcomes: partnership tiers, failure modes and the survival verdict."""

from __future__ import annotations

from enum import IntEnum

import numpy as np

TIERS = ("none", "comprehensive", "strategic", "comprehensive_strategic", "alliance")
_TIER_THRESHOLDS = TIERS[1:]


class Failure(IntEnum):
    """How multi-alignment ends (MODEL.md); NONE while it survives."""

    NONE = 0
    BANDWAGONING = 1  # one tie crosses the alliance line
    DROPPED_PARTNER = 2  # one tie falls below the lowest tier
    ISOLATION = 3  # no supplier meets the demand

    @property
    def label(self) -> str:
        return self.name.lower()


def tier(a: np.ndarray, scalars: dict[str, np.ndarray]) -> np.ndarray:
    """Partnership tier index (into TIERS) of each alignment, same shape as ``a``."""
    t = np.zeros(a.shape, dtype=np.int8)
    for name in _TIER_THRESHOLDS:
        limit = scalars[name].reshape((-1,) + (1,) * (a.ndim - 1))
        t += (a >= limit).astype(np.int8)
    return t


def failure_now(a: np.ndarray, satisfaction: np.ndarray, scalars: dict[str, np.ndarray]) -> np.ndarray:
    """The failure mode each run is in at this moment (Failure.NONE if none).

    Isolation outranks bandwagoning, which outranks a dropped partner, when
    several hold at once: the worse condition names the failure.
    """
    mode = np.zeros(a.shape[0], dtype=np.int8)
    dropped = np.any(a < scalars["comprehensive"][:, None], axis=1)
    bandwagon = np.any(a >= scalars["alliance"][:, None], axis=1)
    isolated = satisfaction.mean(axis=1) < scalars["isolation"]
    mode[dropped] = Failure.DROPPED_PARTNER
    mode[bandwagon] = Failure.BANDWAGONING
    mode[isolated] = Failure.ISOLATION
    return mode


class Verdict:
    """The first failure of each run and when it happened; failure is absorbing."""

    def __init__(self, runs: int):
        self.mode = np.zeros(runs, dtype=np.int8)
        self.step = np.full(runs, -1, dtype=np.int64)

    def update(self, step: int, mode_now: np.ndarray) -> None:
        new = (self.mode == Failure.NONE) & (mode_now != Failure.NONE)
        self.mode[new] = mode_now[new]
        self.step[new] = step

    @property
    def survived(self) -> np.ndarray:
        return self.mode == Failure.NONE

    def shares(self) -> dict[str, float]:
        """Share of runs per outcome: survived and each failure mode."""
        n = max(len(self.mode), 1)
        return {f.label if f else "survived": float(np.sum(self.mode == f)) / n for f in Failure}
