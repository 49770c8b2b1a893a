"""Bamboo: an agent-based model of Vietnam's multi-alignment among great powers."""

from sim.agents import GreatPower, Hedger
from sim.calendar import Month
from sim.domain import DIMENSIONS, POWERS, TIERS
from sim.events import EVENT_TYPES, Event, Shock
from sim.model import BalanceModel
from sim.outcomes import Failure
from sim.params import ParameterError, ParameterSet, load_parameters

__version__ = "0.1.0"

__all__ = [
    "DIMENSIONS",
    "EVENT_TYPES",
    "POWERS",
    "TIERS",
    "BalanceModel",
    "Event",
    "Failure",
    "GreatPower",
    "Hedger",
    "Month",
    "ParameterError",
    "ParameterSet",
    "Shock",
    "__version__",
    "load_parameters",
]
