"""Counter-based random streams (sim.model.streams): Philox4x32-10 and the Streams addressing.

The known-answer vectors are those published with Random123 (Salmon et al. 2011,
kat_vectors: philox4x32 with 10 rounds).
"""

import numpy as np
import pytest
from conftest import FF, PHILOX_KNOWN_ANSWERS
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.model import kernels
from sim.model.streams import Streams, channel


def philox(counter, key) -> list[int]:
    """The four words of the Philox4x32-10 block of one ``counter`` under ``key`` (``kernels.philox_block``)."""
    return [int(w) for w in kernels.philox_block(np.array([counter], np.uint32), np.array(key, np.uint32))[0]]


# -- Philox4x32-10 known answers ------------------------------------------------


@pytest.mark.parametrize(
    ("counter", "key", "expected"), list(PHILOX_KNOWN_ANSWERS.values()), ids=list(PHILOX_KNOWN_ANSWERS)
)
def test_philox_known_answers(counter, key, expected):
    assert philox(counter, key) == list(expected)


def test_philox_is_blockwise_over_arrays():
    """An array of counters gives, row by row, the same blocks as one counter at a time."""
    counters = np.array([[0, 0, 0, 0], [FF, FF, FF, FF], [0x243F6A88, 0x85A308D3, 0x13198A2E, 0x03707344]], np.uint32)
    key = (0xA4093822, 0x299F31D0)
    block = kernels.philox_block(counters, np.array(key, np.uint32))
    for i in range(3):
        assert [int(w) for w in block[i]] == philox(counters[i], key)


def test_channel_is_stable_and_distinct():
    assert channel("hedger.choice") == channel("hedger.choice")
    assert channel("hedger.choice") != channel("parameter:powers.US.reach")
    assert 0 <= channel("x") <= FF


# -- Streams ------------------------------------------------------------------


def test_uniforms_lie_in_the_open_unit_interval():
    s = Streams(12345, np.arange(20_000, dtype=np.uint64))
    for step in (0, 1, 39):
        u = s.uniform(step, "test", width=7)
        assert u.shape == (20_000, 7)
        assert u.dtype == np.float64
        assert np.all(u > 0.0)
        assert np.all(u < 1.0)


def test_uniforms_at_the_extreme_words_stay_open():
    """The mapping of a 32-bit word to (0, 1) never gives exactly 0 or 1, even at 0 and 2**32 - 1."""
    bits = np.array([0, FF], dtype=np.uint32)
    u = (bits.astype(np.float64) + 0.5) / 2.0**32  # the mapping Streams.uniform uses
    assert 0.0 < u[0] < u[1] < 1.0
    # and Streams.uniform is that mapping of the Philox words addressed by (run, step, channel)
    s = Streams(7, np.array([3], dtype=np.uint64))
    w = philox((3, 0, 5, channel("x")), (7, 0))
    expected = (np.array(w, dtype=np.float64) + 0.5) / 2.0**32
    np.testing.assert_array_equal(s.uniform(5, "x", width=4)[0], expected)


def test_width_prefixes_agree():
    """Asking for fewer numbers gives a prefix of asking for more."""
    s = Streams(99, np.arange(50, dtype=np.uint64))
    wide = s.uniform(4, "w", width=11)
    for width in (1, 3, 4, 5, 8):
        np.testing.assert_array_equal(s.uniform(4, "w", width=width), wide[:, :width])
    # the lanes of a wide draw are all different numbers
    assert all(len(np.unique(row)) == 11 for row in wide)


@settings(max_examples=60, deadline=None)
@given(
    key=st.integers(0, 2**63 - 1),
    runs=st.lists(st.integers(0, 2**40), min_size=1, max_size=30, unique=True),
    others=st.lists(st.integers(0, 2**40), max_size=30),
    offset=st.integers(0, 2**20),
    step=st.integers(0, 200),
    width=st.integers(1, 9),
    data=st.data(),
)
def test_a_run_gets_the_same_numbers_in_any_ensemble(key, runs, others, offset, step, width, data):
    runs = [r + offset for r in runs]
    alone = Streams(key, np.array(runs, dtype=np.uint64)).uniform(step, "hedger.choice", width)
    ensemble = data.draw(st.permutations(runs + [o for o in others if o + offset not in runs]))
    ensemble = np.array(ensemble, dtype=np.uint64)
    together = Streams(key, ensemble).uniform(step, "hedger.choice", width)
    where = {int(r): i for i, r in enumerate(ensemble)}
    for j, r in enumerate(runs):
        np.testing.assert_array_equal(together[where[r]], alone[j])
    # one run at a time, too
    i = data.draw(st.integers(0, len(runs) - 1))
    single = Streams(key, np.array([runs[i]], dtype=np.uint64)).uniform(step, "hedger.choice", width)
    np.testing.assert_array_equal(single[0], alone[i])


def test_runs_beyond_32_bits_are_distinct():
    """The high word of the run index enters the counter: run r and r + 2**32 differ."""
    s = Streams(5, np.array([17, 17 + 2**32], dtype=np.uint64))
    u = s.uniform(0, "x", width=4)
    assert not np.any(u[0] == u[1])


def test_channels_steps_runs_and_keys_give_different_numbers():
    runs = np.arange(2_000, dtype=np.uint64)
    s = Streams(2025, runs)
    base = s.uniform(3, "hedger.choice", 4)
    variants = {
        "channel": s.uniform(3, "parameter:powers.US.reach", 4),
        "step": s.uniform(4, "hedger.choice", 4),
        "key": Streams(2026, runs).uniform(3, "hedger.choice", 4),
        "runs": Streams(2025, runs + np.uint64(2_000)).uniform(3, "hedger.choice", 4),
    }
    for what, other in variants.items():
        assert not np.any(other == base), what
        corr = np.corrcoef(base.ravel(), other.ravel())[0, 1]
        assert abs(corr) < 0.03, what
    # and within one draw, different runs get different numbers
    assert len(np.unique(base[:, 0])) == len(runs)


def test_same_address_gives_the_same_numbers():
    a = Streams(77, np.arange(10, dtype=np.uint64)).uniform(8, "z", 6)
    b = Streams(77, np.arange(10, dtype=np.uint64)).uniform(8, "z", 6)
    np.testing.assert_array_equal(a, b)


@pytest.fixture(scope="module")
def many_uniforms():
    return Streams(31337, np.arange(100_000, dtype=np.uint64)).uniform(1, "uniformity", 1)[:, 0]


def test_mean_and_variance_are_those_of_a_uniform(many_uniforms):
    u = many_uniforms
    # standard error of the mean is 0.289 / sqrt(1e5) ~ 0.0009: 0.005 is > 5 standard errors
    assert abs(u.mean() - 0.5) < 0.005
    # standard error of the variance is ~ 0.0002
    assert abs(u.var() - 1.0 / 12.0) < 0.002


def test_bins_are_evenly_filled(many_uniforms):
    bins = 100
    counts = np.bincount((many_uniforms * bins).astype(int), minlength=bins)
    assert len(counts) == bins
    expected = len(many_uniforms) / bins
    chi2 = np.sum((counts - expected) ** 2 / expected)
    # chi-square with 99 degrees of freedom: mean 99, sd 14; 200 is beyond 7 sd
    assert chi2 < 200
    # and not suspiciously perfect either (a stride, say, would give ~0)
    assert chi2 > 40


def test_lag_one_pairs_are_uncorrelated(many_uniforms):
    u = many_uniforms
    assert abs(np.corrcoef(u[:-1], u[1:])[0, 1]) < 0.02


def test_gumbel_is_minus_log_minus_log_uniform():
    s = Streams(4, np.arange(100_000, dtype=np.uint64))
    g = s.gumbel(2, "g", 3)
    np.testing.assert_array_equal(g, -np.log(-np.log(s.uniform(2, "g", 3))))
    assert np.all(np.isfinite(g))
    # standard Gumbel: mean is the Euler-Mascheroni constant, variance pi^2 / 6
    assert abs(g.mean() - np.euler_gamma) < 0.02
    assert abs(g.var() - np.pi**2 / 6) < 0.05
