"""BalanceModel: Vietnam and three great powers, one run or an ensemble of runs."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Protocol

import numpy as np
from mesa import DataCollector, Model

from sim.model import kernels
from sim.model.agents import GreatPower, Hedger, Russia
from sim.model.calendar import Calendar, Month
from sim.model.domain import DIMENSIONS, POWERS, STATE_PATHS
from sim.model.events import Event, ScheduledEvent, Shock
from sim.model.observations import observations
from sim.model.outcomes import Failure, Verdict, conditions
from sim.model.params import ParameterSet, bounds, check_drawn, load_parameters
from sim.model.security import Situation, hedging_index
from sim.model.strategies import DEFAULT
from sim.model.strategies import strategy as strategy_named
from sim.model.streams import Streams
from sim.model.world import World

# Each power's agent class: Russia defers to China, the US and China follow the general rules.
POWER_CLASSES: dict[str, type[GreatPower]] = {"US": GreatPower, "CN": GreatPower, "RU": Russia}


class Observer(Protocol):
    """What the model tells each step's outcomes to (e.g. ``sim.runs.results.Aggregate``)."""

    def observe(self, step: int, values: dict[str, np.ndarray], scalars: dict[str, np.ndarray]) -> None:
        """Take step ``step``'s aggregated ``values`` (``sim.model.observations``) and the world's ``scalars``."""
        ...


class BalanceModel(Model):
    """Vietnam's multi-alignment among the US, China and Russia.

    Args:
        runs: number of runs held side by side (1: one classroom world; many:
            a Monte Carlo ensemble through the very same agent rules).
        rng: seed or numpy Generator; all randomness descends from ``model.rng``.
        parameters: a ParameterSet (the packaged defaults if None).
        uncertainty: draw every parameter that has a range, per run, from it.
        first_run: global index of the first run held here, so that a chunk of
            an ensemble reproduces exactly the same runs as the whole.
        horizon: steps after which ``running`` turns False (default from the
            parameter file).
        events: events to schedule (see ``sim.model.events``).
        record: keep per-step trajectories (off for large streamed ensembles).
        observers: objects with ``observe(step, values, scalars)`` that receive
            each step's outcomes (see ``sim.runs.results.Aggregate``).
        strategy: the name of Vietnam's strategy (``sim.model.strategies``), or a
            Hedger subclass; the model's own ``hedge`` by default.
        powers: the GreatPower subclass of each power, where it differs from
            ``POWER_CLASSES`` (e.g. a Russia that does not defer to China).
        values: per-run parameter values that replace the drawn ones, by path
            (arrays of length ``runs``): a design's points, one per run.
        event_values: per-run event values that replace the drawn ones:
            ``events[i].magnitude`` and ``events[i].at`` (the step it falls in).
        run_index: the global index of each run held here, in place of
            ``first_run`` onwards (a design's replicates share indices: common
            random numbers across its points).

    The agents' rules are the compiled kernels of ``sim.model.kernels``; to debug
    them, run the same source uncompiled (``NUMBA_DISABLE_JIT=1``).
    """

    def __init__(
        self,
        *,
        runs: int = 1,
        rng: int | np.random.Generator | None = None,
        parameters: ParameterSet | None = None,
        uncertainty: bool = False,
        first_run: int = 0,
        horizon: int | None = None,
        events: Iterable[Event] = (),
        record: bool = True,
        observers: Iterable[Observer] = (),
        strategy: str | type[Hedger] = DEFAULT,
        values: dict[str, np.ndarray] | None = None,
        powers: dict[str, type[GreatPower]] | None = None,
        event_values: dict[str, np.ndarray] | None = None,
        run_index: np.ndarray | None = None,
    ) -> None:
        """The model's runs drawn and checked, its agents made, its events scheduled and its first state observed."""
        super().__init__(rng=rng)
        if int(runs) < 1:
            raise ValueError(f"runs must be at least 1, got {runs!r}")
        self.runs = int(runs)
        self.parameters = parameters if parameters is not None else load_parameters()
        self.parameters.check()
        time = self.parameters.time
        self.calendar = Calendar(Month.parse(time["start"]), int(time["months_per_step"]))
        self.horizon = int(horizon if horizon is not None else time["horizon"])
        if run_index is None:
            self.run_index = np.arange(first_run, first_run + self.runs, dtype=np.uint64)
        else:
            self.run_index = np.asarray(run_index, dtype=np.uint64).reshape(self.runs)
        self.event_values = {k: np.asarray(v).reshape(self.runs) for k, v in (event_values or {}).items()}
        self.streams = Streams(int(self.rng.integers(0, 2**63)), self.run_index)
        self.base = self.parameters.draw(self.run_index, self.streams, everything=uncertainty)
        for path, column in (values or {}).items():
            self.parameters[path]  # validates the path
            self.base[path] = np.asarray(column, dtype=float).reshape(self.runs)
        check_drawn(self.base)
        self.shocks: list[Shock] = []
        self.fired: list[Event] = []
        self.world = self._calm_world = World.assemble(self.base)

        classes = {**POWER_CLASSES, **(powers or {})}
        self.great_powers = [classes[name](self, name) for name in POWERS]
        self.powers = self.agents.select(agent_type=GreatPower)
        alignment = np.stack([self.base[f"hedger.alignment.{p}"] for p in POWERS], 1)
        memory = np.stack([self.base[f"hedger.memory.{p}"] for p in POWERS], 1)
        tier = np.stack([self.base[f"hedger.tier.{p}"] for p in POWERS], 1)
        cls = strategy if isinstance(strategy, type) else strategy_named(strategy)
        self.strategy = cls.name
        self.hedger = cls(self, alignment, memory, tier)
        self.vietnam = self.agents.select(agent_type=Hedger)

        self.verdict = Verdict(self.runs)
        self.record = record
        self.observers = list(observers)
        self.history: dict[str, list[np.ndarray]] = {k: [] for k in _RECORDED}
        self.scheduled: list[ScheduledEvent] = []
        for event in events:
            self.add_event(event)
        self.hedger.perceive()
        self._observe()
        self.datacollector = DataCollector(model_reporters=_reporters())
        self.datacollector.collect(self)

    # -- the step ------------------------------------------------------------
    def step(self) -> None:
        """One quarter: powers respond, ties erode where a power walked away and visits' lift fades, Vietnam adjusts."""
        self.world = self._effective_world()
        self.powers.do("respond")
        self.hedger.erode(self.engagement)
        self.hedger.fade()
        self.vietnam.do("adjust")
        self._observe()
        if self.record:  # the DataCollector's means are per-step trajectories too
            self.datacollector.collect(self)
        if self.steps >= self.horizon:
            self.running = False

    @property
    def courtship(self) -> np.ndarray:
        """Each power's courtship of Vietnam, (runs, powers)."""
        return np.stack([p.courtship for p in self.great_powers], 1)

    @property
    def engagement(self) -> np.ndarray:
        """How far each power holds up its side of the partnership, (runs, powers)."""
        return np.stack([p.engagement for p in self.great_powers], 1)

    @property
    def tolerance(self) -> np.ndarray:
        """The powers' lines as they stand, (runs, powers, powers): [:, p, q] what p tolerates of the tie with q."""
        return np.stack([p.lines() for p in self.great_powers], 1)

    @property
    def coercion(self) -> np.ndarray:
        """Each power's coercion of Vietnam, (runs, powers)."""
        return np.stack([p.coercion for p in self.great_powers], 1)

    @property
    def situation(self) -> Situation:
        """What Vietnam faced at its last decision (``sim.model.security.Situation``)."""
        situation = self.hedger.situation
        assert situation is not None  # Vietnam perceives its situation as the model is made
        return situation

    def _observe(self) -> None:
        a = self.hedger.alignment
        s = self.world.scalars
        self.satisfaction = self.situation.satisfaction(a)
        self.coercion_now = self.coercion
        self.alone = self.satisfaction_alone()
        now, coerced = conditions(a, self.satisfaction, self.alone, self.coercion_now, s)
        lowest = s["comprehensive"][:, None]
        left = ((a < lowest) & (self.engagement < lowest)).any(axis=1)  # a dropped tie its power no longer holds up
        self.verdict.update(self.steps, now, s["persistence"], coerced, left)
        if self.record or self.observers:
            snapshot = self._snapshot()
            for key, value in snapshot.items() if self.record else ():
                self.history[key].append(value)
            if self.observers:
                values = observations(snapshot)
                for observer in self.observers:
                    observer.observe(self.steps, values, self.world.scalars)

    def _snapshot(self) -> dict[str, np.ndarray]:
        a = self.hedger.alignment
        kept = np.copy if self.record else np.asarray  # observers read a step's values at once; history keeps them
        return {
            "alignment": kept(a),
            "tier": self.hedger.tier.astype(np.int8),
            "satisfaction": kept(self.satisfaction),
            "hedging_index": hedging_index(a),
            "courtship": self.courtship,
            "coercion": self.coercion_now,
            "memory": kept(self.hedger.memory),
        }

    # -- perturbations -------------------------------------------------------
    @property
    def events(self) -> tuple[Event, ...]:
        """The events scheduled in the model, in order: the scenario's, then any added since."""
        return tuple(s.event for s in self.scheduled)

    def add_event(self, event: Event) -> ScheduledEvent:
        """Schedule ``event`` as the model's next one, to fire at its date (at the start, if dated before it)."""
        scheduled = event.schedule(self, len(self.scheduled))
        self.scheduled.append(scheduled)
        return scheduled

    def add_shock(self, shock: Shock) -> None:
        """Apply ``shock`` to its parameter from now on (an unknown path is refused)."""
        self.parameters[shock.path]  # validates the path
        self.shocks.append(shock)

    def add_impulse(self, path: str, change: np.ndarray) -> None:
        """A one-off change to agents' state, e.g. ``alignment.US`` or ``courtship.RU``."""
        kind, _, power = path.partition(".")
        if kind not in STATE_PATHS or power not in POWERS:
            raise ValueError(f"unknown state path {path!r}: expected one of {STATE_PATHS} . one of {POWERS}")
        p = POWERS.index(power)
        if kind == "alignment":
            a = self.hedger.alignment.copy()
            a[:, p] = np.clip(a[:, p] + change, 0.0, self.hedger.ceiling()[:, 0])
            self.hedger.alignment = a
        else:
            agent = self.great_powers[p]
            setattr(agent, kind, np.clip(getattr(agent, kind) + change, 0.0, 1.0))

    def _effective_world(self) -> World:
        step = self.steps
        self.shocks = [s for s in self.shocks if not s.expired(step)]
        if not self.shocks:
            return self._calm_world  # the world without shocks never changes: assemble it once
        values, standing = dict(self.base), dict(self.base)
        for shock in self.shocks:
            values[shock.path] = shock.apply(values[shock.path], step)
            if shock.end is None:  # a shock that stays changes the standing world; a crisis passes (ODD 7.3)
                standing[shock.path] = shock.apply(standing[shock.path], step)
        for path in {s.path for s in self.shocks}:
            values[path] = np.clip(values[path], *bounds(path))
            standing[path] = np.clip(standing[path], *bounds(path))
        return World.assemble(values, standing)

    # -- what users read -----------------------------------------------------
    @property
    def date(self) -> Month:
        """Calendar month at the model's current time."""
        return self.calendar.date(self.time)

    @property
    def dates(self) -> list[Month]:
        """The calendar month of each recorded step."""
        return [self.calendar.date(t) for t in range(len(self.history["alignment"]))]

    def trajectories(self) -> dict[str, np.ndarray]:
        """Recorded outcomes stacked over time: (steps+1, runs, ...), the partnership tiers included."""
        if not self.record:
            raise RuntimeError("this model was created with record=False")
        return {k: np.stack(v) for k, v in self.history.items()}

    def tiers(self) -> np.ndarray:
        """Current partnership tier of each tie (index into sim.model.params.TIERS)."""
        return self.hedger.tier.copy()

    def satisfaction_alone(self) -> np.ndarray:
        """Mean share of demand met with every tie cut, in the current situation (runs,): Vietnam alone."""
        sit, w = self.situation, self.world
        return kernels.satisfaction_alone(
            sit.supply, sit.threat, sit.trust, w.reach, w.capability, sit.enmeshment, w.demand
        )

    def survival_probability(self) -> float:
        """Share of runs with no lasting failure so far."""
        return float(self.verdict.survived.mean())

    def failure_modes(self) -> dict[str, float]:
        """Share of runs per outcome: survived and each failure mode."""
        return self.verdict.shares()

    def dropped_by_power(self) -> float:
        """Share of runs whose failure is a dropped partner the power walked away from, not Vietnam."""
        return float(self.verdict.dropped_by_power.mean())


_RECORDED = ("alignment", "tier", "satisfaction", "hedging_index", "courtship", "coercion", "memory")


def _mean_alignment(p: int) -> Callable[[BalanceModel], float]:
    return lambda m: float(m.hedger.alignment[:, p].mean())


def _mean_satisfaction(d: int) -> Callable[[BalanceModel], float]:
    return lambda m: float(m.satisfaction[:, d].mean())


def _reporters() -> dict[str, Callable[[BalanceModel], object]]:
    reporters: dict[str, Callable[[BalanceModel], object]] = {
        f"alignment_{p}": _mean_alignment(i) for i, p in enumerate(POWERS)
    }
    reporters |= {f"satisfaction_{d}": _mean_satisfaction(i) for i, d in enumerate(DIMENSIONS)}
    reporters["hedging_index"] = lambda m: float(hedging_index(m.hedger.alignment).mean())
    reporters["survival"] = lambda m: m.survival_probability()
    reporters["failure"] = lambda m: Failure(int(m.verdict.mode[0])).label if m.runs == 1 else None
    return reporters
