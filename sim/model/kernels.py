"""The agents' rules, each written once, compiled over the runs axis (numba).

Each kernel is one mechanism of ``sim.model.agents``, ``sim.model.security``,
``sim.model.streams``, ``sim.model.outcomes`` or ``sim.runs.results`` (docs/ODD.md section 7
states its equation), written as a loop over runs; the agents and the model
call it with no other implementation beside it. Floating-point operations are
done in a fixed order (IEEE arithmetic, no fastmath, no fused multiply-add),
so the numbers are those of the numpy engine the kernels replaced, and the
same whether compiled or not. Logarithms stay in numpy (the Gumbel transform,
the hedging index): numpy's vectorised ``log`` and the C library's differ in
the last bit for a few inputs in a thousand.

To debug a rule, run the same source uncompiled: ``NUMBA_DISABLE_JIT=1`` for
a whole process, or ``kernel.py_func(...)`` for one kernel (its helpers stay
compiled). tests/model/test_kernels.py checks that both give the compiled numbers,
and tests/test_baselines.py that whole runs keep their recorded results.

Compiled functions are cached on disk (``cache=True``) in ``__pycache__``
beside this file, or under $NUMBA_CACHE_DIR; only the first call after
installation, or after this file changes, compiles them (``warm_up`` loads or
compiles every kernel at once).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, Literal, Protocol, cast, overload

import numpy as np
from numba import njit

from sim.model.domain import DIMENSIONS, POWERS


class _Jit(Protocol):
    """The type of ``jit``: a kernel compiled by numba is called exactly as its Python function is.

    So it keeps that function's type, and callers are checked against each kernel's own signature rather
    than numba's generic dispatcher.
    """

    @overload
    def __call__[F: Callable[..., Any]](self, function: F, /) -> F: ...
    @overload
    def __call__[F: Callable[..., Any]](self, *, inline: Literal["never", "always"]) -> Callable[[F], F]: ...


# error_model="numpy": a division by zero gives inf or nan, as in the numpy reference, rather than raising
jit = cast(_Jit, functools.partial(njit, cache=True, nogil=True, error_model="numpy"))


LOOSEN, KEEP, DEEPEN = 0, 1, 2
NP, ND = len(POWERS), len(DIMENSIONS)  # compile-time constants: the short loops over them unroll
BLOCK = 128  # runs weighed together in ``gains``: its scratch stays in the first-level cache

# -- Philox4x32-10 (Salmon et al. 2011) ------------------------------------------------
_M0 = np.uint64(0xD2511F53)
_M1 = np.uint64(0xCD9E8D57)
_W0 = np.uint32(0x9E3779B9)
_W1 = np.uint32(0xBB67AE85)
_LO = np.uint64(0xFFFFFFFF)
_32 = np.uint64(32)
_24 = np.uint64(24)


@jit(inline="always")
def _philox4x32(
    c0: np.uint32, c1: np.uint32, c2: np.uint32, c3: np.uint32, k0: np.uint32, k1: np.uint32
) -> tuple[np.uint32, np.uint32, np.uint32, np.uint32]:
    """Philox4x32-10 block function on uint32 words; the products are 32 x 32 -> 64 bits, which vectorise."""
    for _ in range(10):
        p0 = np.uint64(c0) * _M0
        p1 = np.uint64(c2) * _M1
        c0, c1, c2, c3 = (
            np.uint32(np.uint32(p1 >> _32) ^ c1 ^ k0),
            np.uint32(p1),
            np.uint32(np.uint32(p0 >> _32) ^ c3 ^ k1),
            np.uint32(p0),
        )
        k0 = np.uint32(k0 + _W0)
        k1 = np.uint32(k1 + _W1)
    return c0, c1, c2, c3


@jit
def philox_block(counter: np.ndarray, key: np.ndarray) -> np.ndarray:
    """The block function on arrays: ``counter`` (n, 4) and ``key`` (2,) of uint32 words; returns (n, 4) uint32."""
    out = np.empty(counter.shape, np.uint32)
    for i in range(counter.shape[0]):
        out[i, 0], out[i, 1], out[i, 2], out[i, 3] = _philox4x32(
            counter[i, 0], counter[i, 1], counter[i, 2], counter[i, 3], key[0], key[1]
        )
    return out


@jit
def uniform(
    key0: np.uint32, key1: np.uint32, runs: np.ndarray, step: int, channel: np.uint32, width: int
) -> np.ndarray:
    """Open-interval uniforms (runs, width) from counter (run, step ^ lane << 24, channel): ``Streams.uniform``.

    Filled lane by lane (a transposed view is returned), one run per iteration without branches, so that
    the compiler runs several runs' blocks side by side in vector registers.
    """
    n = runs.shape[0]
    blocks = (width + 3) // 4
    out = np.empty((blocks * 4, n))
    k0, k1, ch = np.uint32(key0), np.uint32(key1), np.uint32(channel)
    for b in range(blocks):
        lane = np.uint32(np.uint64(step) & _LO) ^ np.uint32((np.uint64(b) << _24) & _LO)
        rows = out[4 * b : 4 * b + 4]
        for i in range(n):
            run = runs[i]
            w0, w1, w2, w3 = _philox4x32(np.uint32(run & _LO), np.uint32(run >> _32), lane, ch, k0, k1)
            rows[0, i] = (np.float64(w0) + 0.5) / 4294967296.0
            rows[1, i] = (np.float64(w1) + 0.5) / 4294967296.0
            rows[2, i] = (np.float64(w2) + 0.5) / 4294967296.0
            rows[3, i] = (np.float64(w3) + 0.5) / 4294967296.0
    return out[:width].T


# -- small helpers with numpy's semantics -------------------------------------------
@jit(inline="always")
def _pos(x: float) -> float:
    """np.maximum(x, 0.0)."""
    return x if x >= 0.0 or x != x else 0.0


@jit(inline="always")
def _tie_loss(
    x: float,
    p: int,
    j: int,
    C: np.ndarray,
    RV: np.ndarray,
    ST: np.ndarray,
    RIV: np.ndarray,
    TOL: np.ndarray,
    F: np.ndarray,
    TC: np.ndarray,
) -> float:
    """The losses that hang on tie ``p`` alone at depth ``x``: entrapment, displeasure, broken commitment, cost.

    For run ``j`` of a block laid out runs last. The other losses couple the ties (insecurity through the
    noisy-OR, over-reliance through the shares); these add up tie by tie. Displeasure: how far the tie
    exceeds what each rival q tolerates (rivalry with itself is zero), weighed by what q could take from
    Vietnam if it coerced (its stake).
    """
    dsp = 0.0
    for q in range(NP):
        e = _pos(x - TOL[q, p, j])
        v = ST[q, j] * RIV[q, p, j] * (e * e)
        dsp = v if q == 0 else dsp + v
    return C[1, j] * RV[p, j] * (x * x) + C[2, j] * dsp + C[3, j] * _pos(F[p, j] - x) + TC[p, j] * x


@jit(inline="always")
def _clip01(x: float) -> float:
    """np.clip(x, 0.0, 1.0)."""
    if x < 0.0:
        return 0.0
    if x > 1.0:
        return 1.0
    return x


@jit(inline="always")
def _short(net: float, demand: float) -> float:
    """max(D_d - N_d, 0): how far net security falls short of the demand on d (docs/ODD.md 7.4)."""
    return _pos(demand - net)


@jit(inline="always")
def _insecure(net: float, weight: float, demand: float) -> float:
    """The insecurity of one dimension, w_d max(D_d - N_d, 0)^2: a shortfall weighs by its square (ODD 7.4)."""
    u = _short(net, demand)
    return weight * (u * u)


@jit(inline="always")
def _over_reliance(x0: float, x1: float, x2: float, t0: float, t1: float, t2: float) -> float:
    """Herfindahl index of engagement shares, each weighted by distrust of the partner: sum_p s_p^2 (1 - trust_p).

    For ties ``x0..x2`` and trusts ``t0..t2``; shares even when every tie is cut. Relying on one partner is
    costly, and the more so the less that partner can be trusted (docs/ODD.md 7.4).
    """
    tot = (x0 + x1) + x2
    even = 1.0 / NP
    s0 = x0 / tot if tot > 0 else even
    s1 = x1 / tot if tot > 0 else even
    s2 = x2 / tot if tot > 0 else even
    return (s0 * s0 * (1.0 - t0) + s1 * s1 * (1.0 - t1)) + s2 * s2 * (1.0 - t2)


# -- the great powers ---------------------------------------------------------------
@jit
def respond(
    p: int,
    a: np.ndarray,
    previous: np.ndarray,
    courtship: np.ndarray,
    coercion: np.ndarray,
    rivalry: np.ndarray,
    lines: np.ndarray,
    interest: np.ndarray,
    patient: np.ndarray,
    scalars: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """``GreatPower.respond``: power ``p``'s new courtship and coercion, each (runs,) (docs/ODD.md 7.5).

    ``scalars`` (4, runs): courtship decay and gain, coercion decay and gain. It courts in proportion to its
    rivals' gains and its own losses since Vietnam's last decision (drift = sum_q rivalry_pq max(a_q - a'_q, 0)
    + max(a'_p - a_p, 0)), coerces in proportion to how far Vietnam's ties with its rivals exceed what it
    tolerates, its own ``lines`` (runs, powers) as they stand (pressure = sum_q rivalry_pq max(a_q - line_q,
    0)): courtship = clip((1 - decay)
    courtship + gain interest_p drift), coercion likewise with the pressure, both within [0, 1]. The pressure
    is weighted by interest too, with a sign the power's ``patient`` sets: interest_p for a power whose
    interest makes it press harder (0), 1 - interest_p for one whose interest makes it patient (1: the US,
    for which it "would be imprudent to excessively admonish Hanoi", 001). Rivalry with itself is zero.
    """
    n, n_powers = a.shape
    court = np.empty(n)
    coerce = np.empty(n)
    for i in range(n):
        drift = 0.0
        pressure = 0.0
        for q in range(n_powers):
            r = rivalry[i, p, q]
            d = r * _pos(a[i, q] - previous[i, q])
            e = r * _pos(a[i, q] - lines[i, q])
            drift = d if q == 0 else drift + d
            pressure = e if q == 0 else pressure + e
        drift = drift + _pos(-(a[i, p] - previous[i, p]))
        c = (1 - scalars[0, i]) * courtship[i] + scalars[1, i] * interest[i, p] * drift
        heed = interest[i, p] + patient[i, p] * (1.0 - 2.0 * interest[i, p])  # phi, or 1 - phi if patient
        k = (1 - scalars[2, i]) * coercion[i] + scalars[3, i] * (heed * pressure)
        court[i] = _clip01(c)
        coerce[i] = _clip01(k)
    return court, coerce


@jit
def drift(deviation: np.ndarray, u: np.ndarray, reversion: np.ndarray, volatility: np.ndarray, p: int) -> np.ndarray:
    """``GreatPower.drift``: power ``p``'s lines' deviation from their parameters, a step on (runs, powers) (ODD 7.11).

    deviation = (1 - reversion) deviation + volatility sqrt(3) (2u - 1): a first-order autoregression with
    uniform innovations of unit variance (``u`` the run's uniforms); none on its own column (no line on
    itself).
    """
    n = deviation.shape[0]
    out = np.empty((n, NP))
    root3 = np.sqrt(3.0)
    for i in range(n):
        for q in range(NP):
            step = (1.0 - reversion[i]) * deviation[i, q] + volatility[i] * (root3 * (2.0 * u[i, q] - 1.0))
            out[i, q] = step if q != p else 0.0
    return out


@jit
def lines(tolerance: np.ndarray, deviation: np.ndarray, p: int) -> np.ndarray:
    """``GreatPower.lines``: power ``p``'s lines now, clip(tolerance_pq + deviation_q, 0, 1), (runs, powers)."""
    n = deviation.shape[0]
    out = np.empty((n, NP))
    for i in range(n):
        for q in range(NP):
            out[i, q] = _clip01(tolerance[i, p, q] + deviation[i, q]) if q != p else 0.0
    return out


@jit
def engage(engagement: np.ndarray, coercion: np.ndarray, withdrawal: np.ndarray, rate: np.ndarray) -> np.ndarray:
    """``GreatPower.respond``: how far a power holds up its side of the partnership, (runs,) (ODD 7.11).

    engagement = clip(engagement + rate (1 - coercion - withdrawal - engagement), 0, 1): a power that coerces,
    or walks away for a period (its ``withdrawal``, moved by events), withdraws its cooperation, and comes
    back as either fades.
    """
    n = engagement.shape[0]
    out = np.empty(n)
    for i in range(n):
        out[i] = _clip01(engagement[i] + rate[i] * (((1.0 - coercion[i]) - withdrawal[i]) - engagement[i]))
    return out


@jit
def erode(a: np.ndarray, engagement: np.ndarray, step: np.ndarray) -> np.ndarray:
    """``Hedger.erode``: each tie sinks toward what its power still holds up, by a step a quarter at most.

    a_p = a_p - min(step, max(a_p - engagement_p, 0)): a partnership is held by both sides, so a tie deeper
    than its power's engagement erodes, whatever Vietnam does (ODD 7.11).
    """
    n = a.shape[0]
    out = np.empty((n, NP))
    for i in range(n):
        for p in range(NP):
            gap = _pos(a[i, p] - engagement[i, p])
            out[i, p] = a[i, p] - (gap if gap < step[i] else step[i])
    return out


@jit
def fade(a: np.ndarray, lent: np.ndarray, half_life: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``Hedger.fade``: the part of each tie a state visit lent fades, halving every ``half_life`` quarters.

    keep = 0.5^(1 / half_life) (0 for a half-life of 0); the tie loses lent (1 - keep), never below zero, and
    lent becomes lent keep. A visit's warmth passes; an upgrade's tier is what lasts (ODD 7.6).
    """
    n = a.shape[0]
    out, left = np.empty((n, NP)), np.empty((n, NP))
    for i in range(n):
        keep = 0.5 ** (1.0 / half_life[i]) if half_life[i] > 0.0 else 0.0
        for p in range(NP):
            y = a[i, p] - lent[i, p] * (1.0 - keep)
            out[i, p] = y if y > 0.0 else 0.0
            left[i, p] = lent[i, p] * keep
    return out, left


@jit
def offer(
    supply: np.ndarray, courtship: np.ndarray, coercion: np.ndarray, boost: np.ndarray, withholds: np.ndarray, p: int
) -> np.ndarray:
    """``GreatPower.offer``: supply (runs, dims) raised by courtship, less what coercion withholds (ODD 7.1).

    clip(supply_d (1 + boost courtship) (1 - coercion withholds_pd), 0, 1).
    """
    n, n_dims = supply.shape
    out = np.empty((n, n_dims))
    for i in range(n):
        up = 1.0 + boost[i] * courtship[i]
        for d in range(n_dims):
            out[i, d] = _clip01(supply[i, d] * up * (1.0 - coercion[i] * withholds[i, p, d]))
    return out


@jit
def threat(
    threat: np.ndarray,
    courtship: np.ndarray,
    coercion: np.ndarray,
    boost: np.ndarray,
    coercion_threat: np.ndarray,
    p: int,
) -> np.ndarray:
    """``GreatPower.threat``: the standing threat eased by courtship, plus what coercion adds (runs, dims).

    threat_pd (1 - boost courtship) + coercion coercion_threat_pd (docs/ODD.md 7.3).
    """
    n, n_dims = threat.shape[0], threat.shape[2]
    out = np.empty((n, n_dims))
    for i in range(n):
        eased = 1.0 - boost[i] * courtship[i]
        for d in range(n_dims):
            out[i, d] = threat[i, p, d] * eased + coercion[i] * coercion_threat[i, p, d]
    return out


# -- Vietnam's situation (sim.model.security) ----------------------------------------------
@jit
def managed(enmeshment: np.ndarray, threat: np.ndarray, standing: np.ndarray, manageable: np.ndarray) -> np.ndarray:
    """``Situation.enmeshment``: the share of each threat engagement tames, E_pd (1 - X_pd / threat_pd) (ODD 7.3).

    Direct engagement manages bilateral issues and de-escalates crises (002), but cannot convince Hanoi of
    China's peaceful intentions (004): the part of the standing threat above the manageable level M,
    X_pd = max(standing_pd - M, 0), is not tamed, while crises (shocks that pass) and coercion's added threat
    are tamed as before. Where no standing threat exceeds M, E_pd is kept bit for bit; engagement that feeds a
    threat (E_pd < 0) is not capped.
    """
    n = threat.shape[0]
    out = np.empty((n, NP, ND))
    for i in range(n):
        m = manageable[i]
        for p in range(NP):
            for d in range(ND):
                e, t, x = enmeshment[i, p, d], threat[i, p, d], standing[i, p, d] - m
                out[i, p, d] = e * _pos(1.0 - x / t) if e > 0.0 and x > 0.0 and t > 0.0 else e
    return out


@jit
def situation(
    supply: np.ndarray,
    trust: np.ndarray,
    coercion: np.ndarray,
    reach: np.ndarray,
    rivalry: np.ndarray,
    withholds: np.ndarray,
    coercion_threat: np.ndarray,
    coercion_line: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """``Situation.__post_init__``: each power's reach-weighted rivalries and its stake, (runs, powers) each.

    Rivalries: sum_q rivalry_pq reach_q, each rivalry weighted by the rival's reach, so that a confrontation
    far from Vietnam entraps less. Stake: what the power could take from Vietnam by coercing, the supply it
    would withdraw, as delivered, and the threat it would add, sum_d withholds_pd reach_p trust_p supply_pd +
    coercion_threat_pd (a power that has already let Vietnam down has less to take); times 1 + coercion_p /
    coercion line, since a rival already coercing is a warning: Vietnam, "cognisant of the need to avoid
    being seen as siding" (001), weighs its displeasure the more, twice as much at the coercion line.
    """
    n, n_powers, n_dims = supply.shape
    rivalries = np.empty((n, n_powers))
    stake = np.empty((n, n_powers))
    for i in range(n):
        for p in range(n_powers):
            r = 0.0
            for q in range(n_powers):
                x = rivalry[i, p, q] * reach[i, q]
                r = x if q == 0 else r + x
            rivalries[i, p] = r
            rt = reach[i, p] * trust[i, p]
            s = 0.0
            for d in range(n_dims):
                x = withholds[i, p, d] * (rt * supply[i, p, d]) + coercion_threat[i, p, d]
                s = x if d == 0 else s + x
            stake[i, p] = s * (1.0 + coercion[i, p] / coercion_line[i])
    return rivalries, stake


@jit(inline="always")
def _received(
    i: int, a: np.ndarray, supply: np.ndarray, trust: np.ndarray, reach: np.ndarray, capability: np.ndarray, d: int
) -> float:
    """Security received by run i on dimension d for its alignment row a (powers,): a noisy-OR (docs/ODD.md 7.2).

    R_d = 1 - (1 - C_d) prod_p (1 - a_p reach_p trust_p supply_pd): Vietnam's own means secure it with
    probability C_d and each power independently delivers; partners substitute with diminishing returns on a
    dimension, and a dimension no one supplies is covered by Vietnam's own means alone.
    """
    prod = 1.0
    for p in range(NP):
        f = 1.0 - a[p] * reach[i, p] * trust[i, p] * supply[i, p, d]
        prod = f if p == 0 else prod * f
    return 1.0 - (1.0 - capability[i, d]) * prod


@jit(inline="always")
def _faced(i: int, a: np.ndarray, threat: np.ndarray, enmeshment: np.ndarray, d: int) -> float:
    """The threat run i faces on dimension d: H_d = sum_p threat_pd max(1 - E_pd a_p, 0) (docs/ODD.md 7.3).

    E_pd > 0: engaging p tames its threat on d (direct engagement with China at sea); E_pd < 0: engaging p
    feeds it (ties with the US carry "peaceful evolution" into the regime dimension). Never below zero.
    """
    faced = 0.0
    for p in range(NP):
        t = threat[i, p, d] * _pos(1.0 - enmeshment[i, p, d] * a[p])
        faced = t if p == 0 else faced + t
    return faced


@jit(inline="always")
def _net(
    i: int,
    a: np.ndarray,
    supply: np.ndarray,
    threat: np.ndarray,
    trust: np.ndarray,
    reach: np.ndarray,
    capability: np.ndarray,
    enmeshment: np.ndarray,
    d: int,
) -> float:
    """Net security N_d = R_d - H_d of run i on dimension d for its alignment row a (powers,)."""
    return _received(i, a, supply, trust, reach, capability, d) - _faced(i, a, threat, enmeshment, d)


@jit(inline="always")
def _met(net: float, demand: float) -> float:
    """s_d = clip(N_d / D_d, 0, 1): the share of the demand on d that net security meets (docs/ODD.md 7.3)."""
    return _clip01(net / demand)


@jit
def security_received(
    a: np.ndarray, supply: np.ndarray, trust: np.ndarray, reach: np.ndarray, capability: np.ndarray
) -> np.ndarray:
    """``sim.model.security.security_received``: R_d per run and dimension (runs, dims), for alignment ``a``."""
    n = a.shape[0]
    out = np.empty((n, ND))
    for i in range(n):
        for d in range(ND):
            out[i, d] = _received(i, a[i], supply, trust, reach, capability, d)
    return out


@jit
def threat_faced(a: np.ndarray, threat: np.ndarray, enmeshment: np.ndarray) -> np.ndarray:
    """``security.threat_faced``: H_d per run and dimension, (runs, dims), for alignment ``a`` (runs, powers)."""
    n = a.shape[0]
    out = np.empty((n, ND))
    for i in range(n):
        for d in range(ND):
            out[i, d] = _faced(i, a[i], threat, enmeshment, d)
    return out


@jit
def share_met(net: np.ndarray, demand: np.ndarray) -> np.ndarray:
    """``security.satisfaction``: clip(net / demand, 0, 1) element by element, arrays of one shape."""
    x, y = net.ravel(), demand.ravel()
    out = np.empty(x.size)
    for i in range(x.size):
        out[i] = _met(x[i], y[i])
    return out.reshape(net.shape)


@jit
def satisfaction(
    a: np.ndarray,
    supply: np.ndarray,
    threat: np.ndarray,
    trust: np.ndarray,
    reach: np.ndarray,
    capability: np.ndarray,
    enmeshment: np.ndarray,
    demand: np.ndarray,
) -> np.ndarray:
    """``Situation.satisfaction``: the share of the demand on each dimension that net security meets."""
    n = demand.shape[0]
    out = np.empty((n, ND))
    for i in range(n):
        for d in range(ND):
            out[i, d] = _met(_net(i, a[i], supply, threat, trust, reach, capability, enmeshment, d), demand[i, d])
    return out


@jit
def satisfaction_alone(
    supply: np.ndarray,
    threat: np.ndarray,
    trust: np.ndarray,
    reach: np.ndarray,
    capability: np.ndarray,
    enmeshment: np.ndarray,
    demand: np.ndarray,
) -> np.ndarray:
    """``BalanceModel.satisfaction_alone``: the mean share of demand met with every tie cut, (runs,)."""
    n = demand.shape[0]
    out = np.empty(n)
    zero = np.zeros(NP)
    for i in range(n):
        total = 0.0
        for d in range(ND):
            s = _met(_net(i, zero, supply, threat, trust, reach, capability, enmeshment, d), demand[i, d])
            total = s if d == 0 else total + s
        out[i] = total / ND
    return out


@jit(inline="always")
def _copy_ties(
    start: int,
    m: int,
    a: np.ndarray,
    reach: np.ndarray,
    trust: np.ndarray,
    floor: np.ndarray,
    rivalries: np.ndarray,
    stake: np.ndarray,
    tie_cost: np.ndarray,
    supply: np.ndarray,
    threat: np.ndarray,
    enmeshment: np.ndarray,
    tolerance: np.ndarray,
    rivalry: np.ndarray,
    A: np.ndarray,
    R: np.ndarray,
    T: np.ndarray,
    F: np.ndarray,
    RV: np.ndarray,
    ST: np.ndarray,
    TC: np.ndarray,
    S: np.ndarray,
    H: np.ndarray,
    E: np.ndarray,
    TOL: np.ndarray,
    RIV: np.ndarray,
) -> None:
    """``gains``: the inputs per tie of runs ``start`` to ``start + m`` copied into the block, runs last."""
    for j in range(m):
        i = start + j
        for p in range(NP):
            A[p, j] = a[i, p]
            R[p, j] = reach[i, p]
            T[p, j] = trust[i, p]
            F[p, j] = floor[i, p]
            RV[p, j] = rivalries[i, p]
            ST[p, j] = stake[i, p]
            TC[p, j] = tie_cost[i, p]
            for d in range(ND):
                S[p, d, j] = supply[i, p, d]
                H[p, d, j] = threat[i, p, d]
                E[p, d, j] = enmeshment[i, p, d]
            for q in range(NP):
                TOL[p, q, j] = tolerance[i, p, q]
                RIV[p, q, j] = rivalry[i, p, q]


@jit(inline="always")
def _copy_rest(
    start: int,
    m: int,
    capability: np.ndarray,
    weight: np.ndarray,
    demand: np.ndarray,
    costs: np.ndarray,
    moves: np.ndarray,
    CAP: np.ndarray,
    W: np.ndarray,
    DEM: np.ndarray,
    C: np.ndarray,
    MV: np.ndarray,
) -> None:
    """``gains``: the other inputs of runs ``start`` to ``start + m`` (per dimension, cost, move), runs last."""
    for j in range(m):
        i = start + j
        for d in range(ND):
            CAP[d, j] = capability[i, d]
            W[d, j] = weight[i, d]
            DEM[d, j] = demand[i, d]
        for c in range(4):
            C[c, j] = costs[c, i]
        for k in range(MV.shape[0]):
            MV[k, j] = moves[i, k]


@jit(inline="always")
def _contributions(
    m: int,
    A: np.ndarray,
    R: np.ndarray,
    T: np.ndarray,
    S: np.ndarray,
    H: np.ndarray,
    E: np.ndarray,
    CAP: np.ndarray,
    factor: np.ndarray,
    posed: np.ndarray,
    faced: np.ndarray,
    recv: np.ndarray,
) -> None:
    """``gains``: what each tie contributes now, its factor in the noisy-OR and the threat its power poses."""
    for j in range(m):
        for p in range(NP):
            for d in range(ND):
                factor[p, d, j] = 1.0 - A[p, j] * R[p, j] * T[p, j] * S[p, d, j]
                posed[p, d, j] = H[p, d, j] * _pos(1.0 - E[p, d, j] * A[p, j])
        for d in range(ND):
            faced[d, j] = (posed[0, d, j] + posed[1, d, j]) + posed[2, d, j]
            recv[d, j] = 1.0 - (1.0 - CAP[d, j]) * ((factor[0, d, j] * factor[1, d, j]) * factor[2, d, j])


@jit(inline="always")
def _utility_now(
    m: int,
    A: np.ndarray,
    T: np.ndarray,
    F: np.ndarray,
    RV: np.ndarray,
    ST: np.ndarray,
    TC: np.ndarray,
    TOL: np.ndarray,
    RIV: np.ndarray,
    W: np.ndarray,
    DEM: np.ndarray,
    C: np.ndarray,
    faced: np.ndarray,
    recv: np.ndarray,
    u0: np.ndarray,
    own: np.ndarray,
    sep: np.ndarray,
    terms: np.ndarray,
) -> None:
    """``gains``, ``utility_terms``: the utility of the current alignment into ``u0``, its six terms into ``terms``.

    Also each tie's own losses and their sum (``own``, ``sep``).
    """
    for j in range(m):
        ins = 0.0
        for d in range(ND):
            v = _insecure(recv[d, j] - faced[d, j], W[d, j], DEM[d, j])
            ins = v if d == 0 else ins + v
        ent = 0.0
        dis = 0.0
        com = 0.0
        cst = 0.0
        for q in range(NP):
            inner = 0.0
            for p in range(NP):
                e = _pos(A[p, j] - TOL[q, p, j])
                v = RIV[q, p, j] * (e * e)
                inner = v if p == 0 else inner + v
            v = ST[q, j] * inner
            dis = v if q == 0 else dis + v
            v = RV[q, j] * (A[q, j] * A[q, j])
            ent = v if q == 0 else ent + v
            v = _pos(F[q, j] - A[q, j])
            com = v if q == 0 else com + v
            v = TC[q, j] * A[q, j]
            cst = v if q == 0 else cst + v
        ov = C[0, j] * _over_reliance(A[0, j], A[1, j], A[2, j], T[0, j], T[1, j], T[2, j])
        ent, dis, com = C[1, j] * ent, C[2, j] * dis, C[3, j] * com
        terms[0, j], terms[1, j], terms[2, j], terms[3, j], terms[4, j], terms[5, j] = ins, ov, ent, dis, com, cst
        u0[j] = -(ins + ov + ent + dis + com + cst)
        s = 0.0
        for p in range(NP):
            o = _tie_loss(A[p, j], p, j, C, RV, ST, RIV, TOL, F, TC)
            own[p, j] = o
            s = o if p == 0 else s + o
        sep[j] = s


@jit(inline="always")
def _trial_moves(
    m: int,
    A: np.ndarray,
    R: np.ndarray,
    T: np.ndarray,
    F: np.ndarray,
    RV: np.ndarray,
    ST: np.ndarray,
    TC: np.ndarray,
    S: np.ndarray,
    H: np.ndarray,
    E: np.ndarray,
    TOL: np.ndarray,
    RIV: np.ndarray,
    CAP: np.ndarray,
    W: np.ndarray,
    DEM: np.ndarray,
    C: np.ndarray,
    MV: np.ndarray,
    factor: np.ndarray,
    posed: np.ndarray,
    faced: np.ndarray,
    own: np.ndarray,
    u0: np.ndarray,
    sep: np.ndarray,
    res: np.ndarray,
) -> None:
    """``gains``: the utility change of each trial move into ``res`` (powers, k, runs).

    The moved tie's factor and threat replace its old ones, its own losses likewise.
    """
    for p in range(NP):
        q1 = 1 if p == 0 else 0  # the other two powers, in order
        q2 = 1 if p == 2 else 2
        for k in range(MV.shape[0]):
            for j in range(m):
                x = A[p, j] + MV[k, j]
                xrt = x * R[p, j] * T[p, j]
                un = 0.0
                for d in range(ND):
                    others = (1.0 - CAP[d, j]) * (factor[q1, d, j] * factor[q2, d, j])
                    got = 1.0 - others * (1.0 - xrt * S[p, d, j])
                    td = (faced[d, j] - posed[p, d, j]) + H[p, d, j] * _pos(1.0 - E[p, d, j] * x)
                    v = _insecure(got - td, W[d, j], DEM[d, j])
                    un = v if d == 0 else un + v
                t0 = x if p == 0 else A[0, j]
                t1 = x if p == 1 else A[1, j]
                t2 = x if p == 2 else A[2, j]
                ov = _over_reliance(t0, t1, t2, T[0, j], T[1, j], T[2, j])
                tl = _tie_loss(x, p, j, C, RV, ST, RIV, TOL, F, TC)
                res[p, k, j] = -(un + C[0, j] * ov + sep[j] - own[p, j] + tl) - u0[j]


@jit(inline="always")
def _weigh(
    a: np.ndarray,
    moves: np.ndarray,
    supply: np.ndarray,
    threat: np.ndarray,
    trust: np.ndarray,
    floor: np.ndarray,
    rivalries: np.ndarray,
    stake: np.ndarray,
    reach: np.ndarray,
    capability: np.ndarray,
    enmeshment: np.ndarray,
    weight: np.ndarray,
    demand: np.ndarray,
    tolerance: np.ndarray,
    rivalry: np.ndarray,
    tie_cost: np.ndarray,
    costs: np.ndarray,
    out: np.ndarray,
    utility: np.ndarray,
) -> None:
    """``gains`` into ``out`` (runs, powers, k) and, if ``utility`` has a row per run, ``utility_terms`` into it.

    Runs go in blocks, copied with runs last; within a block every quantity is computed for all its runs at
    once (the compiler runs them side by side in vector registers): first what each tie contributes now
    (the noisy-OR factors, the threats posed, the utility and its terms, each tie's own losses), then each
    trial move, recomputing only what hangs on the moved tie. Three powers and three dimensions
    (``sim.model.params``). The stages are helpers inlined here (``inline="always"``): the same machine code, and
    the same speed, as one long loop.
    """
    n, K = a.shape[0], moves.shape[1]
    keep_terms = utility.shape[0] == n
    # the block's inputs copied with runs last, so that each step of the loops over runs reads contiguous memory:
    # alignment A, reach R, trust T, floor F, rivalries RV, stake ST, tie cost TC; supply S, threat H, enmeshment
    # E; tolerance TOL, rivalry RIV; capability CAP, weight W, demand DEM; costs C; moves MV
    A = np.empty((NP, BLOCK))
    R = np.empty((NP, BLOCK))
    T = np.empty((NP, BLOCK))
    F = np.empty((NP, BLOCK))
    RV = np.empty((NP, BLOCK))
    ST = np.empty((NP, BLOCK))
    TC = np.empty((NP, BLOCK))
    S = np.empty((NP, ND, BLOCK))
    H = np.empty((NP, ND, BLOCK))
    E = np.empty((NP, ND, BLOCK))
    TOL = np.empty((NP, NP, BLOCK))
    RIV = np.empty((NP, NP, BLOCK))
    CAP = np.empty((ND, BLOCK))
    W = np.empty((ND, BLOCK))
    DEM = np.empty((ND, BLOCK))
    C = np.empty((4, BLOCK))
    MV = np.empty((K, BLOCK))
    factor = np.empty((NP, ND, BLOCK))
    posed = np.empty((NP, ND, BLOCK))
    faced = np.empty((ND, BLOCK))
    recv = np.empty((ND, BLOCK))
    own = np.empty((NP, BLOCK))
    u0 = np.empty(BLOCK)
    sep = np.empty(BLOCK)
    res = np.empty((NP, K, BLOCK))
    terms = np.empty((6, BLOCK))
    for start in range(0, n, BLOCK):
        m = min(BLOCK, n - start)
        _copy_ties(
            start, m, a, reach, trust, floor, rivalries, stake, tie_cost, supply, threat, enmeshment, tolerance,
            rivalry, A, R, T, F, RV, ST, TC, S, H, E, TOL, RIV,
        )  # fmt: skip
        _copy_rest(start, m, capability, weight, demand, costs, moves, CAP, W, DEM, C, MV)
        _contributions(m, A, R, T, S, H, E, CAP, factor, posed, faced, recv)
        _utility_now(m, A, T, F, RV, ST, TC, TOL, RIV, W, DEM, C, faced, recv, u0, own, sep, terms)
        _trial_moves(
            m, A, R, T, F, RV, ST, TC, S, H, E, TOL, RIV, CAP, W, DEM, C, MV, factor, posed, faced, own, u0, sep, res
        )
        for j in range(m):
            for p in range(NP):
                for k in range(K):
                    out[start + j, p, k] = res[p, k, j]
            if keep_terms:
                for k in range(6):
                    utility[start + j, k] = terms[k, j]


@jit
def gains(
    a: np.ndarray,
    moves: np.ndarray,
    supply: np.ndarray,
    threat: np.ndarray,
    trust: np.ndarray,
    floor: np.ndarray,
    rivalries: np.ndarray,
    stake: np.ndarray,
    reach: np.ndarray,
    capability: np.ndarray,
    enmeshment: np.ndarray,
    weight: np.ndarray,
    demand: np.ndarray,
    tolerance: np.ndarray,
    rivalry: np.ndarray,
    tie_cost: np.ndarray,
    costs: np.ndarray,
) -> np.ndarray:
    """``Situation.gains``: utility change of moving each tie alone by each of ``moves``, (runs, powers, k).

    ``costs`` (4, runs): concentration, entrapment, displeasure and commitment costs. Computed block by
    block by changing only what hangs on the moved tie (``_weigh``).
    """
    out = np.empty((a.shape[0], NP, moves.shape[1]))
    _weigh(
        a, moves, supply, threat, trust, floor, rivalries, stake, reach, capability, enmeshment, weight, demand,
        tolerance, rivalry, tie_cost, costs, out, np.empty((0, 6)),
    )  # fmt: skip
    return out


@jit
def utility_terms(
    a: np.ndarray,
    supply: np.ndarray,
    threat: np.ndarray,
    trust: np.ndarray,
    floor: np.ndarray,
    rivalries: np.ndarray,
    stake: np.ndarray,
    reach: np.ndarray,
    capability: np.ndarray,
    enmeshment: np.ndarray,
    weight: np.ndarray,
    demand: np.ndarray,
    tolerance: np.ndarray,
    rivalry: np.ndarray,
    tie_cost: np.ndarray,
    costs: np.ndarray,
) -> np.ndarray:
    """``Situation.components``: Vietnam's six losses at alignment ``a``, (runs, 6) (docs/ODD.md 7.4).

    Insecurity sum_d w_d max(D_d - N_d, 0)^2; over-reliance; entrapment sum_p rivalries_p a_p^2; rivals'
    displeasure sum_q stake_q sum_p rivalry_qp max(a_p - tolerance_qp, 0)^2; broken commitment sum_p
    max(floor_p - a_p, 0); the cost of the ties sum_p tie_cost_p a_p; the middle four times their ``costs``
    (4, runs). Vietnam's utility is minus their sum: the very terms and sums of ``gains``.
    """
    n = a.shape[0]
    out = np.empty((n, 6))
    _weigh(
        a, np.empty((n, 0)), supply, threat, trust, floor, rivalries, stake, reach, capability, enmeshment, weight,
        demand, tolerance, rivalry, tie_cost, costs, np.empty((n, NP, 0)), out,
    )  # fmt: skip
    return out


@jit
def over_reliance(a: np.ndarray, trust: np.ndarray) -> np.ndarray:
    """``sim.model.security.over_reliance``: the distrust-weighted Herfindahl index of each run's ties, (runs,)."""
    n = a.shape[0]
    out = np.empty(n)
    for i in range(n):
        out[i] = _over_reliance(a[i, 0], a[i, 1], a[i, 2], trust[i, 0], trust[i, 1], trust[i, 2])
    return out


@jit
def shortfall(net: np.ndarray, demand: np.ndarray) -> np.ndarray:
    """``sim.model.security.shortfall``: max(demand - net, 0) element by element, arrays of one shape."""
    x, y = net.ravel(), demand.ravel()
    out = np.empty(x.size)
    for i in range(x.size):
        out[i] = _short(x[i], y[i])
    return out.reshape(net.shape)


@jit
def insecurity(received: np.ndarray, faced: np.ndarray, weight: np.ndarray, demand: np.ndarray) -> np.ndarray:
    """Vietnam's insecurity sum_d w_d max(D_d - (R_d - H_d), 0)^2 per run, (runs,), from R and H (runs, dims).

    The first term of ``utility_terms``, for security received and threat faced taken apart (``sim.outputs.explain``).
    """
    n = received.shape[0]
    out = np.empty(n)
    for i in range(n):
        total = 0.0
        for d in range(ND):
            v = _insecure(received[i, d] - faced[i, d], weight[i, d], demand[i, d])
            total = v if d == 0 else total + v
        out[i] = total
    return out


# -- Vietnam's perception and decision (sim.model.agents.Hedger) ------------------------------
@jit
def remember(memory: np.ndarray, last: np.ndarray, delivery: np.ndarray, decay: np.ndarray) -> np.ndarray:
    """``Hedger.remember``: a fall in what a power delivers is remembered, and slowly forgotten (ODD 7.7).

    memory = clip(memory (1 - decay) + max(last delivery - delivery, 0), 0, 1).
    """
    n = memory.shape[0]
    out = np.empty((n, NP))
    for i in range(n):
        for p in range(NP):
            out[i, p] = _clip01(memory[i, p] * (1.0 - decay[i]) + _pos(last[i, p] - delivery[i, p]))
    return out


@jit
def learn(
    belief: np.ndarray,
    a: np.ndarray,
    rivalry: np.ndarray,
    coercion: np.ndarray,
    seen: np.ndarray,
    courtship: np.ndarray,
    rate: np.ndarray,
    margin: np.ndarray,
) -> np.ndarray:
    """``Hedger.learn``: Vietnam's belief of each power's line on each tie, (runs, powers, powers) (ODD 7.10).

    ``belief[i, q, p]`` is what Vietnam believes power q tolerates of its tie with p, learnt from what q did
    in answer to the ties ``a`` as they stood: coercion that rose since it was last ``seen`` puts the line
    below the tie (target min(belief, a_p) - margin); courtship without new coercion puts it at least a
    margin above (max(belief, a_p + margin)); neither, at least at the tie (max(belief, a_p)). The belief
    moves toward its target at ``rate`` times the rivalry of q with p (a power's pressure says nothing of a
    tie it does not rival), within [0, 1].
    """
    n = a.shape[0]
    out = np.empty((n, NP, NP))
    for i in range(n):
        m = margin[i]
        for q in range(NP):
            rose = coercion[i, q] > seen[i, q]
            courted = courtship[i, q] > 0.0
            for p in range(NP):
                b, x = belief[i, q, p], a[i, p]
                if rose:
                    target = (b if b < x else x) - m
                elif courted:
                    target = b if b > x + m else x + m
                else:
                    target = b if b > x else x
                out[i, q, p] = _clip01(b + (rate[i] * rivalry[i, q, p]) * (target - b))
    return out


@jit
def band(levels: np.ndarray, tier: np.ndarray, offset: int) -> np.ndarray:
    """``Hedger.rupture_line`` (offset -1, at least level 0) and ``tier_ceiling`` (1): a level per tie."""
    n = tier.shape[0]
    out = np.empty((n, NP))
    for i in range(n):
        for p in range(NP):
            k = tier[i, p] + offset
            out[i, p] = levels[i, k if k > 0 else 0]
    return out


@jit
def feasible(a: np.ndarray, step: np.ndarray, ceiling: np.ndarray, gap: np.ndarray, sides: bool) -> np.ndarray:
    """``Hedger.feasible``: which moves the policy allows for each tie, (runs, powers, 3) (docs/ODD.md 7.6).

    No tie below zero or above the ``ceiling``; and unless the strategy takes ``sides``, no tie more than
    ``gap`` (the siding gap while the Four No's hold, inf otherwise) above another, judged on the worst case
    of the other ties moving the other way at once (1e-12 absorbs rounding at the gap itself); a tie that
    already stands more than the gap above another (a power walked away from the lower, ODD 7.11) may not be
    kept either, where it can be loosened.
    """
    n, n_powers = a.shape
    ok = np.empty((n, n_powers, 3), np.bool_)
    for i in range(n):
        for p in range(n_powers):
            x, s = a[i, p], step[i]
            keep = True
            loosen = x - s >= 0.0
            deepen = x + s <= ceiling[i]
            if not sides:
                lowest, highest = np.inf, -np.inf
                first = True
                for q in range(n_powers):
                    if q != p:
                        lowest = a[i, q] if first else min(lowest, a[i, q])
                        highest = a[i, q] if first else max(highest, a[i, q])
                        first = False
                deepen = deepen and (x + s) - (lowest - s) <= gap[i] + 1e-12
                loosen = loosen and (highest + s) - (x - s) <= gap[i] + 1e-12
                keep = not (loosen and x - lowest > gap[i] + 1e-12)
            ok[i, p, LOOSEN] = loosen
            ok[i, p, KEEP] = keep
            ok[i, p, DEEPEN] = deepen
    return ok


@jit
def logit_choice(
    gain: np.ndarray,
    step: np.ndarray,
    temperature: np.ndarray,
    inertia: np.ndarray,
    feasible: np.ndarray,
    noise: np.ndarray,
) -> np.ndarray:
    """``Hedger.choose``: the move (index into MOVES) with the highest noisy score per tie, (runs, powers).

    score_k = gain_k / (step temperature) + inertia [k = keep] + noise_k over the feasible moves (docs/ODD.md
    7.4): with Gumbel ``noise``, a logit choice. Ties and nan go as in np.argmax.
    """
    n, n_powers, n_moves = gain.shape
    out = np.empty((n, n_powers), np.int64)
    for i in range(n):
        scale = step[i] * temperature[i]
        for p in range(n_powers):
            best, chosen = -np.inf, 0
            for k in range(n_moves):
                score = gain[i, p, k] / scale
                if k == KEEP:
                    score = score + inertia[i, p]
                score = score + noise[i, p, k] if feasible[i, p, k] else -np.inf
                if score != score:  # np.argmax stops at the first nan
                    chosen = k
                    break
                if score > best:  # the first of equal scores wins, as in np.argmax
                    best, chosen = score, k
            out[i, p] = chosen
    return out


@jit
def carry_out(
    a: np.ndarray,
    choice: np.ndarray,
    step: np.ndarray,
    tier: np.ndarray,
    pressing: np.ndarray,
    lapsing: np.ndarray,
    levels: np.ndarray,
    ceiling: np.ndarray,
    patience: np.ndarray,
    highest: np.ndarray,
    leap: np.ndarray,
) -> None:
    """``Hedger.carry_out``: move each tie within its tier's ceiling; tiers change when pressure or a rupture lasts.

    A tie that would deepen past its tier's ceiling (the next level) stops there and presses; pressing for
    ``patience`` quarters in a row upgrades the tier by one and ``leap`` more (the tier Vietnam names,
    ``Hedger.leaps``), up to ``highest``. A tie below its rupture line (the floor of the tier below) for as
    long lapses one tier, unless Vietnam is deepening it: then it is mending, not lapsing. Updates ``a``,
    ``tier``, ``pressing`` and ``lapsing`` in place (docs/ODD.md 7.6).
    """
    n, n_powers = a.shape
    for i in range(n):
        for p in range(n_powers):
            x, c, t = a[i, p], choice[i, p], tier[i, p]
            wanted = x + (c - 1.0) * step[i]
            top = levels[i, t + 1]
            press = c == DEEPEN and wanted > top
            moved = (top if top >= x else x) if press else wanted
            y = moved if moved >= 0.0 or moved != moved else 0.0
            y = ceiling[i] if y > ceiling[i] else y
            a[i, p] = y
            pressing[i, p] = pressing[i, p] + 1 if press else 0
            rupture = levels[i, t - 1] if t > 0 else 0.0  # the floor of the tier below
            lapsing[i, p] = lapsing[i, p] + 1 if (y < rupture and c != DEEPEN) else 0
            up = pressing[i, p] >= patience[i] and t < highest[i]
            down = lapsing[i, p] >= patience[i] and t > 0
            named = t + 1 + leap[i, p]
            tier[i, p] = (named if named < highest[i] else highest[i]) if up else t - down
            if up:
                pressing[i, p] = 0
            if down:
                lapsing[i, p] = 0


@jit
def row_mean(x: np.ndarray) -> np.ndarray:
    """x.mean(axis=1) of a (runs, k) array: the sum from the left, then divided by k, as numpy does."""
    n, k = x.shape
    out = np.empty(n)
    for i in range(n):
        total = x[i, 0]
        for j in range(1, k):
            total = total + x[i, j]
        out[i] = total / k
    return out


@jit
def shares(a: np.ndarray, fill: float) -> np.ndarray:
    """Each tie's share of Vietnam's engagement, ``fill`` where it has none (np.divide with where=)."""
    n = a.shape[0]
    out = np.empty((n, NP))
    for i in range(n):
        total = a[i, 0]
        for p in range(1, NP):
            total = total + a[i, p]
        for p in range(NP):
            out[i, p] = a[i, p] / total if total > 0 else fill
    return out


@jit
def entropy(share: np.ndarray, logs: np.ndarray, log_n: float) -> np.ndarray:
    """``hedging_index`` from the shares and their logarithms (numpy's): -sum(share * log share) / log n.

    The normalised entropy of the engagement shares: 1 when even, 0 when one tie is all (0 log 0 = 0).
    """
    n = share.shape[0]
    out = np.empty(n)
    for i in range(n):
        total = share[i, 0] * logs[i, 0]
        for p in range(1, NP):
            total = total + share[i, p] * logs[i, p]
        out[i] = -total / log_n
    return out


# -- failure conditions (sim.model.outcomes) ----------------------------------------------
@jit
def conditions(
    a: np.ndarray, satisfaction: np.ndarray, alone: np.ndarray, coercion: np.ndarray, lines: np.ndarray
) -> np.ndarray:
    """``outcomes.conditions``: bandwagoning, dropped partner, isolation and coercion, each (runs,), rows of (4, runs).

    ``lines`` (5, runs): the alliance, siding, comprehensive-partnership, isolation and coercion lines
    (``outcomes.LINES``). Bandwagoning is Vietnam siding: a tie at or above the alliance line, or one tie more
    than the siding gap above another (the Four No's' rule against siding with one country against another,
    002); dropped partner: a tie below the lowest tier; isolation: the mean share of demand met less ``alone``
    (the same with every tie cut) below the isolation line; coercion: a power coercing at or above the coercion
    line, which is the powers' doing, not a failure of Vietnam's (docs/ODD.md 7.8).
    """
    n, n_powers = a.shape
    n_dims = satisfaction.shape[1]
    out = np.empty((4, n), np.bool_)
    for i in range(n):
        wagon = False
        dropped = False
        coerced = False
        high = a[i, 0]
        low = a[i, 0]
        for p in range(n_powers):
            wagon = wagon or a[i, p] >= lines[0, i]
            dropped = dropped or a[i, p] < lines[2, i]
            coerced = coerced or coercion[i, p] >= lines[4, i]
            high = max(high, a[i, p])
            low = min(low, a[i, p])
        total = satisfaction[i, 0]
        for d in range(1, n_dims):
            total = total + satisfaction[i, d]
        out[0, i] = wagon or high - low > lines[1, i] + 1e-9  # the hedger's own moves stop at the gap itself
        out[1, i] = dropped
        out[2, i] = total / n_dims - alone[i] < lines[3, i]
        out[3, i] = coerced
    return out


# -- streaming into an Aggregate (sim.runs.results) -----------------------------------------
@jit
def accumulate(hist: np.ndarray, sums: np.ndarray, x: np.ndarray, lo: float, hi: float, scale: float) -> None:
    """``Aggregate.observe`` for one series and step: histogram counts (k, bins) and fixed-point sums (k,).

    A value falls in bin floor((v - lo) / (hi - lo) bins), out-of-range values in the first or last bin; the
    sums add rint(v scale) as integers, so that they are the same in any order of runs or chunks.
    """
    n, k = x.shape
    bins = hist.shape[1]
    for i in range(n):
        for j in range(k):
            v = x[i, j]
            b: np.int64 | int = np.int64((v - lo) / (hi - lo) * bins)
            b = 0 if b < 0 else (bins - 1 if b > bins - 1 else b)
            hist[j, b] += 1
            sums[j] += np.int64(np.rint(v * scale))


@jit
def count_tiers(counts: np.ndarray, tier: np.ndarray) -> None:
    """Partnership tiers per power, counted into ``counts`` (powers, tiers)."""
    for i in range(tier.shape[0]):
        for p in range(tier.shape[1]):
            counts[p, tier[i, p]] += 1


def warm_up() -> None:
    """Compile (or load from the cache) every kernel on tiny inputs, so the first step pays nothing more."""
    n, p, d = 1, 3, 3
    f1, f2, f3 = np.ones(n), np.ones((n, p)), np.ones((n, p, d))
    runs = np.zeros(n, np.uint64)
    uniform(np.uint32(1), np.uint32(2), runs, 0, np.uint32(3), 9)
    philox_block(np.zeros((1, 4), np.uint32), np.zeros(2, np.uint32))  # the tests' entry point
    respond(0, f2, f2, f1, f1, f3, f2, f2, f2, np.ones((4, n)))
    drift(f2, f2, f1, f1, 0)
    lines(f3, f2, 0)
    engage(f1, f1, f1, f1)
    erode(f2, f2, f1)
    fade(f2, f2, f1)
    offer(f2, f1, f1, f1, f3, 0)
    threat(f3, f1, f1, f1, f3, 0)
    situation(f3, f2, f2, f2, f3, f3, f3, f1)
    managed(f3, f3, f3, f1)
    satisfaction(f2, f3, f3, f2, f2, f2, f3, f2)
    satisfaction_alone(f3, f3, f2, f2, f2, f3, f2)
    security_received(f2, f3, f2, f2, f2)
    threat_faced(f2, f3, f3)
    share_met(f2, f2)
    share_met(f1, f1)
    gains(f2, np.ones((n, 3)), f3, f3, f2, f2, f2, f2, f2, f2, f3, f2, f2, f3, f3, f2, np.ones((4, n)))
    utility_terms(f2, f3, f3, f2, f2, f2, f2, f2, f2, f3, f2, f2, f3, f3, f2, np.ones((4, n)))
    over_reliance(f2, f2)
    insecurity(f2, f2, f2, f2)
    shortfall(f2, f2)
    shortfall(f1, f1)
    remember(f2, f2, f2, f1)
    learn(f3, f2, f3, f2, f2, f2, f1, f1)
    band(np.ones((n, 6)), np.ones((n, p), np.int64), 0)
    ok = feasible(f2, f1, f1, f1, False)
    logit_choice(f3, f1, f1, f2, ok, f3)
    carry_out(
        f2.copy(),
        np.ones((n, p), np.int64),
        f1,
        np.ones((n, p), np.int64),
        np.zeros((n, p), np.int64),
        np.zeros((n, p), np.int64),
        np.ones((n, 6)),
        f1,
        f1,
        np.ones(n, np.int64),
        np.zeros((n, p), np.int64),
    )
    row_mean(f2)
    entropy(shares(f2, 0.0), f2, 1.0)
    conditions(f2, f2, f1, f2, np.ones((5, n)))
    accumulate(np.zeros((p, 4), np.int64), np.zeros(p, np.int64), f2, 0.0, 1.0, 1e9)
    count_tiers(np.zeros((p, 5), np.int64), np.ones((n, p), np.int64))
