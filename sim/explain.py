"""Why Vietnam moved: each driver's share of the utility change of each move.

Each step the Hedger weighs loosening, keeping or deepening each tie by the
change in its utility (docs/ODD.md 7.4). That change is a sum of terms
(``Situation.components``): security gained, less over-reliance, entrapment,
rivals' displeasure and the cost of the tie. Security is split further into
what more (or less) supply brings and how far engagement tames a power's
threat, by the symmetric (Shapley) split of the two, so the drivers add up
exactly to the utility change. Keeping a tie also earns the inertia bonus.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.agents import KEEP, MOVES
from sim.params import POWERS
from sim.security import Situation, shortfall, threat_faced

MOVE_NAMES = ("loosen", "keep", "deepen")
DRIVERS = (
    "security supplied",
    "threat tamed or fed",
    "over-reliance",
    "entrapment",
    "rivals' displeasure",
    "broken commitment",
    "cost of the tie",
)


@dataclass
class Decision:
    """What Vietnam weighed at one step, and what was done (by the model or by a student)."""

    step: int
    alignment: np.ndarray  # before the move (runs, powers)
    situation: Situation
    feasible: np.ndarray  # which moves the Four No's allowed (runs, powers, 3)
    gain: np.ndarray  # utility change of each move (runs, powers, 3)
    own: np.ndarray  # the model's own choice, index into MOVES (runs, powers)
    chosen: np.ndarray  # the move made, index into MOVES (runs, powers)


@dataclass
class Reason:
    """Why one tie moved: every driver of each of the three moves, for one run."""

    power: str
    chosen: int  # index into MOVES of the move made
    own: int  # index into MOVES of the model's own choice
    drivers: dict[str, np.ndarray]  # driver -> utility change of (loosen, keep, deepen)
    gain: np.ndarray  # utility change of each move: the drivers' sum
    inertia: float  # the bonus for keeping, in utility units
    feasible: np.ndarray  # which moves the Four No's allow
    probability: np.ndarray  # chance of each move under the model's logit choice

    def sentence(self) -> str:
        """The move and its main reasons, in words."""
        k = self.chosen
        head = f"{self.power}: {MOVE_NAMES[k]} (the model's odds {self.probability[k]:.0%})"
        if k == KEEP:
            others = [j for j in (0, 2) if self.feasible[j]]
            best = max(others, key=lambda j: self.gain[j]) if others else None
            why = "no other move allowed" if best is None else f"{MOVE_NAMES[best]} would gain {self.gain[best]:+.4f}"
            why = f"inertia {self.inertia:+.4f}; {why}"
        else:
            change = {d: float(c[k]) for d, c in self.drivers.items()}
            pro, con = max(change, key=change.get), min(change, key=change.get)
            why = f"for it {pro} {change[pro]:+.4f}, against it {con} {change[con]:+.4f}, net {self.gain[k]:+.4f}"
        own = "" if self.own == k else f"; the model's Vietnam would {MOVE_NAMES[self.own]}"
        return f"{head}: {why}{own}"


def _insecurity(situation: Situation, received: np.ndarray, threat: np.ndarray) -> np.ndarray:
    w = situation.world
    return np.sum(w.weight * shortfall(received - threat, w.demand) ** 2, axis=1)


def _terms(situation: Situation, before: np.ndarray, after: np.ndarray) -> dict[str, np.ndarray]:
    """Each driver's utility change from ``before`` to ``after`` (runs,), positive favours the move."""
    w = situation.world
    r0, r1 = situation.received(before), situation.received(after)
    h0, h1 = (threat_faced(a, situation.threat, w.enmeshment) for a in (before, after))
    s00, s10 = _insecurity(situation, r0, h0), _insecurity(situation, r1, h0)
    s01, s11 = _insecurity(situation, r0, h1), _insecurity(situation, r1, h1)
    c0, c1 = situation.components(before), situation.components(after)
    return {
        "security supplied": -0.5 * ((s10 - s00) + (s11 - s01)),
        "threat tamed or fed": -0.5 * ((s01 - s00) + (s11 - s10)),
        **{d: c0[d] - c1[d] for d in DRIVERS[2:]},
    }


def explain(decision: Decision, run: int = 0) -> dict[str, Reason]:
    """The reasons behind each tie's move in one run, per power."""
    situation, a = decision.situation, decision.alignment
    s = situation.world.scalars
    step, temperature = s["step_size"][run], s["temperature"][run]
    reasons = {}
    for p, power in enumerate(POWERS):
        drivers = {d: np.zeros(len(MOVES)) for d in DRIVERS}
        for k, move in enumerate(MOVES):
            if move == 0:
                continue
            trial = a.copy()
            trial[:, p] = a[:, p] + move * s["step_size"]
            for d, change in _terms(situation, a, trial).items():
                drivers[d][k] = change[run]
        gain = sum(drivers.values())
        inertia = float(situation.world.inertia[run, p] * step * temperature)
        feasible = decision.feasible[run, p]
        score = gain / (step * temperature)
        score[KEEP] += situation.world.inertia[run, p]
        score = np.where(feasible, score - score[feasible].max(), -np.inf)
        probability = np.exp(score) / np.exp(score).sum()
        reasons[power] = Reason(
            power,
            int(decision.chosen[run, p]),
            int(decision.own[run, p]),
            drivers,
            gain,
            inertia,
            feasible,
            probability,
        )
    return reasons
