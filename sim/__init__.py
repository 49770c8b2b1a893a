"""Bamboo: an agent-based model of Vietnam's multi-alignment among great powers.

The names below load on first use, so that ``bamboo --version`` or a command's
usage message does not start Mesa, Numba and SciPy.
"""

import importlib

from sim.model.domain import DIMENSIONS, POWERS, TIERS

__version__: str  # read on first use: importlib.metadata alone takes longer to load than the rest of this module

_LAZY = {
    "GreatPower": "sim.model.agents",
    "Hedger": "sim.model.agents",
    "Month": "sim.model.calendar",
    "EVENT_TYPES": "sim.model.events",
    "Event": "sim.model.events",
    "Shock": "sim.model.events",
    "BalanceModel": "sim.model.balance",
    "Failure": "sim.model.outcomes",
    "ParameterError": "sim.model.params",
    "ParameterSet": "sim.model.params",
    "load_parameters": "sim.model.params",
}


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("bamboo-sim")  # the distribution's name in pyproject.toml
    except PackageNotFoundError:  # a source tree that was never installed
        return "0+unknown"


def __getattr__(name: str) -> object:
    """The public names, each imported on first use: ``bamboo --version`` loads neither Mesa nor SciPy."""
    if name == "__version__":
        globals()["__version__"] = found = _version()
        return found
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'sim' has no attribute {name!r}")


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
