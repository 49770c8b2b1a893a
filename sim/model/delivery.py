"""What each partner delivers: its Shapley share of the security Vietnam receives.

Security received is a noisy-OR over Vietnam's own means and its partners
(docs/ODD.md 7.2): partners substitute with diminishing returns, so what a
partner "adds" depends on who else is there. The Shapley value splits what
the partners add together among them fairly: each partner's marginal
contribution averaged over every order in which the partners could be added.
Stylized fact 2 asks which partners "deliver" more of Vietnam's security
(000: the US is "much more important in terms of both trade and political
influence ... The alignments are not equal"), which is this share, not the
depth of the tie (MODEL.md, fact 2).
"""

from __future__ import annotations

import itertools
import math

import numpy as np


def received(delivered: np.ndarray, capability: np.ndarray, partners: tuple[int, ...]) -> np.ndarray:
    """Mean over dimensions of the noisy-OR with only ``partners`` engaged, (runs,).

    Args:
        delivered: what each partner delivers on each dimension, a_p reach_p trust_p supply_pd, (runs, powers, dims).
        capability: Vietnam's own means per dimension, (runs, dims).
        partners: the indices of the partners engaged.
    """
    missing = 1.0 - capability
    for p in partners:
        missing = missing * (1.0 - delivered[:, p, :])
    return (1.0 - missing).mean(axis=1)


def shapley_shares(delivered: np.ndarray, capability: np.ndarray) -> np.ndarray:
    """Each partner's Shapley value of the security received, over what Vietnam has alone, (runs, powers).

    The values add up to what all partners add together: ``received(all) - received(none)``.
    """
    n = delivered.shape[1]
    value = {
        subset: received(delivered, capability, subset)
        for size in range(n + 1)
        for subset in itertools.combinations(range(n), size)
    }
    shares = np.zeros(delivered.shape[:2])
    for p in range(n):
        others = [q for q in range(n) if q != p]
        for size in range(n):
            weight = math.factorial(size) * math.factorial(n - size - 1) / math.factorial(n)
            for subset in itertools.combinations(others, size):
                joined = tuple(sorted((*subset, p)))
                shares[:, p] += weight * (value[joined] - value[subset])
    return shares
