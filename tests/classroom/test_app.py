"""The classroom dashboard without a browser: the lesson and world behind every widget, and the page itself."""

import json
import re
import threading
import time

import numpy as np
import pytest
from conftest import bamboo
from hypothesis import given
from hypothesis import strategies as st

from sim.classroom.lesson import SCENARIOS, ClassroomModel, Lesson, catalogue, knob_default, outcome
from sim.classroom.possible_worlds import same_world
from sim.model.balance import BalanceModel
from sim.model.events import EVENT_TYPES
from sim.model.outcomes import Failure
from sim.model.params import POWERS
from sim.model.strategies import STRATEGIES
from sim.outputs.explain import MOVE_NAMES, explain, rounded_parts
from sim.outputs.plots import QS
from sim.runs.scenario import ScenarioError


def run(model, steps):
    model.run_for(steps)
    return model.trajectories()


def test_the_catalogue_lists_every_packaged_scenario_by_name():
    names = catalogue()
    assert len(names) == len(list(SCENARIOS.glob("*.yaml")))
    assert names["South China Sea crisis"] == SCENARIOS / "south_china_sea_crisis.yaml"


def test_picking_a_scenario_sets_its_world_seed_and_dials():
    lesson = Lesson()
    lesson.choose(SCENARIOS / "us_tariffs_2025.yaml")
    model = lesson.model()
    assert model.what_if.name == "US tariffs of 2025"
    assert [e.name for e in model.events] == ["tariff", "tariff"]
    assert str(model.date) == "2025-04"
    assert lesson.knobs["us_tariff"] == pytest.approx(0.20)  # the standing rate, as the file says
    assert model.seed == lesson.scenario.seed


def test_a_dial_rebuilds_the_world_with_the_new_parameter():
    lesson = Lesson()
    before = run(lesson.model(), 12)
    lesson.set("cn_threat", 0.9)
    lesson.set("ru_cn_closeness", 1.0)
    model = lesson.model()
    assert model.base["powers.CN.threat.territory"][0] == 0.9
    assert model.base["world.russia_china_closeness"][0] == 1.0
    assert not np.array_equal(run(model, 12)["satisfaction"], before["satisfaction"])


def test_the_tariff_dial_is_the_magnitude_of_the_standing_us_tariff():
    lesson = Lesson(SCENARIOS / "us_tariffs_2025.yaml")
    assert lesson.dials["us_tariff"].path == "events[1].magnitude"  # the rate in force, not the April spike
    lesson.set("us_tariff", 0.6)
    tariffs = [e.fields for e in lesson.what_if().events if e.type == "tariff"]
    assert [t["magnitude"] for t in tariffs] == [0.46, 0.6]  # the April spike stays; the rate in force moves
    storm = Lesson(SCENARIOS / "perfect_storm.yaml")  # the tariff among other events, from its base and its own
    assert [e.type for e in storm.scenario.events][2] == "tariff"
    assert (storm.dials["us_tariff"].path, storm.knobs["us_tariff"]) == ("events[2].magnitude", 0.46)


def test_the_tariff_dial_sets_what_a_design_sets_at_the_same_path():
    lesson = Lesson(SCENARIOS / "us_tariffs_2025.yaml")
    lesson.set("us_tariff", 0.6)
    dialled = same_world(lesson.what_if(), lesson.seed, (), 1)
    design = lesson.scenario.model(runs=1, seed=lesson.seed, event_values={"events[1].magnitude": np.array([0.6])})
    for model in (dialled, design):
        model.run_for(model.horizon)
    for key, values in design.trajectories().items():
        assert np.array_equal(values, dialled.trajectories()[key]), key


def test_a_scenario_without_a_standing_us_tariff_has_no_tariff_dial_but_takes_a_tariff_live():
    quo = Lesson()
    assert "us_tariff" not in quo.dials and quo.what_if().events == []
    with pytest.raises(ValueError, match="Status quo has no dial 'us_tariff'"):
        quo.set("us_tariff", 0.3)
    model = quo.model()
    model.inject("tariff", magnitude=0.3)  # what if the US raised tariffs: from the first quarter on
    assert (model.events[0].actor, model.events[0].at) == ("US", quo.scenario.start)


def test_the_four_nos_dial_lifts_the_ceiling():
    lesson = Lesson()
    assert lesson.model().hedger.ceiling()[0, 0] < 0.9
    lesson.set("four_nos", 0.0)
    assert lesson.model().hedger.ceiling()[0, 0] == 1.0


def test_a_dial_refuses_values_outside_its_range():
    with pytest.raises(ValueError, match="China's territorial threat"):
        Lesson().set("cn_threat", 1.5)


def test_dials_start_as_the_scenario_says():
    lesson = Lesson(SCENARIOS / "russia_china_axis.yaml")
    assert lesson.knobs == {name: knob_default(lesson.scenario, name) for name in lesson.dials}
    assert lesson.what_if().parameter_set.value("world.russia_china_closeness") == lesson.knobs["ru_cn_closeness"]


def test_step_and_reset():
    lesson = Lesson(SCENARIOS / "south_china_sea_crisis.yaml")
    model = lesson.model()
    model.step()
    model.step()
    assert model.steps == 2 and str(model.date) == "2026-01"
    again = type(model)(lesson=lesson)  # what Mesa's Reset does
    assert again.steps == 0 and str(again.date) == "2025-07"
    assert np.array_equal(run(again, 2)["alignment"], model.trajectories()["alignment"])


def test_the_same_seed_replays_the_same_world_and_another_seed_does_not():
    lesson = Lesson(SCENARIOS / "perfect_storm.yaml")
    first, second = run(lesson.model(), 40), run(lesson.model(), 40)
    for key in first:
        assert np.array_equal(first[key], second[key]), key
    lesson.seed += 1
    assert not np.array_equal(run(lesson.model(), 40)["alignment"], first["alignment"])


def test_the_class_world_is_run_zero_of_the_fan():
    model = Lesson(SCENARIOS / "caatsa_enforced.yaml").model()
    fan = model.fan(runs=50)
    assert fan.runs == fan.aggregate.runs == 50
    assert 0.0 <= fan.aggregate.survival_probability() <= 1.0
    ensemble = model._world(50)
    ensemble.run_for(model.horizon)
    run(model, model.horizon)
    assert np.array_equal(ensemble.trajectories()["alignment"][:, :1], model.trajectories()["alignment"])


def test_a_dial_changes_the_fan():
    lesson = Lesson(fan_runs=100)
    before = lesson.model().fan().aggregate.percentiles("alignment", (50,))
    lesson.set("cn_threat", 0.9)
    assert not np.array_equal(lesson.model().fan().aggregate.percentiles("alignment", (50,)), before)


def test_an_injected_event_fires_at_the_current_date_and_changes_the_world():
    lesson = Lesson()
    calm, struck = lesson.model(), lesson.model()
    run(calm, 4)
    run(struck, 4)
    event = struck.inject("maritime_incident", 6, magnitude=1.0)
    assert event.at == struck.date and str(event.until) == "2028-01"
    assert struck.events[-1] is event
    calm, struck = run(calm, 20), run(struck, 20)
    assert np.array_equal(calm["alignment"][:5], struck["alignment"][:5])  # nothing changes before it
    assert not np.array_equal(calm["satisfaction"], struck["satisfaction"])


def test_a_live_event_replays_as_if_scheduled_from_the_start():
    model = Lesson().model()
    run(model, 5)
    model.inject("summit", actor="RU", magnitude=1.0)
    model.inject("tariff", 4, magnitude=0.5)
    run(model, 15)
    replay = model.own_vietnam()  # a plain model, the live events in its scenario
    assert [e.name for e in replay.events] == ["summit", "tariff"]
    for key, values in replay.trajectories().items():
        assert np.array_equal(values, model.trajectories()[key]), key


@pytest.mark.parametrize("kind", sorted(EVENT_TYPES))
def test_every_catalogue_event_can_be_injected(kind):
    model = Lesson().model()
    run(model, 2)
    extra = {"path": "powers.CN.reach", "value": -0.2} if kind == "shock" else {}
    model.inject(kind, magnitude=0.7, **extra)
    run(model, 2)
    assert model.fired[-1].name == kind


def play(lesson, moves_per_step):
    """A student's game: ``moves_per_step(step)`` gives the moves before each step."""
    lesson.student = True
    model = lesson.model()
    while model.running:
        model.moves = moves_per_step(model.steps)
        model.step()
    return model


def test_a_student_keeping_every_tie_holds_alignment_still():
    model = play(Lesson(), lambda step: dict.fromkeys(POWERS, 0))
    a = model.trajectories()["alignment"]
    assert np.all(a == a[0])
    assert np.all(np.concatenate([d.chosen for d in model.decisions]) == 1)


def test_a_student_who_copies_the_model_gets_the_model_s_world():
    lesson = Lesson(SCENARIOS / "south_china_sea_crisis.yaml")
    own = lesson.model()
    run(own, own.horizon)
    copied = [{p: int(d.own[0, i]) - 1 for i, p in enumerate(POWERS)} for d in own.decisions]
    student = play(lesson, lambda step: copied[step])
    for key, values in own.trajectories().items():  # the powers respond by the same rules
        assert np.array_equal(values, student.trajectories()[key]), key


def test_the_student_s_path_is_set_beside_the_model_s_own_vietnam():
    lesson = Lesson()
    student = play(lesson, lambda step: {"US": 1, "CN": -1, "RU": 1})
    c = student.compare()
    assert len(c.dates) == len(c.student["alignment"]) == len(c.model["alignment"]) == student.horizon + 1
    assert c.student["alignment"][-1, 0, 1] < c.model["alignment"][-1, 0, 1]  # China loosened
    # China coerces as the US tie passes what it bears: a cost the verdict reports, not Vietnam's failure
    assert c.student_verdict.startswith("multi-alignment holds (coerced from ")
    assert c.model_verdict == "multi-alignment holds"
    lesson.student = False
    assert np.array_equal(c.model["alignment"], run(lesson.model(), student.horizon)["alignment"])


def test_the_student_cannot_cross_the_alliance_line_while_the_four_nos_hold():
    model = play(Lesson(), lambda step: {"US": 1, "CN": 0, "RU": 0})
    assert model.trajectories()["alignment"][:, 0, 0].max() < 0.9
    # no alliance, and no siding (the Four No's keep the ties within the gap); so deep a US tie passes what
    # China bears: China coerces, and the verdict says so beside "holds"
    assert model.compare().student_verdict.startswith("multi-alignment holds (coerced from ")


@pytest.mark.parametrize("student", [False, True])
def test_explain_contributions_sum_to_the_utility_change_of_the_chosen_move(student):
    lesson = Lesson(SCENARIOS / "perfect_storm.yaml")
    lesson.student = student
    model = lesson.model()
    model.moves = {"US": 1, "CN": 0, "RU": -1}
    for _ in range(12):
        model.step()
        decision = model.decisions[-1]
        for p, (power, reason) in enumerate(explain(decision).items()):
            k = reason.chosen
            assert power == POWERS[p]
            total = sum(change[k] for change in reason.drivers.values())
            assert total == pytest.approx(decision.gain[0, p, k], abs=1e-12)
            after = decision.alignment.copy()
            after[:, p] += (k - 1) * model.world.scalars["step_size"]
            utility = decision.situation.utility
            assert total == pytest.approx((utility(after) - utility(decision.alignment))[0], abs=1e-12)
            assert reason.probability.sum() == pytest.approx(1.0)
            assert np.all(reason.probability[~reason.feasible] == 0)
            assert MOVE_NAMES[k] in reason.sentence()
    assert all(r.inertia > 0 for r in explain(decision).values())


def test_keeping_a_tie_changes_no_driver():
    model = Lesson().model()
    model.step()
    for reason in explain(model.decisions[-1]).values():
        assert all(change[1] == 0 for change in reason.drivers.values())


def test_an_uploaded_scenario_can_build_on_a_packaged_one():
    lesson = Lesson()
    text = b"name: My crisis\ndescription: a test\nbase: status_quo.yaml\n"
    text += b"events:\n  - {type: border_closure, at: 2026-01}\n"
    lesson.upload("mine.yaml", text)
    assert lesson.scenario.name == "My crisis"
    assert "My crisis" in lesson.scenarios() and "Status quo" in lesson.scenarios()
    assert [e.name for e in lesson.model().events] == ["border_closure"]


def test_a_bad_upload_is_refused_and_changes_nothing():
    lesson = Lesson()
    with pytest.raises(ScenarioError, match="unknown event type"):
        lesson.upload("bad.yaml", b"name: Bad\ndescription: x\nevents:\n  - {type: invasion, at: 2026-01}\n")
    assert lesson.scenario.name == "Status quo"


def test_a_student_who_lets_the_ties_go_is_told_which_partner_was_dropped_and_when():
    model = play(Lesson(), lambda step: dict.fromkeys(POWERS, -1))  # all together: no siding, the US tie first
    result = outcome(model)
    assert result.failure == Failure.DROPPED_PARTNER and result.power == "US"
    a = model.trajectories()["alignment"][:, 0, 0]
    first = model.calendar.step_of(result.date)
    assert a[first] < model.world.scalars["comprehensive"][0] <= a[first - 1]  # the spell began that quarter
    assert result.words() == f"dropped partner: United States, from {result.date}"


@pytest.mark.parametrize("name", sorted(STRATEGIES))
def test_any_registered_strategy_can_play_vietnam_in_the_class_s_world(name):
    lesson = Lesson(SCENARIOS / "caatsa_enforced.yaml")
    lesson.strategy = name
    model = lesson.model()
    model.run_for(model.horizon)
    plain = BalanceModel(
        runs=1, rng=lesson.seed, parameters=lesson.what_if().parameter_set, uncertainty=lesson.what_if().uncertainty,
        horizon=model.horizon, events=[e.build() for e in lesson.what_if().events], strategy=name,
    )  # fmt: skip
    plain.run_for(model.horizon)
    for key, values in plain.trajectories().items():  # working out the model's own choice changes nothing
        assert np.array_equal(values, model.trajectories()[key]), key
    assert outcome(model).failure == Failure(int(plain.verdict.mode[0]))


def test_an_event_shown_at_an_earlier_date_fires_at_that_date():
    lesson = Lesson()
    lesson.student = True
    model = lesson.model()
    for moves in ({"US": 1, "CN": 0, "RU": 0}, {"US": 0, "CN": -1, "RU": 0}, {"US": 0, "CN": 0, "RU": 1}):
        model.moves = moves
        model.step()
    shown = 1  # the button said the date of step 1; the world has moved on to step 3 since
    replay = model.inject_at(shown, "tariff", magnitude=0.6)
    assert replay is not model and replay.steps == model.steps == 3
    assert [(kind, str(at)) for kind, at, _ in replay.live_events] == [("tariff", str(model.calendar.date(1)))]
    assert [d.chosen.tolist() for d in replay.decisions] == [d.chosen.tolist() for d in model.decisions]
    scheduled = Lesson()
    scheduled.student = True
    twin = ClassroomModel(scheduled, live=(("tariff", model.calendar.date(1), {"magnitude": 0.6}),))
    for moves in model.played:
        twin.moves = moves
        twin.step()
    for key, values in twin.trajectories().items():
        assert np.array_equal(values, replay.trajectories()[key]), key
    now = replay.inject_at(replay.steps, "summit", actor="RU")
    assert now is replay and str(now.live_events[-1][1]) == str(replay.date)


def test_the_fan_is_computed_once_for_a_class_on_the_same_settings():
    first, second = Lesson(SCENARIOS / "us_retrenchment.yaml"), Lesson(SCENARIOS / "us_retrenchment.yaml")
    assert first.model().fan() is second.model().fan()
    second.set("cn_threat", 0.61)
    assert second.model().fan() is not first.model().fan()
    third = Lesson(SCENARIOS / "us_retrenchment.yaml")
    third.seed += 1
    assert third.model().fan() is not first.model().fan()


def test_two_uploads_with_one_name_do_not_share_a_fan():
    one, two = Lesson(), Lesson()
    one.upload("mine.yaml", b"name: Mine\ndescription: d\nbase: status_quo.yaml\n")
    two.upload("mine.yaml", b"name: Mine\ndescription: d\nbase: perfect_storm.yaml\n")
    assert one.model().recipe != two.model().recipe


@pytest.mark.parametrize("text", ["abc", "-5", "1.5", "", "٣", "99999999999999999999"])
def test_a_bad_seed_is_refused_and_changes_nothing(text):
    lesson = Lesson()
    with pytest.raises(ValueError, match="seed must be"):
        lesson.set_seed(text)
    assert lesson.seed == lesson.scenario.seed
    lesson.set_seed(" 42 ")
    assert lesson.seed == 42


@given(st.lists(st.floats(-50, 50, allow_nan=False), min_size=1, max_size=8))
def test_rounded_parts_add_up_to_the_rounded_total(values):
    total = sum(values)
    net, parts = rounded_parts(total, values)
    assert round(sum(parts) * 10) == round(net * 10) == round(total * 10)
    assert all(abs(p - v) < 0.1 + 1e-9 for p, v in zip(parts, values, strict=True))


SIGNED = re.compile(r"([+-]\d+\.\d)")


@pytest.mark.parametrize("scenario", ["perfect_storm", "status_quo", "caatsa_enforced"])
def test_each_sentence_s_drivers_add_up_to_its_net_and_chance_is_named(scenario):
    model = Lesson(SCENARIOS / f"{scenario}.yaml").model()
    for _ in range(16):
        model.step()
        for reason in explain(model.decisions[-1]).values():
            text = reason.sentence()
            worth = re.search(r"was worth ([+-]\d+\.\d) points: (.*?the other drivers [+-]\d+\.\d)\.", text)
            if worth is None:
                assert "No other move was allowed" in text
                continue
            net, terms = float(worth.group(1)), [float(x) for x in SIGNED.findall(worth.group(2))]
            assert len(terms) == 3 and round(sum(terms), 1) == net, text
            assert re.search(r"the model's Vietnam would (loosen|keep|deepen) this tie \d+% of the time", text)
            assert not re.search(r"\d\.\d{3}", text)  # no four-decimal utilities
            k = reason.chosen
            if reason.probability[k] < reason.probability.max():
                assert "chance picked the less likely move" in text


def test_every_chart_s_text_is_at_least_14_px():
    from sim.classroom.charts import FONT, comparison_chart, explain_chart, fan_chart, security_chart, world_chart

    lesson = Lesson(SCENARIOS / "perfect_storm.yaml")
    lesson.student = True
    model = lesson.model()
    model.run_for(20)
    model.inject("tariff", magnitude=0.5)
    q = model.fan(runs=50).aggregate.percentiles("alignment", QS)
    c = model.compare()
    why = explain_chart(explain(model.decisions[-1]))
    options = [world_chart(model), fan_chart(model, q, 50), security_chart(model), why,
               comparison_chart(model, c, outcome(model), outcome(model.own_vietnam()))]  # fmt: skip

    def sizes(node):
        if isinstance(node, dict):
            for key, value in node.items():
                yield from [value] if key == "fontSize" else sizes(value)
        elif isinstance(node, list):
            for item in node:
                yield from sizes(item)

    for option in options:
        found = list(sizes(option))
        assert found and min(found) >= FONT == 14
        json.dumps(option)  # plain data: the browser draws it


def test_event_names_and_powers_are_plain_words():
    from sim.classroom.charts import event_label, event_marks

    assert event_label("maritime_incident", "CN") == "Maritime incident (China)"
    assert event_label("secondary_sanctions", "US", "RU") == "Secondary sanctions (United States on Russia)"
    assert event_label("competition", "US", "CN") == "Competition between United States and China"  # no one acts on
    model = Lesson(SCENARIOS / "perfect_storm.yaml").model()
    model.run_for(2)
    model.inject("tariff", actor="US")
    marks = event_marks(model)
    assert [(at, names) for _, at, names, live in marks if live] == [(str(model.date), "Tariff (United States)")]
    assert [n for n, *_ in marks] == list(range(1, len(marks) + 1))
    assert all("_" not in names for _, _, names, _ in marks)


def test_closed_sessions_are_freed_within_minutes(monkeypatch):
    import solara.server.settings as server

    import sim.classroom.app
    import sim.classroom.dashboard

    monkeypatch.delenv("SOLARA_KERNEL_CULL_TIMEOUT", raising=False)
    monkeypatch.setattr(server.kernel, "cull_timeout", "24h")
    sim.classroom.dashboard.free_closed_sessions()
    assert server.kernel.cull_timeout == sim.classroom.dashboard.CULL_TIMEOUT == "2m"
    monkeypatch.setenv("SOLARA_KERNEL_CULL_TIMEOUT", "30s")  # the operator's choice wins
    server.kernel.cull_timeout = "30s"
    sim.classroom.dashboard.free_closed_sessions()
    assert server.kernel.cull_timeout == "30s"


# -- the page, rendered without a browser ---------------------------------------------
@pytest.fixture
def page():
    """The dashboard's page, rendered as the server would (inside Solara's app layout); a finder of its widgets."""
    import solara

    import sim.classroom.app

    _, rc = solara.render(solara.AppLayout(children=[sim.classroom.app.Page()]), handle_error=False)
    yield rc
    rc.close()


def texts(rc, widget, **match) -> list[str]:
    return [str(w.children[0]) for w in rc.find(widget, **match).widgets if w.children]


def eventually(check, seconds: float = 10.0) -> None:
    """Wait for ``check()`` to hold: the fan is computed in the background and the page is drawn again when it is."""
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, "the page did not get there"
        time.sleep(0.05)


def test_the_page_steps_switches_scenario_plays_hanoi_and_resets(page):
    """Each action is waited for: with Solara's server loaded (as in `bamboo app`) the page is drawn again later."""
    import ipyvuetify as v

    def shows(date):
        eventually(lambda: page.find(v.Html, class_="bamboo-date").widget.children[0] == date)

    def step(date):
        page.find(v.Btn, children=["Step"]).widget.click()
        shows(date)

    step("2025-10")
    eventually(lambda: any(a.startswith("No failure so far (2025-10)") for a in texts(page, v.Alert)))
    page.find(v.Select, label="Scenario").widget.v_model = "Perfect storm"
    shows("2025-07")
    step("2025-10")

    def show(name):
        (views,) = [t for t in page.find(v.BtnToggle).widgets if len(t.children) == 4]
        views.v_model = [b.children[0] for b in views.children].index(name)

    show("Why Vietnam moved")
    eventually(lambda: any(t.startswith("At 2025-10.") for t in texts(page, v.Html, tag="span")))
    assert len(page.find(v.Html, class_="bamboo-note bamboo-why").widgets) == 3
    page.find(v.Select, label="Vietnam is played by").widget.v_model = "You play Hanoi"
    eventually(lambda: len([t for t in page.find(v.BtnToggle).widgets if len(t.children) == 3]) == 3)
    desk = [t for t in page.find(v.BtnToggle).widgets if len(t.children) == 3]
    assert [t.v_model for t in desk] == [1, 1, 1]
    desk[0].v_model = 2  # deepen with the US
    page.find(v.Btn, children=["Step"]).widget.click()  # the player's choice began the world again: two steps
    page.find(v.Btn, children=["Step"]).widget.click()
    show("Compare")
    shows("2026-01")
    eventually(lambda: any(a.startswith("No failure so far (2026-01)") for a in texts(page, v.Alert)))
    page.find(v.Btn, children=["Reset"]).widget.click()
    eventually(lambda: any(a.startswith("No failure so far (2025-07)") for a in texts(page, v.Alert)))
    assert page.find(v.Select, label="Vietnam is played by").widget.v_model == "You play Hanoi"  # Reset keeps it


def test_the_page_injects_a_live_event_whose_actor_follows_its_type(page):
    import ipyvuetify as v

    from sim.classroom.widgets import InjectButton

    page.find(v.Btn, children=["Step"]).widget.click()
    assert page.find(v.Select, label="By").widget.v_model == "China"
    page.find(v.Select, label="Event").widget.v_model = "Tariff"
    assert page.find(v.Select, label="By").widget.v_model == "United States"
    button = page.find(InjectButton).widget
    assert (button.step, button.date) == (1, "2025-10")
    page.find(v.Btn, children=["Step"]).widget.click()
    button.vue_inject(1)  # clicked while the button still showed 2025-10; the world had moved on to 2026-01
    assert any(t == "1  2025-10  Tariff (United States)  (live)" for t in texts(page, v.Html, tag="span"))
    assert page.find(InjectButton).widget.date == "2026-01"


def test_the_page_refuses_a_bad_seed_with_a_message(page):
    import ipyvuetify as v

    def seed():  # found again each time: a message above it makes the page anew below it
        return page.find(v.TextField, label="Seed (the same seed gives the class the same world)").widget

    for bad in ("abc", "-5"):
        seed().v_model = bad
        seed().fire_event("keyup.enter", None)  # the value is taken on Enter or when the box loses focus
        errors = [a for a in texts(page, v.Alert) if a.startswith("Seed refused")]
        assert errors and "whole number" in errors[0] and errors[0].endswith("the world keeps seed 1")
    seed().v_model = "7"
    seed().fire_event("keyup.enter", None)
    assert not [a for a in texts(page, v.Alert) if a.startswith("Seed refused")]


def test_a_closed_session_s_memory_is_handed_back_soon_after():
    import sim.classroom.trimmer

    trimmer = sim.classroom.trimmer.Trimmer(delay=0.01)
    released = threading.Event()
    trimmer.release = released.set
    assert not released.is_set()
    trimmer.session_closed()
    assert released.wait(5)
    released.clear()
    trimmer.session_closed()  # the same thread serves every close
    assert released.wait(5) and trimmer.thread.is_alive()


@pytest.mark.slow
def test_fans_computed_in_worker_processes_are_those_computed_in_the_server():
    import sim.classroom.fans

    lesson = Lesson(SCENARIOS / "caatsa_enforced.yaml")
    model = lesson.model()
    model.run_for(3)
    model.inject("summit", actor="RU")
    workers = sim.classroom.fans.FanWorkers()
    workers.start(1)
    try:
        far = workers.view(model)
        assert workers.view(model).summary is far.summary  # asked again: the cache answers
    finally:
        workers.pool.shutdown()
    near = sim.classroom.fans.FanWorkers().view(model)  # no workers: computed here
    assert far.key == near.key == sim.classroom.fans.fan_key(model)
    assert np.array_equal(far.summary.q, near.summary.q)
    assert far.summary.survival == near.summary.survival and far.summary.modes == near.summary.modes


@pytest.mark.slow
def test_a_bad_number_of_fan_workers_is_refused_before_the_server_starts():
    done = bamboo("app", "--port", 9, env={"BAMBOO_FAN_WORKERS": "lots"}, timeout=120)  # a process: were it
    # not refused, the server would start
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "BAMBOO_FAN_WORKERS must be a whole number from 0 to 64, got 'lots'" in done.stderr


@pytest.mark.slow
def test_idle_fan_workers_leave_and_come_back_when_a_fan_is_asked_for(monkeypatch):
    """A class that has left gives the workers' memory back; the next student's fan respawns them."""
    import time

    import sim.classroom.fans

    monkeypatch.setattr(sim.classroom.fans, "FAN_IDLE", 0.5)
    lesson = Lesson(SCENARIOS / "status_quo.yaml")
    model = lesson.model()
    workers = sim.classroom.fans.FanWorkers()
    workers.start(1)
    try:
        first = workers.view(model)
        deadline = time.monotonic() + 30
        while workers.pool is not None and time.monotonic() < deadline:
            time.sleep(0.1)
        assert workers.pool is None  # idle: the workers left
        other = Lesson(SCENARIOS / "caatsa_enforced.yaml").model()  # another world: the cache cannot answer
        second = workers.view(other)
        assert workers.pool is not None and second.key != first.key
    finally:
        workers.stop()


@pytest.mark.slow
def test_fan_workers_stay_while_a_page_is_open_through_a_pause(monkeypatch):
    """A class that pauses with its pages open keeps its workers: no cold start after the pause."""
    import time

    import sim.classroom.fans

    monkeypatch.setattr(sim.classroom.fans, "FAN_IDLE", 0.5)
    workers = sim.classroom.fans.FanWorkers()
    workers.start(1)
    closed = workers.page_opened()
    try:
        workers.view(Lesson(SCENARIOS / "status_quo.yaml").model())
        time.sleep(3)  # six idle periods
        assert workers.pool is not None  # a page is open: the workers stayed
        closed()
        deadline = time.monotonic() + 30
        while workers.pool is not None and time.monotonic() < deadline:
            time.sleep(0.1)
        assert workers.pool is None  # the last page closed: after the idle time, they left
    finally:
        workers.stop()


def test_a_strategy_that_sides_with_one_power_is_told_it_bandwagoned_with_it():
    lesson = Lesson(SCENARIOS / "caatsa_enforced.yaml")
    lesson.strategy = "align:CN"  # deepens the China tie and lets the others go: siding with China
    model = lesson.model()
    model.run_for(model.horizon)
    result = outcome(model)
    assert result.failure == Failure.BANDWAGONING and result.power == "CN"
    assert result.words().startswith("bandwagoning: sided with China")
