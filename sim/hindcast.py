"""A hindcast scored against the record: the model's tiers by year beside the record's and the baselines'.

In sample is the record up to the cut-off year, out of sample the years
after it. Every score is set beside the naive baselines scored the same way
(``sim.scoring``): persistence and a trend fitted before the window.
"""

from __future__ import annotations

import numpy as np

from sim.calendar import Calendar
from sim.measurement import median_by_year, tier_distribution
from sim.params import POWERS, TIERS
from sim.record import Record
from sim.scoring import persistence, score, trend


def windows(record: Record, cutoff: int) -> dict[str, np.ndarray]:
    """The in-sample years (to the cut-off) and the out-of-sample years (after it)."""
    if not record.years[0] < cutoff < record.years[-1]:
        raise ValueError(f"expected a cut-off year inside {record.years[0]}-{record.years[-1]}, got {cutoff}")
    return {"in_sample": record.window(record.years[0], cutoff), "out_of_sample": record.window(cutoff + 1, 9999)}


def hindcast(trajectories: dict, calendar: Calendar, record: Record, cutoff: int) -> dict:
    """Per power and year the modal tier, the tier shares and the median alignment; scores per window.

    ``trajectories`` are a model's recorded outcomes (``BalanceModel.trajectories``).
    """
    years = record.years
    probs = tier_distribution(trajectories["tier"], calendar, years)
    if np.isnan(probs).any():
        missing = years[np.isnan(probs).any(axis=(0, 2))]
        raise ValueError(f"the run does not cover the record's years {missing[0]}-{missing[-1]}")
    alignment = median_by_year(trajectories["alignment"], calendar, years)
    scores = {}
    for name, window in windows(record, cutoff).items():
        forecasts = {
            "model": probs,
            "persistence": persistence(record.tiers, years, window),
            "trend": trend(record.tiers, years, window),
        }
        scores[name] = {k: score(f, record.tiers, years, window).as_dict() for k, f in forecasts.items()}
    return {
        "years": years.tolist(),
        "cutoff": cutoff,
        "tiers": TIERS,
        "powers": {
            p: {
                "record": [TIERS[t] for t in record.tiers[i]],
                "modal": [TIERS[t] for t in probs[i].argmax(-1)],
                "probabilities": np.round(probs[i], 4).tolist(),
                "median_alignment": np.round(alignment[i], 4).tolist(),
            }
            for i, p in enumerate(POWERS)
        },
        "scores": scores,
    }
