"""Imported by worker processes before they fork (``ProcessPool``): the model and its compiled kernels loaded once.

Loading the kernels from their on-disk cache takes about a second; done here,
in the forkserver, every worker forked from it starts with them in memory.
"""

from sim.model import kernels
from sim.runs import ensemble

kernels.warm_up()

__all__ = ["ensemble"]
