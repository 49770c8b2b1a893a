"""The compiled kernels (sim.kernels) against the numpy reference of each mechanism, bit for bit.

The model runs the kernels; the numpy code in sim.agents, sim.security,
sim.streams, sim.outcomes and sim.results is the reference (``compiled=False``).
Each mechanism is compared on random worlds and states drawn by Hypothesis,
edges included (ties at zero, at the ceiling, at a tier's bounds), and the
whole model is compared end to end.
"""

import dataclasses

import numpy as np
import pytest
from conftest import FF, PHILOX_KNOWN_ANSWERS, SCENARIOS
from hypothesis import given, settings
from hypothesis import strategies as st

from sim import kernels
from sim.model import BalanceModel
from sim.outcomes import conditions
from sim.params import POWERS, TIERS, World, load_parameters
from sim.results import SERIES, Aggregate
from sim.scenario import load_scenario
from sim.security import Situation, hedging_index
from sim.strategies import STRATEGIES
from sim.streams import Streams, channel, philox4x32

NP = len(POWERS)
SETTINGS = settings(max_examples=40, deadline=None)
seeds = st.integers(0, 2**63 - 1)
sizes = st.integers(1, 40)


def state(g: np.random.Generator, shape, edges=(0.0, 1.0)) -> np.ndarray:
    """Uniform values in [0, 1], about a fifth of them set to one of ``edges``."""
    x = g.random(shape)
    at_edge = g.random(shape) < 0.2
    x[at_edge] = g.choice(np.asarray(edges, dtype=float), size=int(at_edge.sum()))
    return x


def world(seed: int, n: int) -> World:
    runs = np.arange(n, dtype=np.uint64)
    return World.assemble(load_parameters().draw(runs, Streams(seed, runs, compiled=False), everything=True))


def situations(seed: int, n: int) -> tuple[Situation, Situation, np.ndarray]:
    """The same random situation twice, compiled and reference, and an alignment to weigh it at."""
    w = world(seed, n)
    g = np.random.default_rng(seed)
    fields = {
        "supply": state(g, (n, NP, 3)),
        "threat": state(g, (n, NP, 3)),
        "trust": state(g, (n, NP)),
        "floor": state(g, (n, NP)),
        "coercion": state(g, (n, NP)),
    }
    a = state(g, (n, NP))
    return Situation(w, **fields, compiled=True), Situation(w, **fields), a


def assert_same(compiled, reference):
    """Equal bit for bit: same dtype, same shape, same values (nan where nan)."""
    compiled, reference = np.asarray(compiled), np.asarray(reference)
    assert compiled.dtype == reference.dtype
    np.testing.assert_array_equal(compiled, reference, strict=True)


def test_every_kernel_is_compiled():
    """A rule that lost its decorator would still agree with the reference, only a hundred times slower."""
    import inspect

    from numba.core.dispatcher import Dispatcher

    defined = [f for name, f in vars(kernels).items() if getattr(f, "__module__", None) == kernels.__name__]
    plain = [f.__name__ for f in defined if inspect.isfunction(f) and f.__name__ != "warm_up"]
    assert plain == []
    compiled = [f for f in vars(kernels).values() if isinstance(f, Dispatcher)]
    assert len(compiled) >= 20
    # and cached on disk, so that only the first process after installation compiles them
    assert all(type(f._cache).__name__ == "FunctionCache" for f in compiled)


# -- random numbers: Philox4x32-10 -------------------------------------------------------


@pytest.mark.parametrize(
    ("counter", "key", "expected"), list(PHILOX_KNOWN_ANSWERS.values()), ids=list(PHILOX_KNOWN_ANSWERS)
)
def test_compiled_philox_gives_the_random123_known_answers(counter, key, expected):
    block = kernels.philox_block(np.array([counter], np.uint32), np.array(key, np.uint32))
    assert [int(w) for w in block[0]] == list(expected)


@SETTINGS
@given(st.lists(st.tuples(*[st.integers(0, FF)] * 6), min_size=1, max_size=20))
def test_compiled_philox_is_the_numpy_block_function(blocks):
    for c0, c1, c2, c3, k0, k1 in blocks:
        compiled = kernels.philox_block(np.array([[c0, c1, c2, c3]], np.uint32), np.array([k0, k1], np.uint32))
        assert [int(w) for w in compiled[0]] == [int(w) for w in philox4x32((c0, c1, c2, c3), (k0, k1))]


@SETTINGS
@given(
    key=st.integers(0, 2**64 - 1),
    runs=st.lists(st.integers(0, 2**64 - 1), min_size=1, max_size=30),
    step=st.integers(0, 2**32 + 5),
    width=st.integers(1, 13),
    name=st.text(max_size=20),
)
def test_compiled_streams_are_todays_streams(key, runs, step, width, name):
    """The model's uniforms and Gumbel noise are the numpy streams' numbers, bit for bit, for any run and step."""
    runs = np.array(runs, dtype=np.uint64)
    compiled, reference = Streams(key, runs), Streams(key, runs, compiled=False)
    assert_same(compiled.uniform(step, name, width), reference.uniform(step, name, width))
    assert_same(compiled.gumbel(step, name, width), reference.gumbel(step, name, width))


def test_a_compiled_stream_word_is_addressed_as_documented():
    s = Streams(7, np.array([3], dtype=np.uint64))
    w = philox4x32((3, 0, 5, channel("x")), (7, 0))
    assert_same(s.uniform(5, "x", width=4)[0], (np.array([int(x) for x in w], dtype=np.float64) + 0.5) / 2.0**32)


# -- what Vietnam receives, faces and gains (sim.security) ---------------------------------


@SETTINGS
@given(seeds, sizes)
def test_situation_constants_agree(seed, n):
    compiled, reference, _ = situations(seed, n)
    assert_same(compiled.rivalries, reference.rivalries)
    assert_same(compiled.stake, reference.stake)


@SETTINGS
@given(seeds, sizes)
def test_satisfaction_agrees(seed, n):
    compiled, reference, a = situations(seed, n)
    assert_same(compiled.satisfaction(a), reference.satisfaction(a))
    zeros = np.zeros_like(a)
    assert_same(compiled.satisfaction(zeros), reference.satisfaction(zeros))
    w, sit = compiled.world, compiled
    alone = kernels.satisfaction_alone(sit.supply, sit.threat, sit.trust, w.reach, w.capability, w.enmeshment, w.demand)
    assert_same(alone, reference.satisfaction(zeros).mean(axis=1))


@SETTINGS
@given(seeds, sizes, st.sampled_from([0.0, 1e-3, 0.02, 0.25]))
def test_gains_agree(seed, n, step):
    """Utility change of each trial move: the kernel is ``Situation.gains`` (itself checked against utility)."""
    compiled, reference, a = situations(seed, n)
    moves = np.tile([-step, 0.0, step], (n, 1))
    assert_same(compiled.gains(a, moves), reference.gains(a, moves))


def test_gains_agree_with_an_even_split_when_every_tie_is_cut():
    compiled, reference, a = situations(5, 8)
    a[:] = 0.0
    moves = np.tile([-0.01, 0.0, 0.01], (8, 1))
    assert_same(compiled.gains(a, moves), reference.gains(a, moves))


# -- the agents (sim.agents) ------------------------------------------------------------------


def model_at(seed: int, n: int, strategy: str = "hedge") -> BalanceModel:
    """A model some steps in, with Vietnam's ties, memory, tiers and the powers' state scrambled at random."""
    m = BalanceModel(runs=n, rng=seed % 2**32, uncertainty=True, strategy=strategy, record=False, compiled=False)
    m.run_for(2)
    g = np.random.default_rng(seed)
    h = m.hedger
    ceiling = h.ceiling()
    h.alignment = np.minimum(state(g, (n, NP)), ceiling)
    h.previous = np.minimum(state(g, (n, NP)), ceiling)
    h.memory = state(g, (n, NP))
    h.tier = g.integers(0, len(TIERS) - 1, (n, NP))
    h.pressing = g.integers(0, 5, (n, NP))
    h.lapsing = g.integers(0, 5, (n, NP))
    for p in m.great_powers:
        p.courtship, p.coercion = state(g, n), state(g, n)
    return m


def both_ways(m: BalanceModel, act):
    """``act(m)`` with the compiled rules and with the reference, from the same state; returns both results."""
    snapshot = {
        "hedger": dict(vars(m.hedger)),
        "powers": [dict(vars(p)) for p in m.great_powers],
    }
    out = []
    for compiled in (True, False):
        vars(m.hedger).update(snapshot["hedger"])
        for p, saved in zip(m.great_powers, snapshot["powers"], strict=True):
            vars(p).update(saved)
        m.compiled = compiled
        out.append(act(m))
    return out


@SETTINGS
@given(seeds, sizes)
def test_the_powers_respond_offer_and_threaten_alike(seed, n):
    m = model_at(seed, n)

    def act(m):
        m.powers.do("respond")
        return [(p.courtship, p.coercion, p.offer(), p.threat(), p.delivery()) for p in m.great_powers]

    compiled, reference = both_ways(m, act)
    for c, r in zip(compiled, reference, strict=True):
        for x, y in zip(c, r, strict=True):
            assert_same(x, y)


@SETTINGS
@given(seeds, sizes, st.sampled_from(sorted(STRATEGIES)))
def test_vietnam_perceives_chooses_and_moves_alike(seed, n, strategy):
    """Perception, the moves the Four No's allow, the logit choice and carrying it out, under each strategy."""
    m = model_at(seed, n, strategy)

    def act(m):
        h = m.hedger
        h.adjust()
        return h.situation.trust, h.feasible_moves, h.choice, h.alignment, h.tier, h.pressing, h.lapsing, h.memory

    compiled, reference = both_ways(m, act)
    for x, y in zip(compiled, reference, strict=True):
        assert_same(x, y)


@SETTINGS
@given(seeds, sizes)
def test_failure_conditions_agree(seed, n):
    w = world(seed, n)
    g = np.random.default_rng(seed)
    a, sat, coercion = state(g, (n, NP)), state(g, (n, 3)), state(g, (n, NP))
    alone = state(g, n)
    for line in ("alliance", "coercion", "comprehensive"):  # values exactly at the lines
        a[g.random((n, NP)) < 0.2] = w.scalars[line][0]
    lines = w.rows("alliance", "coercion", "comprehensive", "isolation")
    compiled = conditions(a, sat, alone, coercion, w.scalars, lines)
    reference = conditions(a, sat, alone, coercion, w.scalars)
    assert compiled.keys() == reference.keys()
    for mode in reference:
        assert_same(compiled[mode], reference[mode])


@SETTINGS
@given(seeds, sizes, st.integers(1, 5))
def test_row_mean_is_numpys_mean(seed, n, k):
    x = state(np.random.default_rng(seed), (n, k)) * 10.0 ** np.random.default_rng(seed).integers(-6, 6, (n, k))
    assert_same(kernels.row_mean(x), x.mean(axis=1))


@SETTINGS
@given(seeds, sizes)
def test_shares_and_the_hedging_index_agree(seed, n):
    g = np.random.default_rng(seed)
    a = state(g, (n, NP), edges=(0.0,))
    a[g.random(n) < 0.2] = 0.0  # runs with every tie cut
    total = a.sum(axis=1, keepdims=True)
    for fill in (0.0, 1.0 / NP):
        assert_same(kernels.shares(a, fill), np.divide(a, total, out=np.full_like(a, fill), where=total > 0))
    assert_same(hedging_index(a, compiled=True), hedging_index(a))


# -- streaming into an Aggregate (sim.results) ------------------------------------------------


@SETTINGS
@given(seeds, sizes, st.integers(1, 4))
def test_compiled_aggregate_counts_and_sums_as_the_reference(seed, n, steps):
    g = np.random.default_rng(seed)
    compiled, reference = Aggregate(steps), Aggregate(steps, compiled=False)
    for step in range(steps + 1):
        values = {k: state(g, (n, len(cols)), edges=(lo, hi, -0.5, 2.0)) for k, (cols, lo, hi) in SERIES.items()}
        values["tier"] = g.integers(0, len(TIERS), (n, NP))
        compiled.observe(step, values)
        reference.observe(step, values)
    for key in SERIES:
        assert_same(compiled.hist[key], reference.hist[key])
        assert_same(compiled.sums[key], reference.sums[key])
    assert_same(compiled.tiers, reference.tiers)


# -- the whole model ---------------------------------------------------------------------------


@pytest.mark.parametrize("strategy", sorted(STRATEGIES))
@pytest.mark.parametrize("name", ["status_quo", "perfect_storm"])
def test_the_compiled_model_is_the_numpy_model(name, strategy):
    """Trajectories, tiers and verdicts of the whole model, events and shocks included, are the same bits."""
    scenario = load_scenario(SCENARIOS / f"{name}.yaml")
    scenario = dataclasses.replace(scenario, horizon=scenario.calendar.date(24))
    models = [scenario.model(runs=300, seed=3, first_run=1000, strategy=strategy, compiled=c) for c in (True, False)]
    for m in models:
        m.run_for(scenario.steps)
    compiled, reference = (m.trajectories() for m in models)
    for key in reference:
        assert_same(compiled[key], reference[key])
    assert_same(models[0].verdict.mode, models[1].verdict.mode)
    assert_same(models[0].verdict.step, models[1].verdict.step)
    assert models[0].datacollector.get_model_vars_dataframe().equals(models[1].datacollector.get_model_vars_dataframe())
