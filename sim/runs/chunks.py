"""Chunks of an ensemble: the runs simulated at once, and the two ways an ensemble can fail to run."""

from __future__ import annotations

from dataclasses import dataclass

DEFAULT_CHUNK = 10_000


class SetupError(ValueError):
    """The ensemble cannot start as asked (unreachable cluster, checkpoint of another run): exit 2."""


class ExecutionError(RuntimeError):
    """The ensemble could not be completed (workers kept dying): exit 1."""


@dataclass(frozen=True)
class Chunk:
    """The runs [first_run, first_run + runs) of an ensemble."""

    first_run: int
    runs: int


def chunks(runs: int, size: int = DEFAULT_CHUNK) -> list[Chunk]:
    """``runs`` runs in chunks of ``size`` (the last one may be smaller)."""
    return [Chunk(first, min(size, runs - first)) for first in range(0, runs, size)]
