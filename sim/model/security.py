"""Security mechanisms: what Vietnam receives, what it faces, how far its demand is met.

Functions over arrays with runs first (``a`` is alignment, shape (runs,
powers)). Each equation is stated in docs/ODD.md, section 7, and written once,
as a kernel of ``sim.model.kernels`` that these functions call: security received,
threat faced, satisfaction, shortfall, over-reliance, a power's stake, the
terms of Vietnam's utility and the gains of its moves.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.model import kernels
from sim.model.world import World


def security_received(
    a: np.ndarray, supply: np.ndarray, reach: np.ndarray, trust: np.ndarray, capability: np.ndarray
) -> np.ndarray:
    """Noisy-OR over Vietnam's own capability and its suppliers, shape (runs, dims) (``kernels.security_received``)."""
    return kernels.security_received(a, supply, trust, reach, capability)


def threat_faced(a: np.ndarray, threat: np.ndarray, enmeshment: np.ndarray) -> np.ndarray:
    """H_d = sum_p threat_pd max(1 - E_pd a_p, 0), shape (runs, dims) (``kernels.threat_faced``)."""
    return kernels.threat_faced(a, threat, enmeshment)


def satisfaction(net: np.ndarray, demand: np.ndarray) -> np.ndarray:
    """s_d = clip(N_d / D_d, 0, 1): the share of the demand on d that net security meets (``kernels.share_met``)."""
    return kernels.share_met(net, demand)


def shortfall(net: np.ndarray, demand: np.ndarray) -> np.ndarray:
    """max(D_d - N_d, 0): how far net security falls short of the demand on d (``kernels.shortfall``)."""
    return kernels.shortfall(net, demand)


def over_reliance(a: np.ndarray, trust: np.ndarray) -> np.ndarray:
    """Herfindahl index of engagement shares, each weighted by distrust: sum_p s_p^2 (1 - trust_p) (runs,).

    Relying on one partner is costly, and the more so the less that partner can be trusted
    (``kernels.over_reliance``).
    """
    return kernels.over_reliance(a, trust)


def hedging_index(a: np.ndarray) -> np.ndarray:
    """Normalised entropy of engagement shares: 1 when even, 0 when one tie is all (``kernels.entropy``).

    The shares and the sum are compiled, the logarithms numpy's (``sim.model.kernels`` says why).
    """
    share = kernels.shares(a, 0.0)
    return kernels.entropy(share, np.log(share, out=np.zeros_like(share), where=share > 0), np.log(a.shape[1]))


# Vietnam's losses, in the order ``kernels.utility_terms`` gives them (docs/ODD.md 7.4).
LOSSES = ("insecurity", "over-reliance", "entrapment", "rivals' displeasure", "broken commitment", "cost of the tie")


@dataclass
class Situation:
    """What Vietnam faces this step, fixed while it weighs its options.

    ``supply`` and ``threat`` are what the powers offer and pose (runs, powers,
    dims); ``trust`` is Vietnam's perceived reliability of each (runs, powers);
    ``floor`` is the alignment below which each tie breaks its partnership
    tier's commitment, its rupture line (runs, powers); ``coercion`` is how hard each power coerces now (runs,
    powers), zero if not given; ``tolerance`` is the lines Vietnam weighs (runs, powers, powers): what it
    believes each power tolerates of each tie (``Hedger.learn``), the world's own lines if not given.
    """

    world: World
    supply: np.ndarray
    threat: np.ndarray
    trust: np.ndarray
    floor: np.ndarray
    coercion: np.ndarray | None = None
    tolerance: np.ndarray | None = None

    def __post_init__(self) -> None:
        """Each power's reach-weighted rivalries and its stake in Vietnam (``kernels.situation``), (runs, powers) each.

        Fixed for the step, so computed once rather than for each of Vietnam's trial moves.
        """
        self.rivalries: np.ndarray
        self.stake: np.ndarray
        w = self.world
        # engagement manages crises and the threat Vietnam lives with, not a standing rise beyond it (ODD 7.3);
        # where no standing threat of this World exceeds the manageable level, the enmeshment is kept as it is
        manageable = w.scalars["manageable_threat"]
        beyond = w.memo("beyond_manageable", lambda: bool((w.standing_threat > manageable[:, None, None]).any()))
        self.enmeshment = (
            kernels.managed(w.enmeshment, self.threat, w.standing_threat, manageable) if beyond else w.enmeshment
        )
        self.lines = w.tolerance if self.tolerance is None else self.tolerance
        coercion = np.zeros_like(self.trust) if self.coercion is None else self.coercion
        self.rivalries, self.stake = kernels.situation(
            self.supply, self.trust, coercion, w.reach, w.rivalry, w.withholds, w.coercion_threat,
            w.scalars["coercion"],
        )  # fmt: skip

    def received(self, a: np.ndarray) -> np.ndarray:
        """Security received R_d per run and dimension for alignment ``a``."""
        w = self.world
        return security_received(a, self.supply, w.reach, self.trust, w.capability)

    def net(self, a: np.ndarray) -> np.ndarray:
        """Net security N_d = R_d - H_d per run and dimension for alignment ``a``."""
        return self.received(a) - threat_faced(a, self.threat, self.enmeshment)

    def satisfaction(self, a: np.ndarray) -> np.ndarray:
        """The share of the demand on each dimension that net security meets for alignment ``a``."""
        w = self.world
        return kernels.satisfaction(
            a, self.supply, self.threat, self.trust, w.reach, w.capability, self.enmeshment, w.demand
        )

    def costs(self) -> np.ndarray:
        """The concentration, entrapment, displeasure and commitment costs as rows (4, runs)."""
        return self.world.rows("concentration_cost", "entrapment_cost", "displeasure_cost", "commitment_cost")

    def _terms(self, a: np.ndarray) -> np.ndarray:
        w = self.world
        return kernels.utility_terms(
            a, self.supply, self.threat, self.trust, self.floor, self.rivalries, self.stake, w.reach, w.capability,
            self.enmeshment, w.weight, w.demand, self.lines, w.rivalry, w.tie_cost, self.costs(),
        )  # fmt: skip

    def components(self, a: np.ndarray) -> dict[str, np.ndarray]:
        """Utility terms per run, each a loss (a positive number Vietnam wants small) (``kernels.utility_terms``)."""
        terms = self._terms(a)
        return {name: terms[:, k] for k, name in enumerate(LOSSES)}

    def utility(self, a: np.ndarray) -> np.ndarray:
        """Vietnam's utility: minus the sum of its losses, added in order."""
        terms = self._terms(a)
        total = terms[:, 0]
        for k in range(1, len(LOSSES)):
            total = total + terms[:, k]
        return -total

    def gains(self, a: np.ndarray, moves: np.ndarray) -> np.ndarray:
        """Utility change of moving each tie alone by each of ``moves`` (runs, k), as (runs, powers, k).

        The same as ``utility`` of each trial less ``utility(a)``, computed (``kernels.gains``) by
        changing only what hangs on the moved tie: its factor in the noisy-OR,
        its share of the threat, its own losses. Vietnam weighs six trials a
        quarter, so this is where the model spends its time.
        """
        w = self.world
        return kernels.gains(
            a, moves, self.supply, self.threat, self.trust, self.floor, self.rivalries, self.stake, w.reach,
            w.capability, self.enmeshment, w.weight, w.demand, self.lines, w.rivalry, w.tie_cost, self.costs(),
        )  # fmt: skip
