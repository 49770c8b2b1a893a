"""Security mechanisms: supply, threat, satisfaction and Vietnam's utility.

Pure functions over arrays with runs first (``a`` is alignment, shape
(runs, powers)). Each equation is stated in docs/ODD.md, section 7.
"""

from __future__ import annotations

import numpy as np

from sim.params import DIMENSIONS, POWERS, World

RU = POWERS.index("RU")
TERRITORY = DIMENSIONS.index("territory")


def effective_supply(world: World, courtship: np.ndarray, coercion: np.ndarray) -> np.ndarray:
    """What each power offers per dimension this step, shape (runs, powers, dims).

    Courtship raises the offer; coercion withdraws the instruments it uses
    (tariffs, border closures, arms); Russia gives up territorial supply as it
    draws closer to China.
    """
    boost = 1.0 + world.scalars["courtship_boost"][:, None, None] * courtship[:, :, None]
    withdrawn = 1.0 - coercion[:, :, None] * world.withholds
    supply = world.supply * boost * withdrawn
    deference = world.scalars["deference"] * world.scalars["russia_china_closeness"]
    supply[:, RU, TERRITORY] *= 1.0 - deference
    return np.clip(supply, 0.0, 1.0)


def security_received(a: np.ndarray, supply: np.ndarray, reach: np.ndarray, trust: np.ndarray) -> np.ndarray:
    """Noisy-OR over suppliers: R_d = 1 - prod_p (1 - a_p reach_p trust_p supply_pd)."""
    delivered = (a * reach * trust)[:, :, None] * supply
    return 1.0 - np.prod(1.0 - delivered, axis=1)


def threat_level(a: np.ndarray, threat: np.ndarray, enmeshment: np.ndarray) -> np.ndarray:
    """H_d = sum_p threat_pd (1 - enmeshment a_p): engaging a power tames its threat."""
    damping = 1.0 - enmeshment[:, None] * a
    return np.sum(threat * damping[:, :, None], axis=1)


def security_utility(received: np.ndarray, threat: np.ndarray, demand: np.ndarray) -> np.ndarray:
    """u_d = 1 - exp(-(R_d - H_d) / D_d): exponential utility of net security.

    Diminishing returns while supply exceeds threat; below zero, and steeply so,
    when threat exceeds supply. The marginal value of supply, exp(-(R-H)/D)/D,
    therefore rises with threat: a maritime crisis makes partners' help worth
    more. D_d sets the scale: the net security at which ~63% is satisfied.
    """
    return 1.0 - np.exp(-(received - threat) / demand)


def satisfaction(received: np.ndarray, threat: np.ndarray, demand: np.ndarray) -> np.ndarray:
    """s_d = max(u_d, 0): the reported satisfaction, zero when threat outweighs supply."""
    return np.maximum(security_utility(received, threat, demand), 0.0)


def concentration(a: np.ndarray) -> np.ndarray:
    """Herfindahl index of engagement shares: 1/n when even, 1 when one tie is all."""
    total = a.sum(axis=1, keepdims=True)
    share = np.divide(a, total, out=np.full_like(a, 1.0 / a.shape[1]), where=total > 0)
    return np.sum(share**2, axis=1)


def hedging_index(a: np.ndarray) -> np.ndarray:
    """Normalised entropy of engagement shares: 1 when even, 0 when one tie is all."""
    total = a.sum(axis=1, keepdims=True)
    share = np.divide(a, total, out=np.zeros_like(a), where=total > 0)
    logs = np.log(share, out=np.zeros_like(share), where=share > 0)
    return -np.sum(share * logs, axis=1) / np.log(a.shape[1])


class Situation:
    """What Vietnam faces this step, fixed while it weighs its options."""

    def __init__(self, world: World, supply: np.ndarray, threat: np.ndarray, trust: np.ndarray):
        self.world = world
        self.supply = supply  # effective supply (runs, powers, dims)
        self.threat = threat  # threat incl. coercion (runs, powers, dims)
        self.trust = trust  # perceived reliability (runs, powers)

    def security_utility(self, a: np.ndarray) -> np.ndarray:
        """u_d per run and dimension for alignment ``a``."""
        w = self.world
        received = security_received(a, self.supply, w.reach, self.trust)
        return security_utility(received, threat_level(a, self.threat, w.scalars["enmeshment"]), w.demand)

    def satisfaction(self, a: np.ndarray) -> np.ndarray:
        return np.maximum(self.security_utility(a), 0.0)

    def components(self, a: np.ndarray) -> dict[str, np.ndarray]:
        """Utility terms per run: security gained and each cost (positive numbers)."""
        w, s = self.world, self.world.scalars
        security = np.sum(w.weight * self.security_utility(a), axis=1)
        entrapment = s["entrapment_cost"] * np.sum(w.rivalry.sum(axis=2) * a**2, axis=1)
        # excess[:, q, p]: how far Vietnam's tie with p exceeds what rival q tolerates
        excess = np.maximum(a[:, None, :] - w.tolerance, 0.0) * (w.rivalry > 0)
        displeasure = s["displeasure_cost"] * np.sum(w.rivalry * excess**2, axis=(1, 2))
        return {
            "security": security,
            "concentration": s["concentration_cost"] * concentration(a),
            "entrapment": entrapment,
            "displeasure": displeasure,
            "tie_cost": np.sum(w.tie_cost * a, axis=1),
        }

    def utility(self, a: np.ndarray) -> np.ndarray:
        c = self.components(a)
        return c["security"] - c["concentration"] - c["entrapment"] - c["displeasure"] - c["tie_cost"]
