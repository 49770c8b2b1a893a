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
    # in three years it depends on the world (about 4 in 10); in ten the US has passed Russia in about 2 in 3
    assert 0.2 <= np.mean(quiet[THREE_YEARS, :, US] > quiet[THREE_YEARS, :, RU]) <= 0.6
    assert np.mean(quiet[40, :, US] > quiet[40, :, RU]) >= 0.55


def test_q1_the_russia_tie_slides_below_its_tier_yet_stays_strategic():
    # where the model and the sources part: in ten quiet years the Russia tie falls below the comprehensive
    # strategic line in most worlds (about 63 in 100), though it stays at the strategic line (source fact 2)
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
    # the surprise: the China tie is no lower than without the incident (higher in about half the runs)
    step = INCIDENT + THREE_YEARS
    assert 0.25 <= higher(incident, quiet, step, CN) <= 0.6  # up in about 43 runs in 100
    assert 0.1 <= higher(quiet, incident, step, CN) <= 0.4  # down in about 24
    assert np.mean(incident[step, :, CN] - quiet[step, :, CN]) > -0.01


# -- Q3: the US tariff -------------------------------------------------------------------------------------------


def test_q3_the_tariff_lowers_the_us_tie(incident, tariff):
    step = TARIFF + THREE_YEARS
    assert higher(incident, tariff, step, US) >= 0.75  # lower in about 89 runs in 100
    assert higher(tariff, incident, step, US) <= 0.02  # higher in almost none


def test_q3_the_tariff_raises_the_china_tie_in_most_runs(incident, tariff):
    step = TARIFF + THREE_YEARS
    assert higher(tariff, incident, step, CN) >= 0.65  # higher in about 76 in 100
    assert higher(incident, tariff, step, CN) <= 0.05


def test_q3_the_tariff_raises_the_russia_tie_in_only_about_half_the_runs(incident, tariff):
    # the source (000) says Vietnam turns to other partners, Russia included; the model does so for Russia in
    # about half the runs (and lowers it in almost none)
    step = TARIFF + THREE_YEARS
    assert 0.3 <= higher(tariff, incident, step, RU) <= 0.7
    assert higher(incident, tariff, step, RU) <= 0.05


# -- Q4: the Russia–China rapprochement --------------------------------------------------------------------------


def test_q4_the_rapprochement_lowers_the_russia_tie(tariff, pressure):
    step = RAPPROCHEMENT + THREE_YEARS
    assert higher(tariff, pressure, step, RU) >= 0.55  # lower in about 2 runs in 3 after three years
    assert higher(pressure, tariff, step, RU) <= 0.05  # higher in almost none
    assert higher(tariff, pressure, 40, RU) >= 0.75  # and in most by the end of the ten years


# -- Q5, Q6: one world or many, and why --------------------------------------------------------------------------


@pytest.mark.xfail(
    strict=True,
    reason="since world.manageable_threat is drawn above China's threat (docs/ODD.md 10.14), the lesson's one world "
    "is drawn anew (China's threat 0.362, was 0.434): in it the China tie rises after the incident (0.716 to 0.750) "
    "but not without it (0.716 to 0.716); the engagement rule does not bind in this world, and the claim is for the "
    "lesson's authors to restate",
)
def test_q5_in_the_notebooks_world_the_china_tie_rises_after_the_incident_and_without_it():
    worlds = []
    for live in (events(), events("maritime_incident")):
        model = same_world(lesson().what_if(), SEED, live, 1)
        model.run_for(INCIDENT + 4)
        worlds.append(model.trajectories()["alignment"][:, 0, CN])
    quiet, incident = worlds
    assert incident[INCIDENT + 4] > incident[INCIDENT]
    assert quiet[INCIDENT + 4] > quiet[INCIDENT]


def test_q6_why_engaging_china_tames_its_threat():
    # in the quarter after the incident, the largest pull toward deepening the China tie is the threat it tames
    largest = []
    for seed in range(20):
        the_lesson = lesson()
        the_lesson.seed = seed
        world = the_lesson.model()
        world.run_for(INCIDENT)
        world.inject("maritime_incident", 8, actor="CN", magnitude=0.9)
        world.run_for(1)
        reason = explain(world.decisions[INCIDENT])["CN"]
        largest.append(max(DRIVERS, key=lambda d: reason.drivers[d][2]))
    assert largest.count("threat tamed or fed") >= 18


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
    assert np.mean(model.verdict.mode == Failure.NONE) >= MOST
    assert set(model.verdict.mode) <= {Failure.NONE, Failure.ISOLATION}  # the rare failure is isolation


# -- the notebook asks about these worlds ------------------------------------------------------------------------


def test_the_notebook_injects_the_events_these_claims_are_about():
    notebook = json.loads((REPO / "notebooks" / "03_classroom.ipynb").read_text())
    code = "".join("".join(cell["source"]) for cell in notebook["cells"] if cell["cell_type"] == "code")
    assert "SEED = 11" in code
    assert 'inject("maritime_incident", 8, actor="CN", magnitude=0.9)' in code
    assert 'inject("tariff", actor="US", magnitude=0.46)' in code
    assert 'inject("rapprochement", actor="RU", target="CN", magnitude=1.0)' in code
