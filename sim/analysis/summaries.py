"""What a calibration compares: a history's summary statistics, the record's and each simulated run's alike.

Two kinds, each a number per statistic so that a distance can weigh them one by one (``sim.analysis.calibration``):

- **upgrade timing**: for each power and each tier from "comprehensive" to "comprehensive strategic", the first
  year after the start in which the tie rose into that tier or above it from below (a jump over a tier rises into
  each tier it passes), or the year after the last one looked at if it never did (censored);
- **arms**: Russia's share of the arms delivered to Vietnam, by each of the record's periods that ends by the
  last year looked at (the model's measurement of SIPRI's shares, ``sim.analysis.measurement.arms_share``).

A run's statistics are those of one realisation, as the record is one history: noise is part of what is matched.
"""

from __future__ import annotations

import numpy as np

from sim.analysis.record import Record
from sim.model.domain import POWERS, TIERS

RISES = TIERS[1:-1]  # the tiers a tie can rise into: comprehensive, strategic, comprehensive strategic


def names(record: Record, last: int) -> list[str]:
    """The statistics' names, in order: each power's rise into each tier, then the arms periods up to ``last``."""
    timing = [f"rise:{p}:{t}" for p in POWERS for t in RISES]
    arms = [f"arms:RU:{p.first}-{p.last}" for p in record.russian_arms_share if p.last <= last]
    return timing + arms


def rise_years(tiers: np.ndarray, years: np.ndarray) -> np.ndarray:
    """The first year each tie rose into each tier of RISES: (..., powers, tiers) from tiers (..., powers, years).

    A rise in year ``y`` is a tier at ``y`` at or above the tier, after one below it the year before; the first
    year's tiers are where the history starts, not rises. Never: the year after the last (censored).
    """
    censored = float(years[-1] + 1)
    before = np.concatenate([tiers[..., :1], tiers[..., :-1]], axis=-1)
    out = np.full((*tiers.shape[:-1], len(RISES)), censored)
    for j, tier in enumerate(RISES):
        k = TIERS.index(tier)
        rose = (tiers >= k) & (before < k)
        first = np.where(rose.any(axis=-1), rose.argmax(axis=-1), -1)
        out[..., j] = np.where(first >= 0, years[np.maximum(first, 0)], censored)
    return out


def of_record(record: Record, last: int) -> dict[str, float]:
    """The record's statistics over its years up to ``last``."""
    inside = record.years <= last
    timing = rise_years(record.tiers[:, inside], record.years[inside]).ravel()
    arms = [p.value for p in record.russian_arms_share if p.last <= last]
    return dict(zip(names(record, last), [*timing.tolist(), *arms], strict=True))


def of_runs(
    tiers: np.ndarray, years: np.ndarray, arms: dict[tuple[int, int], np.ndarray], record: Record
) -> np.ndarray:
    """Each run's statistics, (runs, statistics) in the order of ``names``.

    ``tiers``: the tier at each year's end, (runs, powers, years); ``arms``: Russia's share per run over each
    of the record's periods up to the last year (NaN where nothing was delivered: then the period's share is 0,
    as SIPRI records no Russian delivery).
    """
    timing = rise_years(tiers, years).reshape(tiers.shape[0], -1)
    periods = [(p.first, p.last) for p in record.russian_arms_share if p.last <= years[-1]]
    shares = [np.nan_to_num(arms[p], nan=0.0) for p in periods]
    return np.column_stack([timing, *shares]) if shares else timing
