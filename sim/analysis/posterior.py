"""A calibrated posterior: weighted particles over some parameters, from which each run draws its values.

Written by ``bamboo calibrate`` as a CSV file: comment lines (``#``) saying
how it was made, a header ``weight,<path>,<path>...`` and one particle per
line. ``bamboo run``, ``compare``, ``history`` and the dashboard take it with
``--parameters FILE``: each run then draws one particle, by weight, from its
own random stream, so run *i* gets the same particle in any ensemble, chunk
or worker. A bad file is a PosteriorError naming the file, line and field.
"""

from __future__ import annotations

import csv
import dataclasses
import math
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sim.model import limits
from sim.model.domain import POWERS, THRESHOLD_TIERS, TIERS
from sim.model.params import ParameterError, ParameterSet, bounds, check_drawn
from sim.model.reach import ReachError, csv_row, read_file
from sim.model.streams import Streams
from sim.model.yamlfile import escape, show, token
from sim.runs.scenario import Scenario

CHANNEL = "posterior"


class PosteriorError(ValueError):
    """A posterior file that is not what is expected: the file, the line and field, and what is wrong."""

    def __init__(self, path: Path, line: int, field: str, message: str) -> None:
        """The error at ``line`` (0: the file as a whole) and ``field`` of the file at ``path``."""
        super().__init__(escape(f"{path}:{line}: {token(field)}: {message}"))  # nothing of the file moves a cursor


@dataclass(frozen=True)
class Posterior:
    """Particles (n, len(paths)) over parameter ``paths``, with normalised weights (n,)."""

    paths: tuple[str, ...]
    particles: np.ndarray
    weights: np.ndarray
    origin: str = "<memory>"

    def draw(self, streams: Streams) -> dict[str, np.ndarray]:
        """Per-run values: each run's particle, chosen by weight from the run's own stream."""
        u = streams.uniform(0, CHANNEL)[:, 0]
        index = np.minimum(np.searchsorted(np.cumsum(self.weights), u, side="right"), len(self.weights) - 1)
        return {path: self.particles[index, j] for j, path in enumerate(self.paths)}

    def without(self, paths: Iterable[str]) -> Posterior:
        """The posterior over the other parameters: a scenario that sets a parameter keeps its value."""
        dropped = set(paths)
        keep = [j for j, p in enumerate(self.paths) if p not in dropped]
        return Posterior(tuple(self.paths[j] for j in keep), self.particles[:, keep], self.weights, self.origin)

    def spread(self, low: float = 0.05, high: float = 0.95) -> dict[str, tuple[float, float]]:
        """Each parameter's interval over the particles, unweighted: how far the calibration narrowed its range.

        Unweighted because the importance weights of ABC-SMC may rest on a few particles (docs/validation.md);
        the population itself is what the record let through.
        """
        qs = np.quantile(self.particles, [low, high], axis=0)
        return {p: (float(qs[0, j]), float(qs[1, j])) for j, p in enumerate(self.paths)}

    def summary(self) -> dict[str, dict[str, float]]:
        """Weighted mean and 5-95% interval of each parameter."""
        order = np.argsort(self.particles, axis=0)
        out = {}
        for j, path in enumerate(self.paths):
            x, w = self.particles[order[:, j], j], self.weights[order[:, j]]
            cdf = np.cumsum(w)
            lo, hi = (float(x[min(np.searchsorted(cdf, q), len(x) - 1)]) for q in (0.05, 0.95))
            out[path] = {"mean": float(np.sum(self.weights * self.particles[:, j])), "q05": lo, "q95": hi}
        return out


def save_posterior(posterior: Posterior, path: Path, comments: list[str]) -> Path:
    """Write ``posterior`` to ``path`` as a CSV file, each of ``comments`` a ``#`` line above it; returns ``path``."""
    with open(path, "w", encoding="utf-8", newline="") as f:
        for line in comments:
            f.write(f"# {line}\n")
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(["weight", *posterior.paths])
        for w, row in zip(posterior.weights, posterior.particles, strict=True):
            writer.writerow([repr(float(w)), *(repr(float(x)) for x in row)])
    return path


def load_posterior(path: str | Path, parameters: ParameterSet) -> Posterior:
    """Read and validate a posterior file against the parameters it is for (every path known, every value in range).

    Raises:
        PosteriorError: the file cannot be read, or a line of it is not what is expected.
    """
    path = Path(path)
    numbered = _lines(path)
    rows = [_row(path, n, line) for n, line in numbered]
    header, first = rows[0], numbered[0][0]
    _check_header(path, first, header, parameters)
    if len(rows) < 2:
        raise PosteriorError(path, first, "particles", "expected at least one particle")
    values = np.array([_particle(path, n, header, row) for (n, _), row in zip(numbered[1:], rows[1:], strict=True)])
    _check_rules(path, [n for n, _ in numbered[1:]], header, values, parameters)
    weights = values[:, 0]
    if not weights.max() > 0:
        raise PosteriorError(path, first, "weight", "expected weights that add up to more than zero")
    weights = weights / weights.max()  # first: weights of 1e308 would add up to infinity
    return Posterior(tuple(header[1:]), values[:, 1:], weights / weights.sum(), str(path))


def _row(path: Path, line: int, text: str) -> list[str]:
    """The fields of one line, or a PosteriorError saying why the line is not a row."""
    try:
        return csv_row(text)
    except ValueError as exc:
        raise PosteriorError(path, line, "row", f"{exc}; expected the header or a particle on each line") from None


def _check_rules(path: Path, lines: list[int], header: list[str], values: np.ndarray, parameters: ParameterSet) -> None:
    """The rules a scenario's values obey (``ParameterSet.check``, ``check_drawn``), particle by particle.

    A parameter the file does not give takes its value in ``parameters``.
    """
    column = {name: values[:, j] for j, name in enumerate(header) if j}

    def value(name: str) -> np.ndarray:
        return column[name] if name in column else np.full(len(values), parameters.value(name))

    for name, x in column.items():
        bad = np.flatnonzero((x != np.round(x)) & name.startswith("hedger.tier."))
        if len(bad):
            message = f"expected a whole tier index (0 to {len(TIERS) - 1}), got {x[bad[0]]:g}"
            raise PosteriorError(path, lines[bad[0]], name, message)
    in_force = value("hedger.four_nos") >= 0.5
    for p in POWERS:
        bad = np.flatnonzero(in_force & (value(f"hedger.tier.{p}") >= len(TIERS) - 1))
        if len(bad):
            message = "starts as an alliance while the Four No's are in force (set hedger.four_nos to 0 to relax them)"
            raise PosteriorError(path, lines[bad[0]], f"hedger.tier.{p}", message)
    needed = [f"thresholds.{t}" for t in THRESHOLD_TIERS] + ["thresholds.alliance", "hedger.four_nos"]
    try:
        check_drawn({name: value(name) for name in [*needed, *(f"hedger.alignment.{p}" for p in POWERS)]})
    except ParameterError as exc:
        raise PosteriorError(path, 0, "particles", str(exc).replace("run(s)", "particle(s)")) from None


def _lines(path: Path) -> list[tuple[int, str]]:
    """The file's lines that are neither blank nor comments, each with its number; at least the header."""
    try:
        # the limit as it stands when the file is read, not when this module was imported
        text = read_file(path, limits.MAX_DATA_BYTES, "CSV", "a posterior file").decode("utf-8")
    except (ReachError, UnicodeDecodeError) as exc:
        raise PosteriorError(path, 0, "file", f"cannot read it: {exc}") from None
    numbered = [(n, line) for n, line in enumerate(text.splitlines(), 1) if line.strip() and not line.startswith("#")]
    if not numbered:
        raise PosteriorError(path, 0, "header", "expected a header weight,<parameter>,... and particles")
    return numbered


def _check_header(path: Path, line: int, header: list[str], parameters: ParameterSet) -> None:
    """The header, on ``line``: ``weight``, then known parameters, each once."""
    if not header or header[0] != "weight" or len(header) < 2:
        raise PosteriorError(path, line, "header", "expected weight,<parameter>,<parameter>...")
    for name in header[1:]:
        if name not in parameters.entries:
            raise PosteriorError(path, line, name, "unknown parameter")  # the name is shortened and escaped
    if len(set(header)) != len(header):
        raise PosteriorError(path, line, "header", "a parameter is named twice")


def _particle(path: Path, line: int, header: list[str], row: list[str]) -> list[float]:
    """The particle on ``line``: its weight (>= 0) and each parameter's value, within the parameter's bounds."""
    if len(row) != len(header):
        raise PosteriorError(path, line, "row", f"expected {len(header)} fields, got {len(row)}")
    values = []
    for j, (name, cell) in enumerate(zip(header, row, strict=True)):
        try:
            x = float(cell)
        except ValueError:
            x = math.nan
        lo, hi = (0.0, math.inf) if j == 0 else bounds(name)
        if not (math.isfinite(x) and lo <= x <= hi):
            raise PosteriorError(path, line, name, f"expected a number in [{lo:g}, {hi:g}], got {show(cell)}")
        values.append(x)
    return values


def narrowed(scenario: Scenario, posterior: Posterior) -> Scenario:
    """The scenario with each calibrated parameter's range narrowed to the posterior's spread (5-95%).

    A parameter the scenario sets itself keeps the scenario's value (pass a posterior without it); the
    narrowed ranges keep the sourced orders (a range inside a parameter's own).
    """
    params = scenario.resolved_parameters
    spread = posterior.spread()
    ranges = {p: [lo, hi] for p, (lo, hi) in spread.items() if params[p].range is not None}
    return dataclasses.replace(
        scenario,
        parameter_set=params.with_overrides(ranges),
        parameters={**scenario.parameters, **ranges},
    )
