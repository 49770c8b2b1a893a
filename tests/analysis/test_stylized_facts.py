"""The stylized facts of MODEL.md (sim.analysis.facts), each as an effect against a null, across the documented ranges.

For every fact: it holds at the defaults; it holds in at least 80% of the
draws of a Latin hypercube over every documented range (the sources' orders
kept); and with the mechanism it rests on switched off it fails, at the
defaults and in most draws. The counts are in docs/ODD.md 1.2 (``bamboo facts``
prints them).
"""

import numpy as np
import pytest
from conftest import run_cli

from sim.analysis.facts import FACTS, Design, table

DRAWS, REPS = 100, 30
SHARE = 0.8  # the share of draws a fact must hold in
# Facts that a principled change of the model took below SHARE, as measured (docs/ODD.md 10): expected to fail,
# strictly, until the team decides; never a threshold tuned to pass
BELOW_SHARE = {
    4: "since engagement no longer tames a standing rise in China's threat beyond what it manages (ODD 10.16), fact "
    "4, now judged for a standing rise as well as a crisis, holds in 63 of 100 draws (the crisis alone in 95; 97 "
    "before, on the earlier hypercube): the standing rise raises the US tie by 0.01 or more in 99 draws, but more "
    "than China's in 63",
}  # (fact 6 was below it from 10.10 to 10.12 of docs/ODD.md)

# Facts whose ablation no longer takes them away after a principled change, as measured (docs/ODD.md 10)
ABLATION_KEEPS = {
    1: "ablated as the verdict issue names it (no power bears any tie of Vietnam's with a rival: every "
    "powers.<p>.tolerance.<q> 0, ODD 10.14), fact 1 still holds in 87 of 100 draws (0.4 allowed): the model's "
    "Vietnam learns the lines and gives way, where a frozen Vietnam survives in 5 (test_a_world_that_pushes_back)",
    6: "ablated as its source names it (no alternative trading partners: China's and Russia's prosperity supply 0, "
    "ODD 10.14), fact 6 still holds in 68 of 100 draws (0.4 allowed; 65 with the concentration cost off instead): "
    "the tariff also lowers US reliability, so Russia's arms substitute (Russia still rises in 90 of 100)",
    10: "ablated as its source names it (the US does not value Vietnam: powers.US.interest 0, ODD 10.13), fact 10 "
    "still holds in 73 of 100 draws (0.4 allowed; 67 before 10.16 redrew the hypercube, 66 with "
    "powers.US.patient 0 instead): in the model the visit leaves the US trajectory whatever the US's interest, so "
    "the source's mechanism is not what holds it",
}  # (fact 3's ablation kept it from 10.12 to 10.14 of docs/ODD.md: 43 of 100; 23 since, 003's four reasons)


def marked(number: int, reasons: dict[int, str]) -> object:
    """Fact ``number`` as a test parameter, marked as an expected failure if ``reasons`` names it."""
    reason = reasons.get(number)
    return pytest.param(number, marks=pytest.mark.xfail(strict=True, reason=reason)) if reason else number


@pytest.fixture(scope="module")
def defaults():
    return Design.defaults(reps=200)


@pytest.fixture(scope="module")
def design():
    return Design.latin_hypercube(draws=DRAWS, reps=REPS)


def test_every_fact_of_the_brief_is_tested():
    assert sorted(FACTS) == list(range(1, 11))
    for fact in FACTS.values():
        assert fact.claim and fact.source and fact.null and fact.mechanism
        assert fact.ablation or fact.ablated_powers, fact.number


@pytest.mark.parametrize("number", sorted(FACTS))
def test_fact_holds_at_the_defaults(defaults, number):
    result = FACTS[number].evaluate(defaults)
    assert result.holds.all(), {k: v.round(4).tolist() for k, v in result.detail.items()}


@pytest.mark.parametrize("number", [marked(n, BELOW_SHARE) for n in sorted(FACTS)])
def test_fact_holds_across_the_documented_ranges(design, number):
    result = FACTS[number].evaluate(design)
    assert result.share >= SHARE, f"fact {number} holds in {result.holds.sum()} of {design.draws} draws"


@pytest.mark.parametrize("number", [marked(n, ABLATION_KEEPS) for n in sorted(FACTS)])
def test_fact_fails_without_its_mechanism(design, number):
    """Switched off, the mechanism takes the fact with it in most draws."""
    fact = FACTS[number]
    ablated = fact.evaluate(design, ablated=True)
    assert ablated.share <= 0.4, f"fact {number} still holds in {ablated.holds.sum()} of {design.draws} draws"
    assert ablated.share <= fact.evaluate(design).share - 0.4


def test_the_design_covers_every_range_and_keeps_the_orders(design):
    params = design.parameters
    for p in params.ranged():
        v = design.values[p.path]
        assert v.min() >= p.range[0] and v.max() <= p.range[1], p.path
        if not any(p.path in pair for pair in params.orders):
            assert v.min() < p.range[0] + 0.05 * (p.range[1] - p.range[0]), p.path  # a hypercube reaches the ends
    for hi, lo in params.orders:
        assert np.all(design.values[hi] > design.values[lo]), (hi, lo)


@pytest.mark.slow
def test_the_table_is_what_bamboo_facts_prints():
    done = run_cli("facts", "--draws", 2, "--reps", 2, "--seed", 9)
    assert done.returncode == 0, done.stderr
    heading = "Stylized facts: 2 Latin-hypercube draws over every documented range, 2 runs each"
    assert done.stdout == f"{heading}\n\n{table(draws=2, reps=2, seed=9)}\n"


def test_what_each_partner_delivers_adds_up_to_what_they_deliver_together():
    """Fact 2's measure (model.delivery): Shapley shares of the noisy-OR, summing to all partners' joint addition."""
    from sim.model.delivery import received, shapley_shares

    rng = np.random.default_rng(5)
    delivered, capability = rng.uniform(0, 0.6, (50, 3, 3)), rng.uniform(0, 0.4, (50, 3))
    shares = shapley_shares(delivered, capability)
    together = received(delivered, capability, (0, 1, 2)) - received(delivered, capability, ())
    np.testing.assert_allclose(shares.sum(axis=1), together, atol=1e-12)
    alone = delivered.copy()
    alone[:, 1:] = 0.0  # only the first partner delivers: it has it all, the others nothing
    only = shapley_shares(alone, capability)
    np.testing.assert_allclose(only[:, 0], received(alone, capability, (0,)) - received(alone, capability, ()))
    np.testing.assert_allclose(only[:, 1:], 0.0, atol=1e-15)


def _tolerating_nothing(design):
    """The design with no power bearing any tie of Vietnam's with its rivals (fact 1's ablation)."""
    return design.with_values(dict(FACTS[1].ablation))


def test_a_world_that_pushes_back_ends_a_frozen_vietnam_and_not_the_model_s(design):
    """Fact 1's two causes: the powers' tolerance, and a Vietnam that learns the lines and gives way.

    Where no power bears Vietnam's other ties, the powers coerce and walk away: a Vietnam that stands still
    loses its partnerships in most draws, while the model's Vietnam keeps multi-alignment (docs/ODD.md 10.14).
    """
    harsh = _tolerating_nothing(design)
    frozen = harsh.per_draw(harsh.run(strategy="frozen").verdict.survived.astype(float))
    hedger = harsh.per_draw(harsh.run().verdict.survived.astype(float))
    assert (frozen >= 0.9).mean() <= 0.4, f"a frozen Vietnam survives in {(frozen >= 0.9).sum()} draws"
    assert (hedger >= 0.9).mean() >= SHARE, f"the model's Vietnam survives in {(hedger >= 0.9).sum()} draws"


def test_what_keeps_the_russia_tie_from_ending_under_caatsa(design):
    """Without 003's reasons the tie sags but is not ended: the siding rule and the tier's commitment hold it.

    Fact 3's ablation (003's four reasons) takes the fact away because the sanctions no longer weaken a tie that
    has already sagged, not because the tie ends; only with the Four No's' siding gap opened and the commitment
    cost gone as well do the sanctions end it in most draws (docs/ODD.md 10.14).
    """
    fact = FACTS[3]
    reasons = design.with_values(dict(fact.ablation))
    kept = fact.measure(reasons).detail["russia_kept"]
    assert (kept >= 0.8).mean() >= SHARE, f"kept in {(kept >= 0.8).sum()} draws without 003's reasons"
    unheld = reasons.with_values({"thresholds.siding": 1.0, "behaviour.commitment_cost": 0.0})
    kept = fact.measure(unheld).detail["russia_kept"]
    assert (kept >= 0.8).mean() <= 0.4, f"kept in {(kept >= 0.8).sum()} draws with nothing holding the tie"
