"""Series derived from the raw public datasets, rebuilt by a script: ``python -m sim.analysis.rebuild``.

The raw files are kept outside the repository, in ``../shared/data/`` beside
the repository's root (its README says where each comes from); the project
commits the series derived from them, never the raw files:

- ``sim/data/arms_deliveries.csv``, from SIPRI's register of arms transfers
  to Vietnam (2000-2024): by delivery year, the trend-indicator value (TIV)
  delivered in total and by supplier, the number of deals delivering, and
  Russia's and the US's shares of the year's TIV;
- ``sim/data/un_agreement.csv``, from the UN General Assembly roll calls
  (Voeten's data via ``unvotes``): by year, Vietnam's voting agreement with
  each power (yes = 1, abstain = 0.5, no = 0; agreement = 1 - |difference|,
  averaged over the roll calls on which both voted) and the number of such
  roll calls.

``python -m sim.analysis.rebuild`` rewrites both files from the raw data and checks
the arms series' period sums against the shares the record states
(``sim/data/record.yaml``); ``--check`` writes nothing and fails when a
committed file differs from its rebuild. The same functions serve the test
that rebuilds them (``tests/analysis/test_datasets.py``).
"""

from __future__ import annotations

import collections
import csv
import io
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from sim.model.domain import POWERS

PACKAGE_DATA = Path(__file__).resolve().parents[1] / "data"
SIPRI_FILE = Path("sipri") / "transfers_to_viet_nam_2000_2024.csv"
SIPRI_PREAMBLE = 11  # SIPRI's own export header, before the column names (the data README)
UNGA_VOTES = Path("unga") / "votes.csv"
UNGA_ROLL_CALLS = Path("unga") / "roll_calls.csv"
ARMS_FILE = "arms_deliveries.csv"
AGREEMENT_FILE = "un_agreement.csv"
ARMS_YEARS = (2000, 2024)  # the register's span of deliveries (the data README)
VIETNAM = "VN"
# SIPRI's supplier names, as the register spells them, to the codes of the record's suppliers (sim.analysis.record)
SUPPLIER_CODES = {
    "United States": "US",
    "China": "CN",
    "Russia": "RU",
    "Israel": "IL",
    "South Korea": "KR",
    "Belarus": "BY",
    "Ukraine": "UA",
    "India": "IN",
}
OTHERS = "others"
SUPPLIERS = (*SUPPLIER_CODES.values(), OTHERS)
SHARED_SUPPLIERS = ("RU", "US")  # the suppliers whose yearly share the arms file states
VOTE_SCORES = {"yes": 1.0, "abstain": 0.5, "no": 0.0}  # the common coding (the data README)

ARMS_HEADER = """\
# Vietnam's arms imports by year of delivery, derived by `python -m sim.analysis.rebuild` (do not edit by hand).
# Source: SIPRI Arms Transfers Database (c) SIPRI, every deal whose recipient is Viet Nam from the register
# generated 3 Jan 2025 covering orders and deliveries 2000-2030, as kept in repository lucacasu/Global-Arms-Trade
# (commit e1b012d3a36856e9d17faa0b7c770a04c5ffaaf9, file russia_trade_decline/trade_2023.csv); raw file
# ../shared/data/sipri/transfers_to_viet_nam_2000_2024.csv. Cite as: SIPRI Arms Transfers Database,
# https://www.sipri.org/databases/armstransfers. Units: millions of SIPRI trend-indicator values (TIV).
# Columns: year = the register's `Delivery year`; deals = the number of deals (distinct `SIPRI AT Database ID`)
# with a delivery in the year; tiv_total = the sum of `TIV delivery values` over the year's rows; tiv_XX = the
# same over the rows whose `Supplier` is XX (US United States, CN China, RU Russia, IL Israel, KR South Korea,
# BY Belarus, UA Ukraine, IN India), tiv_others over every other supplier; share_RU, share_US = tiv_RU,
# tiv_US / tiv_total (empty when nothing was delivered). A period's share is the sum of its years' tiv_XX over
# the sum of their tiv_total (sim.analysis.record), not the mean of the yearly shares.
"""

AGREEMENT_HEADER = """\
# Vietnam's voting agreement with each power in the UN General Assembly, by year, derived by
# `python -m sim.analysis.rebuild` (do not edit by hand).
# Source: Erik Voeten, United Nations General Assembly Voting Data (Harvard Dataverse, hdl:1902.1/12379;
# public domain, CC0), as packaged by the `unvotes` data package (David Robinson; repository dgrtwo/unvotes,
# commit 7eb7034314ff79c49c9e0785fcd9d216fa04cf14, March 2021); raw files ../shared/data/unga/votes.csv and
# roll_calls.csv. Cite: Bailey, Strezhnev and Voeten (2017), "Estimating dynamic state preferences from United
# Nations voting data", Journal of Conflict Resolution 61(2).
# Columns: year = the calendar year of the roll call's `date`; roll_calls_XX = the number of roll calls that
# year on which both Vietnam and XX voted (absences are not listed; RU before 1992 is the Soviet Union's seat);
# agreement_XX = the mean over those roll calls of 1 - |v_VN - v_XX|, a vote coded yes = 1, abstain = 0.5,
# no = 0 (empty when there are none). Vietnam votes from 1977; the one roll call dated 2020 closes the 74th
# session.
"""


class DatasetError(ValueError):
    """A raw file that is missing or not what is expected: the file and what is wrong."""


@dataclass(frozen=True)
class ArmsYear:
    """What SIPRI's register delivers to Vietnam in one year: TIV by supplier code, and the deals delivering."""

    year: int
    deals: int
    tiv: Mapping[str, float]  # by SUPPLIERS

    @property
    def total(self) -> float:
        """The year's TIV from every supplier."""
        return sum(self.tiv.values())


def repository_root() -> Path:
    """The repository this package sits in (the folder holding ``sim/``)."""
    return Path(__file__).resolve().parents[2]


def shared_data(root: Path | None = None) -> Path:
    """Where the raw data lies: ``../shared/data`` beside the repository's root."""
    return (root or repository_root()).parent / "shared" / "data"


def _rows(path: Path, skip: int = 0) -> list[dict[str, str]]:
    """The rows of a CSV file with a header line, after ``skip`` lines of preamble."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise DatasetError(f"{path}: cannot read it: {exc}") from None
    return list(csv.DictReader(lines[skip:]))


def arms_deliveries(source: Path) -> list[ArmsYear]:
    """Vietnam's arms deliveries by year from the SIPRI register under ``source``, every year of ARMS_YEARS."""
    path = source / SIPRI_FILE
    tiv: dict[int, dict[str, float]] = {
        y: dict.fromkeys(SUPPLIERS, 0.0) for y in range(ARMS_YEARS[0], ARMS_YEARS[1] + 1)
    }
    deals: dict[int, set[str]] = collections.defaultdict(set)
    for n, row in enumerate(_rows(path, SIPRI_PREAMBLE), SIPRI_PREAMBLE + 2):
        try:
            year, value = int(row["Delivery year"]), float(row["TIV delivery values"] or 0.0)
        except (KeyError, TypeError, ValueError):
            raise DatasetError(f"{path}:{n}: expected a delivery year and a TIV delivery value") from None
        if row.get("Recipient") != "Viet Nam" or year not in tiv:
            raise DatasetError(f"{path}:{n}: expected a delivery to Viet Nam in {ARMS_YEARS[0]}-{ARMS_YEARS[1]}")
        tiv[year][SUPPLIER_CODES.get(row["Supplier"], OTHERS)] += value
        deals[year].add(row["SIPRI AT Database ID"])
    return [ArmsYear(y, len(deals[y]), by) for y, by in tiv.items()]


def period_share(years: Iterable[ArmsYear], first: int, last: int, supplier: str) -> float:
    """A supplier's share of the TIV delivered over first..last: the sum of its TIV over the sum of the totals."""
    inside = [y for y in years if first <= y.year <= last]
    total = sum(y.total for y in inside)
    if total <= 0:
        raise DatasetError(f"no deliveries over {first}-{last}")
    return sum(y.tiv[supplier] for y in inside) / total


def un_agreement(source: Path) -> dict[int, dict[str, tuple[int, float]]]:
    """Vietnam's agreement with each power by year: power -> (roll calls both voted on, mean agreement)."""
    year_of = {row["rcid"]: int(row["date"][:4]) for row in _rows(source / UNGA_ROLL_CALLS)}
    votes: dict[str, dict[str, float]] = collections.defaultdict(dict)
    path = source / UNGA_VOTES
    for n, row in enumerate(_rows(path), 2):
        if row.get("vote") not in VOTE_SCORES or row.get("rcid") not in year_of:
            raise DatasetError(f"{path}:{n}: expected a vote of yes, no or abstain on a listed roll call")
        votes[row["rcid"]][row["country_code"]] = VOTE_SCORES[row["vote"]]
    sums: dict[int, dict[str, list[float]]] = collections.defaultdict(lambda: {p: [] for p in POWERS})
    for rcid, cast in votes.items():
        if VIETNAM not in cast:
            continue
        for p in POWERS:
            if p in cast:
                sums[year_of[rcid]][p].append(1.0 - abs(cast[VIETNAM] - cast[p]))
    return {y: {p: (len(a), sum(a) / len(a) if a else float("nan")) for p, a in sums[y].items()} for y in sorted(sums)}


def _table(header: str, columns: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    """A commented header, the column names, then the rows, as CSV with Unix line ends."""
    out = io.StringIO()
    out.write(header)
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    writer.writerows(rows)
    return out.getvalue()


def _share(part: float, whole: float) -> str:
    return f"{part / whole:.4f}" if whole > 0 else ""


def arms_table(years: Sequence[ArmsYear]) -> str:
    """The text of ``arms_deliveries.csv``."""
    columns = [
        "year",
        "deals",
        "tiv_total",
        *(f"tiv_{s}" for s in SUPPLIERS),
        *(f"share_{s}" for s in SHARED_SUPPLIERS),
    ]
    rows = (
        [
            str(y.year),
            str(y.deals),
            f"{y.total:.2f}",
            *(f"{y.tiv[s]:.2f}" for s in SUPPLIERS),
            *(_share(y.tiv[s], y.total) for s in SHARED_SUPPLIERS),
        ]
        for y in years
    )
    return _table(ARMS_HEADER, columns, rows)


def agreement_table(agreement: Mapping[int, Mapping[str, tuple[int, float]]]) -> str:
    """The text of ``un_agreement.csv``."""
    columns = ["year", *(f"roll_calls_{p}" for p in POWERS), *(f"agreement_{p}" for p in POWERS)]
    rows = (
        [
            str(year),
            *(str(by[p][0]) for p in POWERS),
            *(f"{by[p][1]:.4f}" if by[p][0] else "" for p in POWERS),
        ]
        for year, by in agreement.items()
    )
    return _table(AGREEMENT_HEADER, columns, rows)


def derive(source: Path) -> dict[str, str]:
    """Every derived file's name and text, rebuilt from the raw data under ``source``."""
    for raw in (SIPRI_FILE, UNGA_VOTES, UNGA_ROLL_CALLS):
        if not (source / raw).is_file():
            raise DatasetError(f"{source / raw}: missing (the raw data lies in ../shared/data beside the repository)")
    return {ARMS_FILE: arms_table(arms_deliveries(source)), AGREEMENT_FILE: agreement_table(un_agreement(source))}


def parse_arms(text: str, name: str) -> list[ArmsYear]:
    """The derived arms series as committed (the text of ``arms_deliveries.csv``, from ``name``), back as ArmsYear."""
    rows = csv.DictReader(line for line in text.splitlines() if line.strip() and not line.startswith("#"))
    try:
        return [ArmsYear(int(r["year"]), int(r["deals"]), {s: float(r[f"tiv_{s}"]) for s in SUPPLIERS}) for r in rows]
    except (KeyError, TypeError, ValueError):
        raise DatasetError(f"{name}: expected the columns year, deals and tiv_<supplier> as numbers") from None


def check_stated(years: Sequence[ArmsYear], stated: Iterable[tuple[int, int, str, float]]) -> list[str]:
    """Where a derived period share differs from a stated one by more than half a unit of its last decimal.

    ``stated``: (first, last, supplier, share) as a source states them; the answer, one line per difference.
    """
    out = []
    for first, last, supplier, share in stated:
        derived = period_share(years, first, last, supplier)
        decimals = len(f"{share}".partition(".")[2])
        if abs(derived - share) > 0.5 * 10.0**-decimals + 1e-12:
            out.append(f"{supplier} {first}-{last}: derived {derived:.4f}, stated {share}")
    return out
