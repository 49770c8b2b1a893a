"""The World: a run's parameter values arranged for the rules, every array with runs first."""

from __future__ import annotations

from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import TypeVar

import numpy as np

from sim.model.domain import DIMENSIONS, POWERS

_T = TypeVar("_T")


@dataclass
class World:
    """Parameter values arranged for the mechanisms; every array has runs first.

    Per power ``p`` and dimension ``d``: ``supply[:, p, d]``, ``threat``,
    ``enmeshment``, ``withholds``, ``coercion_threat``; per power ``reach``,
    ``reliability``, ``interest``, ``patient``, ``tie_cost``, ``withdrawal``; per ordered pair (p, q)
    ``tolerance`` and ``rivalry`` (zero on the diagonal); Vietnam's ``demand``,
    ``weight`` and own ``capability`` per dimension; scalars per run in
    ``scalars``. ``standing_threat`` is the threat as the parameters and the
    shocks that do not end make it: what stays, without the crises that pass.
    """

    supply: np.ndarray
    threat: np.ndarray
    enmeshment: np.ndarray
    withholds: np.ndarray
    coercion_threat: np.ndarray
    reach: np.ndarray
    reliability: np.ndarray
    interest: np.ndarray
    patient: np.ndarray
    tie_cost: np.ndarray
    withdrawal: np.ndarray
    tolerance: np.ndarray
    rivalry: np.ndarray
    demand: np.ndarray
    weight: np.ndarray
    capability: np.ndarray
    inertia: np.ndarray
    scalars: dict[str, np.ndarray]
    standing_threat: np.ndarray

    def memo(self, key: Hashable, make: Callable[[], _T]) -> _T:
        """A value derived from this World, made once: a World does not change once assembled (shocks assemble anew)."""
        cache = self.__dict__.setdefault("_memo", {})
        if key not in cache:
            cache[key] = make()
        return cache[key]

    def rows(self, *names: str) -> np.ndarray:
        """Scalars ``names`` as the rows of one array (len(names), runs), as the compiled kernels take them."""
        return self.memo(names, lambda: np.stack([self.scalars[k] for k in names]))

    @classmethod
    def assemble(cls, v: dict[str, np.ndarray], standing: dict[str, np.ndarray] | None = None) -> World:
        """The World of per-run values ``v``, by parameter path; ``standing``: the values without passing shocks."""

        def per_power_dim(name: str, values: dict[str, np.ndarray] = v) -> np.ndarray:
            return np.stack([np.stack([values[f"powers.{p}.{name}.{d}"] for d in DIMENSIONS], -1) for p in POWERS], 1)

        def per_power(name: str) -> np.ndarray:
            return np.stack([v[f"powers.{p}.{name}"] for p in POWERS], 1)

        def pairwise(name: str) -> np.ndarray:
            zero = np.zeros_like(v["powers.US.reach"])
            return np.stack(
                [np.stack([zero if p == q else v[f"powers.{p}.{name}.{q}"] for q in POWERS], -1) for p in POWERS], 1
            )

        scalars = {k.split(".", 1)[1]: v[k] for k in v if k.startswith(("behaviour.", "world.", "thresholds."))}
        scalars["four_nos"] = v["hedger.four_nos"]
        return cls(
            supply=per_power_dim("supply"),
            threat=per_power_dim("threat"),
            enmeshment=per_power_dim("enmeshment"),
            withholds=per_power_dim("withholds"),
            coercion_threat=per_power_dim("coercion_threat"),
            reach=per_power("reach"),
            reliability=per_power("reliability"),
            interest=per_power("interest"),
            patient=per_power("patient"),
            tie_cost=per_power("tie_cost"),
            withdrawal=per_power("withdrawal"),
            tolerance=pairwise("tolerance"),
            rivalry=pairwise("rivalry"),
            demand=np.stack([v[f"hedger.demand.{d}"] for d in DIMENSIONS], -1),
            weight=np.stack([v[f"hedger.weight.{d}"] for d in DIMENSIONS], -1),
            capability=np.stack([v[f"hedger.capability.{d}"] for d in DIMENSIONS], -1),
            inertia=np.stack([v[f"hedger.inertia.{p}"] for p in POWERS], -1),
            scalars=scalars,
            standing_threat=per_power_dim("threat", v if standing is None else standing),
        )
