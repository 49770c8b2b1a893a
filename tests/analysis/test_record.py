"""The record the hindcast is scored against: every value sourced and flagged, quotes verbatim."""

from __future__ import annotations

import re
import shutil

import numpy as np
import pytest
import yaml
from conftest import normalise

from sim.analysis.record import FLAGS, RecordError, default_path, load_record
from sim.model.params import POWERS, TIERS

RAW = yaml.safe_load(default_path().read_text(encoding="utf-8"))


def raw_arms_file() -> str:
    return RAW["arms_imports"]["file"]


def items():
    for p in POWERS:
        for i, spell in enumerate(RAW["tiers"][p]):
            yield f"tiers.{p}[{i}]", spell
    yield "arms_imports", RAW["arms_imports"]
    for i, period in enumerate(RAW["arms_imports"]["periods"]):
        for supplier, item in period["stated"].items():
            yield f"arms_imports.periods[{i}].stated.{supplier}", item


@pytest.mark.parametrize(("field", "item"), list(items()), ids=[f for f, _ in items()])
def test_every_value_has_a_flag_and_a_source(field, item):
    assert item["flag"] in FLAGS, field
    source = item["source"]
    assert ("ref" in source and source["quote"].strip()) or source["external"].strip(), field


QUOTED = [(f, i["source"]["ref"], i["source"]["quote"]) for f, i in items() if "ref" in i["source"]]


@pytest.mark.parametrize(("field", "ref", "quote"), QUOTED, ids=[q[0] for q in QUOTED])
def test_every_quote_appears_verbatim_in_its_source(sources, field, ref, quote):
    text = normalise((sources / RAW["sources"][ref]).read_text(encoding="utf-8"))
    assert normalise(quote) in text, field


def test_the_record_reads_as_history():
    r = load_record()
    tier = {p: dict(zip(r.years.tolist(), r.tiers[i].tolist(), strict=True)) for i, p in enumerate(POWERS)}
    csp = TIERS.index("comprehensive_strategic")
    assert tier["RU"][1986] == TIERS.index("alliance") and tier["RU"][1995] == 0
    assert (tier["CN"][2007], tier["CN"][2008]) == (0, csp)
    assert (tier["RU"][2011], tier["RU"][2012]) == (TIERS.index("strategic"), csp)
    assert (tier["US"][2012], tier["US"][2013], tier["US"][2022], tier["US"][2023]) == (0, 1, 1, csp)
    assert round([p.value for p in r.russian_arms_share][-1], 3) == 0.388  # derived from SIPRI's register
    assert len(r.russian_arms_share) == 5  # SIPRI's own 2017-21 period is data, not scored


def test_vietnams_arms_imports_name_the_main_suppliers_and_no_period_adds_up_to_more_than_all():
    r = load_record()
    for p in r.arms_imports:
        assert sum(p.shares.values()) <= 1.0 + 1e-9, (p.first, p.last)
    by = {(p.first, p.last): p.shares for p in r.arms_imports}
    # SIPRI's own 2017-21 figures (Russia 56%, Israel 19%, South Korea 6.6%), reproduced by the derived series
    assert {s: by[(2017, 2021)][s] for s in ("RU", "IL", "KR")} == pytest.approx(
        {"RU": 0.56, "IL": 0.19, "KR": 0.066}, abs=0.005
    )
    assert all(by[k]["US"] == 0.0 for k in ((2000, 2004), (2005, 2009), (2010, 2014)))  # the US embargo
    assert by[(2020, 2023)]["US"] > by[(2015, 2019)]["US"] > 0


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda raw: raw["tiers"]["US"][1].pop("flag"), "tiers.US[1].flag"),
        (lambda raw: raw["tiers"]["CN"][1].update(tier="ally"), "tiers.CN[1].tier"),
        (lambda raw: raw["tiers"]["RU"][2].update({"from": 1990}), "tiers.RU[2].from"),
        (lambda raw: raw["tiers"]["US"][1].update(month=13), "tiers.US[1].month"),
        (lambda raw: raw["tiers"]["US"][1].update(month="July"), "tiers.US[1].month"),
        (lambda raw: raw["tiers"]["CN"][0].update(month=1), "tiers.CN[0].month"),
        (lambda raw: raw["tiers"]["RU"][0].update(source={"ref": "nobody", "quote": "x"}), "tiers.RU[0].source.ref"),
        (
            lambda raw: raw["arms_imports"]["periods"][0]["stated"]["RU"].update(value=92),
            "arms_imports.periods[0].stated.RU.value",
        ),
        (lambda raw: raw["arms_imports"]["periods"][1]["stated"].update(XX={}), "arms_imports.periods[1].stated.XX"),
        (
            lambda raw: raw["arms_imports"]["periods"][2]["stated"]["RU"].pop("source"),
            "arms_imports.periods[2].stated.RU.source",
        ),
        (lambda raw: raw["arms_imports"]["periods"][4].update(scored=True), "arms_imports"),
        (lambda raw: raw["arms_imports"]["periods"][0].update({"from": 1990}), "arms_imports.periods[0]"),
        (lambda raw: raw["arms_imports"].update(file="nowhere.csv"), "arms_imports.file"),
        (lambda raw: raw["arms_imports"].pop("flag"), "arms_imports.flag"),
        (lambda raw: raw.pop("years"), "years"),
    ],
)
def test_a_bad_record_names_the_file_and_field(tmp_path, change, field):
    raw = yaml.safe_load(default_path().read_text(encoding="utf-8"))
    change(raw)
    bad = tmp_path / "record.yaml"
    bad.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    shutil.copyfile(default_path().parent / raw_arms_file(), tmp_path / raw_arms_file())  # the series it names
    with pytest.raises(RecordError, match=re.escape(f"{bad}: {field}:")):
        load_record(bad)


def test_the_months_of_the_changes_date_what_a_quarterly_origin_knows():
    """The US comprehensive partnership of July 2013: not known at the start of July, known at October's."""
    r = load_record()
    us, at = POWERS.index("US"), int(np.flatnonzero(r.years == 2013)[0])
    assert r.months is not None and r.months[us, at] == 7
    assert [TIERS[r.state_at(2013, m)[us]] for m in (1, 4, 7, 10)] == ["none", "none", "none", "comprehensive"]
    assert (r.state_at(2014, 1) == r.tiers[:, at]).all()  # a January origin: the year before's end, as before
