"""The derived series: rebuilt from the raw data byte for byte, and derived from it, not from anything else.

The raw data lies in ``../shared/data`` beside the repository's root. Where it is missing, the tests that
need it skip, except in CI (``CI=true``), where they fail: a rebuild that cannot be checked is not checked.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
import yaml

from sim.analysis.datasets import (
    AGREEMENT_FILE,
    ARMS_FILE,
    PACKAGE_DATA,
    SIPRI_FILE,
    SIPRI_PREAMBLE,
    UNGA_ROLL_CALLS,
    UNGA_VOTES,
    arms_deliveries,
    check_stated,
    derive,
    parse_arms,
    period_share,
    shared_data,
    un_agreement,
)
from sim.analysis.rebuild import main
from sim.analysis.record import RecordError, default_path, load_record, stated_arms_shares

SIPRI_COLUMNS = (
    "SIPRI AT Database ID,Supplier,Recipient,Designation,Description,Armament category,Order date,"
    "Order date is estimate,Numbers delivered,Numbers delivered is estimate,Delivery year,Delivery year is estimate,"
    "Status,SIPRI estimate,TIV deal unit,TIV delivery values,Local production"
)


def need_raw(where: Path) -> Path:
    """The raw data's folder; where it is missing, a skip, or a failure in CI."""
    if not all((where / part).is_file() for part in (SIPRI_FILE, UNGA_VOTES, UNGA_ROLL_CALLS)):
        message = f"the raw data is missing: expected it in {where}"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return where


@pytest.fixture(scope="module")
def raw() -> Path:
    return need_raw(shared_data())


def test_missing_raw_data_fails_in_ci_and_skips_elsewhere(tmp_path, monkeypatch):
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="raw data is missing"):
        need_raw(tmp_path)
    monkeypatch.setenv("CI", "false")
    with pytest.raises(pytest.skip.Exception, match="raw data is missing"):
        need_raw(tmp_path)
    monkeypatch.delenv("CI")
    with pytest.raises(pytest.skip.Exception):
        need_raw(tmp_path)
    assert shared_data().parent.name == "shared" and shared_data().parent.parent == Path(__file__).resolve().parents[3]


def test_the_committed_series_are_their_rebuild_byte_for_byte(raw):
    for name, text in derive(raw).items():
        assert (PACKAGE_DATA / name).read_bytes() == text.encode("utf-8"), f"{name}: run python -m sim.analysis.rebuild"
    assert main(["--check"]) == 0


def test_the_period_sums_reproduce_the_shares_the_data_readme_states(raw):
    years = arms_deliveries(raw)
    readme = {(2000, 2004): 0.919, (2005, 2009): 0.783, (2010, 2014): 0.926, (2015, 2019): 0.720, (2020, 2023): 0.388}
    for (first, last), share in readme.items():
        assert round(period_share(years, first, last, "RU"), 3) == share
    assert check_stated(years, stated_arms_shares()) == []
    assert [y.year for y in years] == list(range(2000, 2025))
    pairs = {(row.split(",")[0], row.split(",")[10]) for row in _sipri_rows(raw)}  # (deal, delivery year)
    assert sum(y.deals for y in years) == len(pairs)


def _sipri_rows(raw: Path) -> list[str]:
    return (raw / SIPRI_FILE).read_text(encoding="utf-8").splitlines()[SIPRI_PREAMBLE + 1 :]


def copy_raw(raw: Path, to: Path) -> Path:
    for part in (SIPRI_FILE, UNGA_VOTES, UNGA_ROLL_CALLS):
        (to / part).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(raw / part, to / part)
    return to


def test_a_changed_raw_file_changes_the_derived_series(raw, tmp_path):
    copy = copy_raw(raw, tmp_path / "data")
    before = derive(copy)
    sipri = copy / SIPRI_FILE
    lines = sipri.read_text(encoding="utf-8").splitlines(keepends=True)
    n = next(i for i, line in enumerate(lines) if i > SIPRI_PREAMBLE and ",Russia," in line and ",2001," in line)
    fields = lines[n].rstrip("\n").split(",")
    fields[15] = str(float(fields[15]) + 100)  # a hundred million TIV more from Russia in that row's year
    lines[n] = ",".join(fields) + "\n"
    sipri.write_text("".join(lines), encoding="utf-8")
    votes = copy / UNGA_VOTES
    text = votes.read_text(encoding="utf-8")
    vietnam = next(line for line in text.splitlines() if ",VN," in line and line.endswith(",yes"))
    votes.write_text(text.replace(vietnam + "\n", vietnam[: -len("yes")] + "no\n", 1), encoding="utf-8")
    after = derive(copy)
    assert after[ARMS_FILE] != before[ARMS_FILE] and after[AGREEMENT_FILE] != before[AGREEMENT_FILE]
    year = int(fields[10])
    assert period_share(arms_deliveries(copy), year, year, "RU") > period_share(arms_deliveries(raw), year, year, "RU")


def test_a_missing_raw_file_is_an_error_naming_it(tmp_path):
    from sim.analysis.datasets import DatasetError

    with pytest.raises(DatasetError, match="missing"):
        derive(tmp_path)
    assert main(["--source", str(tmp_path), "--check"]) == 1


# -- hand-made raw data, where the answer is known ------------------------------------------------------


def hand_made(to: Path) -> Path:
    (to / "sipri").mkdir(parents=True)
    (to / "unga").mkdir()
    rows = [
        "1,Russia,Viet Nam,Su-30,FGA aircraft,Aircraft,2001,No,2,No,2003,No,New,35,35,70,No",
        "1,Russia,Viet Nam,Su-30,FGA aircraft,Aircraft,2001,No,1,No,2004,No,New,35,35,35,No",
        "2,Israel,Viet Nam,SPYDER,SAM system,Air defence systems,2002,No,1,No,2004,No,New,20,20,20,No",
        "3,United States,Viet Nam,Hamilton,OPV,Ships,2002,No,1,No,2004,No,Second hand,15,15,15,No",
        "4,Netherlands,Viet Nam,SL-5612,landing ship,Ships,2002,No,1,No,2004,No,New,5,5,5,No",
    ]
    preamble = ["SIPRI's export header"] * SIPRI_PREAMBLE
    (to / SIPRI_FILE).write_text("\n".join([*preamble, SIPRI_COLUMNS, *rows]) + "\n", encoding="utf-8")
    (to / UNGA_ROLL_CALLS).write_text(
        "rcid,session,importantvote,date,unres,amend,para,short\n"
        "1,45,0,1990-10-01,R/45/1,0,0,A\n2,45,0,1990-11-01,R/45/2,0,0,B\n3,46,0,1991-10-01,R/46/1,0,0,C\n",
        encoding="utf-8",
    )
    votes = [
        "1,Vietnam,VN,yes", "1,United States,US,no", "1,China,CN,abstain", "1,Russia,RU,yes",
        "2,Vietnam,VN,abstain", "2,United States,US,abstain", "2,Russia,RU,no",
        "3,United States,US,yes", "3,China,CN,yes",
    ]  # fmt: skip
    (to / UNGA_VOTES).write_text("rcid,country,country_code,vote\n" + "\n".join(votes) + "\n", encoding="utf-8")
    return to


def test_arms_deliveries_by_hand(tmp_path):
    years = {y.year: y for y in arms_deliveries(hand_made(tmp_path))}
    assert years[2003].tiv["RU"] == 70 and years[2003].deals == 1 and years[2003].total == 70
    assert years[2004].total == 75 and years[2004].deals == 4 and years[2004].tiv["others"] == 5
    assert years[2000].total == 0 and years[2000].deals == 0
    assert period_share(years.values(), 2000, 2004, "RU") == pytest.approx(105 / 145)
    assert period_share(years.values(), 2000, 2004, "US") == pytest.approx(15 / 145)
    text = derive(tmp_path)[ARMS_FILE]
    assert "\n2004,4,75.00,15.00,0.00,35.00,20.00,0.00,0.00,0.00,0.00,5.00,0.4667,0.2000\n" in text
    assert "\n2000,0,0.00," in text and text.count("\n2024,0,0.00,") == 1  # nothing delivered: no share
    assert [(y.year, y.total) for y in parse_arms(text, ARMS_FILE)] == [(y, years[y].total) for y in years]


def test_un_agreement_by_hand(tmp_path):
    agreement = un_agreement(hand_made(tmp_path))
    # 1990: the US disagrees (yes/no: 0) then agrees (abstain/abstain: 1); China half (yes/abstain) on one roll
    # call; Russia agrees (yes/yes: 1) then half (abstain/no: 0.5). 1991: Vietnam did not vote: no year.
    assert agreement == {1990: {"US": (2, 0.5), "CN": (1, 0.5), "RU": (2, 0.75)}}
    assert "\n1990,2,1,2,0.5000,0.5000,0.7500\n" in derive(tmp_path)[AGREEMENT_FILE]


# -- the record's arms shares come from the derived series ----------------------------------------------


def test_the_records_arms_shares_are_the_derived_series_period_sums():
    record = load_record()
    years = parse_arms((PACKAGE_DATA / ARMS_FILE).read_text(encoding="utf-8"), ARMS_FILE)
    for p in record.arms_imports:
        for supplier, share in p.shares.items():
            assert share == pytest.approx(period_share(years, p.first, p.last, supplier))
        assert sum(p.shares.values()) == pytest.approx(1.0)
    assert [round(p.value, 3) for p in record.russian_arms_share] == [0.919, 0.783, 0.926, 0.72, 0.388]


def test_a_stated_share_the_series_does_not_reproduce_stops_the_record(tmp_path):
    raw = yaml.safe_load(default_path().read_text(encoding="utf-8"))
    raw["arms_imports"]["periods"][0]["stated"]["RU"]["value"] = 0.918  # SIPRI's sums give 0.9188
    bad = tmp_path / "record.yaml"
    bad.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    shutil.copyfile(PACKAGE_DATA / ARMS_FILE, tmp_path / ARMS_FILE)
    with pytest.raises(RecordError, match=r"periods\[0\]\.stated: .*RU 2000-2004: derived 0\.9188, stated 0\.918"):
        load_record(bad)
