"""The classroom dashboard without a browser: the lesson and world behind every widget, and the page itself."""

import numpy as np
import pytest

from sim.classroom import KNOBS, SCENARIOS, Lesson, catalogue, knob_default
from sim.events import EVENT_TYPES
from sim.explain import MOVE_NAMES, explain
from sim.params import POWERS
from sim.scenario import ScenarioError


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


def test_the_tariff_dial_sets_the_standing_rate_or_adds_one():
    lesson = Lesson(SCENARIOS / "us_tariffs_2025.yaml")
    lesson.set("us_tariff", 0.6)
    tariffs = [e.fields for e in lesson.what_if().events if e.type == "tariff"]
    assert [t["magnitude"] for t in tariffs] == [0.46, 0.6]  # the April spike stays; the rate in force moves
    quo = Lesson()
    assert quo.what_if().events == []
    quo.set("us_tariff", 0.3)
    (added,) = quo.what_if().events
    assert (added.type, added.fields["actor"], added.fields["magnitude"]) == ("tariff", "US", 0.3)


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
    assert lesson.knobs == {name: knob_default(lesson.scenario, name) for name in KNOBS}
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
    assert c.student_verdict.startswith("bandwagoning in")  # China treats Vietnam as the US camp's
    assert c.model_verdict == "multi-alignment holds"
    lesson.student = False
    assert np.array_equal(c.model["alignment"], run(lesson.model(), student.horizon)["alignment"])


def test_the_student_cannot_cross_the_alliance_line_while_the_four_nos_hold():
    model = play(Lesson(), lambda step: {"US": 1, "CN": 0, "RU": 0})
    assert model.trajectories()["alignment"][:, 0, 0].max() < 0.9
    # no alliance, but so deep a US tie passes what China bears: China coerces, and the verdict says so
    assert model.compare().student_verdict.startswith("bandwagoning in")


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


# -- the page, rendered without a browser ---------------------------------------------
@pytest.fixture
def page():
    """The dashboard's page, rendered as the server would (inside Solara's app layout); a finder of its widgets."""
    import solara

    import sim.app

    _, rc = solara.render(solara.AppLayout(children=[sim.app.Page()]), handle_error=False)
    yield rc
    rc.close()


def texts(rc, widget, **match) -> list[str]:
    return [str(w.children[0]) for w in rc.find(widget, **match).widgets if w.children]


def test_the_page_steps_switches_scenario_plays_hanoi_and_resets(page):
    import ipyvuetify as v

    def step():
        page.find(v.Btn, children=["Step"]).widget.click()

    step()
    assert "2025-10: multi-alignment holds" in texts(page, v.Alert)
    page.find(v.Select, label="Scenario").widget.v_model = "Perfect storm"
    step()
    assert any(t.startswith("Why Vietnam moved at 2025-10") for t in texts(page, v.Html, tag="span"))
    page.find(v.Checkbox, label="Play as Hanoi").widget.v_model = True
    desk = page.find(v.BtnToggle).widgets
    assert [t.v_model for t in desk] == [1, 1, 1]
    desk[0].v_model = 2  # deepen with the US
    step()
    step()
    alerts = texts(page, v.Alert)
    assert any(a.startswith("Your Vietnam: multi-alignment holds; the model's Vietnam: ") for a in alerts)
    page.find(v.Btn, children=["Reset"]).widget.click()
    assert "2025-07: multi-alignment holds" in texts(page, v.Alert)
    assert page.find(v.Checkbox, label="Play as Hanoi").widget.v_model is True  # Reset keeps the lesson


def test_the_page_injects_a_live_event(page):
    import ipyvuetify as v

    page.find(v.Btn, children=["Step"]).widget.click()
    page.find(v.Btn, children=["Inject at 2025-10"]).widget.click()
    assert "2025-10: maritime incident by CN" in texts(page, v.Html, tag="span")
