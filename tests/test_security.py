"""The security mechanisms of sim.security, one group of tests per mechanism."""

import dataclasses
import itertools

import numpy as np
import pytest

from sim.params import DIMENSIONS, POWERS, World, load_parameters
from sim.security import (
    Situation,
    concentration,
    effective_supply,
    hedging_index,
    satisfaction,
    security_received,
    security_utility,
    threat_level,
)

US, CN, RU = (POWERS.index(p) for p in ("US", "CN", "RU"))
REGIME, TERRITORY, PROSPERITY = (DIMENSIONS.index(d) for d in ("regime", "territory", "prosperity"))
NP, ND = len(POWERS), len(DIMENSIONS)


def make_world(n: int = 4, uncertainty: bool = False) -> World:
    params = load_parameters()
    runs = np.arange(n, dtype=np.uint64)
    if uncertainty:
        from sim.streams import Streams

        return World.assemble(params.draw(runs, Streams(11, runs)))
    return World.assemble(params.draw(runs, None))


def with_scalars(world: World, **changes) -> World:
    return dataclasses.replace(world, scalars={**world.scalars, **changes})


def random_inputs(n=2_000, seed=0):
    """Random alignments, supplies, reach and trust inside [0, 1]."""
    g = np.random.default_rng(seed)
    return g.random((n, NP)), g.random((n, NP, ND)), g.random((n, NP)), g.random((n, NP))


# -- security_received: noisy-OR over suppliers --------------------------------


class TestSecurityReceived:
    def test_zero_alignment_gives_nothing(self):
        _, supply, reach, trust = random_inputs()
        r = security_received(np.zeros((len(reach), NP)), supply, reach, trust)
        np.testing.assert_array_equal(r, 0.0)

    def test_zero_supply_gives_nothing(self):
        a, supply, reach, trust = random_inputs()
        r = security_received(a, np.zeros_like(supply), reach, trust)
        np.testing.assert_array_equal(r, 0.0)

    def test_zero_reach_or_trust_gives_nothing(self):
        a, supply, reach, trust = random_inputs()
        np.testing.assert_array_equal(security_received(a, supply, np.zeros_like(reach), trust), 0.0)
        np.testing.assert_array_equal(security_received(a, supply, reach, np.zeros_like(trust)), 0.0)

    def test_one_supplier_delivers_its_product(self):
        a, supply, reach, trust = random_inputs()
        a[:, 1:] = 0.0
        r = security_received(a, supply, reach, trust)
        expected = (a[:, 0] * reach[:, 0] * trust[:, 0])[:, None] * supply[:, 0, :]
        np.testing.assert_allclose(r, expected, rtol=1e-12, atol=1e-15)

    def test_bounded_in_unit_interval(self):
        a, supply, reach, trust = random_inputs()
        r = security_received(a, supply, reach, trust)
        assert r.shape == (len(a), ND)
        assert np.all((r >= 0.0) & (r <= 1.0))
        full = security_received(np.ones((1, NP)), np.ones((1, NP, ND)), np.ones((1, NP)), np.ones((1, NP)))
        np.testing.assert_array_equal(full, 1.0)

    @pytest.mark.parametrize("q", range(NP))
    def test_adding_a_supplier_never_lowers_it(self, q):
        a, supply, reach, trust = random_inputs(seed=q)
        without = a.copy()
        without[:, q] = 0.0
        r_with = security_received(a, supply, reach, trust)
        r_without = security_received(without, supply, reach, trust)
        assert np.all(r_with >= r_without)
        # strictly more wherever the added supplier delivers something and the others don't saturate
        delivers = (a[:, q] * reach[:, q] * trust[:, q])[:, None] * supply[:, q, :] > 1e-9
        assert np.all(r_with[delivers] > r_without[delivers])

    def test_more_alignment_never_lowers_it(self):
        a, supply, reach, trust = random_inputs()
        for p in range(NP):
            more = a.copy()
            more[:, p] = np.minimum(a[:, p] + 0.1, 1.0)
            assert np.all(security_received(more, supply, reach, trust) >= security_received(a, supply, reach, trust))

    def test_diminishing_returns_for_identical_suppliers(self):
        _, supply, reach, trust = random_inputs()
        supply[:, 1, :] = supply[:, 0, :]
        reach[:, 1], trust[:, 1] = reach[:, 0], trust[:, 0]
        x = np.random.default_rng(5).uniform(0.05, 1.0, len(reach))
        none = np.zeros((len(x), NP))
        one, two = none.copy(), none.copy()
        one[:, 0] = x
        two[:, 0] = two[:, 1] = x
        r0, r1, r2 = (security_received(a, supply, reach, trust) for a in (none, one, two))
        first, second = r1 - r0, r2 - r1
        positive = first > 1e-9
        assert positive.any()
        assert np.all(second[positive] < first[positive])

    def test_partners_substitute(self):
        """Submodular: a supplier adds less when another is already supplying."""
        a, supply, reach, trust = random_inputs(seed=9)
        alone, with_other = a.copy(), a.copy()
        alone[:, 1:] = 0.0  # only supplier 0
        with_other[:, 2] = 0.0  # suppliers 0 and 1
        only_other = with_other.copy()
        only_other[:, 0] = 0.0
        gain_alone = security_received(alone, supply, reach, trust)
        gain_with_other = security_received(with_other, supply, reach, trust) - security_received(
            only_other, supply, reach, trust
        )
        assert np.all(gain_with_other <= gain_alone + 1e-12)


# -- threat_level: engagement tames the threat ---------------------------------


class TestThreatLevel:
    def test_no_engagement_gives_the_sum_of_threats(self):
        w = make_world()
        h = threat_level(np.zeros((4, NP)), w.threat, w.scalars["enmeshment"])
        np.testing.assert_allclose(h, w.threat.sum(axis=1))

    @pytest.mark.parametrize("p", range(NP))
    def test_engagement_reduces_threat(self, p):
        g = np.random.default_rng(p)
        n = 500
        threat = g.random((n, NP, ND))
        enmeshment = g.uniform(0.05, 1.0, n)
        a = g.random((n, NP))
        levels = np.linspace(0.0, 1.0, 11)
        hs = []
        for level in levels:
            trial = a.copy()
            trial[:, p] = level
            hs.append(threat_level(trial, threat, enmeshment))
        hs = np.stack(hs)
        assert np.all(np.diff(hs, axis=0) < 0.0)  # strictly decreasing: all threats here are positive

    def test_engaging_a_harmless_power_changes_nothing(self):
        w = make_world()
        threat = w.threat.copy()
        threat[:, RU] = 0.0
        w = dataclasses.replace(w, threat=threat)
        a = np.full((4, NP), 0.5)
        more_ru = a.copy()
        more_ru[:, RU] = 0.9
        e = w.scalars["enmeshment"]
        np.testing.assert_array_equal(threat_level(a, w.threat, e), threat_level(more_ru, w.threat, e))

    def test_no_enmeshment_no_taming(self):
        w = make_world()
        zero = np.zeros(4)
        h0 = threat_level(np.zeros((4, NP)), w.threat, zero)
        h1 = threat_level(np.ones((4, NP)), w.threat, zero)
        np.testing.assert_array_equal(h0, h1)


# -- satisfaction ---------------------------------------------------------------


class TestSatisfaction:
    def test_zero_when_threat_outweighs_supply(self):
        g = np.random.default_rng(1)
        threat = g.random((1_000, ND))
        received = threat * g.random((1_000, ND))  # received <= threat
        demand = g.uniform(0.1, 1.0, (1_000, ND))
        np.testing.assert_array_equal(satisfaction(received, threat, demand), 0.0)
        np.testing.assert_array_equal(satisfaction(threat, threat, demand), 0.0)
        # the utility itself is negative there, and not clipped
        strictly = received < threat
        assert np.all(security_utility(received, threat, demand)[strictly] < 0.0)

    def test_increasing_in_received(self):
        demand = np.full(ND, 0.5)
        threat = np.full(ND, 0.2)
        received = np.linspace(0.2, 1.0, 50)[:, None] * np.ones(ND)
        s = satisfaction(received, threat, demand)
        assert np.all(np.diff(s, axis=0) > 0.0)

    def test_decreasing_in_demand(self):
        received, threat = np.full(ND, 0.7), np.full(ND, 0.2)
        demand = np.linspace(0.1, 1.0, 50)[:, None] * np.ones(ND)
        s = satisfaction(received, threat, demand)
        assert np.all(np.diff(s, axis=0) < 0.0)

    def test_bounded(self):
        g = np.random.default_rng(2)
        received, threat = g.random((5_000, ND)), 2 * g.random((5_000, ND))
        demand = g.uniform(0.01, 1.0, (5_000, ND))
        s = satisfaction(received, threat, demand)
        assert np.all((s >= 0.0) & (s <= 1.0))
        assert np.all(s[received > threat] > 0.0)

    def test_situation_satisfaction_is_the_clipped_utility(self):
        w = make_world(uncertainty=True)
        sit = Situation(w, effective_supply(w, np.zeros((4, NP)), np.zeros((4, NP))), w.threat, w.reliability)
        a = np.full((4, NP), 0.6)
        np.testing.assert_array_equal(sit.satisfaction(a), np.maximum(sit.security_utility(a), 0.0))


# -- concentration and the hedging index ---------------------------------------


class TestConcentrationAndHedging:
    @pytest.mark.parametrize("n", [2, 3, 5])
    @pytest.mark.parametrize("level", [0.01, 0.37, 1.0])
    def test_even_engagement(self, n, level):
        a = np.full((1, n), level)
        assert concentration(a)[0] == pytest.approx(1.0 / n, abs=1e-12)
        assert hedging_index(a)[0] == pytest.approx(1.0, abs=1e-12)

    @pytest.mark.parametrize("p", range(NP))
    def test_one_tie_only(self, p):
        a = np.zeros((1, NP))
        a[0, p] = 0.7
        assert concentration(a)[0] == 1.0
        assert hedging_index(a)[0] == 0.0

    def test_scale_free_and_bounded(self):
        g = np.random.default_rng(3)
        a = g.random((2_000, NP))
        c, h = concentration(a), hedging_index(a)
        assert np.all((c >= 1.0 / NP - 1e-12) & (c <= 1.0))
        assert np.all((h >= 0.0) & (h <= 1.0 + 1e-12))
        np.testing.assert_allclose(concentration(0.5 * a), c, rtol=1e-12)
        np.testing.assert_allclose(hedging_index(0.5 * a), h, rtol=1e-12)

    def test_more_uneven_is_more_concentrated(self):
        a = np.array([[0.5, 0.5, 0.5], [0.6, 0.5, 0.4], [0.8, 0.5, 0.2], [0.9, 0.5, 0.0]])
        assert np.all(np.diff(concentration(a)) > 0)
        assert np.all(np.diff(hedging_index(a)) < 0)

    def test_no_engagement_does_not_crash(self):
        a = np.zeros((1, NP))
        assert np.isfinite(concentration(a)).all()
        assert np.isfinite(hedging_index(a)).all()


# -- effective_supply: courtship, coercion, Russia-China closeness ---------------


class TestEffectiveSupply:
    def base(self, w):
        n = w.supply.shape[0]
        return effective_supply(w, np.zeros((n, NP)), np.zeros((n, NP)))

    def test_does_not_modify_the_world(self):
        w = make_world()
        before = w.supply.copy()
        effective_supply(w, np.full((4, NP), 0.5), np.full((4, NP), 0.5))
        np.testing.assert_array_equal(w.supply, before)

    def test_bounded(self):
        w = make_world(uncertainty=True)
        for c in (0.0, 0.5, 1.0):
            s = effective_supply(w, np.full((4, NP), c), np.full((4, NP), 1 - c))
            assert np.all((s >= 0.0) & (s <= 1.0))

    @pytest.mark.parametrize("p", range(NP))
    def test_courtship_raises_only_the_courting_powers_offer(self, p):
        w = make_world()
        court = np.zeros((4, NP))
        court[:, p] = 0.8
        courted = effective_supply(w, court, np.zeros((4, NP)))
        base = self.base(w)
        others = [q for q in range(NP) if q != p]
        np.testing.assert_array_equal(courted[:, others], base[:, others])
        offered = base[:, p] > 0
        assert offered.any()
        assert np.all(courted[:, p][offered] > base[:, p][offered])
        assert np.all(courted[:, p][~offered] == 0.0)

    def test_more_courtship_more_supply(self):
        w = make_world()
        levels = np.linspace(0, 1, 6)
        s = [effective_supply(w, np.full((4, NP), c), np.zeros((4, NP))) for c in levels]
        assert all(np.all(b >= a) for a, b in itertools.pairwise(s))

    def test_coercion_withdraws_only_the_withheld_dimensions(self):
        g = np.random.default_rng(4)
        w = make_world()
        withholds = (g.random(w.withholds.shape) < 0.5).astype(float)
        w = dataclasses.replace(w, withholds=withholds)
        base = self.base(w)
        coerced = effective_supply(w, np.zeros((4, NP)), np.ones((4, NP)))
        np.testing.assert_array_equal(coerced[withholds == 0], base[withholds == 0])
        np.testing.assert_array_equal(coerced[withholds == 1], 0.0)

    @pytest.mark.parametrize("p", range(NP))
    def test_a_coercing_power_withdraws_only_its_own_supply(self, p):
        w = make_world()
        withholds = w.withholds.copy()
        withholds[:, p] = [0.0, 1.0, 0.5]  # one dimension kept, one withdrawn, one halved
        supply = w.supply.copy()
        supply[:, p] = 0.5
        w = dataclasses.replace(w, withholds=withholds, supply=supply)
        coercion = np.zeros((4, NP))
        coercion[:, p] = 0.6
        base, coerced = self.base(w), effective_supply(w, np.zeros((4, NP)), coercion)
        others = [q for q in range(NP) if q != p]
        np.testing.assert_array_equal(coerced[:, others], base[:, others])
        assert np.all(coerced[:, p] <= base[:, p])
        withheld = (w.withholds[:, p] > 0) & (base[:, p] > 0)
        assert withheld.any()
        assert np.all(coerced[:, p][withheld] < base[:, p][withheld])
        np.testing.assert_array_equal(coerced[:, p][w.withholds[:, p] == 0], base[:, p][w.withholds[:, p] == 0])

    def test_russia_china_closeness_lowers_only_russias_territorial_supply(self):
        w = make_world()
        assert np.all(w.scalars["deference"] > 0)
        far = self.base(with_scalars(w, russia_china_closeness=np.zeros(4)))
        levels = [0.3, 0.6, 0.9]
        near = [self.base(with_scalars(w, russia_china_closeness=np.full(4, c))) for c in levels]
        mask = np.zeros((NP, ND), dtype=bool)
        mask[RU, TERRITORY] = True
        previous = far
        for s in near:
            np.testing.assert_array_equal(s[:, ~mask], far[:, ~mask])
            assert np.all(s[:, RU, TERRITORY] < previous[:, RU, TERRITORY])
            previous = s

    def test_no_deference_means_closeness_is_harmless(self):
        w = with_scalars(make_world(), deference=np.zeros(4))
        a = self.base(with_scalars(w, russia_china_closeness=np.zeros(4)))
        b = self.base(with_scalars(w, russia_china_closeness=np.ones(4)))
        np.testing.assert_array_equal(a, b)


# -- Situation.components: the costs of ties -------------------------------------


def situation(world: World) -> Situation:
    n = world.supply.shape[0]
    supply = effective_supply(world, np.zeros((n, NP)), np.zeros((n, NP)))
    return Situation(world, supply, world.threat, world.reliability)


class TestComponents:
    def test_all_components_present_and_nonnegative_costs(self):
        w = make_world(uncertainty=True)
        c = situation(w).components(np.full((4, NP), 0.7))
        assert set(c) == {"security", "concentration", "entrapment", "displeasure", "tie_cost"}
        for name in ("concentration", "entrapment", "displeasure", "tie_cost"):
            assert c[name].shape == (4,)
            assert np.all(c[name] >= 0.0), name

    def test_utility_is_security_minus_costs(self):
        w = make_world(uncertainty=True)
        sit = situation(w)
        a = np.random.default_rng(0).random((4, NP))
        c = sit.components(a)
        expected = c["security"] - c["concentration"] - c["entrapment"] - c["displeasure"] - c["tie_cost"]
        np.testing.assert_allclose(sit.utility(a), expected, rtol=1e-12)

    def test_entrapment_grows_with_rivalry(self):
        w = make_world(uncertainty=True)
        a = np.full((4, NP), 0.6)
        levels = [0.0, 0.5, 1.0, 1.5]
        values = [situation(dataclasses.replace(w, rivalry=w.rivalry * k)).components(a)["entrapment"] for k in levels]
        np.testing.assert_array_equal(values[0], 0.0)
        for lo, hi in itertools.pairwise(values):
            assert np.all(hi > lo)

    def test_entrapment_grows_with_alignment_with_a_rival(self):
        w = make_world()
        sit = situation(w)
        low, high = np.full((4, NP), 0.5), np.full((4, NP), 0.5)
        high[:, US] = 0.8  # the US has rivals
        assert np.all(sit.components(high)["entrapment"] > sit.components(low)["entrapment"])

    def test_displeasure_zero_below_tolerance(self):
        w = make_world(uncertainty=True)
        off_diagonal = ~np.eye(NP, dtype=bool)
        lowest = w.tolerance[:, off_diagonal].min()
        a = np.full((4, NP), lowest - 0.01)
        assert np.all(a > 0)
        np.testing.assert_array_equal(situation(w).components(a)["displeasure"], 0.0)

    def test_displeasure_positive_above_a_rivals_tolerance(self):
        w = make_world()
        sit = situation(w)
        # the US tie crosses China's tolerance of it (China is the US's rival)
        a = np.full((4, NP), 0.3)
        a[:, US] = w.tolerance[:, CN, US] + 0.05
        assert np.all(w.rivalry[:, CN, US] > 0)
        d = sit.components(a)["displeasure"]
        assert np.all(d > 0.0)
        # and grows the further the tie goes past it
        a2 = a.copy()
        a2[:, US] += 0.05
        assert np.all(sit.components(a2)["displeasure"] > d)

    def test_no_displeasure_without_rivalry(self):
        w = make_world()
        w = dataclasses.replace(w, rivalry=np.zeros_like(w.rivalry))
        np.testing.assert_array_equal(situation(w).components(np.ones((4, NP)))["displeasure"], 0.0)

    def test_tie_cost_is_linear(self):
        w = make_world(uncertainty=True)
        sit = situation(w)
        g = np.random.default_rng(8)
        a1, a2 = g.random((4, NP)) / 2, g.random((4, NP)) / 2

        def tc(a):
            return sit.components(a)["tie_cost"]

        np.testing.assert_array_equal(tc(np.zeros((4, NP))), 0.0)
        np.testing.assert_allclose(tc(a1 + a2), tc(a1) + tc(a2), rtol=1e-12)
        np.testing.assert_allclose(tc(1.5 * a1), 1.5 * tc(a1), rtol=1e-12)
        for p in range(NP):
            unit = np.zeros((4, NP))
            unit[:, p] = 1.0
            np.testing.assert_allclose(tc(unit), w.tie_cost[:, p], rtol=1e-12)

    def test_concentration_cost_follows_concentration(self):
        w = make_world()
        sit = situation(w)
        even, uneven = np.full((4, NP), 0.5), np.array([[0.9, 0.5, 0.1]] * 4)
        assert np.all(sit.components(uneven)["concentration"] > sit.components(even)["concentration"])
