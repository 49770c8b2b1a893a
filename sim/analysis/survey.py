"""What each stylized fact hangs on: its verdict in every draw of the design, and the parameters that move it.

``bamboo facts --out DIR`` writes, beside the table it prints (``facts.md``):

- ``draws.csv``: one row per Latin-hypercube draw, with the value of every
  ranged parameter and, for each fact, whether it holds, its effect, and
  whether it holds with its mechanism switched off;
- ``drivers.csv``: for each fact and each ranged parameter, Spearman's rank
  correlation of the fact's effect with the parameter across the draws, and
  the share of draws in which the fact holds with the parameter at or below
  its median and above it (the figures docs/ODD.md 1.2 quotes);
- ``manifest.json``: the design (draws, runs, seed), the parameter file's
  hash and the versions, with every file's hash.

A fact that holds in too few draws can so be traced to where in the box it
fails, and whether that is a corner or the whole of it.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from sim.analysis.facts import Design, Verdict, markdown
from sim.model.params import default_path

DRIVER_COLUMNS = ("fact", "parameter", "spearman_rho", "holds_below_median", "holds_above_median")


def ranged(design: Design) -> list[str]:
    """The parameters the design draws, in the parameter file's order."""
    return [q.path for q in design.parameters.ranged()]


def draw_columns(design: Design, verdicts: Sequence[Verdict]) -> dict[str, np.ndarray]:
    """The columns of draws.csv: the draw, every drawn parameter, and per fact its verdict, effect and ablation."""
    columns: dict[str, np.ndarray] = {"draw": np.arange(design.draws)}
    columns |= {path: design.values[path] for path in ranged(design)}
    for v in verdicts:
        columns[f"fact_{v.number}_holds"] = v.result.holds.astype(int)
        columns[f"fact_{v.number}_effect"] = v.result.effect
        columns[f"fact_{v.number}_ablated_holds"] = v.ablated.holds.astype(int)
    return columns


def rank_correlation(x: np.ndarray, y: np.ndarray) -> float:
    """Spearman's rho of ``x`` and ``y``; NaN where it is undefined (fewer than three draws, or a constant)."""
    from scipy.stats import spearmanr

    if len(x) < 3 or np.ptp(x) == 0 or np.ptp(y) == 0:
        return math.nan
    return float(spearmanr(x, y).statistic)


def _share(holds: np.ndarray) -> float:
    return float(holds.mean()) if len(holds) else math.nan


def drivers(design: Design, verdicts: Sequence[Verdict]) -> list[dict[str, object]]:
    """The rows of drivers.csv: per fact, every drawn parameter, the strongest rank correlation first."""
    rows: list[dict[str, object]] = []
    for v in verdicts:
        fact: list[tuple[float, dict[str, object]]] = []
        for path in ranged(design):
            x = design.values[path]
            low = x <= np.median(x)
            rho = rank_correlation(x, v.result.effect)
            row = {"fact": v.number, "parameter": path, "spearman_rho": rho}
            row |= {
                "holds_below_median": _share(v.result.holds[low]),
                "holds_above_median": _share(v.result.holds[~low]),
            }
            fact.append((-1.0 if math.isnan(rho) else abs(rho), row))
        rows += [row for _, row in sorted(fact, key=lambda pair: -pair[0])]  # stable: ties keep the file's order
    return rows


def _cell(x: object) -> object:
    """A CSV cell: an undefined number is an empty cell, a numpy number a Python one."""
    if isinstance(x, np.generic):
        x = x.item()
    return "" if isinstance(x, float) and math.isnan(x) else x


def manifest(design: Design, defaults: Design, files: Sequence[Path]) -> dict[str, object]:
    """What the folder was made from, so that ``bamboo facts`` with these options makes it again."""
    from sim import __version__
    from sim.runs.results import environment, file_hashes

    return {
        "package_version": __version__,
        "command": "facts",
        "design": {
            "draws": design.draws,
            "reps": design.reps,
            "seed": design.seed,
            "ranged_parameters": len(ranged(design)),
        },
        "defaults": {"reps": defaults.reps, "seed": defaults.seed},
        "parameters_sha256": hashlib.sha256(default_path().read_bytes()).hexdigest(),
        "environment": environment(),
        "files": file_hashes(files),
    }


def write(folder: Path, design: Design, defaults: Design, verdicts: Sequence[Verdict]) -> list[Path]:
    """facts.md, draws.csv, drivers.csv and manifest.json in ``folder``; returns every file but the manifest."""
    from sim.runs.results import write_csv, write_json

    table = folder / "facts.md"
    table.write_text(markdown(verdicts) + "\n")
    columns = draw_columns(design, verdicts)
    draws = write_csv(
        folder / "draws.csv", list(columns), (map(_cell, row) for row in zip(*columns.values(), strict=True))
    )
    rows = ([_cell(r[c]) for c in DRIVER_COLUMNS] for r in drivers(design, verdicts))
    files = [table, draws, write_csv(folder / "drivers.csv", DRIVER_COLUMNS, rows)]
    write_json(folder / "manifest.json", manifest(design, defaults, files))
    return files
