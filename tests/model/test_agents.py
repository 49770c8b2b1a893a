"""The agents (sim.model.agents): each great power's courtship and coercion, Russia's deference, Vietnam's
perception, partnership tiers and the Four No's (docs/ODD.md 7.1, 7.5-7.7)."""

import numpy as np
import pytest
from mesa import Agent

from sim import EVENT_TYPES, BalanceModel, load_parameters
from sim.model.agents import DEEPEN, KEEP, LOOSEN, MOVES, GreatPower, Hedger, Russia
from sim.model.balance import POWER_CLASSES
from sim.model.params import DIMENSIONS, POWERS, TIERS
from sim.model.strategies import STRATEGIES

US, CN, RU = (POWERS.index(p) for p in POWERS)
TERRITORY = DIMENSIONS.index("territory")
CSP, STRATEGIC = TIERS.index("comprehensive_strategic"), TIERS.index("strategic")


def model(runs=8, **kw) -> BalanceModel:
    return BalanceModel(runs=runs, rng=5, **kw)


def with_values(runs=8, **values):
    return model(runs, values={k.replace("__", "."): np.full(runs, float(v)) for k, v in values.items()})


# -- the great powers -----------------------------------------------------------------------


class TestGreatPower:
    def test_each_power_owns_its_state(self):
        m = model()
        assert [p.name for p in m.great_powers] == list(POWERS)
        assert all(p.courtship.shape == (8,) and p.coercion.shape == (8,) for p in m.great_powers)
        assert isinstance(m.great_powers[RU], Russia) and type(m.great_powers[US]) is GreatPower

    def test_rivals_court_a_drift_toward_one_power(self):
        m = model()
        m.hedger.previous = m.hedger.alignment.copy()
        m.hedger.alignment[:, US] += 0.1
        for p in m.great_powers:
            p.respond()
        assert np.all(m.great_powers[CN].courtship > 0) and np.all(m.great_powers[RU].courtship > 0)
        assert np.all(m.great_powers[US].courtship == 0)  # the gaining power has no reason to court

    def test_a_power_courts_when_vietnam_drifts_away_from_it(self):
        m = model()
        m.hedger.previous = m.hedger.alignment.copy()
        m.hedger.alignment[:, RU] -= 0.1
        m.great_powers[RU].respond()
        assert np.all(m.great_powers[RU].courtship > 0)

    def test_no_interest_no_courtship(self):
        m = with_values(powers__CN__interest=0.0)
        m.hedger.previous = m.hedger.alignment.copy()
        m.hedger.alignment[:, US] += 0.1
        m.great_powers[CN].respond()
        assert np.all(m.great_powers[CN].courtship == 0)

    def test_coercion_only_past_tolerance(self):
        m = with_values(behaviour__tolerance_volatility=0.0)  # lines that stand still (they drift: ODD 7.11)
        tol = m.world.tolerance[:, US, RU]
        m.hedger.alignment[:, RU] = tol - 0.01
        m.great_powers[US].respond()
        assert np.all(m.great_powers[US].coercion == 0)
        m.hedger.alignment[:, RU] = tol + 0.1
        m.great_powers[US].respond()
        assert np.all(m.great_powers[US].coercion > 0)

    @pytest.mark.parametrize(("power", "rival", "patient"), [("US", "RU", True), ("CN", "US", False)])
    def test_interest_makes_the_us_patient_and_china_press(self, power, rival, patient):
        """The US, valuing Vietnam as a swing state, finds it "imprudent to excessively admonish Hanoi" (001).

        The same tie past its line: a US that values Vietnam more coerces less; China, of which no source says
        it, still coerces more for the same pressure the more it cares.
        """
        p, q = POWERS.index(power), POWERS.index(rival)
        coercion = {}
        for interest in (0.5, 0.9):
            m = with_values(**{f"powers__{power}__interest": interest, f"powers__{power}__tolerance__{rival}": 0.3})
            assert np.all(m.hedger.alignment[:, q] > 0.3)
            m.great_powers[p].respond()
            coercion[interest] = m.great_powers[p].coercion
        assert bool(m.world.patient[0, p]) is patient
        assert np.all(coercion[0.5] > 0) and np.all(coercion[0.9] > 0)
        if patient:
            assert np.all(coercion[0.9] < coercion[0.5])
        else:
            assert np.all(coercion[0.9] > coercion[0.5])

    def test_a_patient_power_still_courts_by_its_interest(self):
        """Patience restrains the US's coercion, not its courtship: Kritenbrink came a day after Putin (001)."""
        court = {}
        for interest in (0.5, 0.9):
            m = with_values(powers__US__interest=interest)
            m.hedger.previous = m.hedger.alignment.copy()
            m.hedger.alignment[:, RU] += 0.1
            m.great_powers[US].respond()
            court[interest] = m.great_powers[US].courtship
        assert np.all(court[0.9] > court[0.5])

    def test_coercion_and_courtship_decay(self):
        m = model()
        cn = m.great_powers[CN]
        cn.coercion[:], cn.courtship[:] = 0.8, 0.8
        cn.respond()
        assert np.all(cn.coercion < 0.8) and np.all(cn.courtship < 0.8)

    def test_responses_do_not_depend_on_the_order_of_the_powers(self):
        a, b = model(), model()
        for m in (a, b):
            m.hedger.previous = m.hedger.alignment.copy()
            m.hedger.alignment[:, US] += 0.2
        for p in a.great_powers:
            p.respond()
        for p in reversed(b.great_powers):
            p.respond()
        np.testing.assert_array_equal(a.courtship, b.courtship)
        np.testing.assert_array_equal(a.coercion, b.coercion)

    def test_coercion_withdraws_what_it_withholds_and_adds_threat(self):
        m = model()
        cn = m.great_powers[CN]
        before_offer, before_threat = cn.offer().copy(), cn.threat().copy()
        cn.coercion[:] = 1.0
        withheld = m.world.withholds[:, CN] > 0
        assert np.all(cn.offer()[withheld] < before_offer[withheld])
        np.testing.assert_array_equal(cn.offer()[~withheld], before_offer[~withheld])
        assert np.all(cn.threat()[:, TERRITORY] > before_threat[:, TERRITORY])

    def test_courtship_raises_the_offer_and_eases_the_threat(self):
        """Each power tries "to convince Vietnam that it can improve on what it lacks" (004)."""
        m = model()
        us = m.great_powers[US]
        before_offer, before_threat = us.offer().copy(), us.threat().copy()
        us.courtship[:] = 1.0
        offered = before_offer > 0
        assert np.all(us.offer()[offered] > before_offer[offered])
        assert np.all(us.threat()[:, 0] < before_threat[:, 0])  # the US reassures the Party

    def test_offer_is_bounded(self):
        m = BalanceModel(runs=64, rng=1, uncertainty=True)
        for p in m.great_powers:
            p.courtship[:] = 1.0
            assert np.all((p.offer() >= 0) & (p.offer() <= 1))


class TestRussia:
    def test_closeness_to_china_costs_only_its_territorial_supply(self):
        near = with_values(world__russia_china_closeness=1.0).great_powers[RU].supply()
        far = with_values(world__russia_china_closeness=0.0).great_powers[RU].supply()
        assert np.all(near[:, TERRITORY] < far[:, TERRITORY])
        others = [d for d in range(len(DIMENSIONS)) if d != TERRITORY]
        np.testing.assert_array_equal(near[:, others], far[:, others])

    def test_without_the_rule_russia_does_not_defer(self):
        m = model(powers={"RU": GreatPower})
        np.testing.assert_array_equal(m.great_powers[RU].supply(), m.world.supply[:, RU])


# -- Vietnam: perception, tiers and the Four No's -----------------------------------------------


class TestPerception:
    def test_a_fall_in_delivery_is_remembered_then_fades(self):
        before = model().hedger.memory.copy()
        m = model(events=[EVENT_TYPES["unreliability"]("2025-07", actor="US", magnitude=1.0)])
        m.run_for(2)
        assert np.all(m.hedger.memory[:, US] > before[:, US])
        peak = m.hedger.memory[:, US].copy()
        m.run_for(20)
        assert np.all(m.hedger.memory[:, US] < peak)

    def test_trust_is_reliability_discounted_by_memory(self):
        m = model()
        np.testing.assert_allclose(m.situation.trust, m.world.reliability * (1 - m.hedger.memory))


class TestTiers:
    def test_the_2025_ties_start_as_comprehensive_strategic_partnerships(self):
        assert np.all(model().hedger.tier == CSP)

    def test_pressing_at_a_ceiling_long_enough_upgrades(self):
        m = with_values(hedger__tier__US=STRATEGIC, hedger__alignment__US=0.595)
        h = m.hedger
        step = m.world.scalars["step_size"][:, None]
        patience = int(m.world.scalars["tier_patience"][0])
        deepen = np.full((8, 3), KEEP)
        deepen[:, US] = DEEPEN
        for quarter in range(patience):
            assert np.all(h.tier[:, US] == STRATEGIC), quarter
            h.carry_out(deepen, step)
            assert np.all(h.alignment[:, US] <= m.world.scalars["comprehensive_strategic"] + 1e-12)
        assert np.all(h.tier[:, US] == CSP)

    def test_an_interrupted_press_starts_again(self):
        m = with_values(hedger__tier__US=STRATEGIC, hedger__alignment__US=0.6)
        h = m.hedger
        step = m.world.scalars["step_size"][:, None]
        deepen, keep = np.full((8, 3), KEEP), np.full((8, 3), KEEP)
        deepen[:, US] = DEEPEN
        for moves in (deepen, deepen, keep, deepen, deepen, deepen):
            h.carry_out(moves, step)
        assert np.all(h.tier[:, US] == STRATEGIC)

    def test_a_tie_that_sags_through_its_band_keeps_its_tier(self):
        """A CSP tie drifting down to just above the band below is not a rupture (Russia's tie, 003)."""
        m = with_values(hedger__alignment__RU=0.61)
        h = m.hedger
        step = m.world.scalars["step_size"][:, None]
        loosen = np.full((8, 3), KEEP)
        loosen[:, RU] = LOOSEN
        while np.all(h.alignment[:, RU] - step[:, 0] >= m.world.scalars["strategic"]):
            h.carry_out(loosen, step)
        for _ in range(12):
            h.carry_out(np.full((8, 3), KEEP), step)
        assert np.all(h.alignment[:, RU] < m.world.scalars["comprehensive_strategic"])
        assert np.all(h.tier[:, RU] == CSP)

    def test_a_tie_below_its_rupture_line_long_enough_lapses_one_tier(self):
        m = with_values(hedger__alignment__RU=0.41)
        h = m.hedger
        step = m.world.scalars["step_size"][:, None]
        loosen = np.full((8, 3), KEEP)
        loosen[:, RU] = LOOSEN
        for _ in range(12):
            h.carry_out(loosen, step)
        assert np.all(h.tier[:, RU] == STRATEGIC)

    def test_the_rupture_line_is_the_floor_of_the_tier_below(self):
        m = model()
        h = m.hedger
        h.tier[:] = np.array([[3, 2, 1], [0, 3, 2]] * 4)
        s = m.world.scalars
        expected = np.array(
            [[s["strategic"][0], s["comprehensive"][0], 0.0], [0.0, s["strategic"][0], s["comprehensive"][0]]] * 4
        )
        np.testing.assert_array_equal(h.rupture_line(), expected)

    def test_no_upgrade_to_an_alliance_while_the_four_nos_hold(self):
        m = model()
        h = m.hedger
        h.alignment[:, US] = m.world.scalars["alliance"] - 0.001
        h.upgrade(US, np.full(8, TIERS.index("alliance")))
        assert np.all(h.tier[:, US] == CSP)
        relaxed = with_values(hedger__four_nos=0)
        relaxed.hedger.upgrade(US, np.full(8, TIERS.index("alliance")))
        assert np.all(relaxed.hedger.tier[:, US] == TIERS.index("alliance"))

    def test_a_summit_with_a_tier_upgrades_the_partnership(self):
        start = {"hedger__tier__US": STRATEGIC, "hedger__alignment__US": 0.45}
        summit = EVENT_TYPES["summit"]("2025-07", actor="US", tier="comprehensive_strategic", magnitude=0.5)
        m = BalanceModel(
            runs=8, rng=5, events=[summit], values={k.replace("__", "."): np.full(8, v) for k, v in start.items()}
        )
        m.run_for(1)
        assert np.all(m.hedger.tier[:, US] == CSP)


class TestFourNos:
    def test_no_tie_reaches_the_alliance_line(self):
        m = model()
        h = m.hedger
        h.alignment[:, US] = m.world.scalars["alliance"] - 0.005
        step = m.world.scalars["step_size"][:, None]
        ok = h.feasible(h.alignment, step)
        assert not ok[:, US, DEEPEN].any()

    def test_no_tie_more_than_the_siding_gap_above_another(self):
        m = model()
        h = m.hedger
        gap = m.world.scalars["siding"][0]
        h.alignment[:] = np.array([0.2 + gap, 0.5, 0.2])
        step = m.world.scalars["step_size"][:, None]
        ok = h.feasible(h.alignment, step)
        assert not ok[:, US, DEEPEN].any()  # it would side with the US against Russia
        assert not ok[:, RU, LOOSEN].any()  # so would letting Russia go further
        assert ok[:, CN, DEEPEN].all()

    def test_relaxed_the_rules_no_longer_bind(self):
        m = with_values(hedger__four_nos=0)
        h = m.hedger
        h.alignment[:] = np.array([0.85, 0.3, 0.2])
        ok = h.feasible(h.alignment, m.world.scalars["step_size"][:, None])
        assert ok[:, US, DEEPEN].all()

    @pytest.mark.parametrize("strategy", ["hedge", "random"])
    def test_under_pressure_no_run_crosses_either_rule(self, strategy):
        crisis = EVENT_TYPES["maritime_incident"]("2025-07", until="2035-07", magnitude=1.0)
        m = BalanceModel(runs=200, rng=3, uncertainty=True, events=[crisis], strategy=strategy)
        m.run_for(40)
        a = m.trajectories()["alignment"]
        assert a.max() < load_parameters().value("thresholds.alliance")
        gap = a.max(axis=2) - a.min(axis=2)
        assert gap.max() <= load_parameters().value("thresholds.siding") + 1e-9


# -- a world that pushes back: lines that move, partnerships both sides hold ----------------------------


class TestAWorldThatPushesBack:
    """The powers' lines are states that drift, and a tie erodes when its power walks away (ODD 7.11)."""

    @staticmethod
    def status_quo(strategy="hedge", runs=200, **values):
        m = BalanceModel(runs=runs, rng=1, uncertainty=True, strategy=strategy,
                         values={k: np.full(runs, v) for k, v in values.items()})  # fmt: skip
        low = np.ones((runs, len(POWERS)))
        moved = np.zeros(runs)
        for _ in range(40):  # ten years
            m.step()
            low = np.minimum(low, m.engagement)
            moved = np.maximum(moved, np.abs(m.tolerance - m.world.tolerance).max(axis=(1, 2)))
        return m, (low < 0.99).any(axis=1), moved

    def test_in_the_status_quo_the_powers_engagement_moves_in_most_runs(self):
        _, withdrew, moved = self.status_quo()
        assert (moved > 0.05).mean() > 0.9  # every line wanders, apart from events
        assert withdrew.mean() > 0.5  # some power withdraws some cooperation over ten years
        _, still, _ = self.status_quo(**{"behaviour.tolerance_volatility": 0.0})
        assert still.mean() < 0.5  # with lines that stand still it is the exception

    def test_a_frozen_vietnam_meets_a_world_that_moves(self):
        """The frozen null no longer rides free: lines drift onto its ties and the powers answer."""
        _, withdrew, _ = self.status_quo("frozen")
        _, still, _ = self.status_quo("frozen", **{"behaviour.tolerance_volatility": 0.0})
        assert withdrew.mean() > 0.1 and not still.any()

    def test_lines_follow_their_parameters_and_events(self):
        m = model()
        np.testing.assert_array_equal(m.tolerance, m.world.tolerance)  # no drift before the first quarter
        m.step()
        assert not np.array_equal(m.tolerance, m.world.tolerance)
        np.testing.assert_array_equal(np.diagonal(m.tolerance, axis1=1, axis2=2), 0.0)

    def test_a_tie_erodes_when_its_power_walks_away_while_vietnam_holds_still(self):
        """The US withdraws its cooperation: the US tie sinks, a step a quarter at most, though Vietnam keeps it."""
        gone, kept = model(strategy="frozen"), model(strategy="frozen")
        gone.add_impulse("engagement.US", np.full(8, -0.8))
        before = gone.hedger.alignment.copy()
        step = gone.world.scalars["step_size"]
        for m in (gone, kept):
            m.step()
        assert np.all(gone.hedger.choice == KEEP)  # Vietnam holds still
        np.testing.assert_allclose(gone.hedger.alignment[:, US], before[:, US] - step)
        np.testing.assert_array_equal(gone.hedger.alignment[:, [CN, RU]], before[:, [CN, RU]])
        np.testing.assert_array_equal(kept.hedger.alignment, before)
        for _ in range(12):  # it stays away: withdrawn again each quarter
            gone.add_impulse("engagement.US", np.full(8, -0.8))
            gone.step()
        assert np.all(gone.hedger.choice == KEEP)
        assert np.all(gone.hedger.alignment[:, US] < before[:, US] - 0.1)

    @pytest.mark.parametrize("strategy", ["hedge", "random", "redline", "tit-for-tat", "frozen"])
    def test_a_tie_left_past_the_siding_gap_is_eased_by_a_vietnam_that_keeps_the_four_nos(self, strategy):
        """China walked away, the China tie sank: the US tie now stands more than the gap above it (ODD 7.11)."""
        m = model(strategy=strategy)
        m.hedger.alignment[:, US], m.hedger.alignment[:, CN] = 0.7, 0.19  # 0.51 apart, the gap is 0.5
        m.step()
        want = KEEP if strategy == "frozen" else LOOSEN  # the frozen null keeps its ties whatever happens
        assert np.all(m.hedger.choice[:, US] == want)
        assert not m.hedger.feasible_moves[:, US, KEEP].any() and m.hedger.feasible_moves[:, CN, KEEP].all()

    def test_a_power_that_coerces_withdraws_and_its_tie_erodes(self):
        """China's line far below the US tie: China coerces, withdraws its cooperation, and the China tie erodes."""
        m = model(strategy="frozen", values={"powers.CN.tolerance.US": np.full(8, 0.1)})
        start = m.hedger.alignment.copy()
        m.run_for(20)
        assert np.all(m.great_powers[CN].engagement < start[:, CN])
        assert np.all(m.hedger.alignment[:, CN] < start[:, CN])
        np.testing.assert_array_equal(m.hedger.alignment[:, [US, RU]], start[:, [US, RU]])


# -- Vietnam learns the lines -------------------------------------------------------------------


class TestLearningTheLines:
    """The model's Vietnam does not read the powers' tolerances: it learns them from what they do (ODD 7.10)."""

    @pytest.mark.parametrize(
        ("gap", "drift"),
        [(0.01, {"behaviour.tolerance_volatility": 0.0}), (0.04, {})],  # lines still, or drifting (< 0.035 a step)
    )
    def test_its_first_move_does_not_change_with_a_line_it_has_not_seen(self, gap, drift):
        """Lines just above the 2025 ties or far above: no power coerces at first, so the same first move."""
        ties = {"powers.CN.tolerance.US": 0.52, "powers.US.tolerance.CN": 0.72, "powers.US.tolerance.RU": 0.62}
        near = {k: v + gap for k, v in ties.items()}
        first = []
        for lines in (near, dict.fromkeys(near, 0.95)):
            m = BalanceModel(runs=400, rng=5, values={k: np.full(400, v) for k, v in {**lines, **drift}.items()})
            m.step()
            assert np.all(m.coercion == 0)  # nothing Vietnam has observed differs
            first.append((m.hedger.gain, m.hedger.choice, m.hedger.belief))
        for seen, other in zip(*first, strict=True):
            np.testing.assert_array_equal(seen, other)

    def test_its_belief_of_a_line_falls_once_it_is_coerced(self):
        """A US line far below the Russia tie: the US coerces, and Vietnam's belief of that line falls."""
        low = model(values={"powers.US.tolerance.RU": np.full(8, 0.3)})
        calm = model()
        prior = low.hedger.belief[:, US, RU].copy()
        np.testing.assert_array_equal(prior, calm.hedger.belief[:, US, RU])
        for m in (low, calm):
            m.step()
        assert np.all(low.coercion[:, US] > 0) and np.all(calm.coercion[:, US] == 0)
        assert np.all(low.hedger.belief[:, US, RU] < prior)
        assert np.all(calm.hedger.belief[:, US, RU] >= prior)

    def test_a_line_it_learns_it_heeds(self):
        """Coerced over the Russia tie, the model's Vietnam loosens it, though it was never told the line."""
        low = BalanceModel(runs=200, rng=5, values={"powers.US.tolerance.RU": np.full(200, 0.4)})
        calm = BalanceModel(runs=200, rng=5)
        for m in (low, calm):
            m.run_for(20)
        assert low.hedger.alignment[:, RU].mean() < calm.hedger.alignment[:, RU].mean()
        assert low.hedger.belief[:, US, RU].mean() < 0.62  # below the 2025 Russia tie


def test_moves_are_loosen_keep_deepen():
    assert MOVES.tolist() == [-1.0, 0.0, 1.0]
    assert issubclass(Russia, GreatPower) and Hedger.name == "hedge"


# -- every agent class -----------------------------------------------------------------------
# The model's agent classes: each power's (sim.model.balance.POWER_CLASSES) and each of Vietnam's strategies
# (sim.model.strategies.STRATEGIES). A class added to either registry runs the tests below with no more code.
AGENT_CLASSES = sorted({*POWER_CLASSES.values(), *STRATEGIES.values()}, key=lambda c: c.__qualname__)
BOUNDED = {
    GreatPower: ("courtship", "coercion", "engagement"),
    Hedger: ("alignment", "memory", "belief"),
}  # shares, in [0, 1]


def placed(cls, runs=30, rng=9, **kw) -> tuple[BalanceModel, list]:
    """A model in which ``cls`` plays its part (Vietnam's strategy, or the powers it is the class of); its agents."""
    if issubclass(cls, Hedger):
        m = BalanceModel(runs=runs, rng=rng, uncertainty=True, strategy=cls, **kw)
        return m, [m.hedger]
    powers = [p for p, c in POWER_CLASSES.items() if c is cls]
    m = BalanceModel(runs=runs, rng=rng, uncertainty=True, **kw)
    return m, [m.great_powers[POWERS.index(p)] for p in powers]


def state(agents) -> dict[str, np.ndarray]:
    return {f"{a.unique_id}.{k}": np.copy(getattr(a, k)) for a in agents for b, ks in BOUNDED.items() for k in ks
            if isinstance(a, b)}  # fmt: skip


@pytest.mark.parametrize("cls", AGENT_CLASSES, ids=lambda c: c.__qualname__)
class TestEveryAgentClass:
    def test_plays_a_part_in_the_model(self, cls):
        _, agents = placed(cls)
        assert agents and all(type(a) is cls for a in agents)
        assert any(issubclass(cls, b) for b in BOUNDED), f"{cls.__qualname__}: which state is bounded?"

    def test_is_a_mesa_agent_registered_with_its_model(self, cls):
        m, agents = placed(cls)
        for a in agents:
            assert isinstance(a, Agent) and a.model is m and a in m.agents and a in m.agents_by_type[cls]
        assert len({a.unique_id for a in m.agents}) == len(m.agents) == 4

    def test_its_state_stays_a_share_through_a_crisis(self, cls):
        crisis = EVENT_TYPES["maritime_incident"]("2025-07", until="2030-07", magnitude=1.0)
        m, agents = placed(cls, events=[crisis])
        for _ in range(24):
            m.step()
            for key, value in state(agents).items():
                assert value.shape[0] == m.runs and np.isfinite(value).all(), key
                assert value.min() >= 0.0 and value.max() <= 1.0, (key, m.steps)

    def test_same_seed_same_state_and_run_i_alone_as_in_the_ensemble(self, cls):
        (a, a_agents), (b, b_agents) = placed(cls), placed(cls)
        alone, alone_agents = placed(cls, runs=1, first_run=11)
        for m in (a, b, alone):
            m.run_for(12)
        first, again, one = state(a_agents), state(b_agents), state(alone_agents)
        for key, value in first.items():
            np.testing.assert_array_equal(again[key], value, err_msg=key)
        for (key, value), single in zip(first.items(), one.values(), strict=True):
            np.testing.assert_array_equal(single[0], value[11], err_msg=key)
