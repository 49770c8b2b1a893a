"""Sealed forecasts (``bamboo forecast``) and their grade (``bamboo score``): by hand, the seal, one machinery."""

from __future__ import annotations

import functools
import json

import numpy as np
import pytest
import yaml
from conftest import run_cli

from sim.analysis.forecasting import FORMAT, seal
from sim.analysis.record import default_path as record_path
from sim.analysis.record import load_record
from sim.analysis.rolling import baselines, forecast, scored
from sim.model.domain import POWERS, TIERS
from sim.runs.scenario import SHIPPED, load_scenario

RECORD = load_record()
SOURCE = {"external": "built by hand for the test", "note": "not a fact"}


@functools.cache
def history():
    return load_scenario(SHIPPED / "history_1986_2025.yaml")


def spread(tier: str, up: float) -> dict[str, float]:
    """A tier distribution: 1 - up on ``tier``, ``up`` on the tier above it."""
    k = TIERS.index(tier)
    return {t: (1.0 - up if i == k else up if i == k + 1 else 0.0) for i, t in enumerate(TIERS)}


START = {"US": "strategic", "CN": "comprehensive_strategic", "RU": "strategic"}
YEARS = (2026, 2027)


def block(up: float, rise: float) -> dict:
    return {p: {str(y): {"tiers": spread(START[p], up), "rise": rise} for y in YEARS} for p in POWERS}


def hand_forecast() -> dict:
    """A sealed forecast of 2026-2027 by hand.

    The model 50/50 on each tie's tier and the one above, a rise at 0.5; the hazard 90/10 with a rise at 0.1;
    persistence and the trend certain at the origin's tiers, no rise.
    """
    document = {
        "format": FORMAT,
        "origin": "2026-01",
        "years": list(YEARS),
        "state_at_origin": START,
        "forecast": block(0.5, 0.5),
        "baselines": {"hazard": block(0.1, 0.1), "persistence": block(0.0, 0.0), "trend": block(0.0, 0.0)},
        "hazard": {"rate": 0.1},
        "made": "2026-01-01T00:00:00Z",
    }
    return document | {"sha256": seal(document)}


def write_record(path, years, tiers: dict[str, list[tuple[int, str]]]):
    """A record file in the format of sim/data/record.yaml, its tiers as spells (from, tier) per power."""
    raw = {
        "years": list(years),
        "tiers": {
            p: [{"from": y, "tier": t, "flag": "recalled", "source": SOURCE} for y, t in spells]
            for p, spells in tiers.items()
        },
    }
    path.write_text(yaml.safe_dump(raw), encoding="utf-8")
    return path


# the record of 2026-2027 by hand: the US rises to comprehensive_strategic in 2027, nothing else moves
HAND_RECORD = {
    "US": [(2026, "strategic"), (2027, "comprehensive_strategic")],
    "CN": [(2026, "comprehensive_strategic")],
    "RU": [(2026, "strategic")],
}


def test_grade_by_hand(tmp_path):
    """Six power-years, one rise (the US in 2027), scored by hand.

    With K - 1 = 4 steps of the cumulative distribution:

    - Brier: the model is 0.5 off every power-year, 0.25 each; persistence and the trend miss the one rise, 1/6;
      the hazard is 0.1 off five and 0.9 off the rise, (5 * 0.01 + 0.81) / 6;
    - RPS: the model puts 0.5 short of (or past) the outcome at one step each power-year, 0.25 / 4; persistence
      is 1 off at one step on the rise only, 1 / 4 / 6; the hazard 0.1 off five, 0.9 off the rise:
      (5 * 0.01 + 0.81) / 4 / 6.
    """
    fc = tmp_path / "forecast.json"
    fc.write_text(json.dumps(hand_forecast()), encoding="utf-8")
    rec = write_record(tmp_path / "record.yaml", YEARS, HAND_RECORD)
    done = run_cli("score", fc, rec, "--out", tmp_path / "graded")
    assert done.returncode == 0, done.stderr
    assert "graded on 2026-2027 (1 rises in 6 power-years)" in done.stdout
    report = json.loads((tmp_path / "graded" / "score.json").read_text())
    assert (report["years"], report["power_years"], report["rises"]) == ("2026-2027", 6, 1)
    brier = {k: v["score"] for k, v in report["brier"]["scores"].items()}
    rps = {k: v["score"] for k, v in report["rps"]["scores"].items()}
    assert brier == pytest.approx({"model": 0.25, "hazard": 0.86 / 6, "persistence": 1 / 6, "trend": 1 / 6})
    assert rps == pytest.approx({"model": 0.0625, "hazard": 0.86 / 24, "persistence": 1 / 24, "trend": 1 / 24})
    assert report["brier"]["skill"]["persistence"]["skill"] == pytest.approx(1 - 0.25 / (1 / 6))
    assert report["rps"]["skill"]["persistence"]["skill"] == pytest.approx(1 - 0.0625 / (1 / 24))


def test_grade_covers_only_the_years_the_record_has(tmp_path):
    """A record of 2026 alone grades the forecast's 2026: no rise, the model 0.25 per power-year on Brier."""
    fc = tmp_path / "forecast.json"
    fc.write_text(json.dumps(hand_forecast()), encoding="utf-8")
    rec = write_record(tmp_path / "record.yaml", (2026, 2026), {p: s[:1] for p, s in HAND_RECORD.items()})
    done = run_cli("score", fc, rec)
    assert done.returncode == 0, done.stderr
    assert "graded on 2026-2026 (0 rises in 3 power-years)" in done.stdout
    assert "brier: model 0.250, hazard 0.010, persistence 0.000" in done.stdout


def test_edited_forecast_refused(tmp_path):
    document = hand_forecast()
    document["forecast"]["US"]["2027"]["rise"] = 0.9  # a forecast made better after the fact
    fc = tmp_path / "forecast.json"
    fc.write_text(json.dumps(document), encoding="utf-8")
    rec = write_record(tmp_path / "record.yaml", YEARS, HAND_RECORD)
    done = run_cli("score", fc, rec, "--out", tmp_path / "graded")
    assert done.returncode == 2
    assert "does not match its sha256" in done.stderr and "Traceback" not in done.stderr
    assert done.stderr.count("\n") == 1 and not (tmp_path / "graded").exists()
    # the date it was made is outside the seal: changing it alone is not an edit of the forecast
    fc.write_text(json.dumps(hand_forecast() | {"made": "2030-01-01T00:00:00Z"}), encoding="utf-8")
    assert run_cli("score", fc, rec).returncode == 0


def test_record_without_a_forecast_year_refused(tmp_path):
    fc = tmp_path / "forecast.json"
    fc.write_text(json.dumps(hand_forecast()), encoding="utf-8")
    rec = write_record(tmp_path / "record.yaml", (2020, 2025), {p: [(2020, t)] for p, t in START.items()})
    done = run_cli("score", fc, rec)
    assert done.returncode == 2
    assert "none of the forecast's years 2026-2027" in done.stderr and "Traceback" not in done.stderr


def test_not_a_forecast_refused(tmp_path):
    fc = tmp_path / "forecast.json"
    fc.write_text("{not json", encoding="utf-8")
    done = run_cli("score", fc, write_record(tmp_path / "record.yaml", YEARS, HAND_RECORD))
    assert done.returncode == 2 and "cannot read the forecast" in done.stderr


def without_made(path) -> str:
    return "".join(line for line in path.read_text().splitlines(True) if not line.lstrip().startswith('"made"'))


@pytest.mark.parametrize(
    ("flags", "origin", "years"),
    [
        (("--to", "2027-12"), "2026-01", [2026, 2027]),
        (("--origin", "2016-07", "--to", "2017-12"), "2016-07", [2016, 2017]),
    ],
)
def test_forecast_twice_same_bytes_but_made(tmp_path, flags, origin, years):
    """From the shipped state or a past quarter, twice: the same file but for ``made``; another seed differs."""
    for name, seed in (("a", "5"), ("b", "5"), ("c", "6")):
        done = run_cli("forecast", *flags, "--runs", "8", "--seed", seed, "--out", tmp_path / name, "--quiet")
        assert done.returncode == 0, done.stderr
    a, b = tmp_path / "a" / "forecast.json", tmp_path / "b" / "forecast.json"
    assert without_made(a) == without_made(b) != without_made(tmp_path / "c" / "forecast.json")
    document = json.loads(a.read_text())
    assert document["sha256"] == seal(document) == json.loads(b.read_text())["sha256"]
    assert (document["origin"], document["years"], document["runs"], document["seed"]) == (origin, years, 8, 5)
    assert document["state_year"] == years[0] - 1 and "with" not in document
    for power in POWERS:
        for year in map(str, years):
            entry = document["forecast"][power][year]
            assert sum(entry["tiers"].values()) == pytest.approx(1.0)
            assert 0.0 <= entry["rise"] <= 1.0 and 0.0 <= entry["fall"] <= 1.0
    assert sum(document["outcomes"][str(years[-1])].values()) == pytest.approx(1.0)
    assert set(document["baselines"]) == {"hazard", "persistence", "trend"}
    assert len(document["scenario_sha256"]) == 64 and document["parameters_sha256"] is None


def test_forecast_from_2016_scores_as_the_rolling_origin_hindcast(tmp_path):
    """One machinery: a forecast from 2017-01 (the end of 2016) graded on the record gives rolling's scores there."""
    done = run_cli(
        "forecast", "--origin", "2017-01", "--to", "2025-12", "--runs", "12", "--seed", "9", "--out", tmp_path / "f"
    )
    assert done.returncode == 0, done.stderr
    graded = run_cli("score", tmp_path / "f" / "forecast.json", record_path(), "--out", tmp_path / "g")
    assert graded.returncode == 0, graded.stderr
    report = json.loads((tmp_path / "g" / "score.json").read_text())
    f = forecast(history(), RECORD, 2016, post=False, runs=12, seed=9)
    expected = json.loads(json.dumps(scored(RECORD, 2016, f.probs, f.rise)))
    assert report["years"] == expected["years"] == "2017-2025"
    assert (report["power_years"], report["rises"]) == (expected["power_years"], expected["rises"])
    assert report["brier"] == expected["brier"]
    assert report["rps"] == expected["rps"]
    assert report["hazard"] == expected["hazard"]


@pytest.mark.parametrize(
    ("flags", "expected"),
    [
        (("--origin", "2016-02"), "--origin: expected a quarter's first month"),
        (("--origin", "2016"), "--origin: expected a quarter's first month"),
        (("--origin", "16-01-01"), "--origin: expected a quarter's first month"),
        (("--origin", "9" * 40), "--origin: expected a quarter's first month"),
        (("--origin", "1990-01"), "--origin: expected a month from 1996-01 to 2026-01"),
        (("--origin", "2026-04"), "--origin: expected a month from 1996-01 to 2026-01"),
        (("--origin", "2016-04", "--to", "2015-12"), "--to: expected the end of a year from the origin's on, 2016-12"),
        (("--origin", "2016-01", "--to", "2019-06"), "--to: expected the end of a year, YYYY-12"),
        (("--to", "2027"), "--to: expected the end of a year, YYYY-12"),
        (("--origin", "2016-01", "--to", "2026-12", "--with-events"), "--to: with --with-events, expected a year"),
        (("--with-events",), "--with-events: expected an origin and --to within the record"),
    ],
)
def test_forecast_refuses_a_bad_origin_or_end(tmp_path, flags, expected):
    """Exit 2, one line naming the flag and what was expected, no traceback, nothing written."""
    done = run_cli("forecast", *flags, "--runs", "4", "--out", tmp_path / "x")
    assert done.returncode == 2, done.stderr
    assert expected in done.stderr and "Traceback" not in done.stderr
    assert done.stderr.count("\n") == 1 and not (tmp_path / "x").exists()


def test_the_committed_forecasts_of_the_shipped_state_are_still_sealed():
    """The forecasts in docs/forecast/ are graded later: each must be the file that was made, unedited."""
    from conftest import REPO

    from sim.analysis.forecasting import read

    found = sorted((REPO / "docs" / "forecast").rglob("forecast.json"))
    assert len(found) >= 2
    for path in found:
        document = read(path)  # refuses a file whose seal does not hold
        assert document["origin"] == 2025 and document["years"] == [2026, 2027, 2028], path


# -- the observables: quantiles of Russia's arms share, graded by CRPS ------------------------------------------
def test_quantile_crps_is_the_absolute_error_of_a_point_and_the_integral_for_a_uniform():
    """Twice the mean pinball loss: a certain forecast scores |x - y|; U(0, 1)'s quantiles give y^2 - y + 1/3."""
    import numpy as np

    from sim.analysis.forecasting import QUANTILES
    from sim.analysis.scoring import quantile_crps

    levels = np.array(QUANTILES)
    assert quantile_crps(levels, np.full(len(levels), 0.5), 0.3) == pytest.approx(0.2)
    assert quantile_crps(levels, np.full(len(levels), 0.5), 0.9) == pytest.approx(0.4)
    many = (np.arange(2000) + 0.5) / 2000  # U(0, 1): its quantile at level q is q
    for y in (0.0, 0.25, 0.5, 0.9):
        assert quantile_crps(many, many, y) == pytest.approx(y * y - y + 1 / 3, abs=1e-5)
    # a sharper forecast centred on the truth beats a wider one; a sharp one in the wrong place loses to both
    assert (
        quantile_crps(many, 0.45 + 0.1 * many, 0.5)
        < quantile_crps(many, many, 0.5)
        < quantile_crps(many, 0.9 + 0 * many, 0.5)
    )


def test_the_arms_share_is_graded_by_hand_beside_persistence_and_climatology(tmp_path):
    """Two recorded years, Russia's share 0.3 then 0; the model certain of 0.5, persistence of 0.3, climatology of 0.

    CRPS: the model 0.2 and 0.5 (mean 0.35), persistence 0 and 0.3 (0.15), climatology 0.3 and 0 (0.15); the
    model's 5-95% interval [0.5, 0.5] holds neither year.
    """
    import dataclasses

    from sim.analysis.datasets import ArmsYear
    from sim.analysis.forecasting import QUANTILES, grade

    def point(x):
        return {str(y): {str(q): x for q in QUANTILES} for y in YEARS}

    document = hand_forecast()
    document["observables"] = {
        "quantiles": list(QUANTILES),
        "forecast": {"russian_arms_share": point(0.5), "hedging_index": point(0.9)},
        "baselines": {"russian_arms_share": {"persistence": point(0.3), "climatology": point(0.0)}},
    }
    record = load_record(write_record(tmp_path / "record.yaml", YEARS, HAND_RECORD))
    arms = (ArmsYear(2026, 2, {"RU": 30.0, "US": 70.0}), ArmsYear(2027, 1, {"RU": 0.0, "US": 10.0}))
    report = grade(document, dataclasses.replace(record, arms_years=arms))["russian_arms_share"]
    assert report["years"] == list(YEARS) and report["recorded"] == [0.3, 0.0]
    crps = {k: v["score"] for k, v in report["crps"]["scores"].items()}
    assert crps == pytest.approx({"model": 0.35, "persistence": 0.15, "climatology": 0.15})
    assert report["crps"]["skill"]["persistence"]["skill"] == pytest.approx(1 - 0.35 / 0.15)
    assert report["interval_5_95_held"] == "0 of 2"
    # a year the record has no share for (nothing delivered) is not graded; a forecast without observables neither
    empty = (ArmsYear(2026, 0, {"RU": 0.0}), ArmsYear(2027, 1, {"RU": 0.0, "US": 10.0}))
    assert grade(document, dataclasses.replace(record, arms_years=empty))["russian_arms_share"]["years"] == [2027]
    assert "russian_arms_share" not in grade(hand_forecast(), dataclasses.replace(record, arms_years=arms))


def test_a_forecast_carries_quantiles_of_the_arms_share_and_the_hedging_index(tmp_path):
    """Every forecast year has ordered quantiles within [0, 1] of both observables, and the baselines of the share."""
    done = run_cli("forecast", "--runs", "60", "--out", tmp_path / "f", "--quiet")
    assert done.returncode == 0, done.stderr
    document = json.loads((tmp_path / "f" / "forecast.json").read_text())
    manifest = json.loads((tmp_path / "f" / "manifest.json").read_text())
    assert set(manifest["files"]) == {"forecast.json", "forecast.png", "forecast.svg"}  # the figure, hashed beside
    block = document["observables"]
    for name in ("russian_arms_share", "hedging_index"):
        for year in document["years"]:
            q = [block["forecast"][name][str(year)][str(level)] for level in block["quantiles"]]
            assert q == sorted(q) and q[0] >= 0.0 and q[-1] <= 1.0, (name, year, q)
    shares = [y.tiv.get("RU", 0) / y.total for y in RECORD.arms_years if y.year <= 2025 and y.total > 0]
    persistence = block["baselines"]["russian_arms_share"]["persistence"][str(document["years"][0])]
    assert persistence["0.5"] == pytest.approx(shares[-1])  # the last recorded year's share, carried on


# -- forecasts from a past origin: graded against the shipped record ----------------------------------------------
def test_a_forecast_from_a_past_quarter_is_graded_on_the_record_beside_the_baselines(tmp_path):
    """From 2016-01 to 2019-12, with the post-origin events too: graded on the record's 2016-2019, both variants.

    The variant without the events is the forecast made without ``--with-events``, byte for byte.
    """
    flags = ("--origin", "2016-01", "--to", "2019-12", "--runs", "12", "--seed", "3", "--quiet")
    done = run_cli("forecast", *flags, "--with-events", "--out", tmp_path / "f")
    assert done.returncode == 0, done.stderr
    assert run_cli("forecast", *flags, "--out", tmp_path / "plain").returncode == 0
    document = json.loads((tmp_path / "f" / "forecast.json").read_text())
    plain = json.loads((tmp_path / "plain" / "forecast.json").read_text())
    assert document["forecast"] == plain["forecast"] and document["observables"] == plain["observables"]
    assert (document["origin"], document["state_year"], document["years"]) == (
        "2016-01",
        2015,
        [2016, 2017, 2018, 2019],
    )
    assert document["state_at_origin"] == {
        "US": "comprehensive",
        "CN": "comprehensive_strategic",
        "RU": "comprehensive_strategic",
    }
    post = document["with"]
    assert [e["at"] for e in post["events"]] == ["2016-04", "2019-07"]  # the facts dated 2016-2019
    assert set(post) == {"after_origin", "events", "forecast", "outcomes", "observables"}

    graded = run_cli("score", tmp_path / "f" / "forecast.json", record_path(), "--out", tmp_path / "g")
    assert graded.returncode == 0, graded.stderr
    assert "Forecast from 2016-01 graded on 2016-2019 (0 rises in 12 power-years)" in graded.stdout
    assert "  with post-origin events (" in graded.stdout
    report = json.loads((tmp_path / "g" / "score.json").read_text())
    assert (report["origin"], report["years"], report["power_years"]) == ("2016-01", "2016-2019", 12)
    for variant in (report, report["with"]):
        for measure in ("brier", "rps"):
            assert set(variant[measure]["scores"]) == {"model", "hazard", "persistence", "trend"}
            assert set(variant[measure]["skill"]) == {"hazard", "persistence", "trend"}
        assert variant["russian_arms_share"]["years"] == [2016, 2017, 2018, 2019]
    # the baselines are the ones fitted on the record to 2015, as the rolling-origin hindcast fits them
    assert report["hazard"] == json.loads(json.dumps(baselines(RECORD, 2015)[2]))


def record_copy(folder, change=None):
    """The shipped record (and the arms series beside it) in ``folder``, each power's spells passed to ``change``."""
    import shutil

    folder.mkdir()
    raw = yaml.safe_load(record_path().read_text(encoding="utf-8"))
    if change:
        change(raw["tiers"])
    (folder / "record.yaml").write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    shutil.copy(record_path().parent / raw["arms_imports"]["file"], folder)


def test_a_forecast_reads_nothing_the_record_holds_after_its_origin(tmp_path, monkeypatch):
    """From 2016-04: the record changed from the origin on (in its own year, dated after it, or later), the same bytes.

    Changed before it, the forecast differs: Russia's upgrade moved from 2012 to 2010 (the baselines are fitted
    on those years), or a change of 2016 dated February (the state at the origin).
    """

    def later(tiers):
        tiers["US"].insert(2, tiers["US"][1] | {"from": 2016, "month": 5, "tier": "strategic"})  # after 2016-04
        tiers["US"][-1]["from"] = 2020  # the CSP of 2023, three years earlier
        tiers["CN"].append(tiers["CN"][-1] | {"from": 2019, "tier": "alliance"})

    def undated(tiers):
        tiers["US"].insert(2, {k: v for k, v in tiers["US"][1].items() if k != "month"} | {"from": 2016})

    def earlier(tiers):
        tiers["RU"][-1]["from"] = 2010

    def february(tiers):
        tiers["US"].insert(2, tiers["US"][1] | {"from": 2016, "month": 2, "tier": "strategic"})

    made = {}
    changes = (("shipped", None), ("later", later), ("undated", undated), ("earlier", earlier), ("february", february))
    for name, change in changes:
        record_copy(tmp_path / name, change)
        monkeypatch.chdir(tmp_path / name)  # the same record path, as the forecast names it, in each
        flags = ("--origin", "2016-04", "--to", "2017-12", "--runs", "6", "--seed", "2", "--quiet")
        done = run_cli("forecast", *flags, "--record", "record.yaml", "--out", "out")
        assert done.returncode == 0, done.stderr
        made[name] = without_made(tmp_path / name / "out" / "forecast.json")
    assert load_record(tmp_path / "later" / "record.yaml").tiers.tolist() != RECORD.tiers.tolist()
    assert made["later"] == made["undated"] == made["shipped"]  # an undated change is known at its year's end
    assert made["earlier"] != made["shipped"] != made["february"]
    assert json.loads(made["february"])["state_at_origin"]["US"] == "strategic"


def test_a_quarterly_origin_knows_the_facts_dated_before_it_and_the_state_of_the_year_before():
    """From 2016-07, the arms diversification of 2016-04 is known (from the start); from 2016-04 it is not.

    The record's changes of the origin's year likewise: the US comprehensive partnership of July 2013 is the
    state from 2013-10 on, the persistence baseline's too, and not from 2013-07.
    """
    from sim.analysis.rolling import restart, start_of
    from sim.model.calendar import Month

    july = restart(history(), RECORD, Month(2016, 7), post=False)
    april = restart(history(), RECORD, Month(2016, 4), post=False)
    assert july.start == Month(2016, 7) and april.start == Month(2016, 4)
    assert [e.at for e in july.events if e.type == "arms_diversification"] == [Month(2016, 7)]
    assert not [e for e in april.events if e.type == "arms_diversification"]
    assert [
        e.at for e in restart(history(), RECORD, Month(2016, 4), post=True).events if e.type == "arms_diversification"
    ] == [Month(2016, 4)]
    # the state is the record's at the end of 2015, as for the origin 2015 (the end of that year)
    assert {k: v for k, v in july.parameters.items() if k.startswith("hedger.")} == {
        k: v for k, v in restart(history(), RECORD, 2015, post=False).parameters.items() if k.startswith("hedger.")
    }
    with pytest.raises(ValueError, match="quarter's first month"):
        start_of(Month(2016, 5))
    us = POWERS.index("US")
    for month, tier in ((7, "none"), (10, "comprehensive")):
        restarted = restart(history(), RECORD, Month(2013, month), post=False)
        assert restarted.parameters["hedger.tier.US"] == TIERS.index(tier)
        assert TIERS[RECORD.state_at(2013, month)[us]] == tier
    persistence = baselines(RECORD, 2012, RECORD.state_at(2013, 10))[0]["persistence"]
    assert TIERS[int(persistence[us, RECORD.years == 2013].argmax())] == "comprehensive"
    # the first year's rise is set against the state the run started from, not left unknown
    f = forecast(history(), RECORD, Month(2016, 7), post=False, runs=4, seed=1)
    assert f.origin == 2015 and not np.isnan(f.rise[:, RECORD.years == 2016]).any()


def test_a_forecast_of_the_first_format_is_still_graded(tmp_path):
    """The forecasts sealed before quarterly origins (origin 2025, the end of the year) grade as they did."""
    from conftest import REPO

    rec = write_record(tmp_path / "record.yaml", (2026, 2026), {p: [(2026, "comprehensive_strategic")] for p in POWERS})
    done = run_cli("score", REPO / "docs" / "forecast" / "forecast.json", rec)
    assert done.returncode == 0, done.stderr
    assert "Forecast from the end of 2025 graded on 2026-2026 (0 rises in 3 power-years)" in done.stdout


def test_forecast_refuses_a_bad_posterior_or_record_naming_the_file_and_field(tmp_path):
    (tmp_path / "posterior.csv").write_text("a,b\n", encoding="utf-8")
    (tmp_path / "record.yaml").write_text("years: [2000, 1990]\n", encoding="utf-8")
    for flags, expected in (
        (("--parameters", tmp_path / "posterior.csv"), f"{tmp_path / 'posterior.csv'}:1: header: expected weight"),
        (("--record", tmp_path / "record.yaml"), f"{tmp_path / 'record.yaml'}: years: expected the last year after"),
    ):
        done = run_cli("forecast", "--origin", "2016-01", "--to", "2017-12", *flags, "--out", tmp_path / "x")
        assert done.returncode == 2 and expected in done.stderr, done.stderr
        assert done.stderr.count("\n") == 1 and not (tmp_path / "x").exists()
