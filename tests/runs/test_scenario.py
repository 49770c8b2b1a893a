"""Scenario files (sim.runs.scenario): the shipped scenarios, refusal of bad input, inheritance, late events, fuzzing.

Every malformed file must be refused with a ScenarioError that names the file,
the line (where one makes sense) and what was expected; nothing else may escape
``load_scenario``.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import yaml
from conftest import SCENARIOS, bamboo, run_cli
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from sim.model.events import EVENT_TYPES
from sim.model.params import POWERS, expected_paths
from sim.runs.scenario import EVENT_KEYS, TOP_KEYS, Scenario, ScenarioError, load_scenario

SCENARIO_FILES = sorted(SCENARIOS.glob("*.yaml"))
HEAD = "name: Test\ndescription: A test scenario.\n"
FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def write(path: Path, content: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
    return path


def line_of(text: str, marker: str) -> int:
    """1-based number of the first line of ``text`` containing ``marker`` ('<eof>': just past the end)."""
    if marker == "<eof>":
        return text.count("\n") + 1
    hits = [i for i, line in enumerate(text.split("\n"), 1) if marker in line]
    assert hits, f"test bug: {marker!r} not in the text"
    return hits[0]


def simulate(scenario: Scenario, runs: int = 20) -> dict[str, np.ndarray]:
    model = scenario.model(runs=runs)
    model.run_for(scenario.steps)
    return model.trajectories()


def same_trajectories(a: dict, b: dict) -> bool:
    return a.keys() == b.keys() and all(np.array_equal(a[k], b[k]) for k in a)


# -- 1. the shipped scenarios -------------------------------------------------------------


def test_there_are_at_least_nine_scenarios():
    assert len(SCENARIO_FILES) >= 9, SCENARIO_FILES


@pytest.mark.parametrize("path", SCENARIO_FILES, ids=lambda p: p.stem)
def test_shipped_scenario_loads_cleanly(path):
    s = load_scenario(path)
    assert s.warnings == []
    assert s.name.strip() and s.description.strip()
    assert s.sources and all(isinstance(src, str) and src.strip() for src in s.sources)
    assert s.horizon > s.start and s.steps > 0
    assert all(e.at >= s.start for e in s.events)
    for spec in s.events:
        spec.build()
    assert re.fullmatch(r"[0-9a-f]{64}", s.content_hash())


# -- 2. bad input: the matrix ---------------------------------------------------------------


@dataclass(frozen=True)
class Bad:
    text: str | bytes | None  # content of main.yaml (None: the file does not exist)
    expect: str  # must appear in error.expected (and so in str(error))
    at: tuple  # accepted error.line values: None, an int, or a marker of the line in the culprit file
    where: str | None = None  # error.where, when given
    others: tuple = ()  # (name, text) of files written beside main.yaml
    culprit: str = "main.yaml"  # the file the error must name


def bad(case_id, text, expect, *at, where=None, others=(), culprit="main.yaml", marks=()):
    return pytest.param(Bad(text, expect, at or (None,), where, others, culprit), id=case_id, marks=marks)


MAGNITUDE = "expected a number from 0 to 1 or a range [low, high] inside it"
DATE = "expected a date as YYYY-MM"
TARIFF_AT = HEAD + "events:\n  - type: tariff\n    at: 2026-01\n"
SHOCK = HEAD + "events:\n  - type: shock\n    at: 2026-01\n"


def shock(*lines):
    return SHOCK + "".join(f"    {line}\n" for line in lines)


BAD_CASES = [
    # invalid YAML
    bad("yaml-unclosed-bracket", HEAD + "sources: [a, b\nruns: 5\nseed: 3\n", "invalid YAML", "sources: [", "runs: 5"),
    bad(
        "yaml-unclosed-brace-at-eof",
        HEAD + "parameters: {powers.RU.reach: 0.5\n",
        "invalid YAML",
        "parameters:",
        "<eof>",
    ),
    bad("yaml-bad-indent-event", TARIFF_AT.replace("    at:", "       at:"), "invalid YAML", "at: 2026-01"),
    bad("yaml-bad-indent-top", "name: x\n  description: y\nruns: 5\n", "invalid YAML", "description"),
    bad(
        "yaml-bad-dedent",
        HEAD + "parameters:\n    world.deference: 0.5\n  powers.US.reach: 0.5\n",
        "invalid YAML",
        "powers.US.reach",
    ),
    bad("yaml-tab", HEAD + "runs: 5\n\tseed: 3\n", "invalid YAML", "\tseed"),
    bad("yaml-two-documents", HEAD + "---\n" + HEAD, "another document", "---"),
    bad("yaml-not-text-key", HEAD + "5: five\n", "expected a text key", "5: five"),
    # unknown names, with a near-miss suggestion
    bad(
        "unknown-top-key", HEAD + "horizn: 2030-01\n", "unknown key (did you mean 'horizon'?)", "horizn", where="horizn"
    ),
    bad(
        "unknown-event-type",
        TARIFF_AT.replace("tariff", "tarif"),
        "unknown event type 'tarif' (did you mean 'tariff'?)",
        "type: tarif",
        where="events[0].type",
    ),
    bad(
        "unknown-event-field",
        TARIFF_AT + "    magnitud: 0.5\n",
        "(did you mean 'magnitude'?)",
        "magnitud:",
        where="events[0].magnitud",
    ),
    bad(
        "unknown-shock-field",
        shock("path: powers.RU.reach", "value: 0.1", "half_lif: 2"),
        "(did you mean 'half_life'?)",
        "half_lif",
        where="events[0].half_lif",
    ),
    bad("event-missing-type", HEAD + "events:\n  - at: 2026-01\n", "missing 'type'", "at: 2026-01", where="events[0]"),
    bad("event-missing-at", HEAD + "events:\n  - type: tariff\n", "missing 'at'", "type: tariff", where="events[0]"),
    # wrong types
    bad("runs-text", HEAD + 'runs: "many"\n', "expected a whole number from 1 to", "runs:", where="runs"),
    bad("runs-zero", HEAD + "runs: 0\n", "expected a whole number from 1 to", "runs:", where="runs"),
    bad("runs-bool", HEAD + "runs: true\n", "expected a whole number from 1 to", "runs:", where="runs"),
    bad("runs-float", HEAD + "runs: 2.5\n", "expected a whole number from 1 to", "runs:", where="runs"),
    bad("seed-negative", HEAD + "seed: -1\n", "expected a whole number from 0 to", "seed:", where="seed"),
    bad(
        "uncertainty-text", HEAD + 'uncertainty: "yes"\n', "expected true or false", "uncertainty:", where="uncertainty"
    ),
    bad("name-number", "name: 5\ndescription: y\n", "expected a non-empty text", "name: 5", where="name"),
    bad(
        "description-blank",
        "name: x\ndescription: '   '\n",
        "expected a non-empty text",
        "description",
        where="description",
    ),
    bad("sources-text", HEAD + "sources: one source\n", "expected a list of texts", "sources:", where="sources"),
    bad("sources-numbers", HEAD + "sources: [1, 2]\n", "expected a list of texts", "sources:", where="sources"),
    bad(
        "events-mapping",
        HEAD + "events:\n  type: tariff\n  at: 2026-01\n",
        "expected a list of events",
        "events:",
        where="events",
    ),
    bad(
        "parameters-list",
        HEAD + "parameters:\n  - powers.RU.reach\n",
        "expected a mapping of dotted parameter paths",
        "parameters:",
        where="parameters",
    ),
    bad("base-number", HEAD + "base: 5\n", "expected the path of another scenario file", "base:", where="base"),
    # magnitudes
    *[
        bad(f"magnitude-{i}", TARIFF_AT + f"    magnitude: {m}\n", MAGNITUDE, "magnitude:", where="events[0].magnitude")
        for i, m in enumerate(["1.5", "-0.2", "[0.9, 0.1]", "big", "true", "[0.5]", "[0.1, 0.2, 0.3]", ".nan"])
    ],
    # dates
    bad("start-month-13", HEAD + "start: 2025-13\n", DATE, "start:", where="start"),
    bad("at-in-words", HEAD + "events:\n  - type: tariff\n    at: July 2025\n", DATE, "at: July", where="events[0].at"),
    bad("horizon-with-day", HEAD + "horizon: 2035-07-01\n", DATE, "horizon:", where="horizon"),
    bad("until-one-digit-month", TARIFF_AT + "    until: 2026-1\n", DATE, "until:", where="events[0].until"),
    bad(
        "at-before-start",
        HEAD + "start: 2025-07\nevents:\n  - type: tariff\n    at: 2025-01\n",
        "is before the scenario start 2025-07",
        "at: 2025-01",
        where="events[0].at",
    ),
    bad(
        "until-equals-at",
        TARIFF_AT + "    until: 2026-01\n",
        "expected a date after at 2026-01",
        "until:",
        where="events[0].until",
    ),
    bad(
        "until-before-at",
        TARIFF_AT + "    until: 2025-10\n",
        "expected a date after at 2026-01",
        "until:",
        where="events[0].until",
    ),
    bad(
        "horizon-before-start",
        HEAD + "start: 2025-07\nhorizon: 2025-01\n",
        "expected a date after start 2025-07",
        "horizon:",
        where="horizon",
    ),
    bad(
        "horizon-equals-start",
        HEAD + "start: 2025-07\nhorizon: 2025-07\n",
        "expected a date after start 2025-07",
        "horizon:",
        where="horizon",
    ),
    # powers
    bad(
        "actor-unknown",
        TARIFF_AT + "    actor: UK\n",
        "unknown power 'UK'; expected one of US, CN, RU",
        "actor: UK",
        where="events[0].actor",
    ),
    bad("target-unknown", TARIFF_AT + "    target: XX\n", "unknown power 'XX'", "target: XX", where="events[0].target"),
    bad("actor-vietnam", TARIFF_AT + "    actor: VN\n", "unknown power 'VN'", "actor: VN", where="events[0].actor"),
    # parameters
    bad(
        "parameter-unknown",
        HEAD + "parameters:\n  powers.RU.reech: 0.5\n",
        "(did you mean 'powers.RU.reach'?)",
        "reech",
        where="parameters.powers.RU.reech",
    ),
    bad(
        "parameter-out-of-bounds",
        HEAD + "parameters:\n  powers.RU.reach: 3\n",
        "expected values in [0, 1]",
        "reach: 3",
        where="parameters.powers.RU.reach",
    ),
    bad(
        "parameter-demand-zero",
        HEAD + "parameters:\n  hedger.demand.territory: 0\n",
        "expected values in [0.01, 1]",
        "territory",
        where="parameters.hedger.demand.territory",
    ),
    bad(
        "parameter-range-out-of-bounds",
        HEAD + "parameters:\n  powers.RU.reach: [0.5, 1.5]\n",
        "expected values in [0, 1]",
        "reach:",
        where="parameters.powers.RU.reach",
    ),
    bad(
        "parameter-range-one",
        HEAD + "parameters:\n  powers.RU.reach: [0.5]\n",
        "expected a number or a range",
        "reach:",
        where="parameters.powers.RU.reach",
    ),
    bad(
        "parameter-range-reversed",
        HEAD + "parameters:\n  powers.RU.reach: [0.9, 0.1]\n",
        "expected a number or a range",
        "reach:",
        where="parameters.powers.RU.reach",
    ),
    bad(
        "parameter-text",
        HEAD + "parameters:\n  powers.RU.reach: high\n",
        "expected a number or a range",
        "reach:",
        where="parameters.powers.RU.reach",
    ),
    bad(
        "parameter-nan",
        HEAD + "parameters:\n  powers.RU.reach: .nan\n",
        "expected a number or a range",
        "reach:",
        where="parameters.powers.RU.reach",
    ),
    # inheritance
    bad("base-missing", HEAD + "base: nowhere.yaml\n", "nowhere.yaml not found", "base:", where="base"),
    bad(
        "base-circular-pair",
        HEAD + "base: other.yaml\n",
        "circular inheritance",
        "base:",
        where="base",
        others=(("other.yaml", HEAD + "base: main.yaml\n"),),
        culprit="other.yaml",
    ),
    bad("base-is-itself", HEAD + "base: main.yaml\n", "circular inheritance", "base:", where="base"),
    bad("base-is-itself-dotted", HEAD + "base: ./main.yaml\n", "circular inheritance", "base:", where="base"),
    bad(
        "error-in-base-names-base",
        HEAD + "base: base.yaml\n",
        "expected a whole number",
        "runs:",
        where="runs",
        others=(("base.yaml", HEAD + "runs: many\n"),),
        culprit="base.yaml",
    ),
    bad(
        "bad-event-in-base-names-base",
        HEAD + "base: base.yaml\n",
        "unknown power 'UK'",
        "actor: UK",
        where="events[0].actor",
        others=(("base.yaml", TARIFF_AT + "    actor: UK\n"),),
        culprit="base.yaml",
    ),
    bad(
        "bad-parameter-in-base-names-base",
        HEAD + "base: base.yaml\nparameters:\n  powers.US.reach: 0.5\n",
        "expected values in [0, 1]",
        "reach: 3",
        where="parameters.powers.RU.reach",
        others=(("base.yaml", HEAD + "parameters:\n  powers.RU.reach: 3\n"),),
        culprit="base.yaml",
    ),
    bad(
        "parameter-group-fault-in-base-names-base-at-the-override",
        HEAD + "base: base.yaml\n",
        "tiers must rise strictly",
        "comprehensive: 0.55",
        where="parameters.thresholds.comprehensive",
        others=(("base.yaml", HEAD + "parameters:\n  thresholds.comprehensive: 0.55\n"),),
        culprit="base.yaml",
    ),
    bad(
        "parameter-group-fault-in-base-under-child-parameters-names-base",
        HEAD + "base: base.yaml\nparameters:\n  world.deference: 0.5\n",
        "tiers must rise strictly",
        "comprehensive: 0.55",
        where="parameters.thresholds.comprehensive",
        others=(("base.yaml", HEAD + "parameters:\n  thresholds.comprehensive: 0.55\n"),),
        culprit="base.yaml",
    ),
    bad(
        "bad-child-event-after-base-events",
        "base: base.yaml\n" + TARIFF_AT + "  - type: summit\n    at: 2026-01\n    actor: UK\n",
        "unknown power 'UK'",
        "actor: UK",
        where="events[2].actor",
        others=(("base.yaml", TARIFF_AT),),
    ),
    # missing keys
    bad("name-missing", "description: y\nruns: 5\n", "missing required key 'name'", None, 1, where="name"),
    bad(
        "description-missing", "name: x\nruns: 5\n", "missing required key 'description'", None, 1, where="description"
    ),
    # not a scenario at all
    bad("file-missing", None, "file not found", None),
    bad("file-empty", "", "the file is empty", None),
    bad("file-whitespace", "  \n\t\n   \n", "the file is empty", None),
    bad("file-binary", b"name: x\x00\x01\x02\ndescription: y\n", "found binary data", None),
    bad("file-not-utf8", b"name: caf\xe9\ndescription: y\n", "expected UTF-8 text", None),
    bad("document-list", "- name: x\n- description: y\n", "expected a mapping of scenario keys, found a list", 1),
    bad("document-scalar", "just a sentence\n", "expected a mapping of scenario keys, found a text", 1),
    bad("document-number", "42\n", "expected a mapping of scenario keys, found a number", 1),
    bad("document-comment-only", "# nothing here\n", "expected a mapping of scenario keys", 1),
    # duplicate keys
    bad("duplicate-top-key", HEAD + "runs: 5\nseed: 2\nruns: 6\n", "duplicate key", "runs: 6", where="runs"),
    bad("duplicate-event-key", TARIFF_AT + "    at: 2026-04\n", "duplicate key", "at: 2026-04", where="at"),
    bad(
        "duplicate-parameter",
        HEAD + "parameters:\n  world.deference: 0.5\n  world.deference: 0.6\n",
        "duplicate key",
        "deference: 0.6",
        where="world.deference",
    ),
    # the generic shock
    bad("shock-without-path", shock("value: 0.1"), "a shock needs 'path'", "type: shock", where="events[0]"),
    bad(
        "shock-without-value", shock("path: powers.RU.reach"), "a shock needs 'value'", "type: shock", where="events[0]"
    ),
    bad(
        "shock-unknown-path",
        shock("path: powers.RU.reech", "value: 0.1"),
        "(did you mean 'powers.RU.reach'?)",
        "path:",
        where="events[0].path",
    ),
    bad(
        "shock-initial-value",
        shock("path: hedger.alignment.US", "value: 0.1"),
        "is an initial value",
        "type: shock",
        "path:",
    ),
    bad(
        "shock-initial-memory",
        shock("path: hedger.memory.CN", "value: 0.1"),
        "is an initial value",
        "type: shock",
        "path:",
    ),
    bad(
        "shock-bad-state-path",
        shock("path: alignment.XX", "value: 0.1"),
        "state path 'alignment.XX'",
        "type: shock",
        "path:",
    ),
    bad(
        "shock-path-number",
        shock("path: 5", "value: 0.1"),
        "expected a dotted parameter path",
        "path:",
        where="events[0].path",
    ),
    bad(
        "shock-value-text",
        shock("path: powers.RU.reach", "value: lots"),
        "value must be a number",
        "type: shock",
        "value:",
    ),
    bad(
        "shock-bad-mode",
        shock("path: powers.RU.reach", "value: 0.1", "mode: double"),
        "mode must be 'shift' or 'set'",
        "type: shock",
        "mode:",
    ),
    bad(
        "shock-negative-half-life",
        shock("path: powers.RU.reach", "value: 0.1", "half_life: -1"),
        "half_life must be a number of steps >= 0",
        "type: shock",
        "half_life:",
    ),
    # ---- inputs that must not escape as other exceptions ----
    bad(
        "event-not-a-mapping-has-its-line",
        HEAD + "events:\n  - tariff\n",
        "expected a mapping",
        "- tariff",
        where="events[0]",
    ),
    bad(
        "control-character",
        "name: x\x1b\ndescription: y\n",
        "invalid YAML",
        None,
        1,
    ),
    bad(
        "event-type-list",
        TARIFF_AT.replace("type: tariff", "type: [tariff]"),
        "unknown event type",
        "type:",
        where="events[0].type",
    ),
    bad(
        "event-type-mapping",
        TARIFF_AT.replace("type: tariff", "type: {name: tariff}"),
        "unknown event type",
        "type:",
        where="events[0].type",
    ),
    bad(
        "base-with-nul",
        HEAD + 'base: "a\\0b.yaml"\n',
        "base",
        "base:",
        where="base",
    ),
    bad(
        "base-name-too-long",
        HEAD + f"base: {'a' * 300}.yaml\n",
        "base",
        "base:",
        where="base",
    ),
    bad(
        "parameter-huge-integer",
        HEAD + f"parameters:\n  powers.RU.reach: {10**30}\n",
        "expected",
        "reach:",
        where="parameters.powers.RU.reach",
    ),
    bad(
        "parameter-range-huge-integer",
        HEAD + f"parameters:\n  powers.RU.reach: [0, {10**30}]\n",
        "expected",
        "reach:",
        where="parameters.powers.RU.reach",
    ),
    bad(
        "shock-value-huge-integer",
        shock("path: powers.RU.reach", f"value: {10**400}"),
        "value",
        "type: shock",
        "value:",
    ),
    bad(
        "shock-half-life-huge-integer",
        shock("path: powers.RU.reach", "value: 0.1", f"half_life: {10**400}"),
        "half_life",
        "type: shock",
        "half_life:",
    ),
    bad(
        "shock-value-nan",
        shock("path: powers.RU.reach", "value: .nan"),
        "value",
        "type: shock",
        "value:",
    ),
    bad(
        "shock-half-life-nan",
        shock("path: powers.RU.reach", "value: 0.1", "half_life: .nan"),
        "half_life",
        "type: shock",
        "half_life:",
    ),
]


@pytest.mark.parametrize("case", BAD_CASES)
def test_bad_input_is_refused_with_file_line_and_expectation(tmp_path, case):
    files = {"main.yaml": case.text, **dict(case.others)}
    for name, content in files.items():
        if content is not None:
            write(tmp_path / name, content)
    with pytest.raises(ScenarioError) as info:
        load_scenario(tmp_path / "main.yaml")
    err = info.value
    culprit = tmp_path / case.culprit
    assert err.path == str(culprit)
    assert str(culprit) in str(err)
    assert case.expect in err.expected, str(err)
    assert case.expect in str(err)
    text = files[case.culprit]
    accepted = {m if not isinstance(m, str) else line_of(text, m) for m in case.at}
    assert err.line in accepted, f"{err} (line {err.line}, expected one of {accepted})"
    if case.where is not None:
        assert err.where == case.where, str(err)
    prefix = f"{culprit}:{err.line}:" if err.line else f"{culprit}:"
    assert str(err).startswith(prefix)


def test_circular_inheritance_names_every_file_of_the_cycle(tmp_path):
    a = write(tmp_path / "a.yaml", HEAD + "base: b.yaml\n")
    b = write(tmp_path / "b.yaml", HEAD + "base: c.yaml\n")
    c = write(tmp_path / "c.yaml", HEAD + "base: a.yaml\n")
    with pytest.raises(ScenarioError, match="circular inheritance") as info:
        load_scenario(a)
    err = info.value
    assert err.path == str(c) and err.line == 3
    cycle = err.expected.split("circular inheritance: ", 1)[1]
    assert cycle.split(" -> ") == [str(p) for p in (a, b, c, a)]  # as the files name each other


def test_a_folder_is_refused(tmp_path):
    (tmp_path / "main.yaml").mkdir()
    with pytest.raises(ScenarioError, match="found a folder") as info:
        load_scenario(tmp_path / "main.yaml")
    assert info.value.path == str(tmp_path / "main.yaml")


# -- 3. inheritance --------------------------------------------------------------------------

BASE = """\
name: Base world
description: The base of the inheritance tests.
sources:
  - "base source"
start: 2025-07
horizon: 2030-07
runs: 50
seed: 7
uncertainty: true
parameters:
  powers.US.interest: [0.5, 0.7]
  powers.RU.reach: 0.4
events:
  - type: maritime_incident
    at: 2026-04
    until: 2027-04
    magnitude: [0.6, 1.0]
  - type: summit
    at: 2025-10
    actor: RU
    magnitude: 0.8
"""

CHILD = """\
name: Child world
description: A child that overrides and adds.
base: ../common/base.yaml
horizon: 2031-01
seed: 11
parameters:
  powers.RU.reach: 0.2
  world.russia_china_closeness: [0.3, 0.6]
events:
  - type: tariff
    at: 2025-10
    magnitude: 0.46
  - type: shock
    at: 2026-01
    path: powers.US.reach
    value: -0.3
    half_life: 2
"""

CHILD_FLAT = """\
name: Child world
description: A child that overrides and adds.
sources:
  - "base source"
start: 2025-07
horizon: 2031-01
runs: 50
seed: 11
uncertainty: true
parameters:
  powers.US.interest: [0.5, 0.7]
  powers.RU.reach: 0.2
  world.russia_china_closeness: [0.3, 0.6]
events:
  - type: maritime_incident
    at: 2026-04
    until: 2027-04
    magnitude: [0.6, 1.0]
  - type: summit
    at: 2025-10
    actor: RU
    magnitude: 0.8
  - type: tariff
    at: 2025-10
    magnitude: 0.46
  - type: shock
    at: 2026-01
    path: powers.US.reach
    value: -0.3
    half_life: 2
"""

LEAF = """\
name: Leaf world
description: Three levels down.
sources: ["leaf source A", "leaf source B"]
base: ../child/child.yaml
runs: 30
uncertainty: false
parameters:
  powers.US.interest: 0.9
events:
  - type: border_closure
    at: 2027-01
    until: 2027-07
    magnitude: 0.7
"""

LEAF_FLAT = """\
name: Leaf world
description: Three levels down.
sources: ["leaf source A", "leaf source B"]
start: 2025-07
horizon: 2031-01
runs: 30
seed: 11
uncertainty: false
parameters:
  powers.US.interest: 0.9
  powers.RU.reach: 0.2
  world.russia_china_closeness: [0.3, 0.6]
events:
  - type: maritime_incident
    at: 2026-04
    until: 2027-04
    magnitude: [0.6, 1.0]
  - type: summit
    at: 2025-10
    actor: RU
    magnitude: 0.8
  - type: tariff
    at: 2025-10
    magnitude: 0.46
  - type: shock
    at: 2026-01
    path: powers.US.reach
    value: -0.3
    half_life: 2
  - type: border_closure
    at: 2027-01
    until: 2027-07
    magnitude: 0.7
"""


@pytest.fixture
def family(tmp_path):
    return {
        "base": write(tmp_path / "common" / "base.yaml", BASE),
        "child": write(tmp_path / "child" / "child.yaml", CHILD),
        "child_flat": write(tmp_path / "flat" / "child.yaml", CHILD_FLAT),
        "leaf": write(tmp_path / "leaf" / "leaf.yaml", LEAF),
        "leaf_flat": write(tmp_path / "flat" / "leaf.yaml", LEAF_FLAT),
    }


@pytest.mark.parametrize(("inherited", "flat"), [("child", "child_flat"), ("leaf", "leaf_flat")])
def test_inherited_scenario_equals_its_hand_flattened_file(family, inherited, flat):
    a, b = load_scenario(family[inherited]), load_scenario(family[flat])
    assert a.warnings == b.warnings == []
    assert a.as_dict() == b.as_dict()
    assert json.dumps(a.as_dict(), sort_keys=True) == json.dumps(b.as_dict(), sort_keys=True)
    assert [e["type"] for e in a.as_dict()["events"]] == [e["type"] for e in b.as_dict()["events"]]
    assert a.content_hash() == b.content_hash()
    assert (a.steps, a.runs, a.seed, a.uncertainty) == (b.steps, b.runs, b.seed, b.uncertainty)
    ta, tb = simulate(a), simulate(b)
    assert same_trajectories(ta, tb)
    # not vacuous: the inherited scenario differs from its base
    base = load_scenario(family["base"])
    assert base.content_hash() != a.content_hash()
    assert not same_trajectories(simulate(base), ta)


def test_inheritance_merge_rules(family):
    child, leaf = load_scenario(family["child"]), load_scenario(family["leaf"])
    assert child.name == "Child world" and child.sources == ["base source"]
    assert (str(child.start), str(child.horizon), child.runs, child.seed) == ("2025-07", "2031-01", 50, 11)
    assert child.parameters == {
        "powers.US.interest": [0.5, 0.7],
        "powers.RU.reach": 0.2,
        "world.russia_china_closeness": [0.3, 0.6],
    }
    assert [e.type for e in child.events] == ["maritime_incident", "summit", "tariff", "shock"]
    assert [Path(e.file).resolve() for e in child.events] == [family["base"].resolve()] * 2 + [
        family["child"].resolve()
    ] * 2
    assert [e.type for e in leaf.events] == ["maritime_incident", "summit", "tariff", "shock", "border_closure"]
    assert leaf.parameters["powers.US.interest"] == 0.9 and leaf.uncertainty is False
    assert leaf.parameter_set.value("powers.RU.reach") == 0.2


def test_content_hash_ignores_layout_but_not_content(tmp_path):
    a = load_scenario(write(tmp_path / "a.yaml", CHILD_FLAT))
    reordered = yaml.safe_load(CHILD_FLAT)
    reordered = dict(reversed(list(reordered.items())))
    reordered["parameters"] = dict(reversed(list(reordered["parameters"].items())))
    b = load_scenario(write(tmp_path / "b.yaml", "# a comment\n" + yaml.safe_dump(reordered, sort_keys=False)))
    assert a.content_hash() == b.content_hash()
    c = load_scenario(write(tmp_path / "c.yaml", CHILD_FLAT.replace("value: -0.3", "value: -0.31")))
    assert c.content_hash() != a.content_hash()


def flatten(path: Path) -> dict:
    """The scenario at ``path`` with its bases merged in, by the documented rules."""
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    if "base" not in doc:
        return doc
    merged = flatten(path.parent / doc.pop("base"))
    for key, value in doc.items():
        if key == "parameters":
            merged["parameters"] = {**merged.get("parameters", {}), **value}
        elif key == "events":
            merged["events"] = merged.get("events", []) + value
        else:
            merged[key] = value
    return merged


@pytest.mark.parametrize("path", [p for p in SCENARIO_FILES if "base:" in p.read_text()], ids=lambda p: p.stem)
def test_shipped_child_scenarios_equal_their_flattened_form(tmp_path, path):
    flat = write(tmp_path / path.name, yaml.safe_dump(flatten(path), sort_keys=False, allow_unicode=True))
    a, b = load_scenario(path), load_scenario(flat)
    assert a.as_dict() == b.as_dict()
    assert a.content_hash() == b.content_hash()
    assert same_trajectories(simulate(a, runs=5), simulate(b, runs=5))


# -- 4. events at or after the horizon ---------------------------------------------------------

LATE_BASE = """\
name: Late events
description: Events beyond the horizon change nothing.
start: 2025-07
horizon: 2030-07
runs: 20
seed: 3
uncertainty: true
events:
  - type: summit
    at: 2026-01
    actor: US
    magnitude: [0.2, 0.6]
"""


@pytest.mark.parametrize(
    "late",
    [
        "  - {type: summit, at: 2030-07, actor: RU, magnitude: 1.0}",
        "  - {type: shock, at: 2030-07, path: alignment.RU, value: 0.5}",
        "  - {type: tariff, at: 2030-10, magnitude: 1.0}",
        "  - {type: maritime_incident, at: 2040-01, until: 2041-01, magnitude: [0.5, 1.0]}",
        "  - {type: shock, at: 2031-01, path: powers.CN.reach, value: 0.9, mode: set}",
    ],
    ids=["summit-at-horizon", "impulse-at-horizon", "tariff-after", "range-long-after", "shock-after"],
)
def test_event_at_or_after_the_horizon_warns_and_changes_nothing(tmp_path, late):
    without = load_scenario(write(tmp_path / "without.yaml", LATE_BASE))
    path = write(tmp_path / "with.yaml", LATE_BASE + late + "\n")
    with_late = load_scenario(path)
    assert without.warnings == []
    assert len(with_late.warnings) == 1
    warning = with_late.warnings[0]
    kind = re.search(r"type: (\w+)", late).group(1)
    line = line_of(LATE_BASE + late, late)
    assert warning.startswith(f"{path}:{line}: events[1] ({kind}) at ")
    assert "at or after the horizon 2030-07" in warning and "changes nothing" in warning
    assert len(with_late.events) == 2 and with_late.steps == without.steps
    assert same_trajectories(simulate(without), simulate(with_late))


def test_event_just_before_the_horizon_is_not_a_warning_and_acts(tmp_path):
    without = load_scenario(write(tmp_path / "without.yaml", LATE_BASE))
    early = load_scenario(
        write(tmp_path / "with.yaml", LATE_BASE + "  - {type: summit, at: 2030-04, actor: RU, magnitude: 1.0}\n")
    )
    assert early.warnings == []
    assert not same_trajectories(simulate(without), simulate(early))


def test_event_between_the_last_step_and_the_horizon_warns(tmp_path):
    without = load_scenario(write(tmp_path / "without.yaml", LATE_BASE))
    late = load_scenario(
        write(tmp_path / "with.yaml", LATE_BASE + "  - {type: summit, at: 2030-05, actor: RU, magnitude: 1.0}\n")
    )
    assert same_trajectories(simulate(without), simulate(late))  # it changes nothing ...
    assert len(late.warnings) == 1  # ... so it should be warned about


# -- 5. fuzzing ---------------------------------------------------------------------------------


def check_outcome(path: Path) -> Scenario | None:
    """load_scenario returns a sound Scenario or raises a well-formed ScenarioError; nothing else."""
    try:
        s = load_scenario(path)
    except ScenarioError as err:
        assert str(err).startswith(err.path) and err.expected
        if err.line is not None:
            culprit = Path(err.path)
            text = culprit.read_bytes().decode("utf-8", "replace") if culprit.is_file() else ""
            assert 1 <= err.line <= len(text.splitlines()) + 1, str(err)
        return None
    assert isinstance(s, Scenario)
    assert s.name.strip() and s.description.strip() and s.horizon > s.start and s.steps > 0
    assert all(isinstance(w, str) for w in s.warnings)
    assert re.fullmatch(r"[0-9a-f]{64}", s.content_hash())
    for spec in s.events:
        spec.build()
    return s


@FUZZ
@example(text="name: x\x1b\n")
@given(text=st.text())
def test_fuzz_arbitrary_text(tmp_path, text):
    check_outcome(write(tmp_path / "fuzz.yaml", text))


@FUZZ
@example(data=b"\x01")
@given(data=st.binary())
def test_fuzz_arbitrary_bytes(tmp_path, data):
    check_outcome(write(tmp_path / "fuzz.yaml", data))


@FUZZ
@given(text=st.text())
def test_fuzz_text_after_a_valid_head(tmp_path, text):
    content = HEAD + "events:\n  - type: tariff\n    at: 2026-01\n" + text
    check_outcome(write(tmp_path / "fuzz.yaml", content))


@FUZZ
@given(data=st.binary())
def test_fuzz_bytes_after_a_valid_head(tmp_path, data):
    check_outcome(write(tmp_path / "fuzz.yaml", HEAD.encode() + data))


def mostly(good, wild):
    """Usually ``good`` (so that documents get deep into validation), sometimes ``wild``."""
    return st.one_of(good, good, good, wild)


DATES = mostly(
    st.builds("{:04d}-{:02d}".format, st.integers(2025, 2040), st.integers(0, 13)),
    st.one_of(
        st.builds("{:04d}-{:02d}".format, st.integers(0, 9999), st.integers(0, 99)),
        st.dates().map(str),
        st.dates(),
        st.sampled_from(["July 2025", "2025-7", "2025/07", "", " 2026-01 "]),
    ),
)
# Integers of any size: a huge one must be refused, not overflow.
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(),  # nan and +-inf included
    st.text(max_size=12),
    DATES,
)
KEYS = st.one_of(st.text(max_size=8), st.sampled_from(["type", "at", "base"]), st.integers(-3, 3))
ANY = st.recursive(
    SCALARS, lambda kids: st.lists(kids, max_size=3) | st.dictionaries(KEYS, kids, max_size=3), max_leaves=8
)
UNIT = st.floats(0, 1)
RANGE = st.lists(UNIT, min_size=2, max_size=2).map(sorted)
PATHS = st.sampled_from([*expected_paths(), "powers.RU.reech", "alignment.US", "courtship.XX", "hedger.alignment.US"])
GOOD_DATES = st.builds("{:04d}-{:02d}".format, st.integers(2025, 2040), st.integers(1, 12))
WILD_EVENT = st.one_of(
    st.dictionaries(st.sampled_from([*EVENT_KEYS, "path", "value", "mode", "half_life", "magnitud"]), SCALARS),
    SCALARS,
    st.lists(SCALARS, max_size=3),
)


def month_text(index: int) -> str:
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


@st.composite
def clean_event(draw) -> dict:
    """A plausible event: a known type, dated from the default start, with only the fields its type takes."""
    name = draw(st.sampled_from(sorted(EVENT_TYPES)))
    at = draw(st.integers(2025 * 12 + 6, 2040 * 12 + 11))
    event = {"type": name, "at": month_text(at)}
    optional = {
        "until": st.integers(1, 36).map(lambda k: month_text(at + k)),
        "actor": st.sampled_from(POWERS),
        "target": st.sampled_from(("VN", *POWERS)),
        "magnitude": UNIT | RANGE,
    }
    if name == "shock":
        event |= {"path": draw(PATHS), "value": draw(st.floats(-1, 1))}
        optional |= {"mode": st.sampled_from(["shift", "set"]), "half_life": st.floats(0, 10)}
    for key, strategy in optional.items():
        if draw(st.booleans()):
            event[key] = draw(strategy)
    return event


def event_strategy(clean: bool):
    """Events with plausible values and fields (``clean``), or with a share of wild ones."""
    if clean:
        return clean_event()
    pick = mostly
    good = st.fixed_dictionaries(
        {"type": pick(st.sampled_from(sorted(EVENT_TYPES)), SCALARS), "at": pick(GOOD_DATES, DATES)},
        optional={
            "until": pick(GOOD_DATES, DATES | ANY),
            "actor": pick(st.sampled_from(POWERS), st.sampled_from(["VN", "UK"]) | ANY),
            "target": pick(st.sampled_from(("VN", *POWERS)), st.just("XX") | ANY),
            "magnitude": pick(UNIT | RANGE, st.floats() | st.lists(st.floats(), max_size=3) | ANY),
            "path": pick(PATHS, ANY),
            "value": pick(st.floats(-1, 1), st.floats() | ANY),
            "mode": pick(st.sampled_from(["shift", "set"]), st.just("add") | ANY),
            "half_life": pick(st.floats(0, 10), st.floats() | ANY),
        },
    )
    return mostly(good, WILD_EVENT)


def document_strategy(clean: bool):
    def pick(good, wild):
        return good if clean else mostly(good, wild)

    fields = {
        "sources": pick(st.lists(st.text(max_size=20), max_size=3), ANY),
        "start": pick(st.just("2025-07"), DATES),
        "horizon": pick(st.sampled_from(["2030-07", "2035-07", "2045-01"]), DATES),
        "runs": pick(st.integers(1, 200), st.integers(-2, 2**63) | ANY),
        "seed": pick(st.integers(0, 2**63 - 1), st.integers(-2, 2**64) | ANY),
        "uncertainty": pick(st.booleans(), ANY),
        "parameters": pick(st.dictionaries(PATHS, UNIT | RANGE, max_size=4), ANY),
        "events": pick(st.lists(event_strategy(clean), max_size=4), ANY),
        "base": pick(
            st.just("base.yaml"),
            st.sampled_from(["missing.yaml", "fuzz.yaml", ".", "", "sub/../base.yaml"])
            | SCALARS
            | st.text(max_size=300),
        ),
    }
    return st.fixed_dictionaries(
        {"name": st.text(min_size=1, max_size=12), "description": st.text(min_size=1, max_size=12)}, optional=fields
    )


EVENT = st.one_of(event_strategy(clean=True), event_strategy(clean=False))
DOCUMENTS = st.one_of(
    document_strategy(clean=True),
    document_strategy(clean=True),
    document_strategy(clean=False),
    st.fixed_dictionaries(
        {}, optional={"name": ANY, "description": ANY, "horizn": ANY, **{k: ANY for k in TOP_KEYS if k != "base"}}
    ),
    ANY,
)


def test_fuzz_structured_documents(tmp_path):
    write(tmp_path / "base.yaml", BASE)
    loaded_with_own_events = []

    # derandomized: the share of documents that load must not depend on the run's luck
    @settings(max_examples=300, deadline=None, derandomize=True)
    @given(doc=DOCUMENTS)
    def fuzz(doc):
        s = check_outcome(write(tmp_path / "fuzz.yaml", yaml.safe_dump(doc, sort_keys=False)))
        if s is not None and "base" not in doc and s.events:
            loaded_with_own_events.append(s)

    fuzz()
    # not just noise: a fair share of the documents get through every check
    assert len(loaded_with_own_events) >= 5


def test_fuzz_event_lists(tmp_path):
    head = {"name": "Fuzzed events", "description": "Random events.", "start": "2025-07", "horizon": "2030-07"}
    loaded = []

    @settings(max_examples=150, deadline=None, derandomize=True)  # the count below must not depend on luck
    @given(events=st.one_of(st.lists(event_strategy(clean=True), min_size=1, max_size=6), st.lists(EVENT, min_size=1)))
    def fuzz(events):
        s = check_outcome(write(tmp_path / "fuzz.yaml", yaml.safe_dump({**head, "events": events}, sort_keys=False)))
        if s is not None:
            loaded.append(s)

    fuzz()
    assert len(loaded) >= 10


# -- 6. the command line ------------------------------------------------------------------------


@pytest.mark.slow  # a process of its own: seconds
def test_validate_command_reports_each_file_without_traceback(tmp_path):
    good = SCENARIOS / "status_quo.yaml"
    bad_runs = write(tmp_path / "bad_runs.yaml", HEAD + "runs: many\n")
    bad_type = write(tmp_path / "bad_type.yaml", TARIFF_AT.replace("tariff", "tarif"))
    empty = write(tmp_path / "empty.yaml", "")
    late = write(tmp_path / "late.yaml", LATE_BASE + "  - {type: tariff, at: 2031-01}\n")
    done = bamboo("validate", good, bad_runs, bad_type, empty, late, timeout=120)  # a process: what a shell sees
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stdout + done.stderr
    assert f"ok: {good}: 'Status quo'" in done.stdout
    assert f"ok: {late}:" in done.stdout
    errors = [line for line in done.stderr.splitlines() if line.startswith("bamboo: error: ")]
    assert errors == [
        f"bamboo: error: {bad_runs}:3: runs: expected a whole number from 1 to 100000000, got 'many'",
        f"bamboo: error: {bad_type}:4: events[0].type: unknown event type 'tarif' (did you mean 'tariff'?); "
        f"expected one of {', '.join(sorted(EVENT_TYPES))}",
        f"bamboo: error: {empty}: the file is empty; expected a scenario (name, description, events ...)",
    ]
    assert f"bamboo: warning: {late}:" in done.stderr and "changes nothing" in done.stderr
    assert not any(str(p) in done.stdout for p in (bad_runs, bad_type, empty))


def test_validate_command_all_good_exits_zero():
    done = run_cli("validate", *SCENARIO_FILES)
    assert done.returncode == 0, done.stderr
    assert done.stdout.count("ok: ") == len(SCENARIO_FILES)
    assert done.stderr == ""


def test_validate_command_control_character_gives_no_traceback(tmp_path):
    bad_file = write(tmp_path / "esc.yaml", "name: x\x1b\ndescription: y\n")
    done = run_cli("validate", bad_file)
    assert "Traceback" not in done.stderr
    assert done.returncode == 2 and f"bamboo: error: {bad_file}" in done.stderr
