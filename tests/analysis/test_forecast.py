"""Sealed forecasts (``bamboo forecast``) and their grade (``bamboo score``): by hand, the seal, one machinery."""

from __future__ import annotations

import functools
import json

import pytest
import yaml
from conftest import run_cli

from sim.analysis.forecasting import FORMAT, seal
from sim.analysis.record import default_path as record_path
from sim.analysis.record import load_record
from sim.analysis.rolling import forecast, scored
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
        "origin": 2025,
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


def test_forecast_twice_same_bytes_but_made(tmp_path):
    """From the shipped state (the record's last year), twice: the same file but for ``made``, the seal checks."""
    for name in ("a", "b"):
        done = run_cli("forecast", "--runs", "8", "--seed", "5", "--to", "2027", "--out", tmp_path / name, "--quiet")
        assert done.returncode == 0, done.stderr
    a, b = tmp_path / "a" / "forecast.json", tmp_path / "b" / "forecast.json"
    assert without_made(a) == without_made(b)
    document = json.loads(a.read_text())
    assert document["sha256"] == seal(document) == json.loads(b.read_text())["sha256"]
    assert (document["origin"], document["years"], document["runs"], document["seed"]) == (2025, [2026, 2027], 8, 5)
    for power in POWERS:
        for year in ("2026", "2027"):
            entry = document["forecast"][power][year]
            assert sum(entry["tiers"].values()) == pytest.approx(1.0)
            assert 0.0 <= entry["rise"] <= 1.0 and 0.0 <= entry["fall"] <= 1.0
    assert sum(document["outcomes"]["2027"].values()) == pytest.approx(1.0)
    assert set(document["baselines"]) == {"hazard", "persistence", "trend"}
    assert len(document["scenario_sha256"]) == 64 and document["parameters_sha256"] is None


def test_forecast_from_2016_scores_as_the_rolling_origin_hindcast(tmp_path):
    """One machinery: a forecast from 2016 graded on the record gives sim.analysis.rolling's scores at that origin."""
    done = run_cli(
        "forecast", "--origin", "2016", "--to", "2025", "--runs", "12", "--seed", "9", "--out", tmp_path / "f"
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


def test_forecast_refuses_a_bad_origin(tmp_path):
    done = run_cli("forecast", "--origin", "2030", "--out", tmp_path / "x")
    assert done.returncode == 2 and "--origin" in done.stderr and not (tmp_path / "x").exists()
    done = run_cli("forecast", "--origin", "2020", "--to", "2020", "--out", tmp_path / "y")
    assert done.returncode == 2 and "--to" in done.stderr


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
