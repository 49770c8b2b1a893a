"""Security mechanisms: what Vietnam receives, what it faces, how far its demand is met.

Pure functions over arrays with runs first (``a`` is alignment, shape
(runs, powers)). Each equation is stated in docs/ODD.md, section 7.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import cast

import numpy as np

from sim import kernels
from sim.params import World


def _over_powers(x: np.ndarray, op: np.ufunc) -> np.ndarray:
    """Reduce axis 1 (the powers) in order with ``op``.

    With three powers, a few array operations are several times faster than a numpy reduction over so
    short an axis, and give the same result.
    """
    out = x[:, 0]
    for i in range(1, x.shape[1]):
        out = op(out, x[:, i])
    return out


def summed(x: np.ndarray) -> np.ndarray:
    """Sum over the last axis (three powers or three dimensions), term by term, for the same reason.

    Shared with the agents, which sum over the three powers the same way.
    """
    out = x[..., 0]
    for i in range(1, x.shape[-1]):
        out = out + x[..., i]
    return out


def security_received(
    a: np.ndarray, supply: np.ndarray, reach: np.ndarray, trust: np.ndarray, capability: np.ndarray
) -> np.ndarray:
    """Noisy-OR over Vietnam's own capability and its suppliers, shape (runs, dims).

    R_d = 1 - (1 - C_d) prod_p (1 - a_p reach_p trust_p supply_pd): partners
    substitute with diminishing returns on a dimension, and a dimension no one
    supplies is covered by Vietnam's own means alone.
    """
    delivered = (a * reach * trust)[:, :, None] * supply
    return 1.0 - (1.0 - capability) * _over_powers(1.0 - delivered, np.multiply)


def threat_faced(a: np.ndarray, threat: np.ndarray, enmeshment: np.ndarray) -> np.ndarray:
    """H_d = sum_p threat_pd (1 - E_pd a_p), shape (runs, dims).

    E_pd > 0: engaging p tames its threat on d (direct engagement with China
    at sea); E_pd < 0: engaging p feeds it (ties with the US carry "peaceful
    evolution" into the regime dimension). The threat never falls below zero.
    """
    return _over_powers(threat * np.maximum(1.0 - enmeshment * a[:, :, None], 0.0), np.add)


def satisfaction(net: np.ndarray, demand: np.ndarray) -> np.ndarray:
    """s_d = clip(N_d / D_d, 0, 1): the share of the demand on d that net security meets."""
    return np.clip(net / demand, 0.0, 1.0)


def shortfall(net: np.ndarray, demand: np.ndarray) -> np.ndarray:
    """max(D_d - N_d, 0): how far net security falls short of the demand on d."""
    return np.maximum(demand - net, 0.0)


def over_reliance(a: np.ndarray, trust: np.ndarray) -> np.ndarray:
    """Herfindahl index of engagement shares, each weighted by distrust of the partner: sum_p s_p^2 (1 - trust_p).

    Relying on one partner is costly, and the more so the less that partner can be trusted.
    """
    total = summed(a)[:, None]
    share = np.divide(a, total, out=np.full_like(a, 1.0 / a.shape[1]), where=total > 0)
    return summed(share**2 * (1.0 - trust))


def hedging_index(a: np.ndarray, compiled: bool = False) -> np.ndarray:
    """Normalised entropy of engagement shares: 1 when even, 0 when one tie is all."""
    if compiled:  # the shares and the sum compiled, the logarithms numpy's
        share = kernels.shares(a, 0.0)
        return kernels.entropy(share, np.log(share, out=np.zeros_like(share), where=share > 0), np.log(a.shape[1]))
    total = a.sum(axis=1, keepdims=True)
    share = np.divide(a, total, out=np.zeros_like(a), where=total > 0)
    logs = np.log(share, out=np.zeros_like(share), where=share > 0)
    return -summed(share * logs) / np.log(a.shape[1])


@dataclass
class Situation:
    """What Vietnam faces this step, fixed while it weighs its options.

    ``supply`` and ``threat`` are what the powers offer and pose (runs, powers,
    dims); ``trust`` is Vietnam's perceived reliability of each (runs, powers);
    ``floor`` is the alignment below which each tie breaks its partnership
    tier's commitment, its rupture line (runs, powers); ``coercion`` is how hard each power coerces now (runs,
    powers), zero if not given. ``compiled``: compute with ``sim.kernels``
    (the model's engine) rather than the numpy reference below.
    """

    world: World
    supply: np.ndarray
    threat: np.ndarray
    trust: np.ndarray
    floor: np.ndarray
    coercion: np.ndarray | None = None
    compiled: bool = False

    def __post_init__(self) -> None:
        """Each power's reach-weighted rivalries and its stake in Vietnam, (runs, powers) each."""
        self.rivalries: np.ndarray
        self.stake: np.ndarray
        w = self.world
        if self.compiled:
            coercion = np.zeros_like(self.trust) if self.coercion is None else self.coercion
            self.rivalries, self.stake = kernels.situation(
                self.supply, self.trust, coercion, w.reach, w.rivalry, w.withholds, w.coercion_threat,
                w.scalars["coercion"],
            )  # fmt: skip
            return
        # fixed for the step, so computed once rather than for each of Vietnam's trial moves: each power's
        # rivalries, each weighted by the rival's reach, so that a confrontation far from Vietnam entraps less
        self.rivalries = summed(w.rivalry * w.reach[:, None, :])
        # what each power could take from Vietnam by coercing: the supply it would withdraw, as delivered,
        # and the threat it would add; a power that has already let Vietnam down has less to take
        delivered = (w.reach * self.trust)[:, :, None] * self.supply
        self.stake = summed(w.withholds * delivered + w.coercion_threat)
        # a rival already coercing is a warning: Vietnam, "cognisant of the need to avoid being seen as
        # siding" (001), weighs its displeasure the more, twice as much at the coercion line
        if self.coercion is not None:
            self.stake = self.stake * (1.0 + self.coercion / w.scalars["coercion"][:, None])

    def received(self, a: np.ndarray) -> np.ndarray:
        """Security received R_d per run and dimension for alignment ``a``."""
        w = self.world
        return security_received(a, self.supply, w.reach, self.trust, w.capability)

    def net(self, a: np.ndarray) -> np.ndarray:
        """Net security N_d = R_d - H_d per run and dimension for alignment ``a``."""
        return self.received(a) - threat_faced(a, self.threat, self.world.enmeshment)

    def satisfaction(self, a: np.ndarray) -> np.ndarray:
        """The share of the demand on each dimension that net security meets for alignment ``a``."""
        w = self.world
        if self.compiled:
            return kernels.satisfaction(
                a, self.supply, self.threat, self.trust, w.reach, w.capability, w.enmeshment, w.demand
            )
        return satisfaction(self.net(a), w.demand)

    def tie_losses(self, x: np.ndarray, p: int) -> np.ndarray:
        """The losses that hang on tie ``p`` alone at depth ``x`` (runs,): entrapment, displeasure, commitment, cost.

        The other losses couple the ties (insecurity through the noisy-OR,
        over-reliance through the shares); these add up tie by tie.
        """
        w, s = self.world, self.world.scalars
        # how far the tie exceeds what each rival q tolerates (rivalry with itself is zero), weighed by what q
        # could take from Vietnam if it coerced
        excess = np.maximum(x[:, None] - w.tolerance[:, :, p], 0.0)
        return (
            s["entrapment_cost"] * self.rivalries[:, p] * x**2
            + s["displeasure_cost"] * summed(self.stake * w.rivalry[:, :, p] * excess**2)
            + s["commitment_cost"] * np.maximum(self.floor[:, p] - x, 0.0)
            + w.tie_cost[:, p] * x
        )

    def components(self, a: np.ndarray) -> dict[str, np.ndarray]:
        """Utility terms per run, each a loss (a positive number Vietnam wants small)."""
        w, s = self.world, self.world.scalars
        unmet = shortfall(self.net(a), w.demand)
        excess = np.maximum(a[:, None, :] - w.tolerance, 0.0)  # [:, q, p]: tie p over rival q's tolerance
        return {
            "insecurity": summed(w.weight * unmet**2),
            "over-reliance": s["concentration_cost"] * over_reliance(a, self.trust),
            "entrapment": s["entrapment_cost"] * summed(self.rivalries * a**2),
            "rivals' displeasure": s["displeasure_cost"] * summed(self.stake * summed(w.rivalry * excess**2)),
            "broken commitment": s["commitment_cost"] * summed(np.maximum(self.floor - a, 0.0)),
            "cost of the tie": summed(w.tie_cost * a),
        }

    def utility(self, a: np.ndarray) -> np.ndarray:
        """Vietnam's utility: minus the sum of its losses."""
        # sum starts from 0, which numpy broadcasts: the result is an array
        return -cast(np.ndarray, sum(self.components(a).values()))

    def gains(self, a: np.ndarray, moves: np.ndarray) -> np.ndarray:
        """Utility change of moving each tie alone by each of ``moves`` (runs, k), as (runs, powers, k).

        The same as ``utility`` of each trial less ``utility(a)``, computed by
        changing only what hangs on the moved tie: its factor in the noisy-OR,
        its share of the threat, its own losses. Vietnam weighs six trials a
        quarter, so this is where the model spends its time.
        """
        w, s = self.world, self.world.scalars
        if self.compiled:
            costs = np.stack(
                [s[k] for k in ("concentration_cost", "entrapment_cost", "displeasure_cost", "commitment_cost")]
            )
            return kernels.gains(
                a, moves, self.supply, self.threat, self.trust, self.floor, self.rivalries, self.stake, w.reach,
                w.capability, w.enmeshment, w.weight, w.demand, w.tolerance, w.rivalry, w.tie_cost, costs,
            )  # fmt: skip
        n, n_powers = a.shape
        u0 = self.utility(a)
        factor = 1.0 - (a * w.reach * self.trust)[:, :, None] * self.supply
        posed = self.threat * np.maximum(1.0 - w.enmeshment * a[:, :, None], 0.0)
        threat = _over_powers(posed, np.add)
        own = [self.tie_losses(a[:, p], p) for p in range(n_powers)]
        separable = sum(own)
        gain = np.empty((n, n_powers, moves.shape[1]))
        for p in range(n_powers):
            others = (1.0 - w.capability) * _over_powers(np.delete(factor, p, axis=1), np.multiply)
            for k in range(moves.shape[1]):
                x = a[:, p] + moves[:, k]
                received = 1.0 - others * (1.0 - (x * w.reach[:, p] * self.trust[:, p])[:, None] * self.supply[:, p])
                faced = (
                    threat - posed[:, p] + self.threat[:, p] * np.maximum(1.0 - w.enmeshment[:, p] * x[:, None], 0.0)
                )
                trial = a.copy()
                trial[:, p] = x
                loss = (
                    summed(w.weight * shortfall(received - faced, w.demand) ** 2)
                    + s["concentration_cost"] * over_reliance(trial, self.trust)
                    + separable
                    - own[p]
                    + self.tie_losses(x, p)
                )
                gain[:, p, k] = -loss - u0
        return gain
