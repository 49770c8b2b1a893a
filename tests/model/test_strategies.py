"""Vietnam's strategies (model.strategies): a contract every registered strategy inherits, then each one's own rule."""

import pickle

import numpy as np
import pytest

from sim import EVENT_TYPES, BalanceModel, load_parameters
from sim.model.agents import DEEPEN, KEEP, LOOSEN, Hedger
from sim.model.params import POWERS
from sim.model.strategies import DEFAULT, STRATEGIES, Aligner, Frozen, Random, strategy

US, CN, RU = (POWERS.index(p) for p in POWERS)
ALLIANCE = load_parameters().value("thresholds.alliance")


def run(name, runs=60, steps=20, **kw):
    m = BalanceModel(runs=runs, rng=9, uncertainty=True, strategy=name, **kw)
    m.run_for(steps)
    return m


class StrategyContract:
    """What every strategy must do; a test class per strategy inherits it (Axelrod's TestPlayer)."""

    name: str

    def test_is_registered_with_a_description(self):
        cls = STRATEGIES[self.name]
        assert cls.name == self.name and issubclass(cls, Hedger)
        assert isinstance(cls.description, str) and cls.description
        assert strategy(self.name) is cls

    def test_ties_stay_in_bounds_and_below_the_alliance_line(self):
        crisis = EVENT_TYPES["maritime_incident"]("2025-07", until="2035-07", magnitude=1.0)
        m = run(self.name, steps=40, events=[crisis])
        a = m.trajectories()["alignment"]
        assert a.min() >= 0.0 and a.max() < ALLIANCE

    def test_same_seed_same_result(self):
        a, b = run(self.name), run(self.name)
        np.testing.assert_array_equal(a.hedger.alignment, b.hedger.alignment)
        np.testing.assert_array_equal(a.verdict.mode, b.verdict.mode)

    def test_run_i_is_the_same_alone_or_in_an_ensemble(self):
        whole = run(self.name, runs=12)
        alone = BalanceModel(runs=1, rng=9, uncertainty=True, strategy=self.name, first_run=7)
        alone.run_for(20)
        np.testing.assert_array_equal(alone.hedger.alignment[0], whole.hedger.alignment[7])

    def test_the_model_names_its_strategy_and_pickles(self):
        m = run(self.name, runs=3, steps=2)
        assert m.strategy == self.name and isinstance(m.hedger, STRATEGIES[self.name])
        assert pickle.loads(pickle.dumps(STRATEGIES[self.name])) is STRATEGIES[self.name]


def _descendants(cls) -> set[type]:
    return {d for c in cls.__subclasses__() for d in (c, *_descendants(c))}


def test_every_registered_strategy_has_a_contract_test():
    tested = {c.name for c in _descendants(StrategyContract) if hasattr(c, "name")}
    assert tested == set(STRATEGIES)
    assert DEFAULT == "hedge" and STRATEGIES[DEFAULT] is Hedger


def test_an_unknown_strategy_is_refused_with_the_choices():
    with pytest.raises(ValueError, match="expected one of hedge, frozen, random"):
        BalanceModel(strategy="bandwagon")


class TestHedge(StrategyContract):
    name = "hedge"

    def test_it_answers_a_crisis_and_random_does_not(self):
        crisis = [EVENT_TYPES["maritime_incident"]("2025-07", until="2030-07", magnitude=1.0)]
        moved = {}
        for name in ("hedge", "random"):
            calm, hit = run(name, steps=20), run(name, steps=20, events=crisis)
            moved[name] = (hit.hedger.alignment[:, US] - calm.hedger.alignment[:, US]).mean()
        assert moved["hedge"] > 0.01 and abs(moved["random"]) < 0.005

    def test_it_chooses_better_moves_than_chance(self):
        """Its moves raise Vietnam's utility more than a random Vietnam's, in the same situations."""
        m = BalanceModel(runs=400, rng=9, uncertainty=True)
        m.run_for(4)
        h = m.hedger
        step = m.world.scalars["step_size"][:, None]
        feasible = h.feasible(h.alignment, step)
        gain = h.gains(h.perceive(), step)
        own = np.take_along_axis(gain, h.choose(h.situation, step, feasible)[:, :, None], 2).mean()
        chance = np.take_along_axis(gain, Random.choose(h, h.situation, step, feasible)[:, :, None], 2).mean()
        assert own > chance


class TestFrozen(StrategyContract):
    name = "frozen"

    def test_it_never_moves_a_tie(self):
        """It keeps every tie; a tie moves only where its power walks away (the tie erodes, ODD 7.11)."""
        m = BalanceModel(runs=60, rng=9, uncertainty=True, strategy="frozen")
        a0 = m.hedger.alignment.copy()
        walked = np.zeros(a0.shape, bool)
        for _ in range(40):
            m.step()
            assert np.all(m.hedger.choice == KEEP)
            walked |= m.engagement < m.hedger.alignment + m.world.scalars["step_size"][:, None]
        np.testing.assert_array_equal(m.hedger.alignment[~walked], a0[~walked])
        assert (~walked).any() and issubclass(Frozen, Hedger)


class TestRandom(StrategyContract):
    name = "random"

    def test_it_picks_each_allowed_move_about_equally(self):
        m = BalanceModel(runs=3000, rng=9, strategy="random")
        h = m.hedger
        step = m.world.scalars["step_size"][:, None]
        feasible = h.feasible(h.alignment, step)
        choice = h.choose(h.perceive(), step, feasible)
        assert feasible.all()  # mid-band ties: every move allowed
        shares = np.bincount(choice.ravel(), minlength=3) / choice.size
        np.testing.assert_allclose(shares, 1 / 3, atol=0.02)

    def test_it_never_breaks_the_siding_rule(self):
        m = run("random", runs=200, steps=40)
        a = m.trajectories()["alignment"]
        assert (a.max(axis=2) - a.min(axis=2)).max() <= load_parameters().value("thresholds.siding") + 1e-9


class AlignerContract(StrategyContract):
    def test_it_deepens_its_power_and_lets_the_others_go(self):
        m = run(self.name, steps=40)
        a = m.trajectories()["alignment"].mean(axis=1)
        p = POWERS.index(STRATEGIES[self.name].target)
        others = [q for q in range(3) if q != p]
        assert a[-1, p] > ALLIANCE - 0.03  # as far as the alliance ceiling allows
        assert np.all(a[-1, others] < a[0, others] - 0.3)

    def test_it_sides(self):
        cls = STRATEGIES[self.name]
        assert issubclass(cls, Aligner) and cls.sides
        m = run(self.name, steps=40)
        a = m.trajectories()["alignment"]
        assert (a.max(axis=2) - a.min(axis=2)).max() > load_parameters().value("thresholds.siding")

    def test_it_chooses_deepen_for_its_power_and_loosen_for_the_others(self):
        m = BalanceModel(runs=4, rng=9, strategy=self.name)
        h = m.hedger
        step = m.world.scalars["step_size"][:, None]
        choice = h.choose(h.perceive(), step, h.feasible(h.alignment, step))
        p = POWERS.index(STRATEGIES[self.name].target)
        assert np.all(choice[:, p] == DEEPEN)
        assert np.all(np.delete(choice, p, axis=1) == LOOSEN)
        assert KEEP not in choice


class TestAlignUS(AlignerContract):
    name = "align:US"


class TestAlignCN(AlignerContract):
    name = "align:CN"


class TestAlignRU(AlignerContract):
    name = "align:RU"


class TestRedline(StrategyContract):
    name = "redline"

    def test_it_keeps_every_tie_while_no_line_is_near(self):
        m = BalanceModel(runs=60, rng=9, uncertainty=True, strategy="redline")  # the 2025 ties lie below the lines
        a0 = m.hedger.alignment.copy()
        far = np.ones(m.runs, bool)
        for _ in range(40):  # the lines move (ODD 7.11): far means never within a step of the tie, as they stood
            lines = np.where(m.world.rivalry > 0, m.tolerance, np.inf).min(axis=1)
            far &= (m.hedger.alignment < lines - 2 * m.world.scalars["step_size"][:, None]).all(axis=1)
            m.step()
        far &= (m.engagement > 0.99).all(axis=1)  # and no power walked away
        assert far.any()
        np.testing.assert_array_equal(m.hedger.alignment[far], a0[far])

    def test_it_loosens_a_tie_that_a_lowered_line_comes_near_and_stays_a_step_inside(self):
        """CAATSA lowers the US line on the Russia tie: the oracle backs off to a step inside it, no further."""
        params = load_parameters()
        line = 0.3  # far below the 2025 Russia tie
        still = np.zeros(60)  # the line stands still (lines drift, ODD 7.11)
        m = run(
            "redline",
            steps=40,
            values={"powers.US.tolerance.RU": np.full(60, line), "behaviour.tolerance_volatility": still},
        )
        a = m.trajectories()["alignment"][:, :, RU]
        step = m.world.scalars["step_size"]
        h = m.hedger
        may_loosen = h.feasible(h.alignment, step[:, None])[:, RU, LOOSEN]  # the siding rule may forbid it
        inside = a[-1] <= line - step + 1e-9
        assert np.all(inside | ~may_loosen) and inside.mean() > 0.5
        assert np.all(a[-1] > line - 2 * step - 1e-9)  # one step inside, no further
        assert params.value("powers.US.tolerance.RU") > line

    def test_it_needs_the_lines_it_knows(self):
        """Without the lines (every tolerance out of reach) it is the frozen Vietnam."""
        far = {f"powers.{p}.tolerance.{q}": np.full(60, 1.0) for p in POWERS for q in POWERS if p != q}
        oracle, frozen = run("redline", steps=30, values=far), run("frozen", steps=30, values=far)
        np.testing.assert_array_equal(oracle.hedger.alignment, frozen.hedger.alignment)


class TestTitForTat(StrategyContract):
    name = "tit-for-tat"

    def test_it_keeps_every_tie_until_coerced(self):
        m = run("tit-for-tat", steps=40)
        coerced = (m.trajectories()["coercion"] > 0).any(axis=(0, 2))
        a = m.trajectories()["alignment"]
        assert (~coerced).any()
        np.testing.assert_array_equal(a[-1][~coerced], a[0][~coerced])

    def test_it_gives_way_on_the_ties_a_coercer_objects_to_after_the_coercion(self):
        """A US line lowered on the Russia tie: the US coerces, and only then does the Russia tie loosen."""
        m = run("tit-for-tat", steps=20, values={"powers.US.tolerance.RU": np.full(60, 0.3)})
        t = m.trajectories()
        us_coercion, ru_tie = t["coercion"][:, :, US], t["alignment"][:, :, RU]
        first_coerced = np.argmax(us_coercion > 0, axis=0)
        first_loosened = np.argmax(ru_tie < ru_tie[0], axis=0)
        hit = (us_coercion > 0).any(axis=0)
        # the powers move first in a quarter, Vietnam answers in the same quarter: never before the coercion
        assert hit.all() and np.all(first_loosened[hit] >= first_coerced[hit])
        assert np.all(ru_tie[-1] < ru_tie[0])
