"""Event roles: what actor and target mean for each event type, accepted or refused in those words."""

import itertools
import re
from pathlib import Path

import pytest
from conftest import run_cli

from sim.model import roles
from sim.model.events import EVENT_TYPES
from sim.runs.scenario import ScenarioError, load_scenario

HEAD = "name: Test\ndescription: A test scenario.\n"
PARAMETER_PATH = re.compile(r"\b(powers|world|hedger|thresholds|behaviour|courtship|coercion|alignment)\.\w")


def scenario(tmp_path: Path, event: str):
    path = tmp_path / "s.yaml"
    path.write_text(HEAD + "events:\n  - {" + event + "}\n")
    return load_scenario(path)


def test_every_event_type_says_what_its_actor_and_target_are():
    assert set(roles.ROLES) == set(EVENT_TYPES)
    for kind, cls in EVENT_TYPES.items():
        assert (cls.default_actor, cls.default_target) in roles.pairs(kind), kind
        assert roles.ROLES[kind].actor and roles.ROLES[kind].target


def test_the_us_sanctioning_vietnam_s_russian_arms_is_refused_with_the_roles_spelled_out(tmp_path):
    with pytest.raises(ScenarioError) as info:
        scenario(tmp_path, "type: secondary_sanctions, at: 2026-01, actor: US, target: VN")
    err = info.value
    assert err.line == 4 and err.where == "events[0].target"
    assert (
        "whose arms sales are sanctioned" in err.expected and "Vietnam, the buyer, is never the target" in err.expected
    )
    assert "write actor: US, target: RU" in err.expected
    assert not PARAMETER_PATH.search(str(err)), str(err)


@pytest.mark.parametrize(
    "event",
    [
        "type: secondary_sanctions, at: 2026-01, actor: US, target: RU",
        "type: sanctions, at: 2026-01, actor: US, target: RU",
        "type: tariff, at: 2026-01, actor: US",
        "type: tariff, at: 2026-01, actor: CN, target: VN",
        "type: rapprochement, at: 2026-01, actor: RU, target: CN",
        "type: summit, at: 2026-01, actor: RU",
    ],
)
def test_natural_readings_are_accepted(tmp_path, event):
    assert len(scenario(tmp_path, event).events) == 1


@pytest.mark.parametrize(
    ("kind", "actor", "target"),
    [
        (k, a, t)
        for k in sorted(EVENT_TYPES)
        for a, t in itertools.product(("US", "CN", "RU"), ("VN", "US", "CN", "RU"))
    ],
)
def test_every_actor_and_target_is_accepted_or_refused_in_the_roles_words(tmp_path, kind, actor, target):
    extra = ", path: powers.RU.reach, value: 0.1" if kind == "shock" else ""
    try:
        scenario(tmp_path, f"type: {kind}, at: 2026-01, actor: {actor}, target: {target}{extra}")
    except ScenarioError as err:
        assert (actor, target) not in roles.pairs(kind)
        assert "its actor is" in err.expected and "its target is" in err.expected
        assert not PARAMETER_PATH.search(err.expected), err.expected
    else:
        assert (actor, target) in roles.pairs(kind)


def test_a_tariff_on_china_is_not_silently_read_as_one_on_vietnam(tmp_path):
    with pytest.raises(ScenarioError, match=r"target is Vietnam \(VN\), whose exports are taxed"):
        scenario(tmp_path, "type: tariff, at: 2026-01, actor: US, target: CN")


def test_the_events_command_lists_the_roles():
    done = run_cli("events")
    assert done.returncode == 0
    for kind in EVENT_TYPES:
        assert f"  actor: {roles.ROLES[kind].actor}\n  target: {roles.ROLES[kind].target}\n" in done.stdout
