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
BELOW_SHARE: dict[int, str] = {}  # none at present (fact 6 was, from 10.10 to 10.12 of docs/ODD.md)

# Facts whose ablation no longer takes them away after a principled change, as measured (docs/ODD.md 10)
ABLATION_KEEPS = {
    3: "since the lines move and ties erode (ODD 10.12), ablated (no Russian arms or regime support, no commitment "
    "or concentration cost) fact 3 still holds in 43 of 100 draws (0.4 allowed; 34 before)",
    6: "since the lines move and ties erode (ODD 10.12), ablated (no Chinese or Russian prosperity supply, no "
    "concentration cost) fact 6 still holds in 46 of 100 draws (0.4 allowed; 30 before), while it holds in 92",
    10: "ablated as its source names it (the US does not value Vietnam: powers.US.interest 0, ODD 10.13), fact 10 "
    "still holds in 68 of 100 draws (0.4 allowed; 67 before a visit's lift faded, ODD 10.14; 66 with powers.US.patient "
    "0 instead, measured before): in the model the visit "
    "leaves the US trajectory whatever the US's interest, so the source's mechanism is not what holds it",
}


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
