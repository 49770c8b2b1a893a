"""Vietnam's strategies: the model's own hedger and the null and rival strategies it is judged against.

Each strategy is a registered subclass of ``sim.model.agents.Hedger`` with a name
and a description; it overrides only ``choose`` (which move to make on each
tie) and, for the strategies that side with one power, whether it keeps the
Four No's rule against siding. Perception, partnership tiers and the alliance
ceiling are the same for all, so the verdict compares choices, not worlds.
Which tier an upgrade names is a choice too: the model's Vietnam weighs it
(``Hedger.leaps``); a strategy that weighs nothing takes the next tier
(``NextTier``), as the tiers rose before upgrades were decisions.

A scenario names one with ``strategy:``, the command line with
``--strategy``; ``bamboo run`` reports every registered strategy side by side
under common random numbers (docs/ODD.md 7.9).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from sim.model.agents import DEEPEN, KEEP, LOOSEN, Hedger
from sim.model.domain import POWERS
from sim.model.security import Situation

STRATEGIES: dict[str, type[Hedger]] = {}
DEFAULT = "hedge"


def register(cls: type[Hedger]) -> type[Hedger]:
    """Add a strategy to ``STRATEGIES`` under its name (a class decorator)."""
    STRATEGIES[cls.name] = cls
    return cls


register(Hedger)


class NextTier:
    """For a strategy that weighs no utility: an upgrade that falls due is to the next tier, never beyond."""

    tier: np.ndarray

    def leaps(self, situation: Situation, step: np.ndarray, choice: np.ndarray) -> np.ndarray:
        """No tier beyond the next: the strategy does not weigh which tier to name."""
        return np.zeros(self.tier.shape, dtype=np.int64)


@register
class Frozen(NextTier, Hedger):
    """A null strategy: Vietnam keeps every tie as it is, whatever happens."""

    name = "frozen"
    description = "keeps its ties as they are, whatever happens"

    def choose(self, situation: Situation, step: np.ndarray, feasible: np.ndarray) -> np.ndarray:
        """Keep every tie."""
        return np.full(self.alignment.shape, KEEP)

    def obey(self, choice: np.ndarray, feasible: np.ndarray) -> np.ndarray:
        """Keep every tie even where a power's walking away leaves one more than the siding gap above another."""
        return choice


@register
class Random(NextTier, Hedger):
    """A null strategy: each quarter, each tie moves at random among the moves the Four No's allow.

    It draws the same noise as the model's hedger; without utilities the
    largest Gumbel variate picks each allowed move with equal chance.
    """

    name = "random"
    description = "moves each tie at random among the moves the Four No's allow"

    def choose(self, situation: Situation, step: np.ndarray, feasible: np.ndarray) -> np.ndarray:
        """An allowed move per tie, each equally likely."""
        return np.argmax(np.where(feasible, self.noise(), -np.inf), axis=2)


@register
class Redline(NextTier, Hedger):
    """A null strategy, an oracle: keep every tie, but stay one step inside every rival's line.

    It knows what each power tolerates of Vietnam's tie with each of its
    rivals (the model's tolerances, which the hedger itself only weighs), and
    loosens a tie whenever it is within one step (the size of a quarter's
    move, so that no single move crosses a line) of the lowest line a rival
    draws on it; otherwise it keeps the tie. It is the best simple rule the
    review of the verdict found: it ties or beats the model's Vietnam in most
    worlds, so the value of hedging is measured against it (docs/ODD.md 7.9).
    """

    name = "redline"
    description = "keeps every tie, and loosens a tie that comes within a step of a rival's line (knows the lines)"

    def choose(self, situation: Situation, step: np.ndarray, feasible: np.ndarray) -> np.ndarray:
        """Loosen each tie within one step of its lowest rival line; keep the rest."""
        w = situation.world
        # [:, p]: the lowest line a rival draws on tie p, as the lines stand now (they move, docs/ODD.md 7.11)
        lines = np.where(w.rivalry > 0, self.model.tolerance, np.inf).min(axis=1)
        near = self.alignment > lines - step
        return np.where(near & feasible[:, :, LOOSEN], LOOSEN, KEEP)


@register
class TitForTat(NextTier, Hedger):
    """A null strategy that answers pressure: keep every tie; loosen what a coercer objects to once coerced.

    It knows no lines. When a power's coercion rises over a quarter, it
    loosens, by one step, every tie with that power's rivals, and keeps its
    ties otherwise: it gives way only after being pushed, as far as it is
    pushed.
    """

    name = "tit-for-tat"
    description = "keeps every tie, and loosens the ties a power objects to after that power's coercion rises"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        """The hedger's state, and the coercion it saw last (none yet)."""
        super().__init__(*args, **kwargs)
        self.seen: np.ndarray | None = None

    def choose(self, situation: Situation, step: np.ndarray, feasible: np.ndarray) -> np.ndarray:
        """Loosen the ties whose rivals' coercion rose since the last quarter; keep the rest."""
        coercion = np.zeros_like(self.alignment) if situation.coercion is None else situation.coercion
        rose = coercion > (np.zeros_like(coercion) if self.seen is None else self.seen)
        self.seen = coercion.copy()
        objected = np.einsum("rq,rqp->rp", rose.astype(float), (situation.world.rivalry > 0).astype(float)) > 0
        return np.where(objected & feasible[:, :, LOOSEN], LOOSEN, KEEP)


class Aligner(NextTier, Hedger):
    """A rival strategy: deepen the tie with one power as far as the alliance ceiling allows, let the others go.

    It keeps the rule against alliances but not the rule against siding:
    aligning with one power is siding with it.
    """

    target: str
    sides = True

    def choose(self, situation: Situation, step: np.ndarray, feasible: np.ndarray) -> np.ndarray:
        """Deepen the target's tie and loosen the others where allowed; keep a tie where its move is not."""
        wanted = np.full(self.alignment.shape, LOOSEN)
        wanted[:, POWERS.index(self.target)] = DEEPEN
        return np.where(np.take_along_axis(feasible, wanted[:, :, None], axis=2)[:, :, 0], wanted, KEEP)


@register
class AlignUS(Aligner):
    """Align with the US: deepen that tie to the alliance ceiling, loosen the others."""

    name, target = "align:US", "US"
    description = "deepens the US tie as far as allowed and lets the others go"


@register
class AlignCN(Aligner):
    """Align with China: deepen that tie to the alliance ceiling, loosen the others."""

    name, target = "align:CN", "CN"
    description = "deepens the China tie as far as allowed and lets the others go"


@register
class AlignRU(Aligner):
    """Align with Russia: deepen that tie to the alliance ceiling, loosen the others."""

    name, target = "align:RU", "RU"
    description = "deepens the Russia tie as far as allowed and lets the others go"


def strategy(name: str) -> type[Hedger]:
    """The strategy class registered under ``name``."""
    try:
        return STRATEGIES[name]
    except KeyError:
        raise ValueError(f"unknown strategy {name!r}; expected one of {', '.join(STRATEGIES)}") from None
