"""The record of 1986-2025: Vietnam's partnership tier with each power by year, and what else is scored.

Read from ``sim/data/record.yaml`` (or a file of the same shape): every value
with its source and a flag, ``checked``, ``computed`` or ``recalled``. Vietnam's
arms imports by period are summed from the yearly series derived from SIPRI's
register (``sim/data/arms_deliveries.csv``, ``sim.analysis.datasets``), which must
reproduce the shares the record states for each period. A bad file is a
RecordError naming the file, the field and what was expected.
"""

from __future__ import annotations

import functools
import itertools
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sim.analysis.datasets import SUPPLIERS, ArmsYear, DatasetError, check_stated, parse_arms, period_share
from sim.model import yamlfile
from sim.model.domain import POWERS, TIERS
from sim.model.limits import MAX_DATA_BYTES
from sim.model.reach import ReachError, read_file
from sim.model.yamlfile import YamlFault

FLAGS = ("checked", "computed", "recalled")
SCORED_SUPPLIER = "RU"  # the one whose share the model measures (sim.analysis.measurement.arms_share)


class RecordError(ValueError):
    """A record file that is not what is expected: the file, the field and what is wrong."""

    def __init__(self, path: Path, field: str, message: str) -> None:
        """The error in ``field`` of the file at ``path`` ("file" for the file as a whole)."""
        super().__init__(f"{path}: {field}: {message}")


@dataclass(frozen=True)
class Period:
    """A value over the calendar years ``first`` to ``last`` (inclusive)."""

    first: int
    last: int
    value: float


@dataclass(frozen=True)
class ArmsPeriod:
    """Vietnam's arms imports over ``first`` to ``last``: each supplier's share; ``scored`` if on the scored grid."""

    first: int
    last: int
    shares: dict[str, float]
    scored: bool = True


@dataclass(frozen=True)
class Record:
    """The actual tier index (into TIERS) per power and year, and the observables beside it."""

    years: np.ndarray  # (years,)
    tiers: np.ndarray  # (powers, years), int
    arms_imports: tuple[ArmsPeriod, ...] = ()
    arms_years: tuple[ArmsYear, ...] = ()  # the yearly series the periods are summed from
    baselines_from: int | None = None  # the first year the baselines are fitted on (None: the record's first)
    months: np.ndarray | None = None  # (powers, years): the month a spell starts in its year, 0 if not dated

    def state_at(self, year: int, month: int) -> np.ndarray:
        """Each power's tier known at the start of ``month`` of ``year``.

        The tier at the end of the year before, or the spell of ``year`` itself if it is dated before ``month``
        (an undated one is known at the year's end).
        """
        before = self.tiers[:, int(np.flatnonzero(self.years == year - 1)[0])]
        inside = np.flatnonzero(self.years == year)
        if self.months is None or not inside.size:
            return before.copy()
        dated = self.months[:, inside[0]]
        return np.where((dated > 0) & (dated < month), self.tiers[:, inside[0]], before)

    @property
    def russian_arms_share(self) -> tuple[Period, ...]:
        """Russia's share of the arms imports over the scored periods: the observable beside the tiers."""
        return tuple(
            Period(p.first, p.last, p.shares[SCORED_SUPPLIER])
            for p in self.arms_imports
            if p.scored and SCORED_SUPPLIER in p.shares
        )

    def window(self, first: int, last: int) -> np.ndarray:
        """Boolean mask over ``years`` for first..last inclusive."""
        return (self.years >= first) & (self.years <= last)


def default_path() -> Path:
    """The packaged record."""
    return Path(__file__).resolve().parents[1] / "data" / "record.yaml"


def load_record(path: str | Path | None = None) -> Record:
    """Read and validate a record file (the packaged record when no path is given)."""
    return _packaged() if path is None else _load(Path(path))


@functools.cache
def _packaged() -> Record:
    """The packaged record, read once per process."""
    return _load(default_path())


def _load(path: Path) -> Record:
    """Read the record file at ``path`` and check it whole: its years, every power's tiers, the arms imports."""
    try:
        raw = yamlfile.parse(read_file(path, MAX_DATA_BYTES, "YAML", "a record file").decode("utf-8"))
    except (ReachError, UnicodeDecodeError) as exc:
        raise RecordError(path, "file", f"cannot read it: {exc}") from None
    except YamlFault as fault:  # as a scenario's: no tags, bounded, one line
        at = f"line {fault.line}: " if fault.line else ""
        raise RecordError(path, "file", f"cannot read it: {at}{fault.message}") from None
    if not isinstance(raw, dict):
        raise RecordError(path, "file", "expected a mapping at the top level")
    years = raw.get("years")
    if not (isinstance(years, list) and len(years) == 2 and all(isinstance(y, int) for y in years)):
        raise RecordError(path, "years", f"expected [first, last] as two whole years, got {years!r}")
    if years[1] < years[0]:
        raise RecordError(path, "years", f"expected the last year after the first, got {years!r}")
    span = np.arange(years[0], years[1] + 1)
    spells = raw.get("tiers")
    if not isinstance(spells, dict) or set(spells) != set(POWERS):
        raise RecordError(path, "tiers", f"expected a list of spells for each of {', '.join(POWERS)}")
    read = [_tiers(path, p, spells[p], span, raw.get("sources") or {}) for p in POWERS]
    tiers, months = np.stack([t for t, _ in read]), np.stack([m for _, m in read])
    arms_years, arms = _arms_imports(path, raw.get("arms_imports"), raw.get("sources") or {})
    scored = [(p.first, p.last) for p in arms if p.scored]
    for (a, b), (c, d) in itertools.pairwise(scored):
        if c <= b:
            raise RecordError(path, "arms_imports", f"expected scored periods in order, apart: {a}-{b} and {c}-{d}")
    since = raw.get("baselines_from", years[0])
    if isinstance(since, bool) or not isinstance(since, int) or not years[0] <= since <= years[1]:
        raise RecordError(path, "baselines_from", f"expected a year within {years[0]}-{years[1]}, got {since!r}")
    return Record(span, tiers, arms, arms_years, since, months)


def _tiers(path: Path, power: str, spells: object, span: np.ndarray, sources: dict) -> tuple[np.ndarray, np.ndarray]:
    """The power's tier index in each year of ``span``, from the file's ``spells`` (each from a year on).

    And the month each spell starts in its first year (``month``, if the spell gives it; 0 if not), so that a
    forecast from within that year knows a change dated before it.
    """
    if not isinstance(spells, list) or not spells:
        raise RecordError(path, f"tiers.{power}", "expected a list of spells")
    out = np.full(len(span), -1)
    months = np.zeros(len(span), dtype=int)
    previous = None
    for i, spell in enumerate(spells):
        field = f"tiers.{power}[{i}]"
        if not isinstance(spell, dict):
            raise RecordError(path, field, "expected a mapping with from, tier, flag, source")
        _sourced(path, field, spell, sources)
        first, tier = spell.get("from"), spell.get("tier")
        if not isinstance(first, int) or not span[0] <= first <= span[-1]:
            raise RecordError(path, f"{field}.from", f"expected a year within {span[0]}-{span[-1]}, got {first!r}")
        if previous is None and first != span[0]:
            raise RecordError(path, f"{field}.from", f"expected the first spell to start in {span[0]}, got {first}")
        if previous is not None and first <= previous:
            raise RecordError(path, f"{field}.from", f"expected a year after {previous}, got {first}")
        if tier not in TIERS:
            raise RecordError(path, f"{field}.tier", f"expected one of {', '.join(TIERS)}, got {tier!r}")
        month = spell.get("month", 0)
        if previous is not None and "month" in spell and (type(month) is not int or not 1 <= month <= 12):
            raise RecordError(path, f"{field}.month", f"expected the month the spell starts, 1 to 12, got {month!r}")
        if previous is None and "month" in spell:
            raise RecordError(path, f"{field}.month", "expected no month on the first spell: it holds from the start")
        out[span >= first] = TIERS.index(tier)
        months[span == first] = month
        previous = first
    return out, months


def _arms_imports(path: Path, section: object, sources: dict) -> tuple[tuple[ArmsYear, ...], tuple[ArmsPeriod, ...]]:
    """The yearly arms series the section names, and its periods' shares, each checked against the stated ones."""
    if section is None:
        return (), ()
    if not isinstance(section, dict):
        raise RecordError(path, "arms_imports", "expected a mapping with file, flag, source, periods")
    _sourced(path, "arms_imports", section, sources)
    name = section.get("file")
    if not isinstance(name, str) or not name.endswith(".csv"):
        raise RecordError(path, "arms_imports.file", f"expected the derived series' CSV file, got {name!r}")
    where = path.parent / name
    try:
        years = tuple(parse_arms(read_file(where, MAX_DATA_BYTES, "CSV", "a derived series").decode("utf-8"), name))
    except (ReachError, UnicodeDecodeError, DatasetError) as exc:
        raise RecordError(path, "arms_imports.file", f"cannot read {where}: {exc}") from None
    periods = section.get("periods")
    if not isinstance(periods, list) or not periods:
        raise RecordError(path, "arms_imports.periods", "expected a list of periods, each with from, to, stated")
    out = []
    for i, item in enumerate(periods):
        field = f"arms_imports.periods[{i}]"
        first, last, stated = _period(path, field, item, years, sources)
        wrong = check_stated(years, [(first, last, s, v) for s, v in stated.items()])
        if wrong:
            raise RecordError(path, f"{field}.stated", f"the derived series does not reproduce it: {'; '.join(wrong)}")
        shares = {s: period_share(years, first, last, s) for s in SUPPLIERS}
        out.append(ArmsPeriod(first, last, shares, item.get("scored", True)))
    return years, tuple(out)


def _period(path: Path, field: str, item: object, years: tuple[ArmsYear, ...], sources: dict) -> tuple[int, int, dict]:
    """A period's first and last year, inside the derived series' years, and the shares stated for it."""
    if not isinstance(item, dict):
        raise RecordError(path, field, "expected a mapping with from, to, stated")
    first, last, scored = item.get("from"), item.get("to"), item.get("scored", True)
    span = (years[0].year, years[-1].year) if years else (0, -1)
    if not (isinstance(first, int) and isinstance(last, int) and span[0] <= first <= last <= span[1]):
        raise RecordError(
            path, field, f"expected whole years from <= to within {span[0]}-{span[1]}, got {first!r}, {last!r}"
        )
    if not isinstance(scored, bool):
        raise RecordError(path, f"{field}.scored", f"expected true or false, got {scored!r}")
    if sum(y.total for y in years if first <= y.year <= last) <= 0:
        raise RecordError(path, field, f"expected deliveries over {first}-{last}, the series has none")
    stated = item.get("stated") or {}
    if not isinstance(stated, dict):
        raise RecordError(path, f"{field}.stated", f"expected a share for some of {', '.join(SUPPLIERS)}")
    out = {}
    for supplier, entry in stated.items():
        where = f"{field}.stated.{supplier}"
        if supplier not in SUPPLIERS:
            raise RecordError(path, where, f"expected a supplier among {', '.join(SUPPLIERS)}")
        if not isinstance(entry, dict):
            raise RecordError(path, where, "expected a mapping with value, flag, source")
        _sourced(path, where, entry, sources)
        value = entry.get("value")
        if isinstance(value, bool) or not isinstance(value, int | float) or not 0.0 <= value <= 1.0:
            raise RecordError(path, f"{where}.value", f"expected a share between 0 and 1, got {value!r}")
        out[supplier] = float(value)
    return first, last, out


def stated_arms_shares(path: str | Path | None = None) -> list[tuple[int, int, str, float]]:
    """The arms shares the record file states, as (first, last, supplier, share); the packaged record by default.

    Read without the derived series, so that the script rebuilding it (``sim.analysis.rebuild``) can check its output.
    """
    raw = yamlfile.parse(Path(path or default_path()).read_text(encoding="utf-8"))
    return [
        (p["from"], p["to"], supplier, float(entry["value"]))
        for p in raw["arms_imports"]["periods"]
        for supplier, entry in (p.get("stated") or {}).items()
    ]


def _sourced(path: Path, field: str, item: dict, sources: dict) -> None:
    """Every value has a flag and a source: a quote from a named document, or a named outside source."""
    if item.get("flag") not in FLAGS:
        raise RecordError(path, f"{field}.flag", f"expected one of {', '.join(FLAGS)}, got {item.get('flag')!r}")
    source = item.get("source")
    if not isinstance(source, dict):
        raise RecordError(path, f"{field}.source", "expected {ref, quote} or {external, note}")
    if "ref" in source:
        if source["ref"] not in sources:
            raise RecordError(
                path, f"{field}.source.ref", f"expected one of {', '.join(sources)}, got {source['ref']!r}"
            )
        if not isinstance(source.get("quote"), str) or not source["quote"].strip():
            raise RecordError(path, f"{field}.source.quote", "expected the words of the source the value rests on")
    elif not isinstance(source.get("external"), str) or not source["external"].strip():
        raise RecordError(path, f"{field}.source", "expected {ref, quote} or {external, note}")
