"""Why Vietnam moved: each driver's share of the utility change of each move.

Each step the Hedger weighs loosening, keeping or deepening each tie by the
change in its utility (docs/ODD.md 7.4). That change is a sum of terms
(``Situation.components``): security gained, less over-reliance, entrapment,
rivals' displeasure and the cost of the tie. Security is split further into
what more (or less) supply brings and how far engagement tames a power's
threat, by the symmetric (Shapley) split of the two, so the drivers add up
exactly to the utility change. Keeping a tie also earns the inertia bonus.

For a student the changes are told in points: a utility change divided by
the step and the choice's temperature, the units in which the model's
Vietnam weighs its moves (one point more multiplies a move's odds by about
2.7). Points are the same scale for every tie, and the habit of keeping a tie
(inertia) is in the same points. Rounded for reading, the drivers still add
up to the net: the rounding keeps their sum (``rounded_parts``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import cast

import numpy as np

from sim.model import kernels
from sim.model.agents import KEEP, MOVES
from sim.model.domain import POWERS
from sim.model.security import Situation, threat_faced
from sim.outputs.plots import NAMES

MOVE_NAMES = ("loosen", "keep", "deepen")
DONE = ("loosened", "kept", "deepened")
DOING = ("loosening", "keeping", "deepening")
SHOWN = 2  # drivers named in a sentence; the rest are summed as "the other drivers"
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

    scale: float = 1.0  # utility per point: the step times the choice's temperature

    def points(self, k: int) -> dict[str, float]:
        """Each driver's pull on move ``k``, in points."""
        return {d: float(c[k]) / self.scale for d, c in self.drivers.items()}

    def parts(self, k: int) -> tuple[float, list[tuple[str, float]]]:
        """The net of move ``k`` and its main drivers (the rest as one), rounded to 0.1 point so that they add up."""
        pull = self.points(k)
        named = sorted(pull, key=lambda d: -abs(pull[d]))[:SHOWN]
        rest = sum(v for d, v in pull.items() if d not in named)
        labels = [*named, "the other drivers"]
        values = [pull[d] for d in named] + [rest]
        net = float(self.gain[k]) / self.scale
        return rounded_parts(net, values)[0], list(zip(labels, rounded_parts(net, values)[1], strict=True))

    def sentence(self, student: bool = False) -> str:
        """The move, what it was worth and why, and the part chance played, in words a student reads."""
        name, k, p = NAMES[self.power], self.chosen, self.probability
        who = "You" if student else "Vietnam"
        if k == KEEP:
            others = [j for j in (0, 2) if self.feasible[j]]
            head = f"{name}: {who} kept the tie; habit is worth {self.inertia / self.scale:.1f} points for keeping it."
            if others:
                best = max(others, key=lambda j: self.gain[j])
                head += f" {DOING[best].capitalize()} instead {_worth(*self.parts(best))}."
            else:
                head += " No other move was allowed by the Four No's."
        else:
            head = f"{name}: {who} {DONE[k]} the tie. {DOING[k].capitalize()} {_worth(*self.parts(k))}."
        likeliest = int(np.argmax(p))
        chance = f"In this situation the model's Vietnam would {MOVE_NAMES[k]} this tie {p[k]:.0%} of the time"
        if likeliest != k:
            chance += f" and {MOVE_NAMES[likeliest]} it {p[likeliest]:.0%}"
            chance += ": your choice, not the likelier move." if student else ": chance picked the less likely move."
        elif p[k] < 0.75:
            chance += ": the likelier move, but chance could have gone the other way."
        else:
            chance += "."
        own = "" if self.own == k or not student else f" The model's own Vietnam made it {MOVE_NAMES[self.own]}."
        return f"{head} {chance}{own}"


def _worth(net: float, parts: list[tuple[str, float]]) -> str:
    terms = ", ".join(f"{label} {value:+.1f}" for label, value in parts)
    return f"was worth {net:+.1f} points: {terms}"


def rounded_parts(total: float, values: list[float], digits: int = 1) -> tuple[float, list[float]]:
    """``values`` rounded to ``digits`` decimals so that they add up to ``total`` rounded (largest remainders).

    ``total`` is the exact sum of ``values``; each value moves by less than one unit of the last digit.
    """
    unit = 10**digits
    scaled = [v * unit for v in values]
    floors = [int(np.floor(v)) for v in scaled]
    want = round(total * unit)
    short = want - sum(floors)  # between 0 and len(values) when the values add up to the total
    order = sorted(range(len(values)), key=lambda i: floors[i] - scaled[i])
    for i in order[: max(short, 0)]:
        floors[i] += 1
    return want / unit, [f / unit for f in floors]


def _insecurity(situation: Situation, received: np.ndarray, threat: np.ndarray) -> np.ndarray:
    w = situation.world
    return kernels.insecurity(received, threat, w.weight, w.demand)


def _terms(situation: Situation, before: np.ndarray, after: np.ndarray) -> dict[str, np.ndarray]:
    """Each driver's utility change from ``before`` to ``after`` (runs,), positive favours the move."""
    r0, r1 = situation.received(before), situation.received(after)
    h0, h1 = (threat_faced(a, situation.threat, situation.enmeshment) for a in (before, after))
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
        gain = cast(np.ndarray, sum(drivers.values()))  # a sum of arrays from 0, which numpy broadcasts
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
            float(step * temperature),
        )
    return reasons
