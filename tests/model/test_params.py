"""Parameters (sim.model.params): the packaged data file, its validation, overrides and per-run draws."""

import copy
import dataclasses
import functools
import math
import re
from pathlib import Path

import numpy as np
import pytest
import yaml
from conftest import REPO, normalise

from sim import BalanceModel
from sim.model.params import (
    POWERS,
    SUPPORT,
    ParameterError,
    ParameterSet,
    default_path,
    expected_paths,
    load_parameters,
)
from sim.model.streams import Streams

PARAMS = load_parameters()
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_DUMPER = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
_RAW = yaml.load(default_path().read_text(encoding="utf-8"), Loader=_LOADER)


@pytest.fixture
def raw():
    """The packaged file as plain data, to be broken in one place by each test."""
    return copy.deepcopy(_RAW)


def write(tmp_path, data, name="params.yaml") -> Path:
    path = tmp_path / name
    path.write_text(yaml.dump(data, Dumper=_DUMPER, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def load_error(path) -> str:
    with pytest.raises(ParameterError) as info:
        load_parameters(path)
    return str(info.value)


# -- the packaged file ------------------------------------------------------------


def test_packaged_file_loads():
    p = load_parameters()
    assert isinstance(p, ParameterSet)
    assert set(p.entries) == set(expected_paths())
    assert Path(p.origin) == default_path()
    for key in ("start", "months_per_step", "horizon"):
        assert key in p.time
    assert p.sources


def test_every_parameter_says_what_it_rests_on():
    for path, param in PARAMS.entries.items():
        assert param.support in SUPPORT, path
        assert param.why.strip(), path
        source = param.source
        if source is None:
            assert param.support == "assumption", f"{path}: only an assumption may stand without a source"
            continue
        if "ref" in source:
            assert source["ref"] in PARAMS.sources, path
            assert isinstance(source.get("quote"), str), path
            assert source["quote"].strip(), path
        else:
            assert "external" in source, path
            assert str(source["external"]).strip(), path


def test_every_source_is_a_named_file():
    for name, file in PARAMS.sources.items():
        assert re.fullmatch(r"\d{3}_[0-9a-f]{16}\.txt", file), name


def test_every_value_lies_within_its_range():
    for path, param in PARAMS.entries.items():
        assert math.isfinite(param.value), path
        if param.range is not None:
            lo, hi = param.range
            assert lo <= param.value <= hi, path
            assert lo <= hi, path


def test_no_standing_tie_cost_is_a_residual():
    """Tie costs rest on a source (sanctions pressure) or are zero; none is solved for a rest point."""
    for p in POWERS:
        param = PARAMS[f"powers.{p}.tie_cost"]
        assert param.value == 0.0 or (param.support == "sourced-direction" and param.source), p
        assert "rest point" not in param.why or "not solved" in param.why, p


def test_the_free_parameters_and_uncertain_ones():
    free = PARAMS.free()
    assert free
    assert all(p.free for p in free)
    assert all(p.range is not None for p in PARAMS.ranged())
    assert {p.path for p in PARAMS.ranged()} == {p for p, e in PARAMS.entries.items() if e.range is not None}


QUOTED = [
    (path, p.source["ref"], p.source["quote"]) for path, p in PARAMS.entries.items() if p.source and "ref" in p.source
]
QUOTED += [
    (f"orders[{i}]", item["source"]["ref"], item["source"]["quote"]) for i, item in enumerate(_RAW.get("orders", []))
]


@pytest.mark.parametrize(("path", "ref", "quote"), [pytest.param(*q, id=q[0]) for q in QUOTED])
def test_every_quote_appears_verbatim_in_its_source(sources, path, ref, quote):
    assert normalise(quote) in source_text(sources / PARAMS.sources[ref]), f"{path}: quote not in {PARAMS.sources[ref]}"


@functools.cache
def source_text(file: Path) -> str:
    return normalise(file.read_text(encoding="utf-8"))


def test_support_levels_are_counted_in_the_readme():
    """The README states plainly how many numbers are assumptions."""
    counts = {level: sum(p.support == level for p in PARAMS.entries.values()) for level in SUPPORT}
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    stated = (
        f"{len(PARAMS.entries)} parameters: {counts['measured']} measured, "
        f"{counts['sourced-direction']} with a sourced direction, {counts['assumption']} assumptions"
    )
    assert stated in readme, stated


# -- orders the sources fix ------------------------------------------------------


def test_every_draw_keeps_the_sourced_orders():
    assert len(PARAMS.orders) >= 10
    runs = np.arange(5000, dtype=np.uint64)
    drawn = PARAMS.draw(runs, Streams(3, runs))
    for hi, lo in PARAMS.orders:
        assert np.all(drawn[hi] > drawn[lo]), (hi, lo)
        assert PARAMS.value(hi) > PARAMS.value(lo), (hi, lo)


def test_a_redrawn_run_is_still_its_own_world():
    """Redrawing to keep an order uses the run's own random numbers: run i is the same in any ensemble."""
    whole = PARAMS.draw(np.arange(300, dtype=np.uint64), Streams(8, np.arange(300, dtype=np.uint64)))
    one = np.array([217], dtype=np.uint64)
    alone = PARAMS.draw(one, Streams(8, one))
    for path in whole:
        assert whole[path][217] == alone[path][0], path


def test_a_what_if_may_set_values_against_an_order():
    p = PARAMS.with_overrides({"powers.US.reliability": 0.9, "powers.RU.reliability": 0.3})
    runs = np.arange(4, dtype=np.uint64)
    assert np.all(p.draw(runs, Streams(3, runs))["powers.US.reliability"] == 0.9)


def test_a_parameter_a_scenario_sets_leaves_the_orders():
    p = PARAMS.with_overrides({"powers.US.reliability": 0.95})  # above Russia's whole range: a what-if
    assert ("powers.RU.reliability", "powers.US.reliability") not in p.orders
    assert len(p.orders) == len(PARAMS.orders) - 1
    runs = np.arange(4, dtype=np.uint64)
    assert np.all(p.draw(runs, Streams(3, runs))["powers.US.reliability"] == 0.95)


def test_a_draw_that_cannot_keep_an_order_is_refused():
    p = dataclasses.replace(
        PARAMS,
        entries={
            **PARAMS.entries,
            "powers.US.reliability": dataclasses.replace(
                PARAMS["powers.US.reliability"], range=(0.9, 0.95), value=0.92
            ),
        },
    )
    runs = np.arange(4, dtype=np.uint64)
    with pytest.raises(ParameterError, match=r"powers\.RU\.reliability: must exceed powers\.US\.reliability"):
        p.draw(runs, Streams(3, runs))


def test_a_file_against_an_order_is_refused(tmp_path, raw):
    raw["powers"]["US"]["reliability"]["value"] = 0.79
    raw["powers"]["US"]["reliability"]["range"] = [0.78, 0.8]
    assert "must exceed powers.US.reliability" in load_error(write(tmp_path, raw))


def test_an_order_on_an_unknown_parameter_is_refused(tmp_path, raw):
    raw["orders"].append({"higher": "powers.XX.reach", "lower": "powers.US.reach", "source": {"ref": "kratiuk"}})
    assert "orders[" in load_error(write(tmp_path, raw))


# -- thresholds that rest on a stated criterion -------------------------------------


def test_the_isolation_line_is_the_least_a_partner_adds_in_2025():
    """Isolated: all partners together add less than the least any one partner adds in the 2025 world."""
    m = BalanceModel(runs=1, rng=1)
    sit, a = m.situation, m.hedger.alignment
    full = sit.satisfaction(a).mean()
    least = min(full - sit.satisfaction(np.where(np.arange(3) == p, 0.0, a)).mean() for p in range(len(POWERS)))
    assert PARAMS.value("thresholds.isolation") == pytest.approx(least, abs=0.005)
    assert PARAMS.value("thresholds.isolation") < full - m.satisfaction_alone()[0]  # 2025 is not isolated


def test_quote_normalisation_is_whitespace_only():
    assert normalise("a  b\n c") == "a b c"
    assert normalise("state- to-\nstate") == normalise("state- to-state")
    assert normalise("the perception") not in normalise("the public\nperception")


# -- malformed files -------------------------------------------------------------


def test_an_unmodified_copy_loads(tmp_path, raw):
    p = load_parameters(write(tmp_path, raw))
    assert set(p.entries) == set(PARAMS.entries)
    assert all(p.value(k) == PARAMS.value(k) for k in PARAMS.entries)
    assert p.origin == str(tmp_path / "params.yaml")


@pytest.mark.parametrize("section", ["thresholds", "hedger", "powers", "world", "behaviour"])
def test_missing_section(tmp_path, raw, section):
    del raw[section]
    path = write(tmp_path, raw)
    message = load_error(path)
    assert str(path) in message
    assert repr(section) in message


def test_value_not_a_number(tmp_path, raw):
    raw["powers"]["US"]["reach"]["value"] = "high"
    path = write(tmp_path, raw)
    message = load_error(path)
    assert str(path) in message
    assert "powers.US.reach.value" in message
    assert "'high'" in message


@pytest.mark.parametrize("bad", [True, None, float("nan"), float("inf"), [0.5]])
def test_value_of_a_wrong_kind(tmp_path, raw, bad):
    raw["behaviour"]["temperature"]["value"] = bad
    path = write(tmp_path, raw)
    message = load_error(path)
    assert str(path) in message
    assert "behaviour.temperature.value" in message


@pytest.mark.parametrize("side", [0, 1])
def test_value_outside_range(tmp_path, raw, side):
    lo, hi = raw["powers"]["US"]["reach"]["range"]
    raw["powers"]["US"]["reach"]["value"] = [lo - 0.01, hi + 0.01][side]
    path = write(tmp_path, raw)
    message = load_error(path)
    assert str(path) in message
    assert "powers.US.reach" in message
    assert "outside" in message


@pytest.mark.parametrize("bad", [[0.1], [0.1, "x"], "0.1-0.9", [0.1, 0.5, 0.9]])
def test_malformed_range(tmp_path, raw, bad):
    raw["powers"]["US"]["reach"]["range"] = bad
    path = write(tmp_path, raw)
    message = load_error(path)
    assert str(path) in message
    assert "powers.US.reach.range" in message


def test_unknown_field(tmp_path, raw):
    raw["hedger"]["demand"]["territory"]["units"] = "share"
    path = write(tmp_path, raw)
    message = load_error(path)
    assert str(path) in message
    assert "hedger.demand.territory" in message
    assert "units" in message


def test_unknown_source_ref(tmp_path, raw):
    raw["powers"]["CN"]["reach"]["source"]["ref"] = "nowhere"
    path = write(tmp_path, raw)
    message = load_error(path)
    assert str(path) in message
    assert "powers.CN.reach.source.ref" in message
    assert "nowhere" in message


@pytest.mark.parametrize("source", [None, {}, {"ref": "kratiuk"}, {"quote": "x"}, "kratiuk"])
def test_incomplete_source(tmp_path, raw, source):
    raw["world"]["deference"]["source"] = source
    path = write(tmp_path, raw)
    message = load_error(path)
    assert str(path) in message
    assert "world.deference.source" in message


def test_unknown_parameter_with_a_suggestion(tmp_path, raw):
    raw["powers"]["US"]["reliabilty"] = copy.deepcopy(raw["powers"]["US"]["reliability"])
    path = write(tmp_path, raw)
    message = load_error(path)
    assert str(path) in message
    assert "'powers.US.reliabilty'" in message
    assert "did you mean 'powers.US.reliability'" in message


def test_missing_parameter(tmp_path, raw):
    del raw["powers"]["RU"]["reach"]
    path = write(tmp_path, raw)
    message = load_error(path)
    assert str(path) in message
    assert "powers.RU.reach" in message


@pytest.mark.parametrize("key", ["start", "months_per_step", "horizon"])
def test_missing_time_key(tmp_path, raw, key):
    del raw["time"][key]
    path = write(tmp_path, raw)
    message = load_error(path)
    assert str(path) in message
    assert f"time.{key}" in message


def test_section_not_a_mapping(tmp_path, raw):
    raw["world"] = [1, 2]
    path = write(tmp_path, raw)
    message = load_error(path)
    assert str(path) in message
    assert "world" in message


def test_unreadable_files(tmp_path):
    missing = tmp_path / "absent.yaml"
    assert str(missing) in load_error(missing)
    broken = tmp_path / "broken.yaml"
    broken.write_text("thresholds: [unclosed\n", encoding="utf-8")
    assert str(broken) in load_error(broken)
    scalar = tmp_path / "scalar.yaml"
    scalar.write_text("42\n", encoding="utf-8")
    assert str(scalar) in load_error(scalar)


def test_parameter_error_is_a_value_error():
    assert issubclass(ParameterError, ValueError)


# -- with_overrides ------------------------------------------------------------------


def test_override_with_a_number():
    path = "powers.US.reliability"
    before = PARAMS[path]
    assert before.range is not None and before.value != 0.3
    p = PARAMS.with_overrides({path: 0.3})
    assert p.value(path) == 0.3
    assert p[path].range is None  # a fixed number is no longer uncertain
    assert p[path].source == before.source
    # the original is untouched, and other parameters are carried over
    assert PARAMS[path] == before
    assert all(p[k] == PARAMS[k] for k in PARAMS.entries if k != path)


def test_override_with_a_range():
    before = PARAMS["hedger.demand.territory"]
    p = PARAMS.with_overrides({"hedger.demand.territory": [0.5, 0.7], "powers.RU.reach": (0.1, 0.2)})
    assert p["hedger.demand.territory"].range == (0.5, 0.7)
    assert p.value("hedger.demand.territory") == pytest.approx(0.6)
    assert p["powers.RU.reach"].range == (0.1, 0.2)
    assert PARAMS["hedger.demand.territory"] == before


def test_override_with_an_int_and_a_degenerate_range():
    p = PARAMS.with_overrides({"hedger.four_nos": 0, "world.deference": [0.3, 0.3]})
    assert p.value("hedger.four_nos") == 0.0
    assert isinstance(p.value("hedger.four_nos"), float)
    assert p["world.deference"].range == (0.3, 0.3)


def test_overrides_copy_the_calendar():
    p = PARAMS.with_overrides({})
    p.time["horizon"] = 1
    assert PARAMS.time["horizon"] != 1


@pytest.mark.parametrize(
    "bad",
    ["x", None, True, float("nan"), float("inf"), [0.5], [0.7, 0.5], [0.1, "a"], [0.1, 0.2, 0.3], {"value": 1}],
    ids=repr,
)
def test_bad_override_values(bad):
    with pytest.raises(ParameterError) as info:
        PARAMS.with_overrides({"powers.US.reliability": bad})
    assert "powers.US.reliability" in str(info.value)


@pytest.mark.parametrize(
    ("path", "bad"),
    [
        ("powers.US.reliability", -0.1),
        ("powers.US.reliability", 1.5),
        ("powers.US.reliability", [0.5, 1.2]),
        ("hedger.demand.territory", [-0.2, 0.4]),
        ("thresholds.alliance", 2.0),
        ("behaviour.temperature", -1.0),
        ("hedger.weight.regime", -0.5),
    ],
)
def test_overrides_outside_natural_bounds_raise(path, bad):
    with pytest.raises(ParameterError) as info:
        PARAMS.with_overrides({path: bad})
    assert path in str(info.value)


def test_unbounded_parameters_accept_large_overrides():
    p = PARAMS.with_overrides({"behaviour.temperature": 5.0, "hedger.weight.regime": [1.0, 3.0]})
    assert p.value("behaviour.temperature") == 5.0
    assert p["hedger.weight.regime"].range == (1.0, 3.0)


@pytest.mark.parametrize("path", [p.path for p in PARAMS.ranged()])
def test_the_documented_range_is_an_acceptable_override(path):
    """Re-stating a parameter's own documented range (or its default) must be accepted."""
    documented = PARAMS[path]
    p = PARAMS.with_overrides({path: list(documented.range)})
    assert p[path].range == documented.range
    assert PARAMS.with_overrides({path: documented.value}).value(path) == documented.value


def test_unknown_override_path_suggests_the_nearest_name():
    with pytest.raises(ParameterError) as info:
        PARAMS.with_overrides({"powers.US.reliabilty": 0.5})
    assert "'powers.US.reliabilty'" in str(info.value)
    assert "did you mean 'powers.US.reliability'" in str(info.value)
    with pytest.raises(ParameterError, match=re.escape("did you mean 'hedger.demand.territory'")):
        PARAMS.with_overrides({"hedger.demand.teritory": 0.5})


def test_lookup_of_an_unknown_path():
    with pytest.raises(ParameterError, match=re.escape("did you mean 'behaviour.step_size'")):
        PARAMS["behaviour.stepsize"]
    with pytest.raises(ParameterError):
        PARAMS.value("no.such.thing.at.all.zzz")


# -- draws -----------------------------------------------------------------------


def test_draw_without_streams_gives_the_defaults():
    values = PARAMS.draw(np.arange(7, dtype=np.uint64), None)
    assert set(values) == set(PARAMS.entries)
    for path, v in values.items():
        assert v.shape == (7,)
        np.testing.assert_array_equal(v, PARAMS.value(path))


def test_draw_with_streams_stays_inside_ranges_and_varies():
    runs = np.arange(500, dtype=np.uint64)
    values = PARAMS.draw(runs, Streams(2024, runs))
    for path, param in PARAMS.entries.items():
        v = values[path]
        assert v.shape == (500,)
        if param.range is None:
            np.testing.assert_array_equal(v, param.value)
        else:
            lo, hi = param.range
            assert np.all((v >= lo) & (v <= hi)), path
            if hi > lo:
                assert len(np.unique(v)) > 400, path
                # a uniform draw over the range (unless an order the sources fix conditions it): mean near the middle
                ordered = any(path in pair for pair in PARAMS.orders)
                assert ordered or abs(v.mean() - (lo + hi) / 2) < 0.1 * (hi - lo), path


def test_draws_of_different_parameters_are_not_the_same_numbers():
    runs = np.arange(200, dtype=np.uint64)
    values = PARAMS.draw(runs, Streams(1, runs))
    uncertain = [p for p in PARAMS.ranged() if p.range[1] > p.range[0]]
    unit = [(values[p.path] - p.range[0]) / (p.range[1] - p.range[0]) for p in uncertain]
    for i in range(len(unit) - 1):
        assert not np.allclose(unit[i], unit[i + 1]), uncertain[i].path


def test_draw_per_run_index_is_the_same_in_any_ensemble():
    key = 987654321
    big = np.arange(0, 64, dtype=np.uint64)
    small = np.array([40, 3, 17], dtype=np.uint64)
    v_big = PARAMS.draw(big, Streams(key, big))
    v_small = PARAMS.draw(small, Streams(key, small))
    for path in PARAMS.entries:
        np.testing.assert_array_equal(v_small[path], v_big[path][small.astype(int)])
    # a different key gives a different world
    v_other = PARAMS.draw(big, Streams(key + 1, big))
    assert not np.array_equal(v_other["powers.US.reach"], v_big["powers.US.reach"])


def test_only_overridden_ranges_are_drawn_unless_everything_is():
    p = PARAMS.with_overrides({"powers.US.supply.territory": [0.1, 0.2]})
    runs = np.arange(100, dtype=np.uint64)
    some = p.draw(runs, Streams(5, runs), everything=False)
    assert np.all((some["powers.US.supply.territory"] >= 0.1) & (some["powers.US.supply.territory"] <= 0.2))
    assert len(np.unique(some["powers.US.supply.territory"])) > 90
    for path, param in p.entries.items():
        if path != "powers.US.supply.territory":
            np.testing.assert_array_equal(some[path], param.value)
    every = p.draw(runs, Streams(5, runs), everything=True)
    np.testing.assert_array_equal(every["powers.US.supply.territory"], some["powers.US.supply.territory"])
    assert len(np.unique(every["powers.CN.reach"])) > 90


def test_draw_respects_overridden_ranges():
    p = PARAMS.with_overrides({"powers.US.supply.territory": [0.1, 0.2], "powers.CN.coercion_threat.territory": 0.33})
    runs = np.arange(100, dtype=np.uint64)
    values = p.draw(runs, Streams(5, runs))
    assert np.all((values["powers.US.supply.territory"] >= 0.1) & (values["powers.US.supply.territory"] <= 0.2))
    np.testing.assert_array_equal(values["powers.CN.coercion_threat.territory"], 0.33)


def test_drawn_worlds_that_contradict_themselves_are_refused():
    from sim import BalanceModel

    wide_line = PARAMS.with_overrides({"thresholds.alliance": [0.7, 0.95]})
    with pytest.raises(ParameterError, match="alliance line"):
        BalanceModel(runs=200, rng=1, parameters=wide_line, uncertainty=True)
    tangled = PARAMS.with_overrides({"thresholds.strategic": [0.3, 0.7]})
    with pytest.raises(ParameterError, match="rise strictly"):
        BalanceModel(runs=200, rng=1, parameters=tangled)
    # relaxing the Four No's makes a start above the line legitimate
    relaxed = wide_line.with_overrides({"hedger.four_nos": 0})
    BalanceModel(runs=200, rng=1, parameters=relaxed, uncertainty=True)


def test_no_interest_anywhere_courts_nobody_without_nan():
    from sim import BalanceModel

    indifferent = PARAMS.with_overrides({f"powers.{p}.interest": 0.0 for p in ("US", "CN", "RU")})
    model = BalanceModel(runs=4, rng=2, parameters=indifferent)
    model.run_for(6)
    assert np.all(np.isfinite(model.courtship)) and np.all(model.courtship == 0.0)


def test_a_range_inside_a_parameters_own_narrows_it_and_keeps_its_orders():
    narrowed = PARAMS.with_overrides({"powers.US.reliability": [0.5, 0.6]})  # inside (0.4, 0.7): not a what-if
    assert ("powers.RU.reliability", "powers.US.reliability") in narrowed.orders
    runs = np.arange(2000, dtype=np.uint64)
    drawn = narrowed.draw(runs, Streams(3, runs))
    assert np.all(drawn["powers.RU.reliability"] > drawn["powers.US.reliability"])
    assert drawn["powers.US.reliability"].min() >= 0.5 and drawn["powers.US.reliability"].max() <= 0.6
    wider = PARAMS.with_overrides({"powers.US.reliability": [0.3, 0.6]})  # reaches outside: a what-if
    assert ("powers.RU.reliability", "powers.US.reliability") not in wider.orders
    apart = PARAMS.with_overrides({"powers.US.reliability": [0.69, 0.7], "powers.RU.reliability": [0.5, 0.55]})
    assert ("powers.RU.reliability", "powers.US.reliability") not in apart.orders  # no draw could keep it
