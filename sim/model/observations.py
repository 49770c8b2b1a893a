"""What the model reports each step: the series an ensemble aggregates, from a snapshot of the model.

Part of the model (``BalanceModel`` hands these values to its observers), so
that the model does not depend on how the results are summed or written.
"""

from __future__ import annotations

import numpy as np

from sim.model import kernels
from sim.model.domain import DIMENSIONS, POWERS

# series: (columns, lower edge, upper edge)
SERIES = {
    "alignment": (POWERS, 0.0, 1.0),
    "share": (POWERS, 0.0, 1.0),
    "satisfaction": (DIMENSIONS, 0.0, 1.0),
    "security": (("mean",), 0.0, 1.0),
    "hedging_index": (("index",), 0.0, 1.0),
    "courtship": (POWERS, 0.0, 1.0),
    "coercion": (POWERS, 0.0, 1.0),
}


def observations(snapshot: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The aggregated series of one step, each (runs, columns), from a model snapshot."""
    a = snapshot["alignment"]
    return {
        "alignment": a,
        "share": kernels.shares(a, 1.0 / a.shape[1]),  # as np.divide(a, a.sum(axis=1), where=...), even if no tie
        "satisfaction": snapshot["satisfaction"],
        "security": kernels.row_mean(snapshot["satisfaction"])[:, None],  # the mean, as numpy's
        "hedging_index": snapshot["hedging_index"][:, None],
        "courtship": snapshot["courtship"],
        "coercion": snapshot["coercion"],
        "tier": snapshot["tier"],
    }
