"""The agents: Vietnam as the Hedger and the great powers as security suppliers.

Each agent holds its state as arrays over the runs axis, so one agent object
acts in every run of an ensemble at once, by the same rule.
"""

from __future__ import annotations

import numpy as np
from mesa import Agent

from sim.params import POWERS
from sim.security import Situation

# Vietnam's options for each tie each step: loosen, keep, deepen (in step sizes).
MOVES = np.array([-1.0, 0.0, 1.0])
STAY = 1


class GreatPower(Agent):
    """A security supplier (US, China or Russia): courts and coerces Vietnam.

    It courts when its share of Vietnam's engagement falls below what its
    interest in Vietnam warrants, and coerces when Vietnam's tie with a rival
    exceeds what it tolerates (docs/ODD.md 7.5).
    """

    def __init__(self, model, name: str):
        super().__init__(model)
        self.name = name
        self.index = POWERS.index(name)

    @property
    def courtship(self) -> np.ndarray:
        return self.model.courtship[:, self.index]

    @property
    def coercion(self) -> np.ndarray:
        return self.model.coercion[:, self.index]

    def respond(self) -> None:
        """Update courtship and coercion from Vietnam's alignment at the start of the step."""
        m, w, p = self.model, self.model.world, self.index
        a = m.hedger.alignment
        s = w.scalars
        share = a[:, p] / np.maximum(a.sum(axis=1), 1e-12)
        total = w.interest.sum(axis=1)
        # with no power interested at all, none is owed a share
        warranted = np.divide(w.interest[:, p], total, out=np.zeros_like(total), where=total > 0)
        shortfall = np.maximum(warranted - share, 0.0)
        court = (1 - s["courtship_decay"]) * self.courtship + s["courtship_gain"] * w.interest[:, p] * shortfall
        excess = np.maximum(a - w.tolerance[:, p, :], 0.0)
        excess[:, p] = 0.0
        pressure = np.sum(w.rivalry[:, p, :] * excess, axis=1)
        coerce = (1 - s["coercion_decay"]) * self.coercion + s["coercion_gain"] * pressure
        m.next_courtship[:, p] = np.clip(court, 0.0, 1.0)
        m.next_coercion[:, p] = np.clip(coerce, 0.0, 1.0)


class Hedger(Agent):
    """Vietnam: adjusts its alignment with each power to balance security and costs.

    For each tie it weighs three moves (loosen, keep, deepen) by the change in
    utility they bring, with a bonus for keeping (inertia) and logit noise,
    within the band the Four No's allow (docs/ODD.md 7.4).
    """

    def __init__(self, model, alignment: np.ndarray, memory: np.ndarray):
        super().__init__(model)
        self.alignment = alignment  # (runs, powers)
        self.memory = memory  # memory of abandonment (runs, powers)
        self.last_delivery: np.ndarray | None = None
        self.drivers: dict[str, np.ndarray] = {}

    def trust(self, reliability: np.ndarray) -> np.ndarray:
        """Reliability as Vietnam perceives it, discounted by its memory of abandonment."""
        return reliability * (1.0 - self.memory)

    def remember(self, supply: np.ndarray, reliability: np.ndarray) -> None:
        """A sudden fall in what a power delivers is remembered, and slowly forgotten."""
        delivery = supply.mean(axis=2) * reliability
        if self.last_delivery is not None:
            drop = np.maximum(self.last_delivery - delivery, 0.0)
            decay = self.model.world.scalars["memory_decay"][:, None]
            self.memory = np.clip(self.memory * (1.0 - decay) + drop, 0.0, 1.0)
        self.last_delivery = delivery

    def ceiling(self) -> np.ndarray:
        """Highest alignment allowed: just under the alliance line while the Four No's hold."""
        s = self.model.world.scalars
        in_force = s["four_nos"] >= 0.5
        below_line = s["alliance"] - 1e-9
        return np.where(in_force, below_line, 1.0)[:, None]

    def adjust(self) -> None:
        m = self.model
        situation: Situation = m.situation
        s = m.world.scalars
        a = self.alignment
        step = s["step_size"][:, None]
        ceiling = self.ceiling()
        u0 = situation.utility(a)
        n_runs, n_powers = a.shape
        gain = np.zeros((n_runs, n_powers, len(MOVES)))
        for p in range(n_powers):
            for k, move in enumerate(MOVES):
                if move == 0:
                    continue
                trial = a.copy()
                trial[:, p] = a[:, p] + move * step[:, 0]
                gain[:, p, k] = situation.utility(trial) - u0
        feasible = np.ones_like(gain, dtype=bool)
        feasible[:, :, 0] = a - step >= 0.0
        feasible[:, :, 2] = a + step <= ceiling
        temperature = s["temperature"][:, None, None]
        scores = gain / (step[:, :, None] * temperature)
        scores[:, :, STAY] += m.world.inertia
        noise = m.streams.gumbel(m.steps, "hedger.choice", n_powers * len(MOVES))
        scores = np.where(feasible, scores + noise.reshape(scores.shape), -np.inf)
        choice = np.argmax(scores, axis=2)
        self.alignment = np.clip(a + MOVES[choice] * step, 0.0, ceiling)
        self.drivers = {"gain": gain, "choice": choice}
