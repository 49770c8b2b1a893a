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


def _over_powers(x: np.ndarray, op) -> np.ndarray:
    """Reduce axis 1 (the powers) in order: with three powers, a few array operations are
    several times faster than a numpy reduction over so short an axis, and give the same result."""
    out = x[:, 0]
    for i in range(1, x.shape[1]):
        out = op(out, x[:, i])
    return out


def security_received(a: np.ndarray, supply: np.ndarray, reach: np.ndarray, trust: np.ndarray) -> np.ndarray:
    """Noisy-OR over suppliers: R_d = 1 - prod_p (1 - a_p reach_p trust_p supply_pd)."""
    delivered = (a * reach * trust)[:, :, None] * supply
    return 1.0 - _over_powers(1.0 - delivered, np.multiply)


def threat_level(a: np.ndarray, threat: np.ndarray, enmeshment: np.ndarray) -> np.ndarray:
    """H_d = sum_p threat_pd (1 - enmeshment a_p): engaging a power tames its threat."""
    damping = 1.0 - enmeshment[:, None] * a
    return _over_powers(threat * damping[:, :, None], np.add)


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
        # fixed for the step, so computed once rather than for each of Vietnam's trial moves
        self.rivalries = world.rivalry.sum(axis=2)  # each power's total rivalry

    def received(self, a: np.ndarray) -> np.ndarray:
        return security_received(a, self.supply, self.world.reach, self.trust)

    def security_utility(self, a: np.ndarray) -> np.ndarray:
        """u_d per run and dimension for alignment ``a``."""
        w = self.world
        return security_utility(self.received(a), threat_level(a, self.threat, w.scalars["enmeshment"]), w.demand)

    def satisfaction(self, a: np.ndarray) -> np.ndarray:
        return np.maximum(self.security_utility(a), 0.0)

    def components(self, a: np.ndarray) -> dict[str, np.ndarray]:
        """Utility terms per run: security gained and each cost (positive numbers)."""
        w, s = self.world, self.world.scalars
        security = _over_powers(w.weight * self.security_utility(a), np.add)
        entrapment = s["entrapment_cost"] * _over_powers(self.rivalries * a**2, np.add)
        # excess[:, q, p]: how far Vietnam's tie with p exceeds what rival q tolerates (no rivalry, no cost:
        # the diagonal of rivalry is zero, so a power is never displeased by Vietnam's tie with itself)
        excess = np.maximum(a[:, None, :] - w.tolerance, 0.0)
        displeasure = s["displeasure_cost"] * np.sum(w.rivalry * excess**2, axis=(1, 2))
        return {
            "security": security,
            "concentration": s["concentration_cost"] * concentration(a),
            "entrapment": entrapment,
            "displeasure": displeasure,
            "tie_cost": _over_powers(w.tie_cost * a, np.add),
        }

    def utility(self, a: np.ndarray) -> np.ndarray:
        c = self.components(a)
        return c["security"] - c["concentration"] - c["entrapment"] - c["displeasure"] - c["tie_cost"]
