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

import dataclasses
import hashlib
import itertools
import json
import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

import numpy as np

from sim.model.checks import is_number, suggest
from sim.model.domain import POWERS
from sim.model.limits import MAX_LEVELS, MAX_NAME, MAX_POINTS, MAX_RUNS, MAX_SEED
from sim.model.outcomes import Failure
from sim.model.params import ParameterError, bounds
from sim.model.reach import Files, ReachError, Source
from sim.model.yamlfile import Mapping, show, token
from sim.runs.checkpoint import Checkpoint
from sim.runs.chunks import DEFAULT_CHUNK, Chunk, chunks
from sim.runs.ensemble import Executor, execute, executor
from sim.runs.fixed import rounded
from sim.runs.results import Aggregate, file_hashes, write_csv
from sim.runs.scenario import Refuse, Scenario, ScenarioError, load_scenario, open_source, parse, whole_number

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
    """A validated design: the base scenario, the swept parameters and every point's values."""

    name: str
    description: str
    path: str
    scenario: Scenario  # the validated base scenario
    method: str
    runs: int
    seed: int
    axes: list[Axis]
    points: list[dict[str, float]]

    def as_dict(self) -> dict[str, object]:
        """The design as the manifest gives it: the points counted, not listed."""
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
        """SHA-256 of the design with its points' values."""
        text = json.dumps({**self.as_dict(), "values": self.points}, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()

    def scenarios(self) -> list[Scenario]:
        """The base scenario at each design point (already validated by ``load_design``)."""
        return [_at(self.scenario, point) for point in self.points]


def _at(scenario: Scenario, point: dict[str, float]) -> Scenario:
    """The scenario at a design point: its parameters with the point's values, checked."""
    params = scenario.resolved_parameters.with_overrides(point)
    params.check()
    return dataclasses.replace(scenario, parameters={**scenario.parameters, **point}, parameter_set=params)


# -- the design file ----------------------------------------------------------------
def load_design(path: str | Path) -> Design:
    """Read and validate a design file; every fault is a ScenarioError naming file, line and field."""
    path = Path(path)
    source, doc = _read(path)
    fail = _refuse_in(path, doc.lines)
    name, description = _header(doc, fail)
    scenario = _base_scenario(doc, source, fail)
    method = _method(doc, fail)
    runs = whole_number(doc, "runs", scenario.runs, 1, MAX_RUNS, fail)
    seed = whole_number(doc, "seed", scenario.seed, 0, MAX_SEED, fail)
    points = _point_count(doc, method, fail)
    raw = _swept(doc, fail)
    axes = [
        _axis(p, spec, method, scenario, path, raw.lines.get(p, doc.lines["parameters"])) for p, spec in raw.items()
    ]
    values = _grid(axes, fail) if points is None else latin_hypercube(axes, points, seed)
    if len(values) * runs > MAX_RUNS:
        fail(
            "runs",
            f"{len(values):,} points x {runs:,} runs is {len(values) * runs:,} runs; expected at most {MAX_RUNS:,} "
            "in all (the runs of one run)",
            line=doc.lines.get("runs", 1),
        )
    _check_points(values, scenario, raw, doc.lines["parameters"], fail)
    return Design(name, description, str(path), scenario, method, runs, seed, axes, values)


def _read(path: Path) -> tuple[Source, Mapping]:
    """The design file and its YAML, with the scenario reader's faults in a design's words."""
    try:
        source = open_source(path)
        return source, parse(source)
    except ScenarioError as exc:
        expected = exc.expected.replace("a scenario (name, description, events ...)", "a sweep design")
        raise ScenarioError(exc.path, exc.line, exc.where, expected.replace("scenario keys", "design keys")) from None


def _refuse_in(path: Path, lines: dict[str, int]) -> Refuse:
    """Refuse a key of the design at its line (a dotted key: at its first part's), or at line 1."""

    def fail(key: str, expected: str, line: int | None = None) -> NoReturn:
        raise ScenarioError(path, line or lines.get(key.split(".")[0]) or 1, token(key), expected)

    return fail


def _header(doc: Mapping, fail: Refuse) -> tuple[str, str]:
    """The design's name (required, non-empty) and description; no key but the design keys, none missing."""
    for key in doc:
        if key not in DESIGN_KEYS:
            fail(key, f"unknown key{suggest(key, DESIGN_KEYS)}; expected one of {', '.join(DESIGN_KEYS)}")
    for key in ("name", "scenario", "parameters"):
        if key not in doc:
            fail(key, f"missing required key {key!r}", line=1)
    name = doc["name"]
    if not isinstance(name, str) or not name.strip():
        fail("name", "expected a non-empty text")
    if len(name.strip()) > MAX_NAME:
        fail(
            "name", f"a name of {len(name.strip()):,} characters; expected at most {MAX_NAME} (it titles every figure)"
        )
    description = doc.get("description", "")
    if not isinstance(description, str):
        fail("description", "expected a text")
    return name.strip(), description.strip()


def _base_scenario(doc: Mapping, source: Source, fail: Refuse) -> Scenario:
    """The scenario the design sweeps, read relative to the design file and validated."""
    if not isinstance(doc["scenario"], str) or not doc["scenario"].strip():
        fail("scenario", "expected the path of a scenario file, relative to this design")
    try:
        return load_scenario(Files().base(source, doc["scenario"], role="scenario"))
    except ReachError as exc:
        fail("scenario", str(exc))


def _method(doc: Mapping, fail: Refuse) -> str:
    """How the points are chosen: one of METHODS (a grid by default)."""
    method = doc.get("method", "grid")
    if method not in METHODS:
        fail(
            "method",
            f"unknown method {show(method)}{suggest(str(method), METHODS)}; expected one of {', '.join(METHODS)}",
        )
    return method


def _point_count(doc: Mapping, method: str, fail: Refuse) -> int | None:
    """How many points a latin hypercube draws (required); None on a grid, whose levels make its points."""
    if method == "latin_hypercube":
        if "points" not in doc:
            fail("points", "a latin_hypercube design needs 'points' (how many design points to draw)", line=1)
        return whole_number(doc, "points", None, 1, MAX_POINTS, fail)
    if "points" in doc:
        fail("points", "a grid has as many points as its levels make; remove 'points' or use method: latin_hypercube")
    return None


def _swept(doc: Mapping, fail: Refuse) -> Mapping:
    """The parameters to sweep: a mapping of at least one."""
    raw = doc["parameters"]
    if not isinstance(raw, Mapping) or not raw:  # the reader makes every mapping a line-aware Mapping
        fail("parameters", "expected a mapping of dotted parameter paths to {range, levels, values}")
    return raw


def _grid(axes: list[Axis], fail: Refuse) -> list[dict[str, float]]:
    """Every combination of the axes' levels, at most MAX_POINTS of them."""
    levels = [a.levels for a in axes if a.levels is not None]  # every axis of a grid has its levels
    count = math.prod([len(x) for x in levels])  # exact: numpy's product would wrap around
    if count > MAX_POINTS:
        shown = f"{count:,}" if count < 10**15 else f"about 10^{len(str(count)) - 1}"
        fail("parameters", f"the grid has {shown} points; expected at most {MAX_POINTS:,}")
    return [dict(zip([a.path for a in axes], combo, strict=True)) for combo in itertools.product(*levels)]


def _check_points(values: list[dict[str, float]], scenario: Scenario, raw: Mapping, line: int, fail: Refuse) -> None:
    """Refuse the first point whose world contradicts itself, at the line of the parameter blamed (or ``line``)."""
    for i, point in enumerate(values):
        try:
            _at(scenario, point)
        except ParameterError as exc:
            blamed = str(exc).split(":", 1)[0]
            where = raw.lines.get(blamed, line)
            fail(f"parameters.{blamed}", f"design point {i} {point}: {str(exc).split(': ', 1)[-1]}", line=where)


def _axis(name: str, spec: object, method: str, scenario: Scenario, path: Path, line: int) -> Axis:
    """One parameter to sweep: its values, or its interval (the parameter file's range by default) and levels."""
    where = f"parameters.{token(name)}"

    def fail(expected: str) -> NoReturn:
        raise ScenarioError(path, line, where, expected)

    params = scenario.resolved_parameters
    if name not in params.entries:
        fail(f"unknown parameter{suggest(str(name), params.entries)}")
    fields = _axis_fields(spec, method, fail)
    lo, hi = bounds(name)
    if "values" in fields:
        return _listed_axis(name, fields, lo, hi, fail)
    low, high = _interval(fields, params[name].range, lo, hi, fail)
    levels = _levels(fields, low, high, fail) if method == "grid" else None
    return Axis(name, low, high, levels)


def _axis_fields(spec: object, method: str, fail: Callable[[str], NoReturn]) -> dict[str, Any]:
    """An axis's mapping (none: every default), of the axis keys the method has."""
    if spec is None:
        spec = {}
    if not isinstance(spec, dict):
        fail("expected a mapping with range: [low, high] and, on a grid, levels: N or values: [...]")
    for key in spec:
        if key not in AXIS_KEYS:
            fail(f"unknown field {show(key)}{suggest(str(key), AXIS_KEYS)}; expected one of {', '.join(AXIS_KEYS)}")
    if method != "grid" and ("levels" in spec or "values" in spec):
        fail("levels and values belong to a grid; a latin_hypercube draws from range only")
    return spec


def _listed_axis(name: str, fields: dict[str, Any], lo: float, hi: float, fail: Callable[[str], NoReturn]) -> Axis:
    """A grid axis of the values listed: distinct numbers within the parameter's bounds [lo, hi]."""
    values = fields["values"]
    if "range" in fields or "levels" in fields:
        fail("give either values, or range and levels, not both")
    ok = isinstance(values, list) and values and all(is_number(v) and lo <= v <= hi for v in values)
    if not ok or len(set(values)) < len(values):
        fail(f"expected a list of distinct numbers in [{lo:g}, {hi:g}], got {show(values)}")
    return Axis(name, float(min(values)), float(max(values)), tuple(float(v) for v in values))


def _interval(
    fields: dict[str, Any], own: tuple[float, float] | None, lo: float, hi: float, fail: Callable[[str], NoReturn]
) -> tuple[float, float]:
    """The axis's range: the one given, within the parameter's bounds [lo, hi], or its ``own`` in the parameter file."""
    if "range" not in fields:
        if own is None:
            fail("has no range in the parameter file; give range: [low, high]")
        return own
    r = fields["range"]
    if not (isinstance(r, list) and len(r) == 2 and all(is_number(x) for x in r) and r[0] < r[1]):
        fail(f"expected range: [low, high] with low < high, got {show(r)}")
    if not (lo <= r[0] and r[1] <= hi):
        fail(f"expected a range inside [{lo:g}, {hi:g}], got {show(r)}")
    return float(r[0]), float(r[1])


def _levels(fields: dict[str, Any], low: float, high: float, fail: Callable[[str], NoReturn]) -> tuple[float, ...]:
    """A grid axis's levels: ``levels`` (3 by default) evenly spaced from ``low`` to ``high``."""
    n = fields.get("levels", 3)
    if isinstance(n, bool) or not isinstance(n, int) or not 2 <= n <= MAX_LEVELS:
        fail(f"expected levels: a whole number from 2 to {MAX_LEVELS}, got {show(n)}")
    return tuple(_tidy(v) for v in np.linspace(low, high, n))


def _tidy(x: float) -> float:
    """Design values to 10 decimals: exact enough, and readable in the table."""
    return round(float(x), 10)


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
def run(
    design: Design,
    scenarios: list[Scenario],
    chunk_size: int = DEFAULT_CHUNK,
    *,
    run_on: Executor | None = None,
    checkpoint: Checkpoint | None = None,
    on_chunk: Callable[[int, Chunk, bool], object] | None = None,
) -> list[dict[str, float]]:
    """One row per design point, in design order; ``run_on``, ``checkpoint`` and ``on_chunk`` as ``execute``'s."""
    rows: dict[int, dict[str, float]] = {}

    def row(point: int, agg: Aggregate) -> None:
        r = {"point": point, **design.points[point], "runs": agg.runs}
        r["survival_probability"] = rounded(agg.survival_probability())
        r |= {mode: rounded(share) for mode, share in agg.failure_modes().items()}
        for i, power in enumerate(POWERS):
            r |= {f"alignment_{power}_{k}": v for k, v in agg.stats("alignment", i).items()}
        rows[point] = r

    execute(
        scenarios,
        design.runs,
        design.seed,
        chunk_size,
        series=SERIES,
        on_point=row,
        run_on=run_on,
        checkpoint=checkpoint,
        on_chunk=on_chunk,
    )
    return [rows[i] for i in range(len(scenarios))]


def columns(design: Design) -> list[str]:
    """The table's columns: the point, its values, its runs, survival, failure modes and final alignments."""
    modes = [f.label for f in Failure if f != Failure.NONE]
    aligned = [f"alignment_{p}_{k}" for p in POWERS for k in STATS]
    return ["point", *(a.path for a in design.axes), "runs", "survival_probability", *modes, *aligned]


def write(design: Design, rows: list[dict[str, float]], folder: Path, figures: list[Path]) -> list[Path]:
    """sweep.parquet, sweep.csv and manifest.json in ``folder``, beside the ``figures`` already drawn there.

    Returns:
        The tables and the figures: every file written but the manifest.
    """
    import mesa
    import pyarrow as pa
    import pyarrow.parquet as pq

    from sim import __version__

    names = columns(design)
    pq.write_table(pa.table({c: [r[c] for r in rows] for c in names}), folder / "sweep.parquet", compression="zstd")
    files = [folder / "sweep.parquet", write_csv(folder / "sweep.csv", names, ([r[c] for c in names] for r in rows))]
    files += figures
    meta = {
        "package_version": __version__,
        "design": {"file": design.path, "content_sha256": design.content_hash(), **design.as_dict()},
        "flattened_scenario": design.scenario.as_dict(),
        "environment": {"numpy": np.__version__, "mesa": mesa.__version__},
        "files": file_hashes(files),
    }
    (folder / "manifest.json").write_text(json.dumps(meta, indent=2) + "\n")
    return files
