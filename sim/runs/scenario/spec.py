"""A scenario as a run needs it: flattened and checked, with its events; and the error a bad file gets."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, Protocol

from sim.model.calendar import Calendar, Month
from sim.model.events import EVENT_TYPES, Event
from sim.model.params import ParameterSet
from sim.model.strategies import DEFAULT as DEFAULT_STRATEGY
from sim.model.yamlfile import escape

if TYPE_CHECKING:
    import numpy as np

    from sim.model.agents import GreatPower, Hedger
    from sim.model.balance import BalanceModel, Observer


class ScenarioError(ValueError):
    """A scenario file is malformed."""

    def __init__(self, path: str | Path, line: int | None, where: str, expected: str) -> None:
        """The error in file ``path`` at ``line`` (None: the whole file), in field ``where``: what was ``expected``."""
        self.path, self.line, self.where, self.expected = str(path), line, where, expected
        at = f":{line}" if line else ""
        field_text = f" {where}:" if where else ""
        super().__init__(escape(f"{path}{at}:{field_text} {expected}"))  # a name from a file moves no cursor


class Refuse(Protocol):
    """How a reader refuses a field: a ScenarioError naming its file, its line and ``key``."""

    def __call__(self, key: str, expected: str, line: int | None = None) -> NoReturn:
        """Raise the error for ``key`` saying what was ``expected``, at ``line`` if given, else at the key's own."""
        ...


@dataclass
class EventSpec:
    """One validated event of a scenario, with where it was written."""

    type: str
    fields: dict[str, Any]  # the event class's keyword arguments, each of its own type
    file: str
    line: int

    @property
    def at(self) -> Month:
        """The event's date, or the first of its date range."""
        at = self.fields["at"]
        return at[0] if isinstance(at, list) else at

    def build(self) -> Event:
        """A fresh event of this type with these fields (the event class checks them)."""
        return EVENT_TYPES[self.type](**self.fields)

    def as_dict(self) -> dict[str, Any]:
        """The event as a file would write it: dates as YYYY-MM."""
        out: dict[str, Any] = {"type": self.type}
        for k, v in self.fields.items():
            out[k] = [str(m) for m in v] if k == "at" and isinstance(v, list) else str(v) if isinstance(v, Month) else v
        return out


@dataclass
class Scenario:
    """A flattened, validated scenario: everything a run needs."""

    name: str
    description: str
    path: str
    start: Month
    horizon: Month
    runs: int
    seed: int
    uncertainty: bool
    parameters: dict[str, float | list[float]]  # the overrides: a value, or a range [low, high] drawn per run
    events: list[EventSpec]
    sources: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    parameter_set: ParameterSet | None = field(default=None, repr=False)
    strategy: str = DEFAULT_STRATEGY  # Vietnam's strategy (sim.model.strategies)

    @property
    def resolved_parameters(self) -> ParameterSet:
        """The parameters the scenario was validated against: the defaults with its overrides."""
        if self.parameter_set is None:
            raise ValueError(f"{self.name}: a scenario not validated by load_scenario has no parameters")
        return self.parameter_set

    @property
    def calendar(self) -> Calendar:
        """Step 0 at the start, each step as long as the parameter file says."""
        return Calendar(self.start, int(self.resolved_parameters.time["months_per_step"]))

    @property
    def steps(self) -> int:
        """The steps from the start to the horizon."""
        return self.calendar.step_of(self.horizon)

    def as_dict(self) -> dict[str, Any]:
        """The flattened scenario, as a file without ``base`` would say it."""
        return {
            "name": self.name,
            "description": self.description,
            "sources": list(self.sources),
            "start": str(self.start),
            "horizon": str(self.horizon),
            "runs": self.runs,
            "seed": self.seed,
            "uncertainty": self.uncertainty,
            "strategy": self.strategy,
            "parameters": dict(self.parameters),
            "events": [e.as_dict() for e in self.events],
        }

    def content_hash(self) -> str:
        """SHA-256 of the flattened scenario (independent of how it was split into files)."""
        text = json.dumps(self.as_dict(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()

    def model(self, **options: Any) -> BalanceModel:
        """A BalanceModel of this scenario (fresh events each time): ``model_arguments(**options)`` made a model."""
        from sim.model.balance import BalanceModel

        return BalanceModel(**self.model_arguments(**options))

    def model_arguments(
        self,
        *,
        runs: int | None = None,
        seed: int | None = None,
        first_run: int = 0,
        horizon: int | None = None,
        extra_events: Iterable[Event] = (),
        record: bool = True,
        observers: Iterable[Observer] = (),
        strategy: str | type[Hedger] | None = None,
        powers: dict[str, type[GreatPower]] | None = None,
        values: dict[str, np.ndarray] | None = None,
        event_values: dict[str, np.ndarray] | None = None,
        run_index: np.ndarray | None = None,
    ) -> dict[str, Any]:
        """What ``BalanceModel`` is given for this scenario: the one way every caller builds a model of it.

        ``runs``, ``seed``, ``horizon`` (steps) and ``strategy`` default to the scenario's own; ``extra_events``
        are added after the scenario's (a class's live events); the other arguments are ``BalanceModel``'s: a
        design's per-run ``values``, ``event_values`` and ``run_index`` (``sim.runs.explore``), the powers' classes
        (a class's played capitals). A subclass of ``BalanceModel`` (the classroom's) takes the same arguments.
        """
        return {
            "runs": runs or self.runs,
            "rng": self.seed if seed is None else seed,
            "parameters": self.parameter_set,
            "uncertainty": self.uncertainty,
            "first_run": first_run,
            "horizon": self.steps if horizon is None else horizon,
            "events": [*(e.build() for e in self.events), *extra_events],
            "record": record,
            "observers": observers,
            "strategy": strategy or self.strategy,
            "powers": powers,
            "values": values,
            "event_values": event_values,
            "run_index": run_index,
        }
