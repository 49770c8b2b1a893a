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
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sim.streams import Streams

CHANNEL = "posterior"


class PosteriorError(ValueError):
    """A posterior file that is not what is expected: the file, the line and field, and what is wrong."""

    def __init__(self, path, line: int, field: str, message: str):
        super().__init__(f"{path}:{line}: {field}: {message}")


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

    def without(self, paths) -> Posterior:
        """The posterior over the other parameters: a scenario that sets a parameter keeps its value."""
        keep = [j for j, p in enumerate(self.paths) if p not in set(paths)]
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
    with open(path, "w", encoding="utf-8", newline="") as f:
        for line in comments:
            f.write(f"# {line}\n")
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(["weight", *posterior.paths])
        for w, row in zip(posterior.weights, posterior.particles, strict=True):
            writer.writerow([repr(float(w)), *(repr(float(x)) for x in row)])
    return path


def load_posterior(path: str | Path, parameters) -> Posterior:
    """Read and validate a posterior file against the parameters it is for (every path known, every value in range)."""
    from sim.limits import MAX_DATA_BYTES
    from sim.params import bounds
    from sim.reach import ReachError, read_file

    path = Path(path)
    try:
        text = read_file(path, MAX_DATA_BYTES, "CSV", "a posterior file").decode("utf-8")
    except (ReachError, UnicodeDecodeError) as exc:
        raise PosteriorError(path, 0, "file", f"cannot read it: {exc}") from None
    numbered = [(n, line) for n, line in enumerate(text.splitlines(), 1) if line.strip() and not line.startswith("#")]
    if not numbered:
        raise PosteriorError(path, 0, "header", "expected a header weight,<parameter>,... and particles")
    rows = list(csv.reader(line for _, line in numbered))
    header, first = rows[0], numbered[0][0]
    if not header or header[0] != "weight" or len(header) < 2:
        raise PosteriorError(path, first, "header", "expected weight,<parameter>,<parameter>...")
    for name in header[1:]:
        if name not in parameters.entries:
            raise PosteriorError(path, first, name, "unknown parameter")
    if len(set(header)) != len(header):
        raise PosteriorError(path, first, "header", "a parameter is named twice")
    if len(rows) < 2:
        raise PosteriorError(path, first, "particles", "expected at least one particle")
    values = np.empty((len(rows) - 1, len(header)))
    for i, ((n, _), row) in enumerate(zip(numbered[1:], rows[1:], strict=True)):
        if len(row) != len(header):
            raise PosteriorError(path, n, "row", f"expected {len(header)} fields, got {len(row)}")
        for j, (name, cell) in enumerate(zip(header, row, strict=True)):
            try:
                x = float(cell)
            except ValueError:
                x = math.nan
            lo, hi = (0.0, math.inf) if j == 0 else bounds(name)
            if not (math.isfinite(x) and lo <= x <= hi):
                raise PosteriorError(path, n, name, f"expected a number in [{lo:g}, {hi:g}], got {cell!r}")
            values[i, j] = x
    weights = values[:, 0]
    if weights.sum() <= 0:
        raise PosteriorError(path, first, "weight", "expected weights that add up to more than zero")
    return Posterior(tuple(header[1:]), values[:, 1:], weights / weights.sum(), str(path))


def narrowed(scenario, posterior: Posterior):
    """The scenario with each calibrated parameter's range narrowed to the posterior's spread (5-95%).

    A parameter the scenario sets itself keeps the scenario's value (pass a posterior without it); the
    narrowed ranges keep the sourced orders (a range inside a parameter's own).
    """
    import dataclasses

    spread = posterior.spread()
    ranges = {p: [lo, hi] for p, (lo, hi) in spread.items() if scenario.parameter_set[p].range is not None}
    return dataclasses.replace(
        scenario,
        parameter_set=scenario.parameter_set.with_overrides(ranges),
        parameters={**scenario.parameters, **ranges},
    )
