"""The fan of possible worlds: a class's world run many times, and a cache that computes each fan once.

A class's world is its scenario with the lesson's dials, the seed, Vietnam's strategy and the events injected
live (its recipe). The fan is that recipe run ``runs`` times to the horizon, streamed into percentiles of each
tie and the verdicts' shares; a page draws its summary. Pages on the same settings share one fan.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np

from sim.model.balance import BalanceModel, Observer
from sim.model.calendar import Month
from sim.model.events import EVENT_TYPES
from sim.model.strategies import DEFAULT
from sim.outputs.plots import QS
from sim.runs.results import SERIES, Aggregate
from sim.runs.scenario import Scenario

type Fields = dict[str, Any]  # an event's keyword fields, as its EVENT_TYPES class takes them (actor, magnitude ...)
type LiveEvent = tuple[str, Month, Fields]  # an event injected live: its type, date and fields
type Recipe = tuple[str, int, str]  # what a class's world is made of: its scenario's digest, seed and strategy
# a fan by what it is a fan of: the world's recipe, the runs and the live events (in plain text)
type FanKey = tuple[Recipe, int, tuple[tuple[str, str, tuple[tuple[str, str], ...]], ...]]
type FanArgs = tuple[Scenario, int, tuple[LiveEvent, ...], int, str]  # the arguments of ``compute_fan``


FAN_SERIES = {"alignment": SERIES["alignment"]}  # what the fan chart draws: a fifth of a full Aggregate's memory


@dataclass
class Fan:
    """A Monte Carlo ensemble of the lesson's world: streamed percentiles and verdicts."""

    aggregate: Aggregate
    runs: int
    seconds: float


def same_world(
    what_if: Scenario,
    seed: int,
    live: Iterable[LiveEvent],
    runs: int,
    strategy: str = DEFAULT,
    *,
    record: bool = True,
    observers: Iterable[Observer] = (),
) -> BalanceModel:
    """A plain model of a class's world: the scenario with its dials, the seed, and the events injected live.

    ``record`` and ``observers`` are BalanceModel's: an ensemble streams its outcomes instead of keeping them.
    """
    built = [EVENT_TYPES[kind](at, **fields) for kind, at, fields in live]
    return what_if.model(
        runs=runs, seed=seed, extra_events=built, strategy=strategy, record=record, observers=observers
    )


def compute_fan(what_if: Scenario, seed: int, live: Iterable[LiveEvent], runs: int, strategy: str) -> Fan:
    """The Monte Carlo fan of a class's world: ``runs`` runs to the horizon, streamed into alignment histograms."""
    started = time.perf_counter()
    agg = Aggregate(what_if.steps, series=FAN_SERIES)
    ensemble = same_world(what_if, seed, live, runs, strategy, record=False, observers=[agg])
    ensemble.run_for(what_if.steps)
    agg.close_chunk(ensemble.verdict.mode, ensemble.verdict.step)
    return Fan(agg, runs, time.perf_counter() - started)


@dataclass(frozen=True)
class FanSummary:
    """What a page draws of a fan: percentiles QS of alignment per step and power, and the verdicts' shares."""

    q: np.ndarray
    runs: int
    survival: float
    modes: dict[str, float]
    seconds: float

    @classmethod
    def of(cls, fan: Fan) -> FanSummary:
        """What a page draws of ``fan``."""
        agg = fan.aggregate
        q = agg.percentiles("alignment", QS)
        return cls(q, fan.runs, agg.survival_probability(), agg.failure_modes(), fan.seconds)


def fan_summary(what_if: Scenario, seed: int, live: Iterable[LiveEvent], runs: int, strategy: str) -> FanSummary:
    """``compute_fan``'s result as a page draws it: a few kB, cheap to send back from a worker process."""
    return FanSummary.of(compute_fan(what_if, seed, live, runs, strategy))


class Cache[K, V]:
    """The last ``size`` results by key, each computed once even when many pages ask for it at the same moment."""

    def __init__(self, size: int, workers: int = 2) -> None:
        """A cache of ``size`` results, computing at most ``workers`` at a time."""
        self.size = size
        self.working = threading.Semaphore(workers)
        self.lock = threading.Lock()
        self.items: OrderedDict[K, V] = OrderedDict()
        self.pending: dict[K, threading.Lock] = {}

    def get(self, key: K, compute: Callable[[], V]) -> V:
        """The result at ``key``: kept, being computed for another page (then waited for), or ``compute()``."""
        with self.lock:
            if key in self.items:
                self.items.move_to_end(key)
                return self.items[key]
            busy = self.pending.setdefault(key, threading.Lock())
        with busy:  # the first page computes; the others wait for its result
            with self.lock:
                if key in self.items:
                    return self.items[key]
            with self.working:  # a few at a time: more would only share the processors, and finish later
                value = compute()
            with self.lock:
                self.items[key] = value
                self.pending.pop(key, None)
                while len(self.items) > self.size:
                    self.items.popitem(last=False)
            return value


FANS = Cache[FanKey, Fan](16)  # a ten-year fan keeps 2 MB of histograms; at the limits (200 steps) about 10 MB
