"""Outcomes: the failure modes of multi-alignment and the survival verdict.

A failure is a state that lasts, not a threshold crossed once: a condition
counts as a failure only when it has held for ``thresholds.persistence``
quarters in a row, and each condition is judged on Vietnam's ties and on what
the powers do about them (docs/ODD.md 7.8).
"""

from __future__ import annotations

from enum import IntEnum

import numpy as np

from sim.model import kernels
from sim.model.domain import TIERS


class Failure(IntEnum):
    """How multi-alignment ends (MODEL.md); NONE while it survives."""

    NONE = 0
    BANDWAGONING = 1  # Vietnam sides: a tie at the alliance line, or one tie a siding gap above another
    DROPPED_PARTNER = 2  # a tie falls below the lowest tier: Vietnam lets it go, or the power walks away
    ISOLATION = 3  # no supplier meets the demand: partners add (almost) nothing

    @property
    def label(self) -> str:
        """The mode's name as the outputs spell it, in lower case."""
        return self.name.lower()


# The lines the failure conditions are judged against, in the order ``kernels.conditions`` takes them.
LINES = ("alliance", "siding", "comprehensive", "isolation", "coercion")
# When several conditions reach their persistence at the same step, the worse names the failure.
_PRIORITY = (Failure.DROPPED_PARTNER, Failure.BANDWAGONING, Failure.ISOLATION)


def tier(a: np.ndarray, scalars: dict[str, np.ndarray]) -> np.ndarray:
    """The tier band each alignment lies in (an index into TIERS), same shape as ``a``."""
    t = np.zeros(a.shape, dtype=np.int8)
    for name in TIERS[1:]:
        limit = scalars[name].reshape((-1,) + (1,) * (a.ndim - 1))
        t += (a >= limit).astype(np.int8)
    return t


def conditions(
    a: np.ndarray,
    satisfaction: np.ndarray,
    alone: np.ndarray,
    coercion: np.ndarray,
    scalars: dict[str, np.ndarray],
) -> tuple[dict[Failure, np.ndarray], np.ndarray]:
    """Which failure conditions hold in each run at this moment, (runs,) each; and where a power coerces.

    - bandwagoning is Vietnam siding: a tie at or above the alliance line, or
      one tie more than the siding gap above another (the Four No's: "no
      siding with one country against another", 002);
    - dropped partner: a tie below the lowest tier: the partnership is let go;
    - isolation: what all partners together add to the mean share of demand
      met (``satisfaction`` against ``alone``, the same with every tie cut)
      below the isolation line (004: "it cannot find any suppliers of security").

    A power coercing at or above the coercion line is returned apart: it is
    the power's doing and a cost to Vietnam, and Vietnam may well be more
    secure for the risk it ran (004: Vietnam "is willing to run minor risks in
    its relationship with the United States"), so it is no failure of
    multi-alignment unless it drives one of the three.

    The rule is ``kernels.conditions``; ``scalars`` gives each run's lines.
    """
    lines = np.stack([scalars[k] for k in LINES])
    wagon, dropped, isolated, coerced = kernels.conditions(a, satisfaction, alone, coercion, lines)
    return {Failure.BANDWAGONING: wagon, Failure.DROPPED_PARTNER: dropped, Failure.ISOLATION: isolated}, coerced


class Verdict:
    """Each run's first lasting failure: its mode, the step its spell began, and whether it recovered.

    A condition's spell counts quarters in a row; when it reaches the run's
    persistence the run has failed, dated to the spell's first quarter.
    Failure is final for the verdict, but the conditions go on being watched:
    ``recovered`` says whether a failed run is free of every condition now.
    """

    def __init__(self, runs: int) -> None:
        """``runs`` runs, all surviving and free of every condition so far."""
        self.mode = np.zeros(runs, dtype=np.int8)
        self.step = np.full(runs, -1, dtype=np.int64)
        self.spell = {f: np.zeros(runs, dtype=np.int64) for f in _PRIORITY}
        self.clear = np.ones(runs, dtype=bool)  # no condition holds at the last step observed
        self.coercion_spell = np.zeros(runs, dtype=np.int64)
        self.coerced = np.zeros(runs, dtype=bool)  # a power coerced at the coercion line for as long as a failure
        self.coerced_step = np.full(runs, -1, dtype=np.int64)  # the quarter that spell began
        # a dropped partner the power walked away from: its engagement below the lowest tier when the failure came
        self.walked_away = np.zeros(runs, dtype=bool)

    def update(
        self,
        step: int,
        now: dict[Failure, np.ndarray],
        persistence: np.ndarray,
        coerced: np.ndarray | None = None,
        left: np.ndarray | None = None,
    ) -> None:
        """Extend or break each condition's spell with ``now`` at ``step``; date the failures reached.

        ``persistence`` is each run's number of quarters a spell must last (at
        least one). ``coerced``: where a power coerces at the coercion line
        now; a spell of it as long is sustained coercion, reported beside the
        verdict (``coerced``), not as a failure. ``left``: where a tie below the
        lowest tier belongs to a power that holds up less than that tier now
        (``walked_away``): a dropped partner reached then is the power's doing,
        since the tie sinks toward what the power holds up whatever Vietnam
        does, and only deepening it every quarter would offset the erosion
        (docs/ODD.md 7.11); otherwise Vietnam let it go.
        """
        need = np.maximum(np.round(persistence), 1).astype(np.int64)
        alive = self.mode == Failure.NONE
        for mode in _PRIORITY:  # later modes overwrite: the worse names a failure found at once
            self.spell[mode] = np.where(now[mode], self.spell[mode] + 1, 0)
            new = alive & (self.spell[mode] >= need)
            self.mode[new] = mode
            self.step[new] = step - need[new] + 1
        if left is not None:
            self.walked_away |= alive & (self.mode == Failure.DROPPED_PARTNER) & left
        self.clear = ~np.logical_or.reduce(list(now.values()))
        if coerced is not None:
            self.coercion_spell = np.where(coerced, self.coercion_spell + 1, 0)
            first = ~self.coerced & (self.coercion_spell >= need)
            self.coerced |= first
            self.coerced_step[first] = step - need[first] + 1

    @property
    def survived(self) -> np.ndarray:
        """Runs with no lasting failure so far."""
        return self.mode == Failure.NONE

    @property
    def recovered(self) -> np.ndarray:
        """Failed runs free of every failure condition at the last step observed."""
        return ~self.survived & self.clear

    @property
    def dropped_by_power(self) -> np.ndarray:
        """Runs whose failure is a dropped partner the power walked away from (else Vietnam let it go)."""
        return (self.mode == Failure.DROPPED_PARTNER) & self.walked_away

    def shares(self) -> dict[str, float]:
        """Share of runs per outcome: survived and each failure mode."""
        n = max(len(self.mode), 1)
        return {f.label if f else "survived": float(np.sum(self.mode == f)) / n for f in Failure}
