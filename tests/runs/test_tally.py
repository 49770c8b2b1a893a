"""Strategies side by side (sim.runs.tally): exact counts under common random numbers, and the value of hedging."""

import numpy as np
import pytest
from conftest import SCENARIOS
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.model.outcomes import Failure
from sim.model.strategies import DEFAULT, STRATEGIES
from sim.runs.chunks import chunks
from sim.runs.ensemble import execute
from sim.runs.scenario import load_scenario
from sim.runs.tally import StrategyTally, comparison

NAMES = tuple(STRATEGIES)


def fake(survived: dict, security: dict, coerced: dict | None = None) -> StrategyTally:
    t = StrategyTally(tuple(survived))
    modes = {k: np.where(v, Failure.NONE, Failure.ISOLATION) for k, v in survived.items()}
    coerced = coerced or {k: np.zeros(len(v), bool) for k, v in survived.items()}
    t.add(
        {k: np.asarray(v) for k, v in survived.items()},
        modes,
        {k: np.asarray(v, float) for k, v in security.items()},
        {k: np.asarray(v, bool) for k, v in coerced.items()},
    )
    return t


def test_the_models_own_strategy_is_always_compared():
    with pytest.raises(ValueError, match="hedge"):
        StrategyTally(("frozen", "random"))


def test_paired_survival_counts_the_runs_only_one_survives():
    t = fake({"hedge": [1, 1, 1, 0], "frozen": [1, 0, 0, 0]}, {"hedge": [0.5] * 4, "frozen": [0.4] * 4})
    assert t.survival("hedge") == 0.75 and t.survival("frozen") == 0.25
    diff, lo, hi = t.paired_survival("hedge", "frozen")
    assert diff == pytest.approx(0.5) and lo < diff < hi


def test_intervals_stay_within_what_a_difference_of_shares_can_be():
    t = fake({"hedge": [1] * 30 + [0], "frozen": [0] * 31}, {"hedge": [0.5] * 31, "frozen": [0.4] * 31})
    diff, lo, hi = t.paired_survival("hedge", "frozen")
    assert -1.0 <= lo <= diff <= hi <= 1.0


def test_identical_strategies_differ_by_exactly_nothing():
    t = fake({"hedge": [1, 0, 1], "frozen": [1, 0, 1]}, {"hedge": [0.3, 0.2, 0.1], "frozen": [0.3, 0.2, 0.1]})
    assert t.paired_survival("hedge", "frozen") == (0.0, 0.0, 0.0)
    assert t.security_gap("frozen") == (0.0, 0.0, 0.0)


def test_failed_and_surviving_runs_are_judged_by_their_own_security_and_coercion_is_counted():
    t = fake(
        {"hedge": [1, 1, 0, 0], "frozen": [1, 1, 1, 1]},
        {"hedge": [0.8, 0.6, 0.2, 0.4], "frozen": [0.5] * 4},
        {"hedge": [0, 1, 1, 0], "frozen": [0, 0, 0, 0]},
    )
    assert t.security_by_fate("hedge") == (pytest.approx(0.3), pytest.approx(0.7))
    assert t.security_by_fate("frozen") == (None, pytest.approx(0.5))
    block = comparison(t, {"hedge": "h", "frozen": "f"})["by_strategy"]
    assert block["hedge"]["share_coerced"] == 0.5 and block["frozen"]["share_coerced"] == 0.0
    assert block["hedge"]["mean_security_satisfaction_of_failed_runs"] == pytest.approx(0.3)
    assert block["frozen"]["mean_security_satisfaction_of_failed_runs"] is None


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.booleans(), st.booleans(), st.floats(0, 1), st.floats(0, 1)), min_size=2, max_size=60))
def test_merging_chunks_gives_the_same_counts_as_one_tally(rows):
    whole = fake(
        {"hedge": [r[0] for r in rows], "frozen": [r[1] for r in rows]},
        {"hedge": [r[2] for r in rows], "frozen": [r[3] for r in rows]},
    )
    half = len(rows) // 2
    parts = [rows[:half], rows[half:]]
    merged = StrategyTally(("hedge", "frozen"))
    for part in parts:
        if part:
            merged.merge(
                fake(
                    {"hedge": [r[0] for r in part], "frozen": [r[1] for r in part]},
                    {"hedge": [r[2] for r in part], "frozen": [r[3] for r in part]},
                )
            )
    for key in StrategyTally.ARRAYS:
        np.testing.assert_array_equal(getattr(merged, key), getattr(whole, key))
    assert merged.runs == whole.runs


@pytest.fixture(scope="module")
def caatsa():
    return load_scenario(SCENARIOS / "caatsa_enforced.yaml")


def test_a_chunked_comparison_is_the_same_as_one_chunk(caatsa):
    one = execute([caatsa], 120, 3, 120, strategies=NAMES)[0].tally
    many = execute([caatsa], 120, 3, 25, strategies=NAMES)[0].tally
    assert len(chunks(120, 25)) > 1
    for key in ("patterns", "modes", "security", "gap", "gap_sq"):
        np.testing.assert_array_equal(getattr(one, key), getattr(many, key))


def test_each_strategy_in_the_tally_is_its_own_ensemble(caatsa):
    """The tally's row for a strategy is what a plain ensemble of that strategy gives, run by run."""
    agg = execute([caatsa], 80, 5, strategies=NAMES)[0]
    for name in ("frozen", "align:RU"):
        m = caatsa.model(runs=80, seed=5, strategy=name, record=False)
        m.run_for(caatsa.steps)
        assert agg.tally.survival(name) == pytest.approx(m.survival_probability())
    assert agg.tally.survival(DEFAULT) == pytest.approx(agg.survival_probability())


def test_the_summary_block_names_every_strategy_and_the_value_of_hedging(caatsa):
    tally = execute([caatsa], 200, 7, strategies=NAMES)[0].tally
    block = comparison(tally, {n: STRATEGIES[n].description for n in NAMES})
    assert list(block["by_strategy"]) == list(NAMES) and block["common_random_numbers"]
    value = block["value_of_hedging"]
    best, worst = value["against_best"], value["against_worst"]
    assert best["strategy"] != DEFAULT and worst["strategy"] != DEFAULT
    lo, hi = best["ci95"]
    assert lo <= best["survival_difference"] <= hi
    assert worst["survival_difference"] >= best["survival_difference"]


@pytest.mark.xfail(
    strict=True,
    reason="since the US's interest makes it patient (docs/ODD.md 10.11), the US coerces a frozen Vietnam at the "
    "line for a year in 2 of 400 CAATSA runs (more than 120 asked); 8 of 400 since the lines move (10.12)",
)
def test_a_powers_coercion_is_reported_and_is_not_vietnams_failure(caatsa):
    """Under CAATSA the US coerces a Vietnam that stands still: a cost, not a failure of multi-alignment.

    Under the verdict of 2026-11 the frozen Vietnam "failed" in half of these runs.
    """
    tally = execute([caatsa], 400, 1, strategies=NAMES)[0].tally
    frozen = tally.names.index("frozen")
    assert tally.coerced[frozen] > 0.3 * tally.runs
    assert tally.survival("frozen") == 1.0


def test_hedging_leaves_vietnam_more_secure_than_the_best_simple_rule(caatsa):
    """Where survival does not tell them apart, security does: the hedger's runs are the more secure, paired."""
    tally = execute([caatsa], 400, 1, strategies=NAMES)[0].tally
    for other in ("frozen", "redline", "tit-for-tat"):
        mean, lo, _ = tally.security_gap(other)
        assert lo > 0, (other, mean)


@pytest.mark.slow
def test_a_failed_run_is_a_less_secure_run_under_every_strategy():
    """Failure means Vietnam is worse off: each strategy's failed runs are less secure than its surviving runs."""
    storm = load_scenario(SCENARIOS / "perfect_storm.yaml")
    tally = execute([storm], 400, 1, strategies=NAMES)[0].tally
    compared = 0
    for name in NAMES:
        failed, surviving = tally.security_by_fate(name)
        if failed is not None and surviving is not None:
            assert failed < surviving, name
            compared += 1
    assert compared >= 5
    # paired: in the very runs where only one of two Vietnams fails, the failing one is the less secure (siding
    # with China is the exception the README reports: in a perfect storm it buys slightly more security)
    for other in ("frozen", "random", "redline", "tit-for-tat", "align:US", "align:RU"):
        for failing, surviving in ((DEFAULT, other), (other, DEFAULT)):
            runs, fails, survives = tally.paired_fates(failing, surviving)
            if runs >= 10:
                assert fails < survives, (failing, surviving, runs, fails, survives)


def test_aligning_with_china_under_chinese_coercion_fails_more_than_hedging():
    scenario = load_scenario(SCENARIOS / "chinese_coercion.yaml")
    tally = execute([scenario], 300, 1, strategies=(DEFAULT, "align:CN"))[0].tally
    _, lo, _ = tally.paired_survival(DEFAULT, "align:CN")
    assert lo > 0.5


def test_aligning_with_the_us_under_a_russia_china_axis_fails_more_than_hedging():
    scenario = load_scenario(SCENARIOS / "russia_china_axis.yaml")
    tally = execute([scenario], 300, 1, strategies=(DEFAULT, "align:US"))[0].tally
    _, lo, _ = tally.paired_survival(DEFAULT, "align:US")
    assert lo > 0.5
    assert tally.security_gap("align:US")[1] > 0  # and it leaves Vietnam less secure


def test_paired_fates_compare_a_failing_vietnam_with_a_surviving_one_in_the_same_runs():
    t = fake(
        {"hedge": [1, 1, 0, 0, 1], "frozen": [0, 1, 1, 0, 0]},
        {"hedge": [0.6, 0.5, 0.2, 0.1, 0.7], "frozen": [0.3, 0.5, 0.4, 0.1, 0.2]},
    )
    assert t.paired_fates("frozen", "hedge") == (2, pytest.approx(0.25), pytest.approx(0.65))
    assert t.paired_fates("hedge", "frozen") == (1, pytest.approx(0.2), pytest.approx(0.4))
    assert t.paired_fates("hedge", "hedge") == (0, None, None)
