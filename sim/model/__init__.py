"""The model: the agents and their rules, the world and its parameters, events, and the verdict.

The lowest layer: it imports nothing from the other folders of ``sim``.

``from sim.model import BalanceModel`` loads the model on first use, as ``from sim import BalanceModel`` does.
"""

import importlib


def __getattr__(name: str) -> object:
    """``BalanceModel``, imported on first use: the folder's light modules load without Mesa and Numba."""
    if name == "BalanceModel":
        return importlib.import_module("sim.model.balance").BalanceModel
    raise AttributeError(f"module 'sim.model' has no attribute {name!r}")
