"""Counter-based random streams: Philox4x32-10 over (key, run, step, channel).

Every random number in the model is a pure function of the ensemble key (drawn
once from ``model.rng``), the run's global index, the step and a named channel.
Run *i* therefore sees the same numbers whether it is computed alone, in an
ensemble of any size, in any chunk or on any worker (Salmon et al. 2011,
"Parallel random numbers: as easy as 1, 2, 3", SC'11).
"""

from __future__ import annotations

import zlib

import numpy as np

from sim import kernels

_M0 = np.uint64(0xD2511F53)
_M1 = np.uint64(0xCD9E8D57)
_W0 = np.uint32(0x9E3779B9)
_W1 = np.uint32(0xBB67AE85)
_LO = np.uint64(0xFFFFFFFF)
_ROUNDS = 10


def philox4x32(counter: tuple[np.ndarray, ...], key: tuple[np.ndarray | np.uint32, ...]) -> tuple[np.ndarray, ...]:
    """Philox4x32-10 block function on uint32 arrays (four counter words, two key words)."""
    c0, c1, c2, c3 = (np.asarray(c, dtype=np.uint32) for c in counter)
    k0, k1 = (np.asarray(k, dtype=np.uint32) for k in key)
    with np.errstate(over="ignore"):
        for _ in range(_ROUNDS):
            p0 = c0.astype(np.uint64) * _M0
            p1 = c2.astype(np.uint64) * _M1
            hi0, lo0 = (p0 >> np.uint64(32)).astype(np.uint32), (p0 & _LO).astype(np.uint32)
            hi1, lo1 = (p1 >> np.uint64(32)).astype(np.uint32), (p1 & _LO).astype(np.uint32)
            c0, c1, c2, c3 = hi1 ^ c1 ^ k0, lo1, hi0 ^ c3 ^ k1, lo0
            k0 = k0 + _W0
            k1 = k1 + _W1
    return c0, c1, c2, c3


def channel(name: str) -> int:
    """A stable 32-bit channel number for a named use of randomness."""
    return zlib.crc32(name.encode())


class Streams:
    """Uniform and Gumbel variates addressed by run index, step and channel.

    ``compiled``: draw with ``sim.kernels.uniform`` (the model's engine), the
    same bits as the numpy reference here.
    """

    def __init__(self, key: int, runs: np.ndarray, compiled: bool = True) -> None:
        """The streams of ensemble ``key`` (64 bits) for the runs with global indices ``runs``."""
        self.key = (np.uint32(key & 0xFFFFFFFF), np.uint32((key >> 32) & 0xFFFFFFFF))
        self.runs = np.asarray(runs, dtype=np.uint64)
        self.compiled = compiled

    def uniform(self, step: int, name: str, width: int = 1) -> np.ndarray:
        """Open-interval uniforms of shape (runs, width), never exactly 0 or 1."""
        if self.compiled:
            return kernels.uniform(*self.key, self.runs, step, np.uint32(channel(name)), width)
        blocks = -(-width // 4)
        lanes = np.arange(blocks, dtype=np.uint32)
        run = self.runs[:, None]
        words = philox4x32(
            (
                (run & _LO).astype(np.uint32),
                (run >> np.uint64(32)).astype(np.uint32),
                np.uint32(step & 0xFFFFFFFF) ^ (lanes[None, :] << np.uint32(24)),
                np.full_like(lanes[None, :], channel(name), dtype=np.uint32),
            ),
            self.key,
        )
        bits = np.stack(words, axis=-1).reshape(len(self.runs), blocks * 4)[:, :width]
        return (bits.astype(np.float64) + 0.5) / 2.0**32

    def gumbel(self, step: int, name: str, width: int) -> np.ndarray:
        """Standard Gumbel variates: the noise of a logit choice (McFadden 1974)."""
        u = self.uniform(step, name, width)
        if self.compiled:  # the same operations, in place
            np.log(u, out=u)
            np.negative(u, out=u)
            np.log(u, out=u)
            return np.negative(u, out=u)
        return -np.log(-np.log(u))
