"""Sweeps: a base scenario over a grid or a Latin hypercube of parameter values.

A design file names the base scenario, the method, the runs per point and the
parameters to vary, each over its range in the parameter file unless the
design gives one. Every design point runs the same seed, so points are
compared under common random numbers. The result is a table with one row per
point: survival probability, failure-mode shares and final alignment with
each power (mean, p05, p50, p95).

    name: Russia's reach and closeness to China
    scenario: ../status_quo.yaml       # relative to this file
    method: grid                       # or latin_hypercube, with points: N
    runs: 2000                         # per point (default: the scenario's)
    seed: 11                           # runs and the hypercube (default: the scenario's)
    parameters:
      powers.RU.reach: {levels: 4}                  # over its range in the parameter file
      world.russia_china_closeness: {range: [0.5, 0.9], levels: 3}
      powers.CN.coercion_threat.territory: {values: [0.15, 0.3, 0.45]}   # grid only
"""

from __future__ import annotations

import csv
import dataclasses
import hashlib
import itertools
import json
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sim.checks import is_number, suggest
from sim.domain import POWERS
from sim.ensemble import DEFAULT_CHUNK, chunks, execute, executor
from sim.limits import MAX_LEVELS, MAX_POINTS, MAX_RUNS, MAX_SEED
from sim.outcomes import Failure
from sim.params import ParameterError, bounds
from sim.reach import Files, ReachError
from sim.results import rounded
from sim.scenario import Scenario, ScenarioError, load_scenario, open_source, parse, whole_number
from sim.yamlfile import show, token

__all__ = ["DEFAULT_CHUNK", "Design", "chunks", "executor", "load_design", "run", "write"]

DESIGN_KEYS = ("name", "description", "scenario", "method", "points", "runs", "seed", "parameters")
METHODS = ("grid", "latin_hypercube")
AXIS_KEYS = ("range", "levels", "values")
SERIES = ("alignment",)  # all a row needs; keeps each chunk's Aggregate small
STATS = ("mean", "p05", "p50", "p95")


@dataclass(frozen=True)
class Axis:
    """One swept parameter: its interval and, on a grid, its levels."""

    path: str
    low: float
    high: float
    levels: tuple[float, ...] | None  # grid only


@dataclass
class Design:
    name: str
    description: str
    path: str
    scenario: Scenario  # the validated base scenario
    method: str
    runs: int
    seed: int
    axes: list[Axis]
    points: list[dict[str, float]]

    def as_dict(self) -> dict:
        return {
            "name": self.name,
            "description": self.description,
            "scenario": {"file": self.scenario.path, "content_sha256": self.scenario.content_hash()},
            "method": self.method,
            "runs": self.runs,
            "seed": self.seed,
            "parameters": {
                a.path: {"range": [a.low, a.high], **({"levels": list(a.levels)} if a.levels else {})}
                for a in self.axes
            },
            "points": len(self.points),
        }

    def content_hash(self) -> str:
        text = json.dumps({**self.as_dict(), "values": self.points}, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()

    def scenarios(self) -> list:
        """The base scenario at each design point (already validated by ``load_design``)."""
        return [_at(self.scenario, point) for point in self.points]


def _at(scenario, point: dict[str, float]):
    params = scenario.parameter_set.with_overrides(point)
    params.check()
    return dataclasses.replace(scenario, parameters={**scenario.parameters, **point}, parameter_set=params)


# -- the design file ----------------------------------------------------------------
def load_design(path: str | Path) -> Design:
    """Read and validate a design file; every fault is a ScenarioError naming file, line and field."""
    path = Path(path)
    try:
        source = open_source(path)
        doc = parse(source)
    except ScenarioError as exc:
        expected = exc.expected.replace("a scenario (name, description, events ...)", "a sweep design")
        raise ScenarioError(exc.path, exc.line, exc.where, expected.replace("scenario keys", "design keys")) from None
    lines = doc.lines

    def fail(key, expected, line=None):
        raise ScenarioError(path, line or lines.get(key.split(".")[0]) or 1, token(key), expected)

    for key in doc:
        if key not in DESIGN_KEYS:
            fail(key, f"unknown key{suggest(key, DESIGN_KEYS)}; expected one of {', '.join(DESIGN_KEYS)}")
    for key in ("name", "scenario", "parameters"):
        if key not in doc:
            fail(key, f"missing required key {key!r}", line=1)
    name = doc["name"]
    if not isinstance(name, str) or not name.strip():
        fail("name", "expected a non-empty text")
    description = doc.get("description", "")
    if not isinstance(description, str):
        fail("description", "expected a text")
    if not isinstance(doc["scenario"], str) or not doc["scenario"].strip():
        fail("scenario", "expected the path of a scenario file, relative to this design")
    try:
        scenario = load_scenario(Files().base(source, doc["scenario"], role="scenario"))
    except ReachError as exc:
        fail("scenario", str(exc))

    method = doc.get("method", "grid")
    if method not in METHODS:
        fail(
            "method",
            f"unknown method {show(method)}{suggest(str(method), METHODS)}; expected one of {', '.join(METHODS)}",
        )

    def whole(key, default, low, high):
        return whole_number(doc, key, default, low, high, fail)

    runs = whole("runs", scenario.runs, 1, MAX_RUNS)
    seed = whole("seed", scenario.seed, 0, MAX_SEED)
    if method == "latin_hypercube":
        if "points" not in doc:
            fail("points", "a latin_hypercube design needs 'points' (how many design points to draw)", line=1)
        points = whole("points", None, 1, MAX_POINTS)
    elif "points" in doc:
        fail("points", "a grid has as many points as its levels make; remove 'points' or use method: latin_hypercube")

    raw = doc["parameters"]
    if not isinstance(raw, dict) or not raw:
        fail("parameters", "expected a mapping of dotted parameter paths to {range, levels, values}")
    axes = [_axis(p, spec, method, scenario, path, raw.lines.get(p, lines["parameters"])) for p, spec in raw.items()]
    if method == "grid":
        count = math.prod(len(a.levels) for a in axes)  # exact: numpy's product would wrap around
        if count > MAX_POINTS:
            shown = f"{count:,}" if count < 10**15 else f"about 10^{len(str(count)) - 1}"
            fail("parameters", f"the grid has {shown} points; expected at most {MAX_POINTS:,}")
        values = [dict(zip([a.path for a in axes], combo, strict=True)) for combo in _grid(axes)]
    else:
        values = latin_hypercube(axes, points, seed)
    if len(values) * runs > MAX_RUNS:
        fail(
            "runs",
            f"{len(values):,} points x {runs:,} runs is {len(values) * runs:,} runs; expected at most {MAX_RUNS:,} "
            "in all (the runs of one run)",
            line=lines.get("runs", 1),
        )
    for i, point in enumerate(values):
        try:
            _at(scenario, point)
        except ParameterError as exc:
            blamed = str(exc).split(":", 1)[0]
            line = raw.lines.get(blamed, lines["parameters"])
            fail(f"parameters.{blamed}", f"design point {i} {point}: {str(exc).split(': ', 1)[-1]}", line=line)
    return Design(name.strip(), description.strip(), str(path), scenario, method, runs, seed, axes, values)


def _axis(name, spec, method: str, scenario, path: Path, line: int) -> Axis:
    where = f"parameters.{token(name)}"

    def fail(expected):
        raise ScenarioError(path, line, where, expected)

    params = scenario.parameter_set
    if name not in params.entries:
        fail(f"unknown parameter{suggest(str(name), params.entries)}")
    if spec is None:
        spec = {}
    if not isinstance(spec, dict):
        fail("expected a mapping with range: [low, high] and, on a grid, levels: N or values: [...]")
    for key in spec:
        if key not in AXIS_KEYS:
            fail(f"unknown field {show(key)}{suggest(str(key), AXIS_KEYS)}; expected one of {', '.join(AXIS_KEYS)}")
    if method != "grid" and ("levels" in spec or "values" in spec):
        fail("levels and values belong to a grid; a latin_hypercube draws from range only")
    lo, hi = bounds(name)
    if "values" in spec:
        values = spec["values"]
        if "range" in spec or "levels" in spec:
            fail("give either values, or range and levels, not both")
        ok = isinstance(values, list) and values and all(is_number(v) and lo <= v <= hi for v in values)
        if not ok or len(set(values)) < len(values):
            fail(f"expected a list of distinct numbers in [{lo:g}, {hi:g}], got {show(values)}")
        return Axis(name, float(min(values)), float(max(values)), tuple(float(v) for v in values))
    if "range" in spec:
        r = spec["range"]
        if not (isinstance(r, list) and len(r) == 2 and all(is_number(x) for x in r) and r[0] < r[1]):
            fail(f"expected range: [low, high] with low < high, got {show(r)}")
        if not (lo <= r[0] and r[1] <= hi):
            fail(f"expected a range inside [{lo:g}, {hi:g}], got {show(r)}")
        low, high = float(r[0]), float(r[1])
    else:
        r = params[name].range
        if r is None:
            fail("has no range in the parameter file; give range: [low, high]")
        low, high = r
    levels = None
    if method == "grid":
        n = spec.get("levels", 3)
        if isinstance(n, bool) or not isinstance(n, int) or not 2 <= n <= MAX_LEVELS:
            fail(f"expected levels: a whole number from 2 to {MAX_LEVELS}, got {show(n)}")
        levels = tuple(_tidy(v) for v in np.linspace(low, high, n))
    return Axis(name, low, high, levels)


def _tidy(x: float) -> float:
    """Design values to 10 decimals: exact enough, and readable in the table."""
    return round(float(x), 10)


def _grid(axes: list[Axis]):
    return itertools.product(*(a.levels for a in axes))


def latin_hypercube(axes: list[Axis], points: int, seed: int) -> list[dict[str, float]]:
    """``points`` points, one in each of ``points`` equal slices of every parameter's interval.

    Deterministic from ``seed``: each parameter gets a permutation of the slices
    and a uniform position inside each, from one numpy Generator.
    """
    rng = np.random.default_rng(seed)
    out: list[dict[str, float]] = [{} for _ in range(points)]
    for axis in axes:
        u = (rng.permutation(points) + rng.random(points)) / points
        for point, x in zip(out, axis.low + u * (axis.high - axis.low), strict=True):
            point[axis.path] = _tidy(x)
    return out


# -- running and writing ----------------------------------------------------------
def run(design: Design, scenarios: list, chunk_size: int = DEFAULT_CHUNK, **execution) -> list[dict]:
    """One row per design point, in design order (``execution``: run_on, checkpoint, on_chunk)."""
    rows: dict[int, dict] = {}

    def row(point: int, agg) -> None:
        r = {"point": point, **design.points[point], "runs": agg.runs}
        r["survival_probability"] = rounded(agg.survival_probability())
        r |= {mode: rounded(share) for mode, share in agg.failure_modes().items()}
        for i, power in enumerate(POWERS):
            r |= {f"alignment_{power}_{k}": v for k, v in agg.stats("alignment", i).items()}
        rows[point] = r

    execute(scenarios, design.runs, design.seed, chunk_size, series=SERIES, on_point=row, **execution)
    return [rows[i] for i in range(len(scenarios))]


def columns(design: Design) -> list[str]:
    modes = [f.label for f in Failure if f != Failure.NONE]
    aligned = [f"alignment_{p}_{k}" for p in POWERS for k in STATS]
    return ["point", *(a.path for a in design.axes), "runs", "survival_probability", *modes, *aligned]


def write(design: Design, rows: list[dict], folder: Path, figures: list[Path]) -> list[Path]:
    """sweep.parquet, sweep.csv and manifest.json, beside the ``figures`` already drawn there; returns all but the
    manifest."""
    import mesa
    import pyarrow as pa
    import pyarrow.parquet as pq

    from sim import __version__

    names = columns(design)
    pq.write_table(pa.table({c: [r[c] for r in rows] for c in names}), folder / "sweep.parquet", compression="zstd")
    with open(folder / "sweep.csv", "w", newline="") as f:
        table = csv.writer(f, lineterminator="\n")
        table.writerow(names)
        table.writerows([r[c] for c in names] for r in rows)
    files = [folder / "sweep.parquet", folder / "sweep.csv"]
    files += figures
    meta = {
        "package_version": __version__,
        "design": {"file": design.path, "content_sha256": design.content_hash(), **design.as_dict()},
        "flattened_scenario": design.scenario.as_dict(),
        "environment": {"numpy": np.__version__, "mesa": mesa.__version__},
        "files": {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in files},
    }
    (folder / "manifest.json").write_text(json.dumps(meta, indent=2) + "\n")
    return files
