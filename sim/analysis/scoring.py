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
index over the years before the window from a given year, rounded), both as
certain forecasts, and a **constant upgrade hazard** (upgrades per power-year
at risk, fitted on given years: each year a tie below the top tier rises with
that probability, by a jump drawn from the fitted upgrades'), a probabilistic
forecast from the window's start.

On "this power's tier rises this year" each forecast gives a chance per
power-year (the share of runs that rise; the hazard's; 0 or 1 for a certain
path), scored by the **Brier score**. Brier and RPS are set against each
baseline as **skill** (1 - score / baseline's score), with **bootstrap 95%
intervals** over resampled power-years (a fixed seed), and with the number of
power-years and rises they rest on.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from sim.analysis.record import Period
from sim.model.domain import POWERS, TIERS

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


def trend(tiers: np.ndarray, years: np.ndarray, window: np.ndarray, since: int | None = None) -> np.ndarray:
    """A straight line through each power's tier index over the years before the window, rounded and clipped.

    Fitted over the years from ``since`` on (all the years before the window if None): from 1992, a line
    is not fitted through the Soviet alliance. With fewer than two such years, the trend is persistence.
    """
    first = int(np.flatnonzero(window)[0])
    fitted = np.flatnonzero((np.arange(len(years)) < first) & (years >= (years[0] if since is None else since)))
    if len(fitted) < 2:
        return persistence(tiers, years, window)
    line = np.empty(tiers.shape, dtype=np.int64)
    for p in range(tiers.shape[0]):
        slope, intercept = np.polyfit(years[fitted], tiers[p, fitted].astype(float), 1)
        line[p] = np.clip(np.rint(intercept + slope * years), 0, K - 1)
    line[:, :first] = tiers[:, :first]  # the known years are known
    return certain(line)


def period_error(modelled: dict[tuple[int, int], float], recorded: Iterable[Period]) -> float | None:
    """Mean absolute error of a share over the record's periods, (first, last) -> modelled share."""
    errors = [abs(modelled[(p.first, p.last)] - p.value) for p in recorded if (p.first, p.last) in modelled]
    return float(np.mean(errors)) if errors else None


# -- a rise of a tier, and the baselines that forecast one ------------------------------------------------------

TOP = TIERS.index("comprehensive_strategic")  # the highest tier the Four No's allow: a tie there cannot rise
BOOTSTRAP_RESAMPLES = 2000
BOOTSTRAP_SEED = 2025


def rises(tiers: np.ndarray) -> np.ndarray:
    """Whether each power's tier rises in each year, (powers, years) as 0/1; the first year has no year before (0)."""
    out = np.zeros(tiers.shape)
    out[:, 1:] = tiers[:, 1:] > tiers[:, :-1]
    return out


@dataclass(frozen=True)
class Hazard:
    """A constant upgrade hazard: upgrades per power-year at risk (a tie below TOP the year before), as fitted.

    ``jumps[j - 1]`` is the share of the fitted upgrades that rose j tiers: an upgrade of the baseline rises as
    the fitted ones did, to TOP at most.
    """

    rate: float
    upgrades: int
    at_risk: int
    jumps: tuple[float, ...]
    years: tuple[int, int]  # the first and last year fitted on

    def as_dict(self) -> dict:
        """The fit as a report gives it."""
        return {
            "rate": self.rate,
            "upgrades": self.upgrades,
            "power_years_at_risk": self.at_risk,
            "jump_shares": list(self.jumps),
            "fitted_on": f"{self.years[0]}-{self.years[1]}",
        }


def fit_hazard(tiers: np.ndarray, years: np.ndarray, fit: np.ndarray) -> Hazard:
    """The upgrades per power-year at risk over the years in ``fit`` (each year against the year before).

    With no power-year at risk the rate is 0; with no upgrade, an upgrade would rise one tier.
    """
    fit = fit.copy()
    fit[0] = False  # the first year has no year before it
    at_risk = (np.concatenate([tiers[:, :1], tiers[:, :-1]], axis=1) < TOP) & fit[None, :]
    up = (rises(tiers) > 0) & at_risk
    sizes = (tiers - np.concatenate([tiers[:, :1], tiers[:, :-1]], axis=1))[up]
    jumps = np.bincount(sizes - 1, minlength=TOP) / len(sizes) if len(sizes) else np.eye(TOP)[0]
    chosen = years[fit]
    return Hazard(
        float(up.sum() / at_risk.sum()) if at_risk.any() else 0.0,
        int(up.sum()),
        int(at_risk.sum()),
        tuple(float(j) for j in jumps),
        (int(chosen[0]), int(chosen[-1])) if chosen.size else (0, -1),
    )


def hazard_forecast(
    tiers: np.ndarray, years: np.ndarray, window: np.ndarray, hazard: Hazard
) -> tuple[np.ndarray, np.ndarray]:
    """The tier distribution and the chance of a rise per power and year, a constant hazard from the window's start.

    Before the window the record is known; from its last tier before the window (the window's first year's,
    if none is before), each year a tie below TOP rises with probability ``hazard.rate`` by a jump drawn from
    ``hazard.jumps``. Returns (probs (powers, years, K), rise (powers, years)).
    """
    step = np.eye(K)
    for k in range(TOP):
        step[k, k] = 1.0 - hazard.rate
        for j, share in enumerate(hazard.jumps, 1):
            step[k, min(k + j, TOP)] += hazard.rate * share
    first = int(np.flatnonzero(window)[0])
    probs, rise = certain(tiers), rises(tiers)
    start = max(first, 1)
    state = probs[:, start - 1]
    for i in range(start, len(years)):
        rise[:, i] = hazard.rate * state[:, :TOP].sum(axis=-1)
        state = state @ step
        probs[:, i] = state
    return probs, rise


def path_rises(probs: np.ndarray) -> np.ndarray:
    """The rises of a certain forecast's path (persistence, the trend), per power and year, 0/1."""
    return rises(modal(probs))


def brier(rise: np.ndarray, tiers: np.ndarray) -> np.ndarray:
    """Brier score per power and year of the chance of a rise against whether the record's tier rose."""
    return (rise - rises(tiers)) ** 2


def _interval(x: np.ndarray) -> list[float] | None:
    """The 2.5 and 97.5 percentiles of the finite values of ``x``; None if none is finite."""
    x = x[np.isfinite(x)]
    return [float(v) for v in np.percentile(x, [2.5, 97.5])] if x.size else None


def bootstrap(
    losses: dict[str, np.ndarray],
    against: Iterable[str],
    resamples: int = BOOTSTRAP_RESAMPLES,
    seed: int = BOOTSTRAP_SEED,
) -> dict:
    """Mean loss of each forecast and the model's skill against each of ``against``, with bootstrap 95% intervals.

    ``losses``: forecast name -> loss per unit (power-year), the same units for every forecast, one of them
    "model". Skill is 1 - (the model's mean loss) / (the baseline's): 1 is perfect, 0 no better than the
    baseline, negative worse. Each resample draws the units with replacement (the same draw for every
    forecast, so the comparison is paired); a resample where the baseline's loss is 0 has no skill and is
    counted as ``undefined``.
    """
    units = len(losses["model"])
    draws = np.random.default_rng(seed).integers(0, units, size=(resamples, units))
    means = {name: loss[draws].mean(axis=1) for name, loss in losses.items()}
    scores = {name: {"score": float(loss.mean()), "interval": _interval(means[name])} for name, loss in losses.items()}
    skill = {}
    for base in against:
        whole = losses[base].mean()
        with np.errstate(divide="ignore", invalid="ignore"):
            resampled = np.where(means[base] > 0, 1.0 - means["model"] / means[base], np.nan)
        skill[base] = {
            "skill": float(1.0 - losses["model"].mean() / whole) if whole > 0 else None,
            "interval": _interval(resampled),
            "undefined": int(np.isnan(resampled).sum()),
        }
    return {"scores": scores, "skill": skill}


def quantile_crps(levels: np.ndarray, values: np.ndarray, observed: float) -> float:
    """The CRPS of a forecast given by its quantiles, against what was observed: twice the mean pinball loss.

    ``values`` are the forecast's quantiles at ``levels`` (in (0, 1), symmetric about 0.5 so that a forecast
    certain of one value scores its absolute error). The CRPS is the integral of the pinball loss over every
    level; the mean over the levels given is its quadrature on those levels (Gneiting and Raftery 2007).
    """
    below = observed < values
    pinball = np.where(below, (1 - levels) * (values - observed), levels * (observed - values))
    return float(2 * pinball.mean())


def skill_text(entry: dict) -> str:
    """A skill with its bootstrap interval, as the reports print it: "+0.32 [-0.24, +0.67]", or "n/a"."""
    value = "n/a" if entry["skill"] is None else f"{entry['skill']:+.2f}"
    interval = entry["interval"]
    return value if interval is None else f"{value} [{interval[0]:+.2f}, {interval[1]:+.2f}]"
