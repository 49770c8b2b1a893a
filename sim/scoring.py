"""Scores of a forecast of partnership tiers against the record, and the naive baselines scored alike.

A forecast is a tier distribution per power and year, ``probs`` of shape
(powers, years, len(TIERS)): the share of runs in each tier at the year's
end. A single path is the same with one tier at probability one. Every score
is over a window of years (the in-sample years up to the cut-off, or the
out-of-sample years after it):

- **tier match**: the share of power-years whose modal tier is the record's;
- **ranked probability score** (RPS): the squared distance between the
  forecast's and the record's cumulative tier distributions, over K - 1
  steps, averaged over power-years: 0 is perfect, 1 the worst possible;
- **upgrade errors**: for each upgrade in the record (a year whose tier is
  above the year before's), the year the modal tier rises to it (the nearest
  such year), less the record's year; ``None`` if the forecast never rises to it;
- **upgrade order**: the share of pairs of upgrades, on different powers and
  in different years, that the forecast puts in the same order.

The baselines: **persistence** (every tie stays at the last recorded tier
before the window), **trend** (a straight line through each power's tier
index over the years before the window, rounded), both as certain forecasts.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from sim.domain import POWERS, TIERS
from sim.record import Period

K = len(TIERS)


def certain(tiers: np.ndarray) -> np.ndarray:
    """A forecast that puts probability one on the given tier per power and year."""
    return np.eye(K)[tiers]


def modal(probs: np.ndarray) -> np.ndarray:
    """The most probable tier per power and year (the lower tier on a tie)."""
    return np.argmax(probs, axis=-1)


def ranked_probability(probs: np.ndarray, tiers: np.ndarray) -> np.ndarray:
    """RPS per power and year: sum over k of (F_k - O_k)^2 / (K - 1), F and O cumulative."""
    forecast = np.cumsum(probs, axis=-1)
    observed = np.cumsum(certain(tiers), axis=-1)
    return ((forecast - observed) ** 2)[..., :-1].sum(axis=-1) / (K - 1)


@dataclass(frozen=True)
class Upgrade:
    """An upgrade of the record: a power's tie rising to ``tier`` in ``year``, and the forecast's year for it."""

    power: str
    tier: str
    year: int  # in the record
    forecast: int | None  # first year the forecast's modal tier reaches it, None if never in the window

    @property
    def error(self) -> int | None:
        """Years the forecast is late (negative: early); None if it never rises to the tier."""
        return None if self.forecast is None else self.forecast - self.year


def upgrades(tiers: np.ndarray, years: np.ndarray, window: np.ndarray) -> list[tuple[int, int, int]]:
    """The record's upgrades inside the window: (power index, tier, year), by year."""
    found = []
    for p in range(tiers.shape[0]):
        for i in range(1, len(years)):
            if window[i] and tiers[p, i] > tiers[p, i - 1]:
                found.append((p, int(tiers[p, i]), int(years[i])))
    return sorted(found, key=lambda u: u[2])


def upgrade_timing(probs: np.ndarray, tiers: np.ndarray, years: np.ndarray, window: np.ndarray) -> list[Upgrade]:
    """Each upgrade of the record in the window, with the forecast's year for it.

    The forecast's year is the year its modal tier rises to the upgrade's tier
    or above from below; of several such years (a tie can fall back and rise
    again), the one nearest the record's. A forecast that never rises to the
    tier, or is above it throughout, has no year for it.
    """
    path = modal(probs)
    out = []
    for p, tier, year in upgrades(tiers, years, window):
        rises = years[1:][(path[p, 1:] >= tier) & (path[p, :-1] < tier)]
        nearest = int(rises[np.argmin(np.abs(rises - year))]) if rises.size else None
        out.append(Upgrade(POWERS[p], TIERS[tier], year, nearest))
    return out


def order_share(timing: list[Upgrade]) -> float | None:
    """Share of pairs of upgrades (different powers, different record years) the forecast orders alike.

    An upgrade the forecast never reaches counts as coming after every one it reaches.
    """
    late = np.inf
    pairs = agree = 0
    for i, u in enumerate(timing):
        for v in timing[i + 1 :]:
            if u.power == v.power or u.year == v.year:
                continue
            pairs += 1
            fu = late if u.forecast is None else u.forecast
            fv = late if v.forecast is None else v.forecast
            agree += (fu - fv) * (u.year - v.year) > 0
    return agree / pairs if pairs else None


@dataclass(frozen=True)
class Scores:
    """A forecast's scores over one window, per power and overall."""

    tier_match: dict[str, float]
    rps: dict[str, float]
    upgrades: list[Upgrade]
    order: float | None

    def as_dict(self) -> dict:
        """The scores as a report gives them, each upgrade with its error in years."""
        return {
            "tier_match": self.tier_match,
            "rps": self.rps,
            "upgrades": [
                {"power": u.power, "tier": u.tier, "year": u.year, "forecast": u.forecast, "error_years": u.error}
                for u in self.upgrades
            ],
            "upgrade_order": self.order,
        }


def score(probs: np.ndarray, tiers: np.ndarray, years: np.ndarray, window: np.ndarray) -> Scores:
    """Every score of ``probs`` against the recorded ``tiers`` over the years in ``window``."""
    match = modal(probs) == tiers
    rps = ranked_probability(probs, tiers)

    def per_power(x: np.ndarray) -> dict[str, float]:
        out = {p: float(x[i, window].mean()) for i, p in enumerate(POWERS)}
        out["overall"] = float(x[:, window].mean())
        return out

    timing = upgrade_timing(probs, tiers, years, window)
    return Scores(per_power(match.astype(float)), per_power(rps), timing, order_share(timing))


def persistence(tiers: np.ndarray, years: np.ndarray, window: np.ndarray) -> np.ndarray:
    """Every tie stays at its last recorded tier before the window (the window's first, if none is before)."""
    first = int(np.flatnonzero(window)[0])
    known = tiers[:, max(first - 1, 0)]
    return certain(np.repeat(known[:, None], len(years), axis=1))


def trend(tiers: np.ndarray, years: np.ndarray, window: np.ndarray) -> np.ndarray:
    """A straight line through each power's tier index over the years before the window, rounded and clipped.

    With fewer than two years before the window, the trend is persistence.
    """
    first = int(np.flatnonzero(window)[0])
    if first < 2:
        return persistence(tiers, years, window)
    line = np.empty(tiers.shape, dtype=np.int64)
    for p in range(tiers.shape[0]):
        slope, intercept = np.polyfit(years[:first], tiers[p, :first].astype(float), 1)
        line[p] = np.clip(np.rint(intercept + slope * years), 0, K - 1)
    line[:, :first] = tiers[:, :first]  # the known years are known
    return certain(line)


def period_error(modelled: dict[tuple[int, int], float], recorded: Iterable[Period]) -> float | None:
    """Mean absolute error of a share over the record's periods, (first, last) -> modelled share."""
    errors = [abs(modelled[(p.first, p.last)] - p.value) for p in recorded if (p.first, p.last) in modelled]
    return float(np.mean(errors)) if errors else None
