"""BalanceModel: Vietnam and three great powers, one run or an ensemble of runs."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
from mesa import DataCollector, Model

from sim.agents import GreatPower, Hedger
from sim.calendar import Calendar, Month
from sim.events import STATE_PATHS, Event, Shock
from sim.outcomes import Failure, Verdict, failure_now, tier
from sim.params import DIMENSIONS, POWERS, ParameterSet, World, bounds, check_drawn, load_parameters
from sim.results import observations
from sim.security import Situation, effective_supply, hedging_index
from sim.streams import Streams


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
        events: events to schedule (see ``sim.events``).
        record: keep per-step trajectories (off for large streamed ensembles).
        observers: objects with ``observe(step, values, scalars)`` that receive
            each step's outcomes (see ``sim.results.Aggregate``).
    """

    def __init__(
        self,
        *,
        runs: int = 1,
        rng=None,
        parameters: ParameterSet | None = None,
        uncertainty: bool = False,
        first_run: int = 0,
        horizon: int | None = None,
        events: Iterable[Event] = (),
        record: bool = True,
        observers: Iterable = (),
    ):
        super().__init__(rng=rng)
        if int(runs) < 1:
            raise ValueError(f"runs must be at least 1, got {runs!r}")
        self.runs = int(runs)
        self.parameters = parameters if parameters is not None else load_parameters()
        self.parameters.check()
        time = self.parameters.time
        self.calendar = Calendar(Month.parse(time["start"]), int(time["months_per_step"]))
        self.horizon = int(horizon if horizon is not None else time["horizon"])
        self.run_index = np.arange(first_run, first_run + self.runs, dtype=np.uint64)
        self.streams = Streams(int(self.rng.integers(0, 2**63)), self.run_index)
        self.base = self.parameters.draw(self.run_index, self.streams, everything=uncertainty)
        check_drawn(self.base)
        self.shocks: list[Shock] = []
        self.fired: list[Event] = []
        self.world = self._calm_world = World.assemble(self.base)

        zeros = np.zeros((self.runs, len(POWERS)))
        self.courtship, self.coercion = zeros.copy(), zeros.copy()
        for name in POWERS:
            GreatPower(self, name)
        alignment = np.stack([self.base[f"hedger.alignment.{p}"] for p in POWERS], 1)
        memory = np.stack([self.base[f"hedger.memory.{p}"] for p in POWERS], 1)
        self.hedger = Hedger(self, alignment, memory)
        self.powers = self.agents_by_type[GreatPower]

        self.verdict = Verdict(self.runs)
        self.record = record
        self.observers = list(observers)
        self.history: dict[str, list[np.ndarray]] = {k: [] for k in _RECORDED}
        self.events = list(events)
        for i, event in enumerate(self.events):
            event.schedule(self, i)
        self._perceive()
        self._observe()
        self.datacollector = DataCollector(model_reporters=_reporters())
        self.datacollector.collect(self)

    # -- the step ------------------------------------------------------------
    def step(self) -> None:
        """One quarter: powers respond to Vietnam's ties, then Vietnam adjusts them."""
        self.world = self._effective_world()
        self.next_courtship, self.next_coercion = self.courtship.copy(), self.coercion.copy()
        self.powers.do("respond")
        self.courtship, self.coercion = self.next_courtship, self.next_coercion
        self._perceive()
        self.agents_by_type[Hedger].do("adjust")
        self._observe()
        self.datacollector.collect(self)
        if self.steps >= self.horizon:
            self.running = False

    def _perceive(self) -> None:
        """Set the situation Vietnam weighs its options in."""
        w = self.world
        supply = effective_supply(w, self.courtship, self.coercion)
        threat = w.threat + self.coercion[:, :, None] * w.coercion_threat
        # abandonment is a fall in what a power delivers, not the end of courtship or coercion
        zeros = np.zeros_like(self.courtship)
        self.hedger.remember(effective_supply(w, zeros, zeros), w.reliability)
        self.situation = Situation(w, supply, threat, self.hedger.trust(w.reliability))

    def _observe(self) -> None:
        a = self.hedger.alignment
        self.satisfaction = self.situation.satisfaction(a)
        self.verdict.update(self.steps, failure_now(a, self.satisfaction, self.world.scalars))
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
        return {
            "alignment": a.copy(),
            "satisfaction": self.satisfaction.copy(),
            "hedging_index": hedging_index(a),
            "courtship": self.courtship.copy(),
            "coercion": self.coercion.copy(),
            "memory": self.hedger.memory.copy(),
        }

    # -- perturbations -------------------------------------------------------
    def add_shock(self, shock: Shock) -> None:
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
            state = getattr(self, kind)
            state[:, p] = np.clip(state[:, p] + change, 0.0, 1.0)

    def _effective_world(self) -> World:
        step = self.steps
        self.shocks = [s for s in self.shocks if not s.expired(step)]
        if not self.shocks:
            return self._calm_world  # the world without shocks never changes: assemble it once
        values = dict(self.base)
        for shock in self.shocks:
            values[shock.path] = shock.apply(values[shock.path], step)
        for path in {s.path for s in self.shocks}:
            values[path] = np.clip(values[path], *bounds(path))
        return World.assemble(values)

    # -- what users read -----------------------------------------------------
    @property
    def date(self) -> Month:
        """Calendar month at the model's current time."""
        return self.calendar.date(self.time)

    @property
    def dates(self) -> list[Month]:
        return [self.calendar.date(t) for t in range(len(self.history["alignment"]))]

    def trajectories(self) -> dict[str, np.ndarray]:
        """Recorded outcomes stacked over time: (steps+1, runs, ...), with tiers."""
        if not self.record:
            raise RuntimeError("this model was created with record=False")
        out = {k: np.stack(v) for k, v in self.history.items()}
        out["tier"] = tier(out["alignment"].transpose(1, 0, 2), self.world.scalars).transpose(1, 0, 2)
        return out

    def tiers(self) -> np.ndarray:
        """Current partnership tier of each tie (index into sim.outcomes.TIERS)."""
        return tier(self.hedger.alignment, self.world.scalars)

    def survival_probability(self) -> float:
        return float(self.verdict.survived.mean())

    def failure_modes(self) -> dict[str, float]:
        return self.verdict.shares()


_RECORDED = ("alignment", "satisfaction", "hedging_index", "courtship", "coercion", "memory")


def _mean_alignment(p: int):
    return lambda m: float(m.hedger.alignment[:, p].mean())


def _mean_satisfaction(d: int):
    return lambda m: float(m.satisfaction[:, d].mean())


def _reporters() -> dict:
    reporters = {f"alignment_{p}": _mean_alignment(i) for i, p in enumerate(POWERS)}
    reporters |= {f"satisfaction_{d}": _mean_satisfaction(i) for i, d in enumerate(DIMENSIONS)}
    reporters["hedging_index"] = lambda m: float(hedging_index(m.hedger.alignment).mean())
    reporters["survival"] = lambda m: m.survival_probability()
    reporters["failure"] = lambda m: Failure(int(m.verdict.mode[0])).label if m.runs == 1 else None
    return reporters
