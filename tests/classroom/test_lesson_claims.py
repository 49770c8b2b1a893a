"""The classroom lesson's answer key, checked against the model.

Each claim that notebooks/03_classroom.ipynb and the lesson in
docs/classroom.md make about the model (the direction of a move, a verdict, a
comparison of strategies) is computed here from the model itself, with a fixed
seed and enough runs to be stable, and asserted. When the model changes so
that a claim is no longer true, its test fails and the lesson must be
rewritten to match (the answer key quotes the measured numbers).

The worlds are the lesson's: the status quo, seed 11, and the three events the
teacher adds one year apart (a maritime incident by China for eight quarters,
a US tariff, a Russia–China rapprochement). A move is judged in paired worlds:
the same runs with and without the event (common random numbers), so the
difference is the event's doing.
"""

from __future__ import annotations

import json
from collections.abc import Callable

import numpy as np
import pytest
from conftest import REPO, SCENARIOS

from sim.classroom.lesson import Lesson
from sim.classroom.possible_worlds import LiveEvent, same_world
from sim.classroom.shared_world import NOBODY, Decided, SharedModel, security
from sim.model.domain import POWERS
from sim.model.outcomes import Failure
from sim.outputs.explain import DRIVERS, explain

SEED = 11  # the lesson's seed
RUNS = 200  # paired worlds for each move
SEEDS = range(40)  # worlds (one run each) for the strategies' scores
US, CN, RU = (POWERS.index(p) for p in ("US", "CN", "RU"))
INCIDENT, TARIFF, RAPPROCHEMENT = 4, 8, 12  # the quarters the teacher adds each event at
THREE_YEARS = 12  # quarters
MOST = 0.9  # "in most runs": at least nine in ten

type Strategy = Callable[[int, np.ndarray], dict[str, int]]


def lesson() -> Lesson:
    return Lesson(SCENARIOS / "status_quo.yaml", seed=SEED)


def events(*which: str) -> tuple[LiveEvent, ...]:
    """The lesson's events, as the notebook injects them: each at its quarter, with its fields."""
    calendar = same_world(lesson().what_if(), SEED, (), 1).calendar
    every = {
        "maritime_incident": (INCIDENT, {"until": calendar.date(INCIDENT + 8), "actor": "CN", "magnitude": 0.9}),
        "tariff": (TARIFF, {"actor": "US", "magnitude": 0.46}),
        "rapprochement": (RAPPROCHEMENT, {"actor": "RU", "target": "CN", "magnitude": 1.0}),
    }
    return tuple((kind, calendar.date(every[kind][0]), dict(every[kind][1])) for kind in which)


def ties(*which: str) -> np.ndarray:
    """Vietnam's ties (quarter, run, power) over ten years in RUNS worlds with these events."""
    model = same_world(lesson().what_if(), SEED, events(*which), RUNS)
    model.run_for(40)
    return model.trajectories()["alignment"]


@pytest.fixture(scope="module")
def quiet() -> np.ndarray:
    return ties()


@pytest.fixture(scope="module")
def incident() -> np.ndarray:
    return ties("maritime_incident")


@pytest.fixture(scope="module")
def tariff() -> np.ndarray:
    return ties("maritime_incident", "tariff")


@pytest.fixture(scope="module")
def pressure() -> np.ndarray:
    return ties("maritime_incident", "tariff", "rapprochement")


def higher(a: np.ndarray, b: np.ndarray, step: int, power: int) -> float:
    """The share of paired runs in which the tie with ``power`` is higher in ``a`` than in ``b`` at ``step``.

    A tie moves in steps, so in many pairs the two are equal: "higher" is not "not lower".
    """
    return float(np.mean(a[step, :, power] > b[step, :, power]))


# -- Q1: a quiet world -------------------------------------------------------------------------------------------


def test_q1_china_deepest_and_us_shallowest_at_the_start(quiet):
    assert np.all(np.argmax(quiet[0], axis=1) == CN)
    assert np.all(np.argmin(quiet[0], axis=1) == US)


def test_q1_china_stays_deepest_for_three_years(quiet):
    assert np.mean(np.argmax(quiet[THREE_YEARS], axis=1) == CN) >= MOST


def test_q1_the_us_tie_overtakes_russia_in_ten_years_in_most_quiet_worlds(quiet):
    # in three years it depends on the world (80 in 200); in ten the US has passed Russia in about 2 in 3 (133)
    assert 0.2 <= np.mean(quiet[THREE_YEARS, :, US] > quiet[THREE_YEARS, :, RU]) <= 0.6
    assert np.mean(quiet[40, :, US] > quiet[40, :, RU]) >= 0.55


def test_q1_the_russia_tie_slides_below_its_tier_yet_stays_strategic():
    # where the model and the sources part: in ten quiet years the Russia tie falls below the comprehensive
    # strategic line in most worlds (127 in 200), though it stays at the strategic line (196 in 200; source fact 2)
    model = same_world(lesson().what_if(), SEED, (), RUNS)
    model.run_for(40)
    russia, lines = model.trajectories()["alignment"][40, :, RU], model.world.scalars
    assert 0.5 <= np.mean(russia < lines["comprehensive_strategic"]) <= 0.8
    assert np.mean(russia >= lines["strategic"]) >= 0.95


def test_q1_every_quiet_world_keeps_its_three_partnerships():
    model = same_world(lesson().what_if(), SEED, (), RUNS)
    model.run_for(40)
    assert np.all(model.verdict.mode == Failure.NONE)


# -- Q2: the maritime incident -----------------------------------------------------------------------------------


def test_q2_after_the_incident_the_us_tie_is_higher_three_years_on(quiet, incident):
    assert higher(incident, quiet, INCIDENT + THREE_YEARS, US) >= MOST


def test_q2_after_the_incident_the_russia_tie_is_higher_three_years_on(quiet, incident):
    assert higher(incident, quiet, INCIDENT + THREE_YEARS, RU) >= MOST


def test_q2_vietnam_does_not_move_away_from_china(quiet, incident):
    # the surprise: the China tie is no lower than without the incident (higher in about four runs in ten)
    step = INCIDENT + THREE_YEARS
    assert 0.25 <= higher(incident, quiet, step, CN) <= 0.6  # up in 85 runs in 200
    assert 0.1 <= higher(quiet, incident, step, CN) <= 0.4  # down in 48
    assert np.mean(incident[step, :, CN] - quiet[step, :, CN]) > -0.01


# -- Q3: the US tariff -------------------------------------------------------------------------------------------


def test_q3_the_tariff_lowers_the_us_tie(incident, tariff):
    step = TARIFF + THREE_YEARS
    assert higher(incident, tariff, step, US) >= 0.75  # lower in 177 runs in 200
    assert higher(tariff, incident, step, US) <= 0.02  # higher in almost none (1)


def test_q3_the_tariff_raises_the_china_tie_in_most_runs(incident, tariff):
    step = TARIFF + THREE_YEARS
    assert higher(tariff, incident, step, CN) >= 0.65  # higher in 153 in 200
    assert higher(incident, tariff, step, CN) <= 0.05


def test_q3_the_tariff_raises_the_russia_tie_in_only_about_six_runs_in_ten(incident, tariff):
    # the source (000) says Vietnam turns to other partners, Russia included; the model does so for Russia in
    # about six runs in ten (122 in 200), not in most, and lowers it in almost none (4)
    step = TARIFF + THREE_YEARS
    assert 0.45 <= higher(tariff, incident, step, RU) <= 0.75
    assert higher(incident, tariff, step, RU) <= 0.05


# -- Q4: the Russia–China rapprochement --------------------------------------------------------------------------


def test_q4_the_rapprochement_lowers_the_russia_tie(tariff, pressure):
    step = RAPPROCHEMENT + THREE_YEARS
    assert higher(tariff, pressure, step, RU) >= 0.55  # lower in about 2 runs in 3 after three years (133 in 200)
    assert higher(pressure, tariff, step, RU) <= 0.05  # higher in almost none (2)
    assert higher(tariff, pressure, 40, RU) >= 0.75  # and in most by the end of the ten years (178)


# -- Q5, Q6: one world or many, and why --------------------------------------------------------------------------


def test_q5_in_the_notebooks_world_the_incident_seems_to_draw_vietnam_to_china_but_not_in_most_worlds(quiet, incident):
    # one world can mislead: in the notebook's world the China tie rises in the year after the incident (0.716 to
    # 0.750) and stays put in the same world without it (0.716 to 0.716), as if the incident drew Vietnam to China
    worlds = []
    for live in (events(), events("maritime_incident")):
        model = same_world(lesson().what_if(), SEED, live, 1)
        model.run_for(INCIDENT + 4)
        worlds.append(model.trajectories()["alignment"][:, 0, CN])
    one_quiet, one_incident = worlds
    a_year_on = INCIDENT + 4
    assert one_incident[a_year_on] > one_incident[INCIDENT]
    assert one_quiet[a_year_on] <= one_quiet[INCIDENT]
    # but in the 200 paired worlds the China tie goes either way a year after the incident (higher in 73, lower
    # in 33) and barely moves on average (Q2 for three years on)
    assert higher(incident, quiet, a_year_on, CN) <= 0.6
    assert higher(quiet, incident, a_year_on, CN) >= 0.1
    assert abs(np.mean(incident[a_year_on, :, CN] - quiet[a_year_on, :, CN])) < 0.01
    # and ties drift without any event: in most quiet worlds the China tie rises in that year anyway (123 in 200)
    assert np.mean(quiet[a_year_on, :, CN] > quiet[INCIDENT, :, CN]) >= 0.5


def test_q6_why_engaging_china_tames_its_threat():
    # in the quarter after the incident, the largest pull toward deepening the China tie is the threat it tames;
    # over-reliance and entrapment pull against it, each usually weighing less (in 18 of 20 worlds)
    largest, against, lighter = [], [], []
    for seed in range(20):
        the_lesson = lesson()
        the_lesson.seed = seed
        world = the_lesson.model()
        world.run_for(INCIDENT)
        world.inject("maritime_incident", 8, actor="CN", magnitude=0.9)
        world.run_for(1)
        reason = explain(world.decisions[INCIDENT])["CN"]
        pull = {d: float(reason.drivers[d][2]) for d in DRIVERS}
        largest.append(max(DRIVERS, key=pull.get))
        against.append(pull["over-reliance"] < 0 and pull["entrapment"] < 0)
        lighter.append(max(-pull["over-reliance"], -pull["entrapment"]) < pull["threat tamed or fed"])
    assert largest.count("threat tamed or fed") >= 18
    assert all(against)
    assert sum(lighter) >= 15


# -- Q7, Q8: playing Hanoi, scored as the shared world scores it -------------------------------------------------

MOVES = ("loosen", "keep", "deepen")


def lean_on_washington(quarter: int, alignment: np.ndarray) -> dict[str, int]:
    return {"US": +1, "CN": -1, "RU": 0}


def keep_everything(quarter: int, alignment: np.ndarray) -> dict[str, int]:
    return {"US": 0, "CN": 0, "RU": 0}


def deepen_everything(quarter: int, alignment: np.ndarray) -> dict[str, int]:
    return {"US": +1, "CN": +1, "RU": +1}


def score(strategy: Strategy | None, seed: int) -> float:
    """Hanoi's score (mean security, zero from a failure on) in the pressured world; None: the model's Vietnam."""
    the_lesson = lesson()
    the_lesson.seed = seed
    world = SharedModel(the_lesson, events("maritime_incident", "tariff", "rapprochement"))
    while world.running:
        if strategy is None:
            world.play(NOBODY)
            continue
        moves = strategy(world.steps, world.hedger.alignment[0])
        world.play(Decided({p: MOVES[moves[p] + 1] for p in POWERS}, dict.fromkeys(POWERS)))
    return security(world)


@pytest.fixture(scope="module")
def scores() -> dict[str, np.ndarray]:
    players: dict[str, Strategy | None] = {
        "model": None,
        "lean on Washington": lean_on_washington,
        "keep everything": keep_everything,
        "deepen everything": deepen_everything,
    }
    return {name: np.array([score(play, seed) for seed in SEEDS]) for name, play in players.items()}


def test_q7_leaning_on_washington_scores_below_the_model_in_every_world(scores):
    assert np.all(scores["lean on Washington"] < scores["model"])
    assert scores["model"].mean() - scores["lean on Washington"].mean() >= 0.05


def test_q7_in_the_notebooks_world_leaning_on_washington_holds_but_scores_lower_and_china_presses():
    the_lesson = lesson()
    leaning = SharedModel(the_lesson, events("maritime_incident", "tariff", "rapprochement"))
    model = SharedModel(the_lesson, events("maritime_incident", "tariff", "rapprochement"))
    while leaning.running:
        leaning.play(Decided({"US": "deepen", "CN": "loosen", "RU": "keep"}, dict.fromkeys(POWERS)))
        model.play(NOBODY)
    assert leaning.verdict.mode[0] == Failure.NONE
    assert leaning.verdict.coerced[0]
    assert security(leaning) < security(model)


def test_q8_keeping_everything_scores_below_the_model_in_most_worlds(scores):
    assert np.mean(scores["keep everything"] < scores["model"]) >= MOST


def test_q8_deepening_everything_beats_the_model_in_some_worlds_but_not_on_average(scores):
    # "it depends": the best simple strategy wins in a minority of worlds and loses on average
    assert 0.2 <= np.mean(scores["deepen everything"] > scores["model"]) <= 0.6
    assert scores["deepen everything"].mean() < scores["model"].mean()


# -- Q9: was our world typical? ----------------------------------------------------------------------------------


def test_q9_multi_alignment_survives_the_pressure_in_most_worlds():
    model = same_world(lesson().what_if(), SEED, events("maritime_incident", "tariff", "rapprochement"), RUNS)
    model.run_for(40)
    assert np.mean(model.verdict.mode == Failure.NONE) >= MOST  # 196 in 200
    assert set(model.verdict.mode) <= {Failure.NONE, Failure.ISOLATION}  # the rare failure is isolation (4)


# -- the notebook asks about these worlds ------------------------------------------------------------------------


def test_the_notebook_injects_the_events_these_claims_are_about():
    notebook = json.loads((REPO / "notebooks" / "03_classroom.ipynb").read_text())
    code = "".join("".join(cell["source"]) for cell in notebook["cells"] if cell["cell_type"] == "code")
    assert "SEED = 11" in code
    assert 'inject("maritime_incident", 8, actor="CN", magnitude=0.9)' in code
    assert 'inject("tariff", actor="US", magnitude=0.46)' in code
    assert 'inject("rapprochement", actor="RU", target="CN", magnitude=1.0)' in code
