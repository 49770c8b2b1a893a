"""The security mechanisms of sim.model.security, one group of tests per mechanism (docs/ODD.md 7.2-7.4)."""

import dataclasses

import numpy as np
import pytest
from conftest import make_world, with_scalars
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.model.params import DIMENSIONS, POWERS
from sim.model.security import (
    Situation,
    hedging_index,
    over_reliance,
    satisfaction,
    security_received,
    shortfall,
    threat_faced,
)

US, CN, RU = (POWERS.index(p) for p in ("US", "CN", "RU"))
REGIME, TERRITORY, PROSPERITY = (DIMENSIONS.index(d) for d in DIMENSIONS)
NP, ND = len(POWERS), len(DIMENSIONS)


def random_inputs(n=2_000, seed=0):
    """Random alignments, supplies, reach, trust and own capability inside [0, 1]."""
    g = np.random.default_rng(seed)
    return g.random((n, NP)), g.random((n, NP, ND)), g.random((n, NP)), g.random((n, NP)), g.random((n, ND))


def situation(world=None, n=4, a_floor=0.0, **kw) -> Situation:
    """A Situation with the world's own supply and threat, full trust unless given."""
    w = world or make_world(n)
    n = w.supply.shape[0]
    fields = {
        "supply": w.supply.copy(),
        "threat": w.threat.copy(),
        "trust": np.ones((n, NP)),
        "floor": np.full((n, NP), a_floor),
    }
    fields.update(kw)
    return Situation(w, **fields)


# -- security received: a noisy-OR over Vietnam's own means and its suppliers ----------------


class TestSecurityReceived:
    def test_no_partner_leaves_only_own_means(self):
        a, s, r, t, c = random_inputs()
        np.testing.assert_allclose(security_received(np.zeros_like(a), s, r, t, c), c)

    def test_nothing_at_all_gives_nothing(self):
        a, s, r, t, c = random_inputs()
        assert np.all(security_received(a, np.zeros_like(s), r, t, np.zeros_like(c)) == 0.0)
        assert np.all(security_received(a, s, np.zeros_like(r), t, np.zeros_like(c)) == 0.0)
        assert np.all(security_received(a, s, r, np.zeros_like(t), np.zeros_like(c)) == 0.0)

    def test_one_supplier_delivers_alignment_reach_trust_supply(self):
        a, s, r, t, c = random_inputs(50)
        a[:, 1:] = 0.0
        got = security_received(a, s, r, t, np.zeros_like(c))
        np.testing.assert_allclose(got, (a[:, 0] * r[:, 0] * t[:, 0])[:, None] * s[:, 0])

    def test_bounded_in_unit_interval(self):
        got = security_received(*random_inputs())
        assert np.all((got >= 0.0) & (got <= 1.0))

    @pytest.mark.parametrize("p", range(NP))
    def test_more_of_any_tie_never_lowers_it(self, p):
        a, s, r, t, c = random_inputs()
        more = a.copy()
        more[:, p] = np.minimum(a[:, p] + 0.1, 1.0)
        assert np.all(security_received(more, s, r, t, c) >= security_received(a, s, r, t, c) - 1e-15)

    def test_partners_substitute_with_diminishing_returns(self):
        """The second supplier adds less than the first: what one delivers, the other need not."""
        s = np.full((1, NP, ND), 0.5)
        ones, c = np.ones((1, NP)), np.zeros((1, ND))
        first = security_received(np.array([[1.0, 0, 0]]), s, ones, ones, c)
        both = security_received(np.array([[1.0, 1.0, 0]]), s, ones, ones, c)
        assert np.all(both - first < first)

    def test_own_means_make_partners_worth_less(self):
        a, s, r, t, c = random_inputs(seed=1)
        none, strong = np.zeros_like(c), np.full_like(c, 0.6)
        gain_alone = security_received(a, s, r, t, none)
        gain_strong = security_received(a, s, r, t, strong) - strong
        assert np.all(gain_strong <= gain_alone + 1e-15)


# -- threat faced: each power's threat, tamed or fed by engaging it ---------------------------


class TestThreatFaced:
    def test_without_engagement_it_is_the_sum_of_threats(self):
        g = np.random.default_rng(2)
        threat, e = g.random((10, NP, ND)), g.uniform(-1, 1, (10, NP, ND))
        np.testing.assert_allclose(threat_faced(np.zeros((10, NP)), threat, e), threat.sum(axis=1))

    def test_engagement_tames_where_enmeshment_is_positive(self):
        threat = np.full((1, NP, ND), 0.4)
        e = np.full((1, NP, ND), 0.5)
        assert np.all(threat_faced(np.full((1, NP), 0.8), threat, e) < threat_faced(np.zeros((1, NP)), threat, e))

    def test_engagement_feeds_where_enmeshment_is_negative(self):
        """Ties with the US carry "peaceful evolution": more engagement, more regime threat (003)."""
        w = make_world()
        assert np.all(w.enmeshment[:, US, REGIME] < 0) and np.all(w.threat[:, US, REGIME] > 0)
        a = np.zeros((4, NP))
        deeper = a.copy()
        deeper[:, US] = 0.8
        assert np.all(
            threat_faced(deeper, w.threat, w.enmeshment)[:, REGIME] > threat_faced(a, w.threat, w.enmeshment)[:, REGIME]
        )

    def test_engaging_china_tames_its_threat_at_sea(self):
        w = make_world()
        a = np.zeros((4, NP))
        deeper = a.copy()
        deeper[:, CN] = 0.8
        lower = threat_faced(deeper, w.threat, w.enmeshment)[:, TERRITORY]
        assert np.all(lower < threat_faced(a, w.threat, w.enmeshment)[:, TERRITORY])

    def test_never_negative(self):
        g = np.random.default_rng(3)
        threat, e, a = g.random((500, NP, ND)), g.uniform(-1, 1, (500, NP, ND)), g.random((500, NP))
        assert np.all(threat_faced(a, threat, e) >= 0.0)

    def test_engaging_a_harmless_power_changes_nothing(self):
        w = make_world()
        assert np.all(w.threat[:, RU] == 0)
        a = np.full((4, NP), 0.5)
        more = a.copy()
        more[:, RU] = 0.9
        np.testing.assert_array_equal(
            threat_faced(a, w.threat, w.enmeshment), threat_faced(more, w.threat, w.enmeshment)
        )


class TestManagedThreat:
    """Engagement manages the threat Vietnam lives with, not a rise beyond it (002, 004; docs/ODD.md 7.3)."""

    @staticmethod
    def tamed(threat: float, manageable: float = 0.35, a: float = 0.8) -> float:
        """How much of China's territorial threat engaging China at ``a`` removes."""
        w = with_scalars(make_world(1, powers__CN__threat__territory=threat), manageable_threat=np.array([manageable]))
        sit = situation(w, n=1)
        engaged, apart = np.zeros((1, NP)), np.zeros((1, NP))
        engaged[:, CN] = a
        faced = [threat_faced(x, sit.threat, sit.enmeshment)[0, TERRITORY] for x in (apart, engaged)]
        return faced[0] - faced[1]

    def test_below_the_manageable_level_enmeshment_is_as_given(self):
        w = make_world()
        sit = situation(w)
        assert np.all(w.standing_threat <= w.scalars["manageable_threat"][:, None, None])
        np.testing.assert_array_equal(sit.enmeshment, w.enmeshment)  # bit for bit: the defaults do not move

    def test_a_standing_rise_beyond_it_is_not_tamed(self):
        """Raised from 0.35 to 0.9, China's threat is tamed by as much as before, not by 0.25 of 0.9."""
        at_the_level, raised = self.tamed(0.35), self.tamed(0.9)
        assert raised == pytest.approx(at_the_level, rel=1e-12)
        assert raised == pytest.approx(0.25 * 0.8 * 0.35)
        assert self.tamed(0.9, manageable=10.0) == pytest.approx(0.25 * 0.8 * 0.9)  # the cap off: the old rule

    def test_a_crisis_that_passes_is_tamed_in_full(self):
        """The incident's threat (a shock that ends) is managed as before: 002's "particularly in times of crisis"."""
        w = with_scalars(make_world(1), manageable_threat=np.array([0.35]))
        crisis = w.threat.copy()
        crisis[:, CN, TERRITORY] += 0.3  # the standing threat stays at 0.35
        sit = situation(w, n=1, threat=crisis)
        np.testing.assert_array_equal(sit.enmeshment, w.enmeshment)

    def test_engagement_that_feeds_a_threat_is_not_capped(self):
        w = with_scalars(make_world(), manageable_threat=np.zeros(4))
        sit = situation(w)
        np.testing.assert_array_equal(sit.enmeshment[:, US, REGIME], w.enmeshment[:, US, REGIME])


# -- demand: a level that net security must meet --------------------------------------------


class TestDemand:
    @settings(deadline=None)  # the first example loads the kernel
    @given(st.floats(-1, 1), st.floats(0.01, 1))
    def test_satisfaction_is_the_share_of_demand_met(self, net, demand):
        s = satisfaction(np.array([net]), np.array([demand]))[0]
        assert 0.0 <= s <= 1.0
        assert s == pytest.approx(min(max(net / demand, 0.0), 1.0))

    def test_more_demand_less_satisfied(self):
        net = np.linspace(-0.2, 0.8, 11)
        assert np.all(satisfaction(net, np.full(11, 0.6)) <= satisfaction(net, np.full(11, 0.4)))

    def test_shortfall_vanishes_once_demand_is_met(self):
        assert shortfall(np.array([0.7]), np.array([0.5]))[0] == 0.0
        assert shortfall(np.array([0.2]), np.array([0.5]))[0] == pytest.approx(0.3)

    def test_more_demand_makes_supply_worth_more(self):
        """The reason demand is a level: raising it raises the marginal value of supply (002, 004)."""
        w = make_world()
        a = np.tile([[0.6, 0.7, 0.6]], (4, 1))
        more = a.copy()
        more[:, US] += 0.05  # the US supplies territorial security

        def gain(demand):
            sit = situation(dataclasses.replace(w, demand=w.demand + np.array([0.0, demand, 0.0])))
            return sit.utility(more) - sit.utility(a)

        assert np.all(gain(0.2) > gain(0.0)) and np.all(gain(0.0) > gain(-0.3))

    def test_met_demand_makes_more_supply_worthless(self):
        w = make_world()
        w = dataclasses.replace(w, demand=np.full_like(w.demand, 0.01), threat=np.zeros_like(w.threat))
        sit = situation(w)
        a = np.full((4, NP), 0.6)
        assert np.all(sit.components(a)["insecurity"] == 0.0)


# -- over-reliance, hedging index ---------------------------------------------------------------


class TestOverReliance:
    def test_fully_trusted_partners_carry_no_risk(self):
        a = np.random.default_rng(5).random((100, NP))
        assert np.all(over_reliance(a, np.ones((100, NP))) == 0.0)

    def test_concentration_costs_more_than_balance(self):
        trust = np.full((1, NP), 0.5)
        assert over_reliance(np.array([[0.9, 0.1, 0.1]]), trust)[0] > over_reliance(np.full((1, NP), 0.5), trust)[0]

    def test_relying_on_the_less_trusted_costs_more(self):
        a = np.array([[0.8, 0.2, 0.2]])
        assert over_reliance(a, np.array([[0.2, 0.9, 0.9]]))[0] > over_reliance(a, np.array([[0.9, 0.2, 0.2]]))[0]

    def test_no_engagement_does_not_crash(self):
        assert np.isfinite(over_reliance(np.zeros((2, NP)), np.full((2, NP), 0.5))).all()
        assert np.isfinite(hedging_index(np.zeros((2, NP)))).all()

    def test_hedging_index_is_one_when_even_zero_when_one_tie(self):
        np.testing.assert_allclose(hedging_index(np.full((1, NP), 0.4)), 1.0)
        assert hedging_index(np.array([[0.7, 0.0, 0.0]]))[0] == 0.0


# -- Vietnam's utility: the losses it weighs ----------------------------------------------------


class TestUtility:
    def test_every_loss_is_named_and_nonnegative(self):
        sit = situation(make_world(8, uncertainty=True), a_floor=0.5)
        a = np.random.default_rng(6).random((8, NP))
        c = sit.components(a)
        assert set(c) == {
            "insecurity",
            "over-reliance",
            "entrapment",
            "rivals' displeasure",
            "broken commitment",
            "cost of the tie",
        }
        assert all(np.all(v >= 0) for v in c.values())
        np.testing.assert_allclose(sit.utility(a), -sum(c.values()))

    def test_entrapment_grows_with_the_tie_and_with_rivalry(self):
        w = make_world()
        a = np.full((4, NP), 0.5)
        more = a.copy()
        more[:, US] = 0.8
        sit = situation(w)
        assert np.all(sit.components(more)["entrapment"] > sit.components(a)["entrapment"])
        hotter = situation(dataclasses.replace(w, rivalry=np.minimum(w.rivalry * 1.5, 1.0)))
        assert np.all(hotter.components(a)["entrapment"] > sit.components(a)["entrapment"])

    def test_a_distant_rivalry_entraps_less(self):
        """War in Eastern Europe does not impact Vietnam directly (003): a rival's reach weighs its rivalry."""
        w = make_world()
        far = dataclasses.replace(w, reach=w.reach * np.array([1.0, 1.0, 0.2]))
        a = np.full((4, NP), 0.6)
        assert np.all(situation(far).components(a)["entrapment"] < situation(w).components(a)["entrapment"])

    def test_displeasure_only_above_a_rivals_tolerance(self):
        w = make_world()
        below = np.minimum(w.tolerance.min(axis=1), 0.99) - 0.05
        sit = situation(w)
        assert np.all(sit.components(below)["rivals' displeasure"] == 0.0)
        above = below.copy()
        above[:, US] = 0.95
        assert np.all(sit.components(above)["rivals' displeasure"] > 0.0)

    def test_a_rival_with_less_to_take_is_feared_less(self):
        """Displeasure is weighed by what the rival could take by coercing: its withheld supply and threat."""
        w = make_world()
        a = np.tile([[0.95, 0.7, 0.6]], (4, 1))  # a US tie China cannot bear
        sit = situation(w)
        weaker = situation(w, trust=np.array([[1.0, 0.2, 1.0]]).repeat(4, 0))
        assert np.all(weaker.components(a)["rivals' displeasure"] < sit.components(a)["rivals' displeasure"])

    def test_no_displeasure_without_rivalry(self):
        w = make_world()
        calm = dataclasses.replace(w, rivalry=np.zeros_like(w.rivalry))
        assert np.all(situation(calm).components(np.full((4, NP), 0.99))["rivals' displeasure"] == 0.0)

    def test_commitment_binds_only_below_the_tiers_floor(self):
        sit = situation(a_floor=0.6)
        assert np.all(sit.components(np.full((4, NP), 0.65))["broken commitment"] == 0.0)
        low = sit.components(np.full((4, NP), 0.5))["broken commitment"]
        lower = sit.components(np.full((4, NP), 0.4))["broken commitment"]
        np.testing.assert_allclose(lower, 2 * low)

    def test_tie_cost_is_linear(self):
        w = dataclasses.replace(make_world(), tie_cost=np.tile([[0.0, 0.0, 0.2]], (4, 1)))
        sit = situation(w)
        c = [sit.components(np.tile([[0.5, 0.5, x]], (4, 1)))["cost of the tie"] for x in (0.2, 0.4)]
        np.testing.assert_allclose(c[1], 2 * c[0])

    def test_weights_scale_their_losses(self):
        w = make_world()
        a = np.full((4, NP), 0.5)
        base = situation(w).components(a)
        doubled = situation(with_scalars(w, entrapment_cost=2 * w.scalars["entrapment_cost"])).components(a)
        np.testing.assert_allclose(doubled["entrapment"], 2 * base["entrapment"])

    @settings(max_examples=30, deadline=None)
    @given(st.integers(0, 2**31))
    def test_utility_is_finite_on_any_drawn_world(self, seed):
        from sim.model.params import load_parameters
        from sim.model.streams import Streams
        from sim.model.world import World

        runs = np.arange(16, dtype=np.uint64)
        w = World.assemble(load_parameters().draw(runs, Streams(seed, runs)))
        a = np.random.default_rng(seed).random((16, NP))
        assert np.all(np.isfinite(situation(w).utility(a)))


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 2**31), st.floats(0.001, 0.05))
def test_gains_of_one_tie_moved_equal_the_utility_difference(seed, step):
    """The fast gains (only what hangs on the moved tie recomputed) are the utility differences of each trial."""
    from sim.model.params import load_parameters
    from sim.model.streams import Streams
    from sim.model.world import World

    runs = np.arange(12, dtype=np.uint64)
    w = World.assemble(load_parameters().draw(runs, Streams(seed, runs)))
    g = np.random.default_rng(seed)
    sit = situation(w, trust=g.random((12, NP)), coercion=g.random((12, NP)), floor=g.random((12, NP)))
    a = g.random((12, NP))
    moves = np.tile([-step, 0.0, step], (12, 1))
    fast = sit.gains(a, moves)
    for p in range(NP):
        for k in range(3):
            trial = a.copy()
            trial[:, p] += moves[:, k]
            np.testing.assert_allclose(fast[:, p, k], sit.utility(trial) - sit.utility(a), rtol=1e-9, atol=1e-12)
