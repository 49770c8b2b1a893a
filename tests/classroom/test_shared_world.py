"""One class's shared world (sim.classroom.shared_world): a teacher and four capitals, through a page's messages.

No browser: the messages are the dicts a page would send as JSON.
"""

from __future__ import annotations

import csv
import io
import json
import re
import threading

import numpy as np
import pytest
from conftest import SCENARIOS
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.classroom import charts, shared_world
from sim.classroom.lesson import Lesson
from sim.classroom.possible_worlds import FanSummary, same_world
from sim.classroom.shared_world import (
    NOBODY,
    ActionError,
    Decided,
    Hub,
    SharedWorld,
    check,
    replay,
    stance_response,
)
from sim.model.agents import Russia
from sim.model.domain import POWERS

SCENARIO = "status_quo"
SEED = 11


@pytest.fixture(scope="module")
def scenarios():
    """The shipped scenarios by name, read once for the module."""
    return {p.stem: p for p in sorted(SCENARIOS.glob("*.yaml"))}


@pytest.fixture
def hub(scenarios):
    return Hub({name: path for name, path in scenarios.items() if name == SCENARIO})


def opened(hub: Hub, seed: int = SEED) -> tuple[SharedWorld, str]:
    """A class opened through its message, and the teacher's token."""
    answer = hub.act({"action": "open", "scenario": SCENARIO, "seed": seed})
    return hub.get(answer["code"]), answer["token"]


def seated(hub: Hub, code: str, name: str, role: str) -> str:
    """A student joined and in ``role``, through the messages a page sends; returns the seat's token."""
    token = hub.act({"action": "join", "code": code, "name": name})["token"]
    hub.act({"action": "role", "code": code, "token": token, "role": role})
    return token


HANOI_PLAN = [  # Hanoi's moves in each quarter: all allowed by the Four No's from the status quo
    {"US": "deepen", "CN": "keep", "RU": "loosen"},
    {"US": "deepen", "CN": "keep", "RU": "keep"},
    {"US": "keep", "CN": "loosen", "RU": "keep"},
    {"US": "deepen", "CN": "keep", "RU": "keep"},
]
STANCE_PLAN = {"Washington": "court", "Beijing": "press", "Moscow": "court"}


def play_class(hub: Hub) -> tuple[SharedWorld, str, dict[str, str]]:
    """A teacher and four students, one per capital, play four quarters with one live event after the first."""
    shared, teacher = opened(hub)
    code = shared.code
    tokens = {role: seated(hub, code, f"Student {role}", role) for role in ("Hanoi", *STANCE_PLAN)}
    for q, moves in enumerate(HANOI_PLAN):
        hub.act({"action": "move", "code": code, "token": tokens["Hanoi"], "moves": moves})
        for role, stance in STANCE_PLAN.items():
            hub.act({"action": "move", "code": code, "token": tokens[role], "stance": stance})
        hub.act({"action": "advance", "code": code, "token": teacher})
        if q == 0:
            hub.act({"action": "inject", "code": code, "token": teacher, "event": "maritime_incident",
                     "actor": "CN", "magnitude": 0.9})  # fmt: skip
    return shared, teacher, tokens


def test_four_roles_and_a_teacher_play_one_world(hub):
    shared, teacher, tokens = play_class(hub)
    code = shared.code
    views = {role: hub.act({"action": "view", "code": code, "token": t}) for role, t in tokens.items()}
    teacher_view = hub.act({"action": "view", "code": code, "token": teacher})
    # every seat sees the same world, the teacher's event in it
    for view in [*views.values(), teacher_view]:
        assert view["events"] == ["maritime incident by China at " + str(shared.world.calendar.date(1))]
        for key in ("date", "quarter", "ties", "tiers", "verdict", "version", "courtship", "coercion"):
            assert view[key] == teacher_view[key], key
        assert view["played_by"] == dict.fromkeys(("Hanoi", *STANCE_PLAN), "class")
    assert teacher_view["quarter"] == len(HANOI_PLAN)
    # each role sees its own why and score
    assert any(line.startswith("United States: You deepened") for line in views["Hanoi"]["why"])
    assert views["Beijing"]["why"][0].startswith("Beijing: the class chose to press")
    assert views["Hanoi"]["score"] == teacher_view["security"]
    assert views["Washington"]["score"] == teacher_view["gains"]["Washington"]["tie"]
    assert "seats" in teacher_view and "seats" not in views["Hanoi"]
    for view in [*views.values(), teacher_view]:  # plain JSON: what a page is sent, as it is
        assert json.loads(json.dumps(view, allow_nan=False)) == view
    assert all("token" not in row for row in teacher_view["seats"])


def test_each_student_s_move_reaches_the_world(hub):
    shared, _, _ = play_class(hub)
    world = shared.world
    # Hanoi: the moves made are the student's, quarter by quarter
    for decision, moves in zip(world.decisions, HANOI_PLAN, strict=True):
        assert [int(k) for k in decision.chosen[0]] == [("loosen", "keep", "deepen").index(moves[p]) for p in POWERS]
    # the great powers: courtship and coercion follow the class's stance, not the rule
    model = replay(shared.lesson, tuple(world.live_events), [NOBODY] * len(HANOI_PLAN))
    t, m = world.trajectories(), model.trajectories()
    us, cn, ru = (POWERS.index(p) for p in POWERS)
    assert t["alignment"][-1, 0, cn] < m["alignment"][-1, 0, cn]  # Hanoi kept and loosened where the model deepened
    assert t["alignment"][-1, 0, ru] < m["alignment"][-1, 0, ru]
    assert t["courtship"][-1, 0, us] > m["courtship"][-1, 0, us] + 0.2  # Washington courted
    assert t["coercion"][-1, 0, cn] > m["coercion"][-1, 0, cn] + 0.2  # Beijing pressed
    assert t["courtship"][-1, 0, ru] > m["courtship"][-1, 0, ru] + 0.2  # Moscow courted
    assert isinstance(world.great_powers[ru], Russia)  # played, Russia still cedes territorial supply to China
    # exactly the stated mapping, quarter by quarter
    for q in range(len(HANOI_PLAN)):
        before = replay(shared.lesson, tuple(world.live_events), shared.quarters[:q])
        agent = before.great_powers[us]
        before.play(shared.quarters[q])
        court, coerce = stance_response(agent, t["courtship"][q, :, us], t["coercion"][q, :, us], "court")
        assert np.allclose(court, t["courtship"][q + 1, :, us]) and np.allclose(coerce, t["coercion"][q + 1, :, us])


def test_the_debrief_lists_every_student_s_moves_beside_the_model(hub):
    shared, teacher, _ = play_class(hub)
    debrief = hub.act({"action": "debrief", "code": shared.code, "token": teacher})
    assert len(debrief["dates"]) == len(HANOI_PLAN)
    students = {s["role"]: s for s in debrief["students"]}
    assert students["Hanoi"]["moves"] == HANOI_PLAN
    for role, stance in STANCE_PLAN.items():
        assert students[role]["moves"] == [stance] * len(HANOI_PLAN)
    assert [d["Beijing"] for d in debrief["decided"]] == ["press"] * len(HANOI_PLAN)
    assert set(debrief["roles"]) == {"Hanoi", *STANCE_PLAN}
    for role in debrief["roles"].values():
        assert {"score", "model_in_the_chair", "played_by"} <= set(role)
    # the model's own world: every capital by the rules, the same seed and live event
    plain = same_world(shared.world.what_if, SEED, shared.world.live_events, 1)
    plain.run_for(len(HANOI_PLAN))
    assert debrief["model"]["verdict"] == shared_world.fate(replay(shared.lesson, tuple(shared.world.live_events),
                                                                   [NOBODY] * 4))["verdict"]  # fmt: skip
    assert np.allclose(
        replay(shared.lesson, tuple(shared.world.live_events), [NOBODY] * 4).trajectories()["alignment"],
        plain.trajectories()["alignment"],
    )
    # the event's counterfactual: the same moves, without the event
    (event,) = debrief["events"]
    without = replay(shared.lesson, (), shared.quarters)
    assert event["without"] == shared_world.fate(without)
    assert event["event"].startswith("maritime incident by China")
    assert json.loads(json.dumps(debrief, allow_nan=False)) == debrief
    # the CSV: one row per student and quarter, then the summaries
    rows = list(csv.DictReader(io.StringIO(shared.debrief_csv())))
    moves = [r for r in rows if r["row"] == "move"]
    assert len(moves) == 4 * len(HANOI_PLAN)
    assert {r["choice"] for r in moves if r["role"] == "Hanoi"} >= {"US:deepen CN:keep RU:loosen"}
    assert [r["row"] for r in rows if r["row"] != "move"][-3:] == [
        "class world", "model's own world", f"without {event['event']}"
    ]  # fmt: skip


def test_the_debrief_chart_sets_the_class_against_the_model_and_the_fan(hub):
    shared, _, _ = play_class(hub)
    debrief = shared.debrief()
    n = len(HANOI_PLAN)
    fan = FanSummary.of(shared.world.fan(40))
    option = charts.debrief_chart(shared.world, debrief, fan)
    assert json.loads(json.dumps(option, allow_nan=False)) == option
    assert option["xAxis"]["data"] == [str(shared.world.calendar.date(t)) for t in range(shared.world.horizon + 1)]
    lines = {s["name"]: [v["value"] if isinstance(v, dict) else v for v in s["data"]]
             for s in option["series"] if s.get("data") and "stack" not in s}  # fmt: skip
    bands = [s for s in option["series"] if "stack" in s]
    assert len(bands) == 4 * len(POWERS)  # the 90% and 50% bands of each power: a low edge and a band
    assert all(len(s["data"]) == shared.world.horizon + 1 for s in bands)
    # the class's line is the class's recorded ties; the model's line a plain model on the same seed and events
    plain = same_world(shared.world.what_if, SEED, shared.world.live_events, 1)
    plain.run_for(n)
    recorded = shared.world.trajectories()["alignment"][:, 0]
    for i, p in enumerate(POWERS):
        name = charts.NAMES[p]
        assert np.allclose(lines[name], recorded[:, i], atol=1e-4) and len(lines[name]) == n + 1
        assert np.allclose(lines[f"{name} (model's own)"], plain.trajectories()["alignment"][:, 0, i], atol=1e-4)
        without = replay(shared.lesson, (), shared.quarters).trajectories()["alignment"][:, 0, i]
        assert np.allclose(lines[f"{name} (without event 1)"], without, atol=1e-4)
    (now,) = next(s for s in option["series"] if s.get("id") == charts.REPLAY)["markLine"]["data"]
    assert now["xAxis"] == debrief["dates"][-1]
    assert charts.text_alternative(option).startswith("This class (solid)")
    # the model's own failure date is marked where it fails
    failed = {**debrief, "model": {**debrief["model"], "failure_date": debrief["dates"][1]}}
    marks = next(s for s in charts.debrief_chart(shared.world, failed, None)["series"] if s.get("name") == "marks")
    said = {m["label"].get("formatter"): m.get("xAxis") for m in marks["markLine"]["data"]}
    assert said["model's fails"] == debrief["dates"][1]
    if debrief["model"]["failure_date"] is None:
        assert "model's fails" not in json.dumps(option)
    # without a fan: no bands, the same lines
    assert not [s for s in charts.debrief_chart(shared.world, debrief, None)["series"] if "stack" in s]
    # drawn as a PNG for a file
    assert charts.chart_png(option).startswith(b"\x89PNG\r\n\x1a\n")


QUARTERS_PRESSED = 12


def test_the_score_chart_is_each_role_s_recorded_score_quarter_by_quarter(hub):
    shared, _, _ = play_class(hub)
    debrief = shared.debrief()
    option = charts.score_chart(debrief)
    assert json.loads(json.dumps(option, allow_nan=False)) == option
    assert option["xAxis"]["data"] == debrief["dates"]
    lines = {s["name"]: [v["value"] if isinstance(v, dict) else v for v in s["data"]] for s in option["series"]}
    live = tuple(shared.world.live_events)
    for role in shared_world.ROLES:
        name = charts.SCORE_NAMES[role]
        # the class's line: the role's score in the class's world replayed to each quarter
        recorded = [shared_world.score(replay(shared.lesson, live, shared.quarters[:q]), role)
                    for q in range(1, len(HANOI_PLAN) + 1)]  # fmt: skip
        assert np.allclose(lines[name], recorded, atol=1e-4) and len(lines[name]) == len(HANOI_PLAN)
        # the dashed line: the same world with the model in this role's chair, the others as the class played
        chair = [shared_world._without_role(d, role) for d in shared.quarters]
        model = [shared_world.score(replay(shared.lesson, live, chair[:q]), role) for q in range(1, len(chair) + 1)]
        assert np.allclose(lines[f"{name}, the model in the chair"], model, atol=1e-4)
        if role == "Hanoi":  # Hanoi played otherwise than the model would; the powers' ties are Hanoi's moves here
            assert not np.allclose(lines[name], model, atol=1e-4)
        assert lines[name][-1] == debrief["roles"][role]["score"]
        assert lines[f"{name}, the model in the chair"][-1] == debrief["roles"][role]["model_in_the_chair"]
    assert charts.text_alternative(option).startswith("Each role's score")
    # a power played against the model's Vietnam: Washington pressing for three years loses some of its tie;
    # Moscow, unplayed, is the model's, so its two lines are one
    alone, teacher = opened(hub)
    lan = seated(hub, alone.code, "Lan", "Washington")
    for _ in range(QUARTERS_PRESSED):
        hub.act({"action": "move", "code": alone.code, "token": lan, "stance": "press"})
        hub.act({"action": "advance", "code": alone.code, "token": teacher})
    scores = alone.debrief()["scores"]
    assert scores["Washington"]["class"] != scores["Washington"]["model"]
    assert scores["Washington"]["class"][-1] < scores["Washington"]["model"][-1]
    assert scores["Moscow"]["class"] == scores["Moscow"]["model"] and len(scores["Moscow"]["class"]) == QUARTERS_PRESSED


def test_the_debrief_replays_the_world_quarter_by_quarter(hub):
    shared, _, _ = play_class(hub)
    record = shared.debrief()["record"]
    assert [m["quarter"] for m in record] == list(range(len(HANOI_PLAN) + 1))
    assert [m["date"] for m in record[1:]] == shared.debrief()["dates"]
    for q, moment in enumerate(record):  # each quarter as the class's world stood then
        then = replay(shared.lesson, tuple(shared.world.live_events), shared.quarters[:q])
        assert moment == shared_world.moment(then)
        assert moment["verdict"] == shared_world.fate(then)["verdict"]
    last = record[-1]
    assert last["ties"] == shared.view(shared.teacher)["ties"]
    assert last["verdict"] == shared_world.fate(shared.world)["verdict"]


def test_the_teacher_ends_the_game_and_every_student_sees_the_debrief(hub):
    shared, teacher, tokens = play_class(hub)
    code = shared.code
    with pytest.raises(ActionError, match="only the class's teacher"):
        hub.act({"action": "end", "code": code, "token": tokens["Hanoi"]})
    assert not shared.ended and all(hub.act({"action": "view", "code": code, "token": t})["debrief"] == 0
                                    for t in tokens.values())  # fmt: skip
    debrief = hub.act({"action": "end", "code": code, "token": teacher})
    assert debrief == shared.debrief() and shared.showing == debrief
    assert len(debrief["dates"]) == len(HANOI_PLAN)
    for token in tokens.values():
        view = hub.act({"action": "view", "code": code, "token": token})
        assert view["ended"] and not view["running"] and view["debrief"] == shared.shown == 1
        assert view["seat"]["id"] in {s["id"] for s in debrief["students"]}  # the page finds its own row
    assert not any(token in json.dumps(debrief) for token in [teacher, *tokens.values()])  # no seat's secret in it
    # the game is over: no more quarters, moves, roles or events
    for message in (
        {"action": "advance", "code": code, "token": teacher},
        {"action": "end", "code": code, "token": teacher},
        {"action": "inject", "code": code, "token": teacher, "event": "maritime_incident", "actor": "CN"},
        {"action": "move", "code": code, "token": tokens["Beijing"], "stance": "hold"},
        {"action": "role", "code": code, "token": tokens["Beijing"], "role": "Hanoi"},
    ):
        with pytest.raises(ActionError, match="ended the game"):
            hub.act(message)
    assert shared.world.steps == len(HANOI_PLAN) and shared.seat(tokens["Beijing"]).role == "Beijing"


def test_a_debrief_shown_during_the_game_goes_away_with_the_next_quarter(hub):
    shared, teacher = opened(hub)
    code = shared.code
    lan = seated(hub, code, "Lan", "Beijing")
    hub.act({"action": "advance", "code": code, "token": teacher})
    hub.act({"action": "debrief", "code": code, "token": teacher})  # shown to the class, the game goes on
    assert hub.act({"action": "view", "code": code, "token": lan})["debrief"] == 1 and not shared.ended
    hub.act({"action": "move", "code": code, "token": lan, "stance": "press"})
    hub.act({"action": "advance", "code": code, "token": teacher})
    view = hub.act({"action": "view", "code": code, "token": lan})
    assert view["debrief"] == 0 and view["running"] and shared.showing is None
    hub.act({"action": "debrief", "code": code, "token": teacher})
    assert hub.act({"action": "view", "code": code, "token": lan})["debrief"] == 2
    assert len(shared.showing["dates"]) == 2


def test_a_dropped_student_rejoins_the_same_seat_and_world(hub):
    shared, teacher = opened(hub)
    code = shared.code.lower()  # a code typed in lower case is the same class
    token = seated(hub, code, "Lan", "Beijing")
    hub.act({"action": "move", "code": code, "token": token, "stance": "court"})
    first = hub.act({"action": "view", "code": code, "token": token})
    # the page is lost; the student comes back with the token the page kept
    again = hub.act({"action": "join", "code": code, "name": "someone else", "token": token})
    assert again["seat"] == first["seat"]["id"] and again["token"] == token
    assert again["view"]["seat"] == {"id": first["seat"]["id"], "name": "Lan", "role": "Beijing", "chosen": True}
    assert len(shared.seats) == 1
    hub.act({"action": "advance", "code": code, "token": teacher})
    assert shared.quarters[-1].stances["CN"] == "court"  # the choice made before the drop counted
    assert hub.act({"action": "view", "code": code, "token": token})["quarter"] == 1
    with pytest.raises(ActionError, match="token"):
        hub.act({"action": "join", "code": code, "name": "Lan", "token": "not-a-token"})


def test_a_world_nobody_plays_is_the_model_s_own(hub):
    shared, teacher = opened(hub)
    shared.join("only watching")  # a seat without a role plays nothing
    hub.act({"action": "advance", "code": shared.code, "token": teacher})
    shared.inject("tariff", actor="US", magnitude=0.6)
    for _ in range(5):
        shared.advance()
    plain = same_world(shared.world.what_if, SEED, shared.world.live_events, 1)
    plain.run_for(6)
    for key, values in plain.trajectories().items():
        assert np.array_equal(values, shared.world.trajectories()[key]), key


def test_capitals_nobody_plays_move_by_the_model_s_rules(hub):
    shared, _ = opened(hub)
    token = seated(hub, shared.code, "Minh", "Hanoi")
    for moves in HANOI_PLAN:
        shared.choose(token, moves=moves)
        shared.advance()
    # the dashboard's student playing Hanoi, the powers by the model's rules
    lesson = Lesson(SCENARIOS / f"{SCENARIO}.yaml", seed=SEED)
    lesson.student = True
    alone = lesson.model()
    for moves in HANOI_PLAN:
        alone.moves = {p: ("loosen", "keep", "deepen").index(moves[p]) - 1 for p in POWERS}
        alone.step()
    for key, values in alone.trajectories().items():
        assert np.array_equal(values, shared.world.trajectories()[key]), key
    view = hub.act({"action": "view", "code": shared.code, "token": token})
    assert view["played_by"] == {"Hanoi": "class", "Washington": "model", "Beijing": "model", "Moscow": "model"}


def test_several_students_in_a_role_follow_the_majority_and_a_tie_holds(hub):
    shared, _ = opened(hub)
    a, b, c = (seated(hub, shared.code, name, "Washington") for name in "abc")
    shared.choose(a, stance="press")
    shared.choose(b, stance="press")
    shared.choose(c, stance="court")
    assert shared.decided().stances["US"] == "press"
    shared.choose(b, stance="court")
    shared.choose(c, stance="hold")
    assert shared.decided().stances["US"] == "hold"  # press, court, hold: a tie
    shared.advance()
    assert [s.moves for s in shared.players("Washington")] == [["press"], ["court"], ["hold"]]
    assert shared.decided().stances["US"] == "hold"  # nobody has chosen yet for the next quarter


plans = st.lists(
    st.tuples(
        st.fixed_dictionaries({p: st.sampled_from(("loosen", "keep", "deepen")) for p in POWERS}),
        st.sampled_from(("press", "hold", "court")),
        st.sampled_from(("press", "hold", "court")),
    ),
    min_size=1,
    max_size=4,
)


def _played(seed: int, plan) -> SharedWorld:
    shared = SharedWorld("TEST", Lesson(SCENARIOS / f"{SCENARIO}.yaml", seed=seed), "teacher")
    hanoi, washington, moscow = (shared.join(r).token for r in ("h", "w", "m"))
    for token, role in ((hanoi, "Hanoi"), (washington, "Washington"), (moscow, "Moscow")):
        shared.take(token, role)
    for q, (moves, us, ru) in enumerate(plan):
        try:
            shared.choose(hanoi, moves=moves)
        except ActionError:  # a move the Four No's forbid: Hanoi keeps
            shared.choose(hanoi, moves=dict.fromkeys(POWERS, "keep"))
        shared.choose(washington, stance=us)
        shared.choose(moscow, stance=ru)
        if q == 1:
            shared.inject("summit", actor="RU", magnitude=0.5)
        shared.advance()
    return shared


@settings(max_examples=6, deadline=None)
@given(seed=st.integers(0, 2**32), plan=plans)
def test_the_same_seed_and_moves_give_the_same_world(seed, plan):
    one, two = _played(seed, plan), _played(seed, plan)
    for key, values in one.world.trajectories().items():
        assert np.array_equal(values, two.world.trajectories()[key]), key
    assert one.view("teacher") == two.view("teacher")
    assert one.debrief_csv() == two.debrief_csv()


BAD = [
    ("not a dict", "", "expected a message"),
    ({"action": "hack"}, "action", "expected one of"),
    ({"action": "join", "name": "x"}, "code", "missing"),
    ({"action": "join", "code": "ABCDEFG", "name": "x"}, "code", "at most 6"),
    ({"action": "join", "code": "ACDEFG", "name": "x" * 41}, "name", "at most 40"),
    ({"action": "join", "code": "ACDEFG", "name": 7}, "name", "expected text"),
    ({"action": "join", "code": "ACDEFG", "name": "x", "admin": True}, "admin", "no such field"),
    ({"action": "role", "code": "ACDEFG", "token": "t", "role": "Hanoi2"}, "role", "expected one of"),
    ({"action": "move", "code": "ACDEFG", "token": "t", "stance": "invade"}, "stance", "expected one of"),
    ({"action": "move", "code": "ACDEFG", "token": "t", "moves": {"US": "deepen"}}, "moves", "each of"),
    (
        {"action": "move", "code": "ACDEFG", "token": "t", "moves": {"US": "x", "CN": "keep", "RU": "keep"}},
        "moves.US",
        "expected one of",
    ),
    ({"action": "inject", "code": "ACDEFG", "token": "t", "event": "shock"}, "event", "expected one of"),
    ({"action": "inject", "code": "ACDEFG", "token": "t", "event": "tariff", "magnitude": 2}, "magnitude", "from 0"),
    (
        {"action": "inject", "code": "ACDEFG", "token": "t", "event": "tariff", "magnitude": float("nan")},
        "magnitude",
        "from 0",
    ),
    ({"action": "inject", "code": "ACDEFG", "token": "t", "event": "tariff", "magnitude": "1"}, "magnitude", "number"),
    ({"action": "inject", "code": "ACDEFG", "token": "t", "event": "tariff", "quarters": True}, "quarters", "whole"),
    ({"action": "open", "seed": -1}, "seed", "from 0"),
    ({"action": "open", "seed": 2**63}, "seed", "from 0"),
]


@pytest.mark.parametrize(("message", "field", "why"), BAD)
def test_a_malformed_action_is_refused_with_a_message(message, field, why):
    with pytest.raises(ActionError, match=why) as refused:
        check(message)
    assert refused.value.field == field


def test_actions_a_seat_may_not_take_are_refused(hub):
    shared, teacher = opened(hub)
    code = shared.code
    student = seated(hub, code, "Hoa", "Moscow")
    refusals = [
        ({"action": "advance", "code": code, "token": student}, "only the class's teacher"),
        ({"action": "debrief", "code": code, "token": student}, "only the class's teacher"),
        ({"action": "view", "code": "ACDEFG" if code != "ACDEFG" else "CDEFGH", "token": student}, "no class"),
        ({"action": "view", "code": code, "token": "guess"}, "no seat"),
        ({"action": "move", "code": code, "token": student, "moves": dict.fromkeys(POWERS, "keep")}, "stance"),
        ({"action": "open", "scenario": "../../etc/passwd"}, "expected one of"),
        (
            {"action": "inject", "code": code, "token": teacher, "event": "tariff", "actor": "CN", "target": "US"},
            "cannot be",
        ),
        ({"action": "inject", "code": code, "token": teacher, "event": "tariff", "tier": "strategic"}, "no tier"),
    ]
    for message, why in refusals:
        with pytest.raises(ActionError, match=why):
            hub.act(message)
    watcher = hub.act({"action": "join", "code": code, "name": "w"})["token"]
    with pytest.raises(ActionError, match="take a role"):
        hub.act({"action": "move", "code": code, "token": watcher, "stance": "hold"})
    assert shared.world.steps == 0 and not shared.world.live_events


def test_a_move_the_four_nos_forbid_is_refused_not_kept(hub):
    shared, _ = opened(hub)
    token = seated(hub, shared.code, "Tuan", "Hanoi")
    h = shared.world.hedger
    h.alignment = h.alignment.copy()
    h.alignment[0, 0] = float(shared.world.world.scalars["alliance"][0]) - 1e-6  # the US tie at the alliance line
    with pytest.raises(ActionError, match="Four No's") as refused:
        shared.choose(token, moves={"US": "deepen", "CN": "keep", "RU": "keep"})
    assert refused.value.field == "moves.US"
    assert shared.seat(token).choice is None


def test_names_are_cleaned_bounded_and_escaped(hub):
    shared, teacher = opened(hub)
    token = shared.join("<b>Bảo</b>\u202e\n=1+1 " + "x" * 100).token
    seat = shared.seat(token)
    assert "\u202e" not in seat.name and "\n" not in seat.name and len(seat.name) == shared_world.MAX_NAME
    shown = shared.view(teacher)["seats"][0]["name"]
    assert shown.startswith("&lt;b&gt;Bảo&lt;/b&gt;") and "<" not in shown
    shared.take(token, "Hanoi")
    shared.choose(token, moves=dict.fromkeys(POWERS, "keep"))
    shared.advance()
    assert shared_world.for_csv("=1+1") == "'=1+1"
    with pytest.raises(ActionError, match="visible"):
        shared.join("\u202e\t ")


def test_the_bounds_hold(hub, monkeypatch):
    monkeypatch.setattr(shared_world, "MAX_SEATS", 3)
    monkeypatch.setattr(shared_world, "MAX_CLASSES", 2)
    monkeypatch.setattr(shared_world, "MAX_LIVE_EVENTS", 1)
    shared, teacher = opened(hub)
    for name in "abc":
        shared.join(name)
    with pytest.raises(ActionError, match="full"):
        shared.join("d")
    opened(hub)
    with pytest.raises(ActionError, match="at most 2 classes"):
        opened(hub)
    shared.inject("tariff", magnitude=0.3)
    with pytest.raises(ActionError, match="at most 1 events"):
        shared.inject("tariff", magnitude=0.3)
    while shared.world.running:
        shared.advance()
    with pytest.raises(ActionError, match="last quarter"):
        hub.act({"action": "advance", "code": shared.code, "token": teacher})
    hub.act({"action": "close", "code": shared.code, "token": teacher})
    opened(hub)  # a closed class frees its place


def test_class_codes_are_short_and_unambiguous():
    codes = {shared_world.new_code({}) for _ in range(200)}
    assert len(codes) > 190
    assert all(len(c) == 6 and not set(c) & set("01IL O25SZB8") for c in codes)


def test_many_pages_act_at_once(hub):
    shared, teacher = opened(hub)
    errors: list[Exception] = []

    def student(i: int) -> None:
        try:
            token = seated(hub, shared.code, f"s{i}", ("Washington", "Beijing", "Moscow")[i % 3])
            for _ in range(3):
                hub.act({"action": "move", "code": shared.code, "token": token, "stance": "court"})
                hub.act({"action": "view", "code": shared.code, "token": token})
        except Exception as exc:  # any failure in a thread fails the test
            errors.append(exc)

    threads = [threading.Thread(target=student, args=(i,)) for i in range(12)]
    for t in threads:
        t.start()
    for _ in range(3):
        hub.act({"action": "advance", "code": shared.code, "token": teacher})
    for t in threads:
        t.join()
    assert not errors
    assert len(shared.seats) == 12 and len({s.id for s in shared.seats.values()}) == 12
    assert all(len(s.moves) == 3 for s in shared.seats.values())


def test_a_quarter_decided_replays_to_the_same_world(hub):
    shared, _, _ = play_class(hub)
    again = replay(shared.lesson, tuple(shared.world.live_events), shared.quarters)
    for key, values in again.trajectories().items():
        assert np.array_equal(values, shared.world.trajectories()[key]), key
    assert isinstance(shared.quarters[0], Decided)


def test_a_student_who_switches_roles_is_debriefed_in_each(hub):
    shared, _ = opened(hub)
    token = seated(hub, shared.code, "Quang", "Moscow")
    shared.choose(token, stance="press")
    shared.advance()
    shared.take(token, "Hanoi")
    shared.choose(token, moves={"US": "keep", "CN": "deepen", "RU": "keep"})
    shared.advance()
    late = shared.join("late")
    (student, newcomer) = shared.debrief()["students"]
    assert student["roles"] == ["Moscow", "Hanoi"]
    assert student["moves"] == ["press", {"US": "keep", "CN": "deepen", "RU": "keep"}]
    assert newcomer["id"] == late.id and newcomer["moves"] == [None, None]
    rows = [r for r in csv.DictReader(io.StringIO(shared.debrief_csv())) if r["row"] == "move" and r["seat"] == "s1"]
    assert [(r["role"], r["choice"], r["class_move"]) for r in rows] == [
        ("Moscow", "press", "press"),
        ("Hanoi", "US:keep CN:deepen RU:keep", "US:keep CN:deepen RU:keep"),
    ]


def test_the_example_in_the_classroom_guide_runs(capsys):
    from conftest import REPO

    guide = (REPO / "docs" / "classroom.md").read_text(encoding="utf-8")
    section = guide.split("## One world for the whole class", 1)[1].split("\n## ", 1)[0]
    (example,) = re.findall(r"```python\n(.*?)```", section, flags=re.S)
    exec(compile(example, "docs/classroom.md", "exec"), {})
    assert "the class chose to press" in capsys.readouterr().out
