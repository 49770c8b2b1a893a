"""Figures for papers and slides, drawn from an ensemble's Aggregate.

Every figure is saved as PNG and SVG. Matplotlib's bundled DejaVu fonts are
used, so nothing is fetched at run time. The same figure gives the same bytes
every time (no date, and SVG ids from a fixed salt), and text is drawn as
written: a scenario's name is text, never mathtext, whatever ``$`` it holds.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import matplotlib

matplotlib.use("Agg")  # files only; no display needed
import matplotlib.pyplot as plt
import numpy as np

from sim.model.domain import DIMENSIONS, POWERS, TIERS

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from sim.analysis.discovery import Box
    from sim.analysis.sensitivity import Plan
    from sim.model.calendar import Month
    from sim.runs import explore
    from sim.runs.results import Aggregate
    from sim.runs.scenario import EventSpec, Scenario
    from sim.runs.sweep import Design

matplotlib.rcParams.update({"svg.hashsalt": "bamboo", "text.parse_math": False})  # same bytes; names as text

# Okabe and Ito's colours, told apart by viewers with each kind of colour blindness (tests/outputs/test_palette.py)
COLOURS = {"US": "#0072B2", "CN": "#D55E00", "RU": "#CC79A7"}
NAMES = {"US": "United States", "CN": "China", "RU": "Russia"}
DIM_COLOURS = {"regime": "#CC79A7", "territory": "#D55E00", "prosperity": "#0072B2"}
HEDGING_COLOUR = "#000000"  # the hedging index, beside the demands' colours
FAILURE_COLOURS = {"bandwagoning": "#a04000", "dropped_partner": "#7d3c98", "isolation": "#1c2833"}
TIER_LABELS = {
    "none": "no partnership",
    "comprehensive": "comprehensive",
    "strategic": "strategic",
    "comprehensive_strategic": "comprehensive strategic",
    "alliance": "alliance (ruled out)",
}


def _years(dates: Iterable[Month]) -> np.ndarray:
    return np.array([d.decimal_year for d in dates])


def scenario_years(scenario: Scenario, points: int | None = None) -> np.ndarray:
    """Decimal years of the scenario's steps 0..horizon (or its first ``points`` steps)."""
    n = scenario.steps + 1 if points is None else points
    return _years([scenario.calendar.date(t) for t in range(n)])


def tier_bands(ax: Axes, thresholds: dict[str, float], fontsize: float = 8) -> None:
    """Shaded partnership tiers with their names at the right, and the alliance line dashed."""
    edges = [0.0] + [thresholds[t] for t in TIERS[1:]] + [1.0]
    for i, name in enumerate(TIERS):
        ax.axhspan(edges[i], edges[i + 1], color="0.5", alpha=0.04 + 0.035 * (i % 2), lw=0)
        ax.text(
            1.005,
            (edges[i] + edges[i + 1]) / 2,
            TIER_LABELS[name],
            va="center",
            fontsize=fontsize,
            color="0.35",
            transform=ax.get_yaxis_transform(),
        )
    ax.axhline(thresholds["alliance"], color="0.2", ls="--", lw=0.8)


def _events(ax: Axes, events: Iterable[EventSpec], top: float = 0.98) -> None:
    """A dotted line per event date; events on the same date share one label."""
    by_date: dict[float, list[str]] = {}
    for e in events:
        names = by_date.setdefault(e.at.decimal_year, [])
        if e.type not in names:
            names.append(e.type)
    for x, names in sorted(by_date.items()):
        ax.axvline(x, color="0.3", lw=0.8, ls=":")
        label = " " + ", ".join(n.replace("_", " ") for n in names)
        ax.text(x, top, label, rotation=90, va="top", fontsize=7, color="0.3", transform=ax.get_xaxis_transform())


def _band(ax: Axes, years: np.ndarray, q: np.ndarray, colour: str, label: str) -> None:
    """Median line with 50% and 90% bands; ``q``: (steps+1, 5) percentiles 5, 25, 50, 75, 95."""
    ax.fill_between(years, q[:, 0], q[:, 4], color=colour, alpha=0.12, lw=0)
    ax.fill_between(years, q[:, 1], q[:, 3], color=colour, alpha=0.25, lw=0)
    ax.plot(years, q[:, 2], color=colour, lw=2, label=label)


QS = (5, 25, 50, 75, 95)


def alignment_fan(agg: Aggregate, scenario: Scenario, thresholds: dict[str, float]) -> Figure:
    """Median, 50% and 90% bands of alignment with each power; tier bands; event markers."""
    years = scenario_years(scenario)
    q = agg.percentiles("alignment", QS)
    fig, ax = plt.subplots(figsize=(9, 5.2), dpi=120)
    tier_bands(ax, thresholds)
    for p, power in enumerate(POWERS):
        _band(ax, years, q[:, p], COLOURS[power], NAMES[power])
    _events(ax, scenario.events)
    ax.set(xlim=(years[0], years[-1]), ylim=(0, 1), xlabel="year", ylabel="Vietnam's alignment")
    ax.set_title(f"{scenario.name}: alignment (median, 50% and 90% bands, {agg.runs:,} runs)", fontsize=11)
    ax.legend(loc="lower left", frameon=False, ncol=3)
    fig.subplots_adjust(right=0.8)
    return fig


def _ternary_xy(shares: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Barycentric (US, CN, RU) to the plane: US at bottom left, CN bottom right, RU on top."""
    us, cn, ru = shares[..., 0], shares[..., 1], shares[..., 2]
    total = us + cn + ru
    return (cn + ru / 2) / total, ru * np.sqrt(3) / 2 / total


def _triangle(ax: Axes, step: float) -> tuple[float, float]:
    """Outline, equal-share grid every ``step``, and the point of even engagement."""
    corners = np.array([[0, 0], [1, 0], [0.5, np.sqrt(3) / 2], [0, 0]])
    ax.plot(corners[:, 0], corners[:, 1], color="0.2", lw=1)
    for f in np.arange(step, 1, step):
        for k in range(3):
            pa = _ternary_xy(np.roll(np.array([f, 1 - f, 0.0]), k))
            pb = _ternary_xy(np.roll(np.array([f, 0.0, 1 - f]), k))
            ax.plot([pa[0], pb[0]], [pa[1], pb[1]], color="0.88", lw=0.6, zorder=0)
    ex, ey = _ternary_xy(np.full(3, 1 / 3))
    ax.plot(ex, ey, marker="+", color="0.35", ms=10, zorder=4)
    ax.set_aspect("equal")
    return float(ex), float(ey)


def engagement_triangle(agg: Aggregate, scenario: Scenario) -> Figure:
    """Vietnam's engagement shares with the US, China and Russia moving over time (mean path).

    A point's distance from a corner's opposite side is the share of that
    power; the centre (+) is even engagement. The inset zooms on the path.
    """
    x, y = _ternary_xy(agg.mean("share"))
    years = scenario_years(scenario, len(x))
    fig, ax = plt.subplots(figsize=(7.5, 6.2), dpi=120)
    _triangle(ax, 0.1)
    for label, (px, py), ha in (
        ("US", (-0.02, -0.04), "right"),
        ("China", (1.02, -0.04), "left"),
        ("Russia", (0.5, 0.89), "center"),
    ):
        ax.text(px, py, label, ha=ha, fontsize=11)
    ax.plot(x, y, color="0.3", lw=1.2, zorder=3)
    ax.set(xlim=(-0.12, 1.12), ylim=(-0.1, 0.95))
    ax.axis("off")
    inset = ax.inset_axes((0.66, 0.52, 0.36, 0.45))
    ex, ey = _triangle(inset, 0.02)
    sc = inset.scatter(x, y, c=years, cmap="viridis", s=12, zorder=3)
    inset.plot(x, y, color="0.4", lw=0.8, zorder=2)
    inset.annotate("start", (x[0], y[0]), textcoords="offset points", xytext=(4, -9), fontsize=7)
    inset.annotate("end", (x[-1], y[-1]), textcoords="offset points", xytext=(4, 3), fontsize=7)
    half = max(float(np.ptp(np.r_[x, ex])), float(np.ptp(np.r_[y, ey])), 0.02) * 0.6 + 0.01
    cx, cy = (max(x.max(), ex) + min(x.min(), ex)) / 2, (max(y.max(), ey) + min(y.min(), ey)) / 2
    inset.set(xlim=(cx - half, cx + half), ylim=(cy - half, cy + half), xticks=[], yticks=[])
    inset.set_title("zoom: grid every 2 points of share", fontsize=7)
    ax.indicate_inset_zoom(inset, edgecolor="0.5")
    fig.colorbar(sc, ax=ax, shrink=0.5, location="left", label="year")
    ax.set_title(f"{scenario.name}: Vietnam's engagement shares (mean of {agg.runs:,} runs)", fontsize=11)
    return fig


def hedging(agg: Aggregate, scenario: Scenario) -> Figure:
    """The hedging index (1 = even engagement): median, 50% and 90% bands; event markers."""
    years = scenario_years(scenario)
    fig, ax = plt.subplots(figsize=(8, 4), dpi=120)
    _band(ax, years, agg.percentiles("hedging_index", QS)[:, 0], HEDGING_COLOUR, "hedging index")
    _events(ax, scenario.events)
    ax.set(xlim=(years[0], years[-1]), ylim=(0, 1.02), xlabel="year", ylabel="hedging index (1 = even)")
    ax.set_title(f"{scenario.name}: hedging index (median, 50% and 90% bands)", fontsize=11)
    return fig


def satisfaction(agg: Aggregate, scenario: Scenario) -> Figure:
    """Security satisfaction per demand (regime, territory, prosperity): median, 50% and 90% bands."""
    years = scenario_years(scenario)
    q = agg.percentiles("satisfaction", QS)
    fig, ax = plt.subplots(figsize=(8, 4.4), dpi=120)
    for i, d in enumerate(DIMENSIONS):
        _band(ax, years, q[:, i], DIM_COLOURS[d], d)
    _events(ax, scenario.events)
    ax.set(xlim=(years[0], years[-1]), ylim=(0, 1), xlabel="year", ylabel="security satisfaction")
    ax.set_title(f"{scenario.name}: security satisfaction per demand", fontsize=11)
    ax.legend(loc="upper right", frameon=False, ncol=3)
    return fig


def survival(agg: Aggregate, scenario: Scenario) -> Figure:
    """Survival over time: the share of runs still multi-aligned, and those failed so far stacked by mode."""
    years = scenario_years(scenario)
    fig, ax = plt.subplots(figsize=(8, 4.4), dpi=120)
    bottom = np.zeros(len(years))
    for mode, curve in agg.failure_curves().items():
        ax.fill_between(
            years,
            bottom,
            bottom + curve,
            step="post",
            color=FAILURE_COLOURS[mode],
            alpha=0.55,
            lw=0,
            label=mode.replace("_", " "),
        )
        bottom = bottom + curve
    ax.step(years, agg.survival_curve(), where="post", color="#1e8449", lw=2, label="multi-alignment survives")
    _events(ax, scenario.events)
    ax.set(xlim=(years[0], years[-1]), ylim=(0, 1.02), xlabel="year", ylabel="share of runs")
    p = agg.survival_probability()
    ax.set_title(f"{scenario.name}: survival {p:.1%} over the horizon; failures by mode", fontsize=11)
    ax.legend(loc="center left", frameon=False, fontsize=8)
    return fig


def paired_difference(diff_agg: Aggregate, a: Scenario, b: Scenario) -> Figure:
    """Per-run differences B - A in alignment with each power, under common random numbers."""
    years = scenario_years(a)
    q = diff_agg.percentiles("alignment", QS)
    fig, ax = plt.subplots(figsize=(9, 5), dpi=120)
    ax.axhline(0, color="0.2", lw=0.8)
    for p, power in enumerate(POWERS):
        _band(ax, years, q[:, p], COLOURS[power], NAMES[power])
    _events(ax, [*a.events, *b.events])
    ax.set(xlim=(years[0], years[-1]), xlabel="year", ylabel=f"alignment: {b.name} minus {a.name}")
    lo, hi = q[..., 0].min(), q[..., 4].max()
    span = max(abs(lo), abs(hi), 0.02) * 1.15
    ax.set_ylim(-span, span)
    ax.set_title(f"Paired differences over {diff_agg.runs:,} runs (median, 50% and 90% bands)", fontsize=11)
    ax.legend(loc="lower left", frameon=False, ncol=3)
    return fig


STRATEGY_COLOURS = {"hedge": "#1e8449", "frozen": "#7f8c8d", "random": "#b3b6b7"}


def strategies(agg: Aggregate, scenario: Scenario) -> Figure:
    """Survival (with 95% intervals) and mean security satisfaction under each strategy, on the same runs.

    Raises:
        ValueError: the runs were not tallied under each strategy (``figures`` leaves this figure out then).
    """
    from sim.model.strategies import DEFAULT
    from sim.runs.tally import Z95

    tally = agg.tally
    if tally is None:
        raise ValueError("no strategies were compared on these runs")
    names = list(tally.names)
    n = max(tally.runs, 1)
    p = np.array([tally.survival(name) for name in names])
    half = Z95 * np.sqrt(p * (1 - p) / n)
    sat = np.array([tally.security_mean(name) for name in names])
    colours = [STRATEGY_COLOURS.get(name, COLOURS.get(name.partition(":")[2], "0.5")) for name in names]
    y = np.arange(len(names))[::-1]
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 0.55 * len(names) + 1.8), dpi=120, sharey=True)
    left.barh(y, p, xerr=half, color=colours, alpha=0.85, capsize=3, error_kw={"lw": 0.8})
    for yi, pi in zip(y, p, strict=True):
        left.text(min(pi + 0.02, 0.86), yi, f"{pi:.0%}", va="center", fontsize=8)
    left.set(xlim=(0, 1), yticks=y, yticklabels=names, xlabel="multi-alignment survives (share of runs, 95% CI)")
    right.barh(y, sat, color=colours, alpha=0.85)
    right.set(xlim=(0, max(1.0, sat.max() * 1.1)), xlabel="mean security satisfaction over the horizon")
    others = [name for name in names if name != DEFAULT]
    title = f"{scenario.name}: Vietnam's strategies on the same {tally.runs:,} runs"
    if others:
        diff, lo, hi = tally.paired_survival(DEFAULT, max(others, key=tally.survival))
        title += f"\nvalue of hedging against the best alternative: {diff:+.0%} (95% CI {lo:+.0%} to {hi:+.0%})"
    fig.suptitle(title, fontsize=10.5)
    fig.tight_layout()
    return fig


# A run's figures by file name, besides the alignment fan: that one also needs the tier thresholds
FIGURES: dict[str, Callable[[Aggregate, Scenario], Figure]] = {
    "engagement_triangle": engagement_triangle,
    "hedging_index": hedging,
    "satisfaction": satisfaction,
    "survival": survival,
    "strategies": strategies,
}


def figures(agg: Aggregate) -> list[str]:
    """The figures a result has, the alignment fan first: the strategies' only where they were compared."""
    return ["alignment", *(name for name in FIGURES if name != "strategies" or agg.tally is not None)]


def sweep_survival(design: Design, rows: list[dict]) -> Figure:
    """Survival probability against each swept parameter; on a grid, the mean over the other parameters."""
    n = len(design.axes)
    cols = n if n <= 3 else math.ceil(math.sqrt(n))
    rows_ = -(-n // cols)
    fig, axs = plt.subplots(rows_, cols, figsize=(4.2 * cols, 3.6 * rows_), dpi=120, squeeze=False)
    survival = np.array([r["survival_probability"] for r in rows])
    for ax, axis in zip(axs.flat, design.axes, strict=False):
        x = np.array([r[axis.path] for r in rows])
        ax.scatter(x, survival, s=14, color="#1e8449", alpha=0.6, lw=0)
        if axis.levels:
            means = [survival[x == v].mean() for v in axis.levels]
            ax.plot(axis.levels, means, color="#1e8449", lw=2, label="mean over the other parameters")
        margin = 0.03 * (axis.high - axis.low)
        ax.set(xlabel=axis.path, ylim=(-0.02, 1.02), xlim=(axis.low - margin, axis.high + margin))
        ax.grid(alpha=0.3)
    for ax in axs.flat[n:]:
        ax.set_visible(False)
    for ax in axs[:, 0]:
        ax.set_ylabel("survival probability")
    fig.suptitle(f"{design.name}: {len(rows)} points x {design.runs:,} runs ({design.method.replace('_', ' ')})")
    fig.tight_layout()
    return fig


def save(fig: Figure, stem: Path) -> list[Path]:
    """Write a figure as PNG and SVG (no timestamp, so same input gives the same bytes).

    Returns:
        The two files written, PNG first; the figure is closed.
    """
    paths = []
    for ext in ("png", "svg"):
        path = Path(f"{stem}.{ext}")
        fig.savefig(path, metadata={"Date": None} if ext == "svg" else {"Software": None})
        paths.append(path)
    plt.close(fig)
    return paths


def save_all(agg: Aggregate, scenario: Scenario, thresholds: dict[str, float], folder: Path) -> list[Path]:
    """Save each of the run's figures (``figures``) in ``folder`` as PNG and SVG; returns the files written."""
    paths = []
    for name in figures(agg):
        fig = alignment_fan(agg, scenario, thresholds) if name == "alignment" else FIGURES[name](agg, scenario)
        paths += save(fig, folder / name)
    return paths


def hindcast(report: dict, events: Iterable[EventSpec], cutoff: int) -> Figure:
    """Modelled against recorded partnership tiers per power, one panel each.

    The record is a black step line, the share of runs in each tier the shading and the modal tier dashed;
    the cut-off and the events are marked. A last panel sets the modelled share of Russian arms against
    SIPRI's, where the report has it.

    Args:
        report: a hindcast report (``sim.analysis.hindcast.hindcast``): its years, tiers, and per power the record,
            the modal tier and the tier probabilities per year.
        events: the scenario's own events, marked on every panel.
        cutoff: the last in-sample year, drawn as a solid line at its end.
    """
    from matplotlib.colors import LinearSegmentedColormap

    years = np.array(report["years"])
    names = report["tiers"]
    edges_x = np.append(years, years[-1] + 1) - 0.5
    edges_y = np.arange(len(names) + 1) - 0.5
    arms = report.get("russian_arms_share")
    rows = len(POWERS) + (arms is not None)
    fig, axes = plt.subplots(rows, 1, figsize=(10, 2.8 * rows + 0.3), dpi=120, sharex=True)
    for ax, power in zip(axes, POWERS, strict=False):
        d = report["powers"][power]
        shade = LinearSegmentedColormap.from_list(power, ["white", COLOURS[power]])
        ax.pcolormesh(edges_x, edges_y, np.array(d["probabilities"]).T, cmap=shade, vmin=0, vmax=1, alpha=0.7)
        ax.step(years, [names.index(t) for t in d["record"]], where="mid", color="black", lw=2.2, label="record")
        modal = [names.index(t) for t in d["modal"]]
        ax.step(years, modal, where="mid", color=COLOURS[power], lw=1.4, ls="--", label="model (modal tier)")
        ax.axvline(cutoff + 0.5, color="0.2", lw=1.0)
        _events(ax, events)
        ax.set_yticks(range(len(names)), [TIER_LABELS[t].replace(" (ruled out)", "") for t in names], fontsize=8)
        ax.set_title(NAMES[power], fontsize=10, loc="left")
        ax.legend(loc="lower right", frameon=False, fontsize=8, ncol=2)
    if arms is not None:
        ax = axes[-1]
        lines = (
            ("record (SIPRI)", arms["record"], "black", "-", 2.2),
            ("model", arms["model"], COLOURS["RU"], "--", 1.6),
        )
        periods = [tuple(map(int, p.split("-"))) for p in arms["periods"]]
        for label, values, colour, style, width in lines:
            for k, ((first, last), v) in enumerate(zip(periods, values, strict=True)):  # one legend entry a line
                ax.plot([first - 0.5, last + 0.5], [v, v], ls=style, color=colour, lw=width, label=None if k else label)
        ax.axvline(cutoff + 0.5, color="0.2", lw=1.0)
        ax.set_ylim(0, 1.05)
        ax.set_ylabel("share", fontsize=8)
        ax.set_title("Russia's share of Vietnam's arms imports, by period of deliveries", fontsize=10, loc="left")
        ax.legend(loc="lower left", frameon=False, fontsize=8, ncol=2)
    axes[-1].set_xlim(edges_x[0], edges_x[-1])
    axes[-1].set_xlabel(f"year (shading: share of runs in each tier; solid vertical line: the cut-off, {cutoff})")
    fig.suptitle("Hindcast: partnership tiers, modelled against the record", fontsize=11)
    fig.tight_layout()
    return fig


# -- sensitivity and scenario discovery ---------------------------------------------
INDEX_LABELS = {
    "S1": "first-order S1",
    "ST": "total ST",
    "mu_star": "Morris μ* (mean absolute elementary effect)",
}


def sensitivity_indices(rows: list[dict], method: str, title: str, top: int = 12) -> Figure:
    """Per outcome, the ``top`` factors by total index (Sobol') or μ* (Morris), with 95% intervals."""
    outcomes = list(dict.fromkeys(r["outcome"] for r in rows if r["method"] == method))
    shown = ("ST", "S1") if method == "sobol" else ("mu_star",)
    cols = min(len(outcomes), 3)
    nrows = -(-len(outcomes) // cols)
    fig, axs = plt.subplots(nrows, cols, figsize=(5.6 * cols, 0.3 * top * nrows + 1.6 * nrows), dpi=120, squeeze=False)
    for ax, outcome in zip(axs.flat, outcomes, strict=False):
        lead = sorted(
            (r for r in rows if (r["method"], r["outcome"], r["index"]) == (method, outcome, shown[0])),
            key=lambda r: r["rank"],
        )[:top]
        names = [r["factor"] for r in lead]
        y = np.arange(len(names))[::-1]
        for k, index in enumerate(shown):
            by = {r["factor"]: r for r in rows if (r["method"], r["outcome"], r["index"]) == (method, outcome, index)}
            est = np.array([by[n]["estimate"] for n in names])
            lo = np.array([by[n]["ci_low"] if by[n]["ci_low"] is not None else by[n]["estimate"] for n in names])
            hi = np.array([by[n]["ci_high"] if by[n]["ci_high"] is not None else by[n]["estimate"] for n in names])
            err = np.vstack([np.maximum(est - lo, 0), np.maximum(hi - est, 0)])
            offset = 0.2 if len(shown) > 1 else 0.0
            ax.errorbar(
                est, y + (offset if k == 0 else -offset), xerr=err, fmt="o" if k == 0 else "s", ms=4, capsize=2,
                lw=0.9, color=("#1e8449", "#7f8c8d")[k], label=INDEX_LABELS[index],
            )  # fmt: skip
        ax.set(yticks=y, yticklabels=names, title=outcome.replace("_", " "))
        ax.axvline(0, color="0.6", lw=0.6)
        ax.tick_params(axis="y", labelsize=7)
        ax.grid(axis="x", alpha=0.3)
        ax.legend(fontsize=7, loc="lower right")
    for ax in axs.flat[len(outcomes) :]:
        ax.set_visible(False)
    fig.suptitle(title, fontsize=10.5)
    fig.tight_layout()
    return fig


def save_sensitivity(rows: list[dict], plan: Plan, design: explore.Design, folder: Path) -> list[Path]:
    """Each method's indices (``sensitivity_indices``) in ``folder``, as ``<method>``.png and .svg.

    Args:
        rows: the indices (``sim.analysis.sensitivity.indices``).
        plan: the methods' points, which the titles count.
        design: the points as simulated: the scenario and the runs per point, which the titles name.
        folder: where the figures go.

    Returns:
        The files written, method by method, PNG before SVG.
    """
    files = []
    for method, part in plan.rows.items():
        what = "Sobol' indices" if method == "sobol" else "Morris screening"
        title = f"{design.scenario.name}: {what}, {part.stop - part.start:,} points x {design.replicates} runs"
        files += save(sensitivity_indices(rows, method, title), folder / method)
    return files


def posterior(
    summary: dict[str, dict[str, float]],
    particles: np.ndarray,
    weights: np.ndarray,
    prior: dict[str, tuple[float, float]],
) -> Figure:
    """Each calibrated parameter's posterior (weighted histogram) over its prior range, one small panel each."""
    paths = list(summary)
    cols = 4
    rows = -(-len(paths) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(11, 2.1 * rows), dpi=110, squeeze=False)
    for ax, (j, path) in zip(axes.flat, enumerate(paths), strict=False):
        lo, hi = prior[path]
        ax.hist(particles[:, j], bins=12, range=(lo, hi), weights=weights, color="#117a65", alpha=0.8)
        ax.axvline(summary[path]["mean"], color="black", lw=1)
        ax.set_xlim(lo, hi)
        ax.set_yticks([])
        ax.set_title(path.split(".", 1)[1], fontsize=8)
        ax.tick_params(labelsize=7)
    for ax in list(axes.flat)[len(paths) :]:
        ax.axis("off")
    fig.suptitle("Calibrated posterior over each parameter's documented range (line: weighted mean)", fontsize=10)
    fig.tight_layout()
    return fig


def peeling_trajectory(
    trajectory: pd.DataFrame, title: str, chosen: Sequence[int], written: tuple[float, float] | None = None
) -> Figure:
    """PRIM's peeling trajectory: coverage against density, coloured by restricted dimensions.

    The chosen steps are circled; ``written`` (coverage, density) marks the box as written back, once the
    limits PRIM cannot tell from chance are dropped.
    """
    fig, ax = plt.subplots(figsize=(6.4, 4.6), dpi=120)
    dots = ax.scatter(
        trajectory["coverage"], trajectory["density"], c=trajectory["res_dim"], cmap="viridis", s=18, zorder=2
    )
    fig.colorbar(dots, ax=ax, label="restricted dimensions")
    for i in chosen:
        row = trajectory.iloc[i]
        ax.annotate(
            f"chosen: step {i}", (row["coverage"], row["density"]), xytext=(6, 6), textcoords="offset points",
            fontsize=8,
        )  # fmt: skip
        ax.scatter([row["coverage"]], [row["density"]], s=70, facecolors="none", edgecolors="#c0392b", zorder=3)
    if written is not None:
        ax.scatter(*written, marker="X", s=70, color="#c0392b", zorder=4, label="the box written back")
        ax.legend(fontsize=8, loc="upper right")
    ax.set(xlabel="coverage (share of all collapses inside the box)", ylabel="density (collapse rate inside the box)")
    ax.set(xlim=(0, 1.02), ylim=(0, 1.02), title=title)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig


def save_peeling(
    design: explore.Design, boxes: list[Box], trajectories: list[tuple[pd.DataFrame, int]], folder: Path
) -> dict[int, list[Path]]:
    """Each box's peeling trajectory (``peeling_trajectory``) in ``folder``, as peeling_<box>.png and .svg.

    Args:
        design: the points the boxes were found on: its scenario names the figures.
        boxes: PRIM's boxes (``sim.analysis.discovery.find_boxes``).
        trajectories: each box's peeling trajectory with the step chosen, as ``find_boxes`` gives them.
        folder: where the figures go.

    Returns:
        The files written for each box, by its number (as ``sim.analysis.discovery.write`` takes them).
    """
    figures = {}
    for box, (trajectory, chosen) in zip(boxes, trajectories, strict=True):
        outside = " (on the points outside box 1)" * (box.number > 1)
        title = f"{design.scenario.name}: PRIM box {box.number}{outside}"
        figure = peeling_trajectory(trajectory, title, [chosen], (box.coverage, box.density))
        figures[box.number] = save(figure, folder / f"peeling_{box.number}")
    return figures


def forecast(document: dict) -> Figure:
    """A sealed forecast (``sim.analysis.forecasting``): each power's tier probabilities by year, and the fans.

    One panel per power: the share of runs in each tier at each forecast year's end, stacked; a last panel:
    Russia's share of the arms delivered (5-95% and 25-75% of runs, the median) beside its persistence and
    climatology baselines, and the hedging index's median and 5-95%; with the ``with`` variant, the share's median
    with the events after the origin too (its tiers are in the file and graded, not drawn).
    """
    from sim.analysis.forecasting import origin_label

    years = [int(y) for y in document["years"]]
    tiers = [t for t in TIER_LABELS if t != "alliance"]
    shades = plt.get_cmap("Greens")(np.linspace(0.15, 0.85, len(tiers)))
    fig, axes = plt.subplots(1, len(POWERS) + 1, figsize=(13, 3.6), constrained_layout=True)
    for ax, power in zip(axes, POWERS, strict=False):
        bottom = np.zeros(len(years))
        for tier, shade in zip(tiers, shades, strict=True):
            share = np.array([document["forecast"][power][str(y)]["tiers"].get(tier, 0.0) for y in years])
            ax.bar(years, share, bottom=bottom, color=shade, label=TIER_LABELS[tier], width=0.7)
            bottom += share
        ax.set_title(f"Vietnam–{NAMES[power]}: tier at year's end", fontsize=9)
        ax.set_ylim(0, 1)
        ax.set_xticks(years)
    axes[0].set_ylabel("share of runs")
    axes[0].legend(fontsize=7, loc="lower left")
    ax = axes[-1]
    block = document.get("observables", {})
    if block:

        def band(name: str, source: dict, low: str, high: str) -> tuple[np.ndarray, np.ndarray]:
            values = [source[name][str(y)] or {} for y in years]
            return (np.array([v.get(low, np.nan) for v in values]), np.array([v.get(high, np.nan) for v in values]))

        forecast_block = block["forecast"]
        for name, colour, label in (
            ("russian_arms_share", COLOURS["RU"], "Russia's arms share"),
            ("hedging_index", HEDGING_COLOUR, "hedging index"),
        ):
            lo, hi = band(name, forecast_block, "0.05", "0.95")
            ax.fill_between(years, lo, hi, color=colour, alpha=0.15, linewidth=0)
            mid, _ = band(name, forecast_block, "0.5", "0.5")
            ax.plot(years, mid, color=colour, marker="o", label=f"{label}: median, 5-95% of runs")
        for baseline, style in (("persistence", "--"), ("climatology", ":")):
            shares = block["baselines"]["russian_arms_share"].get(baseline)
            if shares:
                held = [shares[str(y)]["0.5"] for y in years]
                ax.plot(years, held, color=COLOURS["RU"], linestyle=style, label=f"arms share: {baseline}")
        post = document.get("with")
        if post:
            mid, _ = band("russian_arms_share", post["observables"], "0.5", "0.5")
            ax.plot(
                years,
                mid,
                color=COLOURS["RU"],
                linestyle="-.",
                marker="o",
                markerfacecolor="none",
                label="arms share with the events: median",
            )
        ax.legend(fontsize=7, loc="center left")
    ax.set_ylim(0, 1.05)
    ax.set_xticks(years)
    ax.set_title("Observables, by year", fontsize=9)
    fig.suptitle(
        f"Forecast from {origin_label(document)} ({document['runs']:,} runs, seed {document['seed']}; "
        f"sealed {document['sha256'][:12]}…)",
        fontsize=10,
    )
    return fig
