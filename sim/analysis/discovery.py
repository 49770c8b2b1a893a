"""Scenario discovery: the regions of a scenario's factor space where multi-alignment collapses (PRIM).

A Latin hypercube over the scenario's open factors (parameters with a range,
event magnitudes and dates given as ranges; ``sim.runs.explore``), one run per
point, every run with its own random numbers: a run *collapses* when
multi-alignment fails under the scenario's strategy. PRIM (Friedman and
Fisher 1999; the EMA Workbench's implementation, Kwakkel 2017) peels the
factor space down to boxes where collapses are dense. For each box the
report gives its coverage (the share of all collapses inside it), its density
(the collapse rate inside it) with a binomial standard error, its mass, and
the restricted dimensions with their limits and quasi-p-values. Coverage and
density are counted over all points, so a box written back as a scenario
(``box_file``) should collapse at its density when it is run.
"""

from __future__ import annotations

import contextlib
import math
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from sim.runs import explore

if TYPE_CHECKING:  # imported where used: pandas comes with the EMA Workbench, the scenario module is heavy
    import pandas as pd

    from sim.runs.scenario import Scenario

POINTS = 20_000  # runs, one per point
PEEL_ALPHA = 0.05
MASS_MIN = 0.05
SIGNIFICANCE = 0.05  # restrictions with a larger quasi-p-value are dropped
MIN_COVERAGE = 0.3  # a box is chosen on its peeling trajectory as the densest with at least this coverage
BOX_COLUMNS: tuple[str, ...] = ("box", "coverage", "density", "density_se", "mass", "points", "restricted")
BOX_COLUMNS += ("dimension", "low", "high", "full_low", "full_high", "quasi_p")


@contextlib.contextmanager
def quiet() -> Iterator[None]:
    """The EMA Workbench warns at import about optional back-ends, and pandas about its own future."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*ipyparallel.*")
        warnings.filterwarnings("ignore", category=FutureWarning)
        warnings.filterwarnings("ignore", category=DeprecationWarning)
        yield


def design(
    scenario: Scenario, factor_list: list[explore.Factor], points: int = POINTS, seed: int = 1
) -> explore.Design:
    """A Latin hypercube over the factors, one run per point, independent noise (no common random numbers)."""
    from scipy.stats import qmc

    unit = qmc.LatinHypercube(d=len(factor_list), rng=np.random.default_rng(seed)).random(points)
    low = np.array([f.low for f in factor_list])
    high = np.array([f.high for f in factor_list])
    values = explore.realize(scenario, factor_list, low + unit * (high - low))
    method = {"sampler": "latin_hypercube", "points": points}
    return explore.Design(scenario, factor_list, values, 1, seed, (scenario.strategy,), False, method)


def collapsed(outcomes: dict[str, np.ndarray]) -> np.ndarray:
    """Whether each run's multi-alignment failed (one run per point)."""
    return outcomes["survival_probability"] < 0.5


def metadata(design: explore.Design, outcomes: dict[str, np.ndarray], seconds: float) -> dict:
    """What manifest.json says of a discovery, under "discovery", as ``write`` takes it.

    Args:
        design: the points simulated (``design``).
        outcomes: their outcomes (``sim.runs.explore.run``).
        seconds: how long the design took to run.

    Returns:
        The factors, how the points were drawn and run, the collapse rate, and how PRIM's boxes were chosen.
    """
    return {
        "discovery": {
            "factors": [f.__dict__ for f in design.factors],
            "design": design.method,
            "points": design.points,
            "runs_per_point": design.replicates,
            "common_random_numbers": design.common_noise,
            "collapse_rate": float(collapsed(outcomes).mean()),
            "prim": {"peel_alpha": PEEL_ALPHA, "mass_min": MASS_MIN},
            "box_choice": f"densest on the peeling trajectory with coverage >= {MIN_COVERAGE}",
            "dropped_restrictions": f"quasi-p-value > {SIGNIFICANCE}",
            "seconds": round(seconds, 1),
        }
    }


class Box:
    """One PRIM box, counted over every point: its limits on the restricted dimensions and its statistics."""

    def __init__(
        self,
        number: int,
        limits: dict[str, tuple[float, float]],
        full: dict[str, tuple[float, float]],
        x: pd.DataFrame,
        y: np.ndarray,
        quasi_p: dict[str, float],
    ) -> None:
        """Box ``number`` with its limits, the full ranges and quasi-p-values; counted on points ``x``, flags ``y``."""
        self.number, self.limits, self.full, self.quasi_p = number, limits, full, quasi_p
        inside = self.contains(x)
        self.points = int(inside.sum())
        self.mass = self.points / len(y)
        self.density = float(y[inside].mean()) if self.points else 0.0
        self.coverage = float(y[inside].sum() / max(y.sum(), 1))
        self.density_se = math.sqrt(self.density * (1 - self.density) / max(self.points, 1))

    def contains(self, x: pd.DataFrame) -> np.ndarray:
        """Which of the points ``x`` (one row each, a column per factor) lie inside the box."""
        inside = np.ones(len(x), bool)
        for name, (lo, hi) in self.limits.items():
            inside &= (x[name].to_numpy() >= lo) & (x[name].to_numpy() <= hi)
        return inside

    def rows(self) -> list[dict]:
        """The box's rows of boxes.csv: its statistics with each restricted dimension's limits."""
        stats = {
            "box": self.number,
            "coverage": self.coverage,
            "density": self.density,
            "density_se": self.density_se,
            "mass": self.mass,
            "points": self.points,
            "restricted": len(self.limits),
        }
        return [
            stats
            | {
                "dimension": name,
                "low": lo,
                "high": hi,
                "full_low": self.full[name][0],
                "full_high": self.full[name][1],
                "quasi_p": self.quasi_p.get(name),
            }
            for name, (lo, hi) in self.limits.items()
        ]


def find_boxes(
    x: pd.DataFrame, y: np.ndarray, boxes: int = 2, peel_alpha: float = PEEL_ALPHA, mass_min: float = MASS_MIN
) -> tuple[list[Box], list[tuple[pd.DataFrame, int]]]:
    """PRIM's boxes, one after another (each next one on the points outside the ones before).

    Returns the boxes (each the densest point of its peeling trajectory with
    coverage at least MIN_COVERAGE of what was left, else the densest) and
    each box's peeling trajectory with the chosen index.
    """
    with quiet():
        from ema_workbench.analysis import prim

        finder = prim.Prim(x, np.asarray(y, dtype=int), peel_alpha=peel_alpha, mass_min=mass_min)
        found, trajectories = [], []
        for number in range(1, boxes + 1):
            if not y[finder.yi_remaining].any():
                break
            box = finder.find_box()
            if box is None:
                break
            trajectory = box.peeling_trajectory.copy()
            enough = trajectory[trajectory["coverage"] >= MIN_COVERAGE]
            chosen = int((enough if len(enough) else trajectory)["density"].idxmax())
            box.select(chosen)
            limits, full, quasi_p = _significant(box.box_lims[chosen], finder.box_init, box.p_values[chosen])
            found.append(Box(number, limits, full, x, np.asarray(y, bool), quasi_p))
            trajectories.append((trajectory, chosen))
    return found, trajectories


def _significant(box_lim: pd.DataFrame, box_init: pd.DataFrame, p_values: dict) -> tuple[dict, dict, dict]:
    """The box's restricted limits that PRIM can tell from chance, each side on its own.

    A limit whose quasi-p-value (Bryant and Lempert 2010) exceeds SIGNIFICANCE
    goes back to the full range: it would only narrow the box by overfitting.
    Returns the (low, high) of each dimension still restricted, the full range
    it was cut from, and the larger quasi-p-value of its kept limits.
    """
    limits, full, quasi_p = {}, {}, {}
    for name in box_lim.columns:
        ends = [float(box_lim[name].iloc[k]) for k in (0, 1)]
        whole = [float(box_init[name].iloc[k]) for k in (0, 1)]
        qp = list(np.atleast_1d(p_values.get(name, [-1.0, -1.0])))
        kept = []
        for side in (0, 1):
            if ends[side] != whole[side] and 0 <= qp[side] <= SIGNIFICANCE:
                kept.append(float(qp[side]))
            else:
                ends[side] = whole[side]
        if kept:
            limits[name], full[name], quasi_p[name] = tuple(ends), tuple(whole), max(kept)
    return limits, full, quasi_p


def box_scenario(scenario: Scenario, box: Box, factor_list: list[explore.Factor], runs: int | None = None) -> dict:
    """The scenario restricted to a box, as a file would say it: ready to run.

    A restricted parameter gets the box's range; an event its magnitude or
    date range. Unrestricted factors are drawn as in the design: over their
    ranges (``uncertainty: true``, or their ranges written out where the
    scenario fixes what is not a factor).
    """
    doc = scenario.as_dict()
    kinds = {f.name: f for f in factor_list}
    every = {p.path for p in scenario.resolved_parameters.ranged()} <= set(kinds)
    parameters = dict(doc["parameters"])
    if not (scenario.uncertainty or every):  # only the factors vary: write the unrestricted ones' ranges
        parameters |= {f.name: [f.low, f.high] for f in factor_list if f.kind == "parameter"}
    for name, (lo, hi) in box.limits.items():
        f = kinds[name]
        if f.kind == "parameter":
            parameters[name] = [_tidy(lo), _tidy(hi)]
        else:
            event = doc["events"][f.event]
            if f.kind == "magnitude":
                event["magnitude"] = [_tidy(lo), _tidy(hi)]
            else:
                first, last = explore.month_of(lo), explore.month_of(hi)
                event["at"] = [str(first), str(last)] if last > first else str(first)
    doc["parameters"] = parameters
    doc["uncertainty"] = scenario.uncertainty or every
    doc["name"] = f"{scenario.name}: collapse box {box.number}"
    doc["description"] = (
        f"Box {box.number} found by PRIM (bamboo discover) on {scenario.name!r}: multi-alignment collapsed in "
        f"{box.density:.1%} (± {box.density_se:.1%}) of the {box.points:,} design runs inside it, "
        f"{box.coverage:.0%} of all collapses. Restricted: {', '.join(box.limits)}."
    )
    if runs is not None:
        doc["runs"] = runs
    return doc


def _tidy(x: float) -> float:
    """A limit rounded for a scenario file: six decimals."""
    return round(float(x), 6)


def box_file(doc: dict) -> str:
    """A box's scenario as the text of a YAML file, keys in the order written."""
    import yaml

    return yaml.safe_dump(doc, sort_keys=False, allow_unicode=True, width=110)


def write(
    folder: Path,
    design: explore.Design,
    outcomes: dict[str, np.ndarray],
    boxes: list[Box],
    trajectories: list[tuple[pd.DataFrame, int]],
    meta: dict,
    figures: dict[int, list[Path]],
) -> list[Path]:
    """The discovery's files, listed: boxes and peeling tables, the points, scenarios, a manifest.

    boxes.csv/.parquet, peeling.csv/.parquet, points.parquet, a scenario file per box beside its peeling
    figure (``figures``: box number -> the files already drawn), and manifest.json.
    """
    import json

    from sim.analysis.sensitivity import write_points, write_table
    from sim.runs.results import manifest

    rows = [row for box in boxes for row in box.rows()]
    files = write_table(rows, BOX_COLUMNS, folder, "boxes")
    peel = []
    for box, (trajectory, chosen) in zip(boxes, trajectories, strict=True):
        for i, r in trajectory.iterrows():
            peel.append(
                {"box": box.number, "step": int(i), "chosen": int(i) == chosen}
                | {k: float(r[k]) for k in ("coverage", "density", "mass")}
                | {"restricted": int(r["res_dim"])}
            )
    columns = ("box", "step", "chosen", "coverage", "density", "mass", "restricted")
    files += write_table(peel, columns, folder, "peeling")
    files += write_points(design, outcomes | {"collapsed": collapsed(outcomes)}, folder)
    for box in boxes:
        files += figures[box.number]
        path = folder / f"box_{box.number}.yaml"
        path.write_text(box_file(box_scenario(design.scenario, box, design.factors)), encoding="utf-8")
        files.append(path)
    meta = manifest(design.scenario, design.points, design.seed, files) | meta
    (folder / "manifest.json").write_text(json.dumps(meta, indent=2) + "\n")
    return files
