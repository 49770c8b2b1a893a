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

from sim.model import kernels


def channel(name: str) -> int:
    """A stable 32-bit channel number for a named use of randomness."""
    return zlib.crc32(name.encode())


class Streams:
    """Uniform and Gumbel variates addressed by run index, step and channel (``kernels.uniform``)."""

    def __init__(self, key: int, runs: np.ndarray) -> None:
        """The streams of ensemble ``key`` (64 bits) for the runs with global indices ``runs``."""
        self.key = (np.uint32(key & 0xFFFFFFFF), np.uint32((key >> 32) & 0xFFFFFFFF))
        self.runs = np.asarray(runs, dtype=np.uint64)

    def uniform(self, step: int, name: str, width: int = 1) -> np.ndarray:
        """Open-interval uniforms of shape (runs, width), never exactly 0 or 1.

        Run ``r``'s four words of lane ``b`` are the Philox4x32-10 block of the counter (low and high 32 bits
        of ``r``, ``step ^ (b << 24)``, ``channel(name)``) under the ensemble key; each word ``w`` gives
        ``(w + 0.5) / 2**32``, and the words are read lane by lane.
        """
        return kernels.uniform(*self.key, self.runs, step, np.uint32(channel(name)), width)

    def gumbel(self, step: int, name: str, width: int) -> np.ndarray:
        """Standard Gumbel variates -log(-log u): the noise of a logit choice (McFadden 1974).

        In place, in numpy (``sim.model.kernels`` says why the logarithms stay in numpy).
        """
        u = self.uniform(step, name, width)
        np.log(u, out=u)
        np.negative(u, out=u)
        np.log(u, out=u)
        return np.negative(u, out=u)
