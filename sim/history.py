"""The world of 1986-2025 from data: the series a history scenario's drivers follow.

``sim/data/series.csv`` holds Vietnam's trade in total and with each power by
year, every value with its flag and source. Between listed years a series is
interpolated linearly (a *computed* value); it is held flat outside them.

What follows the data (each mapping an assumption, docs/validation.md):

- each power's **prosperity supply**: the parameter file gives it for 2025;
  for an earlier year it is scaled by the power's share of Vietnam's trade
  then against its share in the series' last year, kept within [0, 1]: a
  power with a larger share of Vietnam's trade can supply more of its
  prosperity;
- the **reach** of a power with a military-expenditure series (Russia): its
  parameter value scaled by its expenditure against the series' last year,
  within [0, 1], from the series' first year on.
"""

from __future__ import annotations

import csv
import dataclasses
import functools
from pathlib import Path

import numpy as np

from sim.calendar import Month
from sim.domain import POWERS
from sim.limits import MAX_DATA_BYTES
from sim.params import ParameterSet
from sim.reach import ReachError, read_file
from sim.record import FLAGS
from sim.scenario import EventSpec, Scenario

PARTNERS = (*POWERS, "ALL")
COLUMNS = ("series", "power", "year", "value", "flag", "source")
REACH_FOLLOWS_MILEX = ("RU", "US")  # China's tried and dropped: docs/validation.md
SUPPLY_STEP = 0.01  # a new yearly value is applied only when it moves the supply by at least this much


class SeriesError(ValueError):
    """A series file that is not what is expected: the file, the line and field, and what is wrong."""

    def __init__(self, path: Path, line: int, field: str, message: str):
        super().__init__(f"{path}:{line}: {field}: {message}")


@dataclasses.dataclass(frozen=True)
class Series:
    """One series for one partner: years (ascending), values, and the line of each value in the file."""

    years: np.ndarray
    values: np.ndarray
    lines: tuple[int, ...]

    def at(self, years: np.ndarray) -> np.ndarray:
        """Linear between listed years, flat outside them."""
        return np.interp(years, self.years, self.values)


def default_path() -> Path:
    return Path(__file__).resolve().parent / "data" / "series.csv"


def load_series(path: str | Path | None = None) -> dict[tuple[str, str], Series]:
    """Read and validate a series file (the packaged one when no path is given)."""
    return _packaged() if path is None else _load(Path(path))


@functools.cache
def _packaged() -> dict[tuple[str, str], Series]:
    return _load(default_path())


def _load(path: Path) -> dict[tuple[str, str], Series]:
    try:
        text = read_file(path, MAX_DATA_BYTES, "CSV", "a series file").decode("utf-8")
    except (ReachError, UnicodeDecodeError) as exc:
        raise SeriesError(path, 0, "file", f"cannot read it: {exc}") from None
    rows: dict[tuple[str, str], list[tuple[int, float, int]]] = {}
    numbered = [(n, line) for n, line in enumerate(text.splitlines(), 1) if line.strip() and not line.startswith("#")]
    reader = csv.reader(line for _, line in numbered)
    header = next(reader, None)
    if header is None or tuple(header) != COLUMNS:
        raise SeriesError(path, numbered[0][0] if numbered else 0, "header", f"expected {','.join(COLUMNS)}")
    for (n, _), row in zip(numbered[1:], reader, strict=True):
        if len(row) != len(COLUMNS):
            raise SeriesError(path, n, "row", f"expected {len(COLUMNS)} fields, got {len(row)}")
        item = dict(zip(COLUMNS, row, strict=True))
        if item["power"] not in PARTNERS:
            raise SeriesError(path, n, "power", f"expected one of {', '.join(PARTNERS)}, got {item['power']!r}")
        try:
            year, value = int(item["year"]), float(item["value"])
        except ValueError:
            raise SeriesError(path, n, "year/value", "expected a whole year and a number") from None
        if not np.isfinite(value) or value < 0:
            raise SeriesError(path, n, "value", f"expected a number >= 0, got {item['value']!r}")
        if item["flag"] not in FLAGS:
            raise SeriesError(path, n, "flag", f"expected one of {', '.join(FLAGS)}, got {item['flag']!r}")
        if not item["source"].strip():
            raise SeriesError(path, n, "source", "expected the dataset or document the value comes from")
        rows.setdefault((item["series"], item["power"]), []).append((year, value, n))
    out = {}
    for key, items in rows.items():
        years = [y for y, _, _ in items]
        if years != sorted(set(years)):
            raise SeriesError(
                path, items[0][2], "year", f"expected the years of {key[0]} {key[1]} ascending, once each"
            )
        out[key] = Series(np.array(years), np.array([v for _, v, _ in items]), tuple(n for _, _, n in items))
    return out


def trade_share(series: dict[tuple[str, str], Series], power: str, years: np.ndarray) -> np.ndarray:
    """The power's share of Vietnam's trade in each year."""
    return series[("trade", power)].at(years) / series[("trade", "ALL")].at(years)


def prosperity_supply(
    parameters: ParameterSet, series: dict[tuple[str, str], Series], years: np.ndarray
) -> dict[str, np.ndarray]:
    """Each power's prosperity supply by year: its 2025 value scaled by its share of trade against the last year's."""
    out = {}
    for p in POWERS:
        last = series[("trade", p)].years[-1:]
        ratio = trade_share(series, p, years) / trade_share(series, p, last)
        out[p] = np.clip(parameters.value(f"powers.{p}.supply.prosperity") * ratio, 0.0, 1.0)
    return out


def reach(
    parameters: ParameterSet, series: dict[tuple[str, str], Series], years: np.ndarray, own=()
) -> dict[str, np.ndarray]:
    """The reach of each power in REACH_FOLLOWS_MILEX, by year: its value scaled by its military expenditure.

    Before the series' first year, the series' first value; or nothing (NaN) where the scenario sets the
    power's reach itself (``own``: the paths it sets), as it sets the Soviet Union's.
    """
    out = {}
    for p in REACH_FOLLOWS_MILEX:
        if ("milex", p) in series:
            s = series[("milex", p)]
            ratio = s.at(years) / s.values[-1]
            value = np.clip(parameters.value(f"powers.{p}.reach") * ratio, 0.0, 1.0)
            out[p] = np.where((years >= s.years[0]) | (f"powers.{p}.reach" not in own), value, np.nan)
    return out


def world_events(scenario: Scenario, path: str | Path | None = None) -> list[EventSpec]:
    """Shocks that set the drivers from the data every January the scenario covers (where a value moves)."""
    series = load_series(path)
    file = str(path or default_path())
    years = np.arange(scenario.start.year, scenario.horizon.year + 1)
    drivers = [
        *(
            (f"powers.{p}.supply.prosperity", v, series[("trade", p)])
            for p, v in prosperity_supply(scenario.parameter_set, series, years).items()
        ),
        *(
            (f"powers.{p}.reach", v, series[("milex", p)])
            for p, v in reach(scenario.parameter_set, series, years, scenario.parameters).items()
        ),
    ]
    events = []
    for target, values, source in drivers:
        applied = None
        for year, value in zip(years, values, strict=True):
            if np.isnan(value) or (applied is not None and abs(value - applied) < SUPPLY_STEP):
                continue
            fields = {"at": max(Month(int(year), 1), scenario.start), "path": target, "value": round(float(value), 4)}
            events.append(EventSpec("shock", {**fields, "mode": "set"}, file, source.lines[0]))
            applied = value
    return events


def with_world(scenario: Scenario, path: str | Path | None = None) -> Scenario:
    """The scenario with its world inputs following the data: its own events, then the data's, by date."""
    events = sorted([*scenario.events, *world_events(scenario, path)], key=lambda e: e.at)
    return dataclasses.replace(scenario, events=events)
