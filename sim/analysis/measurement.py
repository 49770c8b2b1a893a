"""From what the model computes to what the record shows: tiers by calendar year, across runs.

The record gives a partnership tier per power and year (the tier held at the
year's end, ``sim/analysis/record.py``); the model records a tier per run and step.
The measurement takes, for each year, the state recorded at the first step
on or after the next 1 January, and counts the runs in each tier.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable

import numpy as np

from sim.model.balance import BalanceModel
from sim.model.calendar import Calendar, Month
from sim.model.domain import DIMENSIONS, POWERS, TIERS


def year_end_steps(calendar: Calendar, years: np.ndarray, recorded: int) -> np.ndarray:
    """Index into a trajectory (steps + 1 entries, entry 0 the start) of each year's end, -1 where not simulated.

    Entry k holds the state after k steps, dated ``calendar.date(k)``.
    """
    steps = np.array([calendar.step_of(Month(int(y) + 1, 1)) for y in years])
    return np.where((steps >= 0) & (steps < recorded), steps, -1)


def year_start_steps(calendar: Calendar, years: np.ndarray, recorded: int) -> np.ndarray:
    """Index into a trajectory of each year's start, -1 where not simulated.

    A run that starts within a year (a quarterly origin) has that year's start at its own: entry 0, the state it
    was given, which is the state at the end of the year before.
    """
    steps = np.array([calendar.step_of(Month(int(y), 1)) for y in years])
    ends = year_end_steps(calendar, years, recorded)
    return np.where((steps < 0) & (ends >= 0), 0, np.where((steps >= 0) & (steps < recorded), steps, -1))


def tier_distribution(tier: np.ndarray, calendar: Calendar, years: np.ndarray) -> np.ndarray:
    """Share of runs in each tier per power and year, (powers, years, len(TIERS)); NaN for years not simulated.

    ``tier`` is the recorded trajectory, (steps + 1, runs, powers).
    """
    at = year_end_steps(calendar, years, tier.shape[0])
    runs, powers = tier.shape[1], tier.shape[2]
    probs = np.full((powers, len(years), len(TIERS)), np.nan)
    for j, k in enumerate(at):
        if k < 0:
            continue
        for p in range(powers):
            probs[p, j] = np.bincount(tier[k, :, p], minlength=len(TIERS)) / runs
    return probs


def rise_share(tier: np.ndarray, calendar: Calendar, years: np.ndarray) -> np.ndarray:
    """Share of runs whose tier at a year's end is above their tier at the year before's end, (powers, years).

    The chance the forecast gives that the power's tier rises in the year; NaN where either end is not simulated
    (the first simulated year is set against the start).
    """
    at = year_end_steps(calendar, years, tier.shape[0])
    before = year_start_steps(calendar, years, tier.shape[0])
    out = np.full((tier.shape[2], len(years)), np.nan)
    for j, (k, b) in enumerate(zip(at, before, strict=True)):
        if k >= 0 and b >= 0:
            out[:, j] = (tier[k] > tier[b]).mean(axis=0)
    return out


def median_by_year(x: np.ndarray, calendar: Calendar, years: np.ndarray) -> np.ndarray:
    """Median across runs of a per-power trajectory (steps + 1, runs, powers) at each year's end, (powers, years)."""
    at = year_end_steps(calendar, years, x.shape[0])
    out = np.full((x.shape[2], len(years)), np.nan)
    for j, k in enumerate(at):
        if k >= 0:
            out[:, j] = np.median(x[k], axis=0)
    return out


ARMS_SUPPLIER = "RU"  # the record's arms series is Russia's share


def arms_share(model: BalanceModel, power: str) -> np.ndarray:
    """A power's share of the territorial security delivered to Vietnam at the last decision, per run.

    The measurement of the share of Vietnam's arms imports from that power (SIPRI's trend-indicator values):
    what a partner delivers on territory is, in the model, its arms and what goes with them. NaN where nothing is
    delivered.
    """
    sit, a = model.situation, model.hedger.alignment
    delivered = a * model.world.reach * sit.trust * sit.supply[:, :, DIMENSIONS.index("territory")]
    total = delivered.sum(axis=1)
    return np.divide(delivered[:, POWERS.index(power)], total, out=np.full(len(total), np.nan), where=total > 0)


def arms_by_step(model: BalanceModel, steps: int) -> np.ndarray:
    """Run ``model`` on ``steps`` steps: Russia's share of the arms delivered after each one, (steps, runs)."""
    shares = []
    for _ in range(steps):
        model.step()
        shares.append(arms_share(model, ARMS_SUPPLIER))
    return np.stack(shares)


def run_means(series: np.ndarray, dated: np.ndarray, first: int, last: int) -> np.ndarray:
    """Each run's mean of ``series`` (steps, runs) over the steps ``dated`` in years first..last; NaN if none.

    NaN steps (nothing delivered) are left out; a run with none left, or a span with no step, is NaN.
    """
    inside = series[(dated >= first) & (dated <= last)]
    with np.errstate(invalid="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all NaN, or no step at all: the mean is NaN
        return np.nanmean(inside, axis=0)


def period_means(x: np.ndarray, calendar: Calendar, periods: Iterable[tuple[int, int]]) -> dict[tuple[int, int], float]:
    """Mean of a per-step, per-run series (steps + 1, runs) over the steps dated in each period's years."""
    years = np.array([calendar.date(k).year for k in range(x.shape[0])])
    out = {}
    for first, last in periods:
        inside = (years >= first) & (years <= last)
        if inside.any() and not np.isnan(x[inside]).all():
            out[(first, last)] = float(np.nanmean(x[inside]))
    return out
