"""The kernels of sim.model.kernels: compiled, cached, and the same numbers when their own source runs uncompiled.

Each rule is written once, as a kernel. Here every kernel the model calls is caught in the act (a model some
steps in, its state scrambled at random with values at their edges, under each strategy, streaming into an
Aggregate) and called again through its Python source (``kernel.py_func``: the loop interpreted, numpy's
scalar arithmetic in place of the compiled code); the two must agree bit for bit, in-place updates included.
A small ensemble run with ``NUMBA_DISABLE_JIT=1`` (every kernel and helper interpreted) must give the compiled
run's trajectories and verdicts, bit for bit. What each mechanism does is tested with its module
(test_agents, test_security, test_outcomes, test_streams, test_tally ...); whole runs against their golden
baselines in test_baselines.
"""

import copy
import dataclasses
import hashlib
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from conftest import FF, PHILOX_KNOWN_ANSWERS, SCENARIOS
from hypothesis import given, settings
from hypothesis import strategies as st
from numba.core.dispatcher import Dispatcher

from sim.model import kernels
from sim.model.balance import BalanceModel
from sim.model.params import POWERS, TIERS, load_parameters
from sim.model.security import Situation, over_reliance, shortfall
from sim.model.strategies import STRATEGIES
from sim.model.streams import Streams
from sim.model.world import World
from sim.runs.results import SERIES, Aggregate
from sim.runs.scenario import load_scenario

NP = len(POWERS)
SETTINGS = settings(max_examples=25, deadline=None)
seeds = st.integers(0, 2**63 - 1)
sizes = st.integers(1, 40)
# the kernels the rest of the package calls (the helpers they inline start with an underscore)
PUBLIC = sorted(name for name, f in vars(kernels).items() if isinstance(f, Dispatcher) and not name.startswith("_"))


def state(g: np.random.Generator, shape, edges=(0.0, 1.0)) -> np.ndarray:
    """Uniform values in [0, 1], about a fifth of them set to one of ``edges``."""
    x = g.random(shape)
    at_edge = g.random(shape) < 0.2
    x[at_edge] = g.choice(np.asarray(edges, dtype=float), size=int(at_edge.sum()))
    return x


def assert_same(compiled, interpreted):
    """Equal bit for bit: same type, dtype, shape and values (nan where nan), through tuples."""
    if isinstance(compiled, tuple):
        assert isinstance(interpreted, tuple)
        assert len(compiled) == len(interpreted)
        for c, i in zip(compiled, interpreted, strict=True):
            assert_same(c, i)
        return
    if compiled is None:
        assert interpreted is None
        return
    compiled, interpreted = np.asarray(compiled), np.asarray(interpreted)
    assert compiled.dtype == interpreted.dtype
    np.testing.assert_array_equal(compiled, interpreted, strict=True)


def caught(act: Callable[[], object]) -> list[tuple[str, tuple, object, tuple]]:
    """Every call of a kernel made by ``act()``: its name, its arguments before and after, and its result."""
    calls: list[tuple[str, tuple, object, tuple]] = []
    saved = {name: getattr(kernels, name) for name in PUBLIC}

    def spy(name: str, kernel: Callable[..., object]) -> Callable[..., object]:
        def call(*args: object) -> object:
            before = copy.deepcopy(args)
            out = kernel(*args)
            calls.append((name, before, copy.deepcopy(out), copy.deepcopy(args)))
            return out

        return call

    try:
        for name, kernel in saved.items():
            setattr(kernels, name, spy(name, kernel))
        act()
    finally:
        for name, kernel in saved.items():
            setattr(kernels, name, kernel)
    return calls


def interpreted_agrees(calls: list[tuple[str, tuple, object, tuple]]) -> set[str]:
    """Each caught call made again through the kernel's Python source: the same result and updates, bit for bit."""
    for name, before, out, after in calls:
        args = copy.deepcopy(before)
        with np.errstate(all="ignore"):  # numpy's scalars warn where the compiled loop quietly gives inf or nan
            again = getattr(kernels, name).py_func(*args)
        assert_same(out, again)
        assert_same(after, args)  # what the kernel updates in place
    return {name for name, *_ in calls}


def test_every_kernel_is_compiled():
    """A rule that lost its decorator would still give the same numbers, only a hundred times slower."""
    import inspect

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
def test_philox_interpreted_is_philox_compiled(blocks):
    counter = np.array([b[:4] for b in blocks], np.uint32)
    for key in {b[4:] for b in blocks}:
        args = (counter, np.array(key, np.uint32))
        assert interpreted_agrees([("philox_block", args, kernels.philox_block(*args), args)])


@SETTINGS
@given(
    key=st.integers(0, 2**64 - 1),
    runs=st.lists(st.integers(0, 2**64 - 1), min_size=1, max_size=30),
    step=st.integers(0, 2**32 + 5),
    width=st.integers(1, 13),
    name=st.text(max_size=20),
)
def test_streams_interpreted_are_streams_compiled(key, runs, step, width, name):
    """The model's uniforms, for any run and step, are the same bits through the kernel's source."""
    streams = Streams(key, np.array(runs, dtype=np.uint64))
    assert interpreted_agrees(caught(lambda: streams.uniform(step, name, width))) == {"uniform"}


# -- the model's kernels, as the model calls them ------------------------------------------------


def model_at(seed: int, n: int, strategy: str = "hedge") -> BalanceModel:
    """A model some steps in, with Vietnam's ties, memory, tiers and the powers' state scrambled at random."""
    aggregate = Aggregate(4)
    m = BalanceModel(runs=n, rng=seed % 2**32, uncertainty=True, strategy=strategy, observers=[aggregate])
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


@SETTINGS
@given(seeds, sizes, st.sampled_from(sorted(STRATEGIES)))
def test_a_step_interpreted_is_the_step_compiled(seed, n, strategy):
    """Every kernel of a step (the powers, Vietnam's perception and choice, the verdict, the Aggregate)."""
    m = model_at(seed, n, strategy)
    called = interpreted_agrees(caught(m.step))
    assert {"respond", "offer", "threat", "situation", "feasible", "carry_out", "remember", "band", "learn"} <= called
    assert {"satisfaction", "satisfaction_alone", "conditions", "accumulate", "count_tiers"} <= called
    if strategy == "hedge":  # the others choose by rules of their own (sim.model.strategies)
        assert {"gains", "uniform", "logit_choice"} <= called


def world(seed: int, n: int) -> World:
    runs = np.arange(n, dtype=np.uint64)
    return World.assemble(load_parameters().draw(runs, Streams(seed, runs), everything=True))


def situation(seed: int, n: int) -> tuple[Situation, np.ndarray]:
    """A random situation, with values at their edges, and an alignment to weigh it at."""
    w = world(seed, n)
    g = np.random.default_rng(seed)
    fields = {
        "supply": state(g, (n, NP, 3)),
        "threat": state(g, (n, NP, 3)),
        "trust": state(g, (n, NP)),
        "floor": state(g, (n, NP)),
        "coercion": state(g, (n, NP)),
    }
    return Situation(w, **fields), state(g, (n, NP))


@SETTINGS
@given(seeds, sizes, st.sampled_from([0.0, 1e-3, 0.02, 0.25]))
def test_security_interpreted_is_security_compiled(seed, n, step):
    """Received, faced, satisfaction, the utility's terms and the gains of each trial move, at random."""
    sit, a = situation(seed, n)
    moves = np.tile([-step, 0.0, step], (n, 1))
    cut = np.zeros_like(a)  # every tie cut: the shares fall back to an even split

    def act() -> None:
        for x in (a, cut):
            sit.gains(x, moves)
            sit.satisfaction(x)
            sit.net(x)
            sit.components(x)
            over_reliance(x, sit.trust)
            shortfall(sit.net(x), sit.world.demand)
            received = sit.received(x)
            kernels.insecurity(received, received - sit.net(x), sit.world.weight, sit.world.demand)

    called = interpreted_agrees(caught(act))
    assert {"gains", "satisfaction", "security_received", "threat_faced", "utility_terms"} <= called
    assert {"over_reliance", "shortfall", "insecurity"} <= called


@SETTINGS
@given(seeds, sizes)
def test_outcomes_and_aggregates_interpreted_are_compiled(seed, n):
    """The failure conditions at their lines, the hedging index with ties cut, an Aggregate at its edges."""
    from sim.model.outcomes import conditions
    from sim.model.security import hedging_index, satisfaction

    w = world(seed, n)
    g = np.random.default_rng(seed)
    a, sat, coercion, alone = state(g, (n, NP)), state(g, (n, 3)), state(g, (n, NP)), state(g, n)
    for line in ("alliance", "coercion", "comprehensive"):  # values exactly at the lines
        a[g.random((n, NP)) < 0.2] = w.scalars[line][0]
    a[g.random(n) < 0.2] = 0.0  # runs with every tie cut
    aggregate = Aggregate(1)
    values = {k: state(g, (n, len(cols)), edges=(lo, hi, -0.5, 2.0)) for k, (cols, lo, hi) in SERIES.items()}
    values["tier"] = g.integers(0, len(TIERS), (n, NP))

    def act() -> None:
        conditions(a, sat, alone, coercion, w.scalars)
        hedging_index(a)
        satisfaction(sat - 0.5, state(g, (n, 3)))
        aggregate.observe(1, values)

    called = interpreted_agrees(caught(act))
    assert {"conditions", "shares", "entropy", "share_met", "accumulate", "count_tiers"} <= called


def test_every_kernel_is_checked_interpreted():
    """No kernel escapes the comparisons above (``warm_up`` calls each of them once)."""
    assert set(PUBLIC) == {name for name, *_ in caught(kernels.warm_up)}
    assert interpreted_agrees(caught(kernels.warm_up)) == set(PUBLIC)


# -- the whole model, every kernel and helper interpreted -----------------------------------------


def fingerprint(name: str, strategy: str, runs: int, steps: int) -> str:
    """sha256 of a small ensemble's trajectories and verdicts (scenario ``name``, seed 3, runs from 1000)."""
    scenario = load_scenario(SCENARIOS / f"{name}.yaml")
    scenario = dataclasses.replace(scenario, horizon=scenario.calendar.date(steps))
    m = scenario.model(runs=runs, seed=3, first_run=1000, strategy=strategy)
    m.run_for(scenario.steps)
    digest = hashlib.sha256()
    for key, value in sorted(m.trajectories().items()):
        digest.update(key.encode())
        digest.update(np.ascontiguousarray(value).tobytes())
    digest.update(m.verdict.mode.tobytes())
    digest.update(m.verdict.step.tobytes())
    return digest.hexdigest()


CASES = [(name, strategy) for name in ("status_quo", "perfect_storm") for strategy in sorted(STRATEGIES)]


def fingerprints(runs: int = 12, steps: int = 12) -> str:
    """One line per case of ``CASES``: its fingerprint."""
    return "\n".join(fingerprint(name, strategy, runs, steps) for name, strategy in CASES)


def test_the_model_interpreted_is_the_model_compiled():
    """``NUMBA_DISABLE_JIT=1``: the same source as plain Python gives the same trajectories and verdicts.

    Events and shocks included (the perfect storm), under every strategy. The interpreted process warns
    where a uint32 of the Philox rounds wraps, as it is meant to; the warnings are ignored there.
    """
    here = Path(__file__).resolve().parent
    path = os.pathsep.join([str(here), str(here.parent)])  # this file, and the tests' conftest it imports
    env = {**os.environ, "NUMBA_DISABLE_JIT": "1", "PYTHONWARNINGS": "ignore", "PYTHONPATH": path}
    done = subprocess.run(
        [sys.executable, "-c", "from test_kernels import fingerprints; print(fingerprints())"],
        capture_output=True,
        text=True,
        cwd=here.parents[1],
        env=env,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == fingerprints().split()
