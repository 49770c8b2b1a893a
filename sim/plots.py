"""Figures: alignment trajectories as fan charts, with tier bands and event markers."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")  # files only; no display needed
import matplotlib.pyplot as plt
import numpy as np

from sim.outcomes import TIERS
from sim.params import POWERS

COLOURS = {"US": "#1f5fa8", "CN": "#c0392b", "RU": "#6c3483"}
NAMES = {"US": "United States", "CN": "China", "RU": "Russia"}
TIER_LABELS = {
    "none": "no partnership",
    "comprehensive": "comprehensive",
    "strategic": "strategic",
    "comprehensive_strategic": "comprehensive strategic",
    "alliance": "alliance (ruled out)",
}


def alignment_fan_chart(model, title: str | None = None):
    """Median and 50% / 90% bands of Vietnam's alignment with each power over time."""
    traj = model.trajectories()["alignment"]  # (steps+1, runs, powers)
    years = np.array([d.decimal_year for d in model.dates])
    scalars = {k: float(v[0]) for k, v in model.world.scalars.items()}
    fig, ax = plt.subplots(figsize=(9, 5.2), dpi=120)
    edges = [0.0] + [scalars[t] for t in TIERS[1:]] + [1.0]
    for i, name in enumerate(TIERS):
        ax.axhspan(edges[i], edges[i + 1], color="0.5", alpha=0.04 + 0.035 * (i % 2), lw=0)
        ax.text(
            years[-1],
            (edges[i] + edges[i + 1]) / 2,
            " " + TIER_LABELS[name],
            va="center",
            fontsize=8,
            color="0.35",
            clip_on=False,
        )
    ax.axhline(scalars["alliance"], color="0.2", ls="--", lw=0.8)
    for p, power in enumerate(POWERS):
        x = traj[:, :, p]
        lo5, lo25, mid, hi75, hi95 = np.percentile(x, [5, 25, 50, 75, 95], axis=1)
        c = COLOURS[power]
        if x.shape[1] > 1:
            ax.fill_between(years, lo5, hi95, color=c, alpha=0.12, lw=0)
            ax.fill_between(years, lo25, hi75, color=c, alpha=0.25, lw=0)
        ax.plot(years, mid, color=c, lw=2, label=NAMES[power])
    for event in model.fired:
        ax.axvline(event.at.decimal_year, color="0.3", lw=0.8, ls=":")
        ax.text(
            event.at.decimal_year,
            0.98,
            " " + event.name.replace("_", " "),
            rotation=90,
            va="top",
            fontsize=7,
            color="0.3",
        )
    ax.set_xlim(years[0], years[-1])
    ax.set_ylim(0, 1)
    ax.set_xlabel("year")
    ax.set_ylabel("Vietnam's alignment")
    runs = traj.shape[1]
    band = "median, 50% and 90% bands over " if runs > 1 else ""
    ax.set_title(title or f"Alignment trajectories ({band}{runs} run{'s' if runs > 1 else ''})", fontsize=11)
    ax.legend(loc="lower left", frameon=False, ncol=3)
    fig.subplots_adjust(right=0.8)
    return fig


def save(fig, stem) -> list[str]:
    """Write a figure as PNG and SVG next to each other; returns the file names."""
    names = []
    for ext in ("png", "svg"):
        path = f"{stem}.{ext}"
        fig.savefig(path, metadata={"Date": None} if ext == "svg" else None)
        names.append(path)
    plt.close(fig)
    return names
