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

import dataclasses
import functools
from collections.abc import Container
from pathlib import Path

import numpy as np

from sim.analysis.record import FLAGS
from sim.model.calendar import Month
from sim.model.domain import POWERS
from sim.model.limits import MAX_DATA_BYTES
from sim.model.params import ParameterSet
from sim.model.reach import ReachError, csv_row, read_file
from sim.model.yamlfile import escape, show, token
from sim.runs.scenario import EventSpec, Scenario

PARTNERS = (*POWERS, "ALL")
COLUMNS = ("series", "power", "year", "value", "flag", "source")
REACH_FOLLOWS_MILEX = ("RU", "US")  # China's tried and dropped: docs/validation.md
SUPPLY_STEP = 0.01  # a new yearly value is applied only when it moves the supply by at least this much


class SeriesError(ValueError):
    """A series file that is not what is expected: the file, the line and field, and what is wrong."""

    def __init__(self, path: Path, line: int, field: str, message: str) -> None:
        """The error at ``line`` (0: the file as a whole) and ``field`` of the file at ``path``."""
        super().__init__(escape(f"{path}:{line}: {token(field)}: {message}"))


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
    """The packaged series file."""
    return Path(__file__).resolve().parents[1] / "data" / "series.csv"


def load_series(path: str | Path | None = None) -> dict[tuple[str, str], Series]:
    """Read and validate a series file (the packaged one when no path is given)."""
    return _packaged() if path is None else _load(Path(path))


@functools.cache
def _packaged() -> dict[tuple[str, str], Series]:
    """The packaged series, read once per process."""
    return _load(default_path())


def _load(path: Path) -> dict[tuple[str, str], Series]:
    """Read the series file at ``path`` and check it whole: its header, every row, each series' years."""
    try:
        text = read_file(path, MAX_DATA_BYTES, "CSV", "a series file").decode("utf-8")
    except (ReachError, UnicodeDecodeError) as exc:
        raise SeriesError(path, 0, "file", f"cannot read it: {exc}") from None
    numbered = [(n, line) for n, line in enumerate(text.splitlines(), 1) if line.strip() and not line.startswith("#")]
    parsed = []
    for n, line in numbered:  # a row is one line: a quoted field cannot run on to the next
        try:
            parsed.append(csv_row(line))
        except ValueError as exc:
            raise SeriesError(path, n, "row", f"{exc}; expected the header or one value on each line") from None
    header = parsed[0] if parsed else None
    if header is None or tuple(header) != COLUMNS:
        raise SeriesError(path, numbered[0][0] if numbered else 0, "header", f"expected {','.join(COLUMNS)}")
    rows: dict[tuple[str, str], list[tuple[int, float, int]]] = {}
    for (n, _), row in zip(numbered[1:], parsed[1:], strict=True):
        series, power, year, value = _value(path, n, row)
        rows.setdefault((series, power), []).append((year, value, n))
    return {key: _series(path, key, items) for key, items in rows.items()}


def _value(path: Path, line: int, row: list[str]) -> tuple[str, str, int, float]:
    """The series, partner, year and value of the row on ``line``, its flag and source checked."""
    if len(row) != len(COLUMNS):
        raise SeriesError(path, line, "row", f"expected {len(COLUMNS)} fields, got {len(row)}")
    item = dict(zip(COLUMNS, row, strict=True))
    if item["power"] not in PARTNERS:
        raise SeriesError(path, line, "power", f"expected one of {', '.join(PARTNERS)}, got {show(item['power'])}")
    try:
        if len(item["year"].strip()) > 6:  # a year of thousands of digits is no year (and costs to convert)
            raise ValueError
        year, value = int(item["year"]), float(item["value"])
    except ValueError:
        raise SeriesError(path, line, "year/value", "expected a whole year and a number") from None
    if not np.isfinite(value) or value < 0:
        raise SeriesError(path, line, "value", f"expected a number >= 0, got {show(item['value'])}")
    if item["flag"] not in FLAGS:
        raise SeriesError(path, line, "flag", f"expected one of {', '.join(FLAGS)}, got {show(item['flag'])}")
    if not item["source"].strip():
        raise SeriesError(path, line, "source", "expected the dataset or document the value comes from")
    return item["series"], item["power"], year, value


def _series(path: Path, key: tuple[str, str], items: list[tuple[int, float, int]]) -> Series:
    """The series ``key`` (series, partner) from its (year, value, line) items, its years ascending, once each."""
    years = [y for y, _, _ in items]
    if years != sorted(set(years)):
        raise SeriesError(path, items[0][2], "year", f"expected the years of {key[0]} {key[1]} ascending, once each")
    return Series(np.array(years), np.array([v for _, v, _ in items]), tuple(n for _, _, n in items))


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
    parameters: ParameterSet, series: dict[tuple[str, str], Series], years: np.ndarray, own: Container[str] = ()
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
    params = scenario.resolved_parameters
    drivers = [
        *(
            (f"powers.{p}.supply.prosperity", v, series[("trade", p)])
            for p, v in prosperity_supply(params, series, years).items()
        ),
        *(
            (f"powers.{p}.reach", v, series[("milex", p)])
            for p, v in reach(params, series, years, scenario.parameters).items()
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
