"""Loading a scenario: read it and its bases, merge them, check the result; and the scenarios the package carries."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from sim.model.params import ParameterSet, load_parameters
from sim.model.reach import Files, Source
from sim.runs.scenario.checks import validate
from sim.runs.scenario.files import Reach, chain, inherit, open_source
from sim.runs.scenario.spec import Scenario

# The scenarios the package carries: the repository's scenarios/ folder, installed as package data.
SHIPPED = Path(str(resources.files("sim") / "scenarios"))


def load_scenario(
    path: str | Path | Source, parameters: ParameterSet | None = None, *, reach: Reach | None = None
) -> Scenario:
    """Read, inherit, validate and flatten a scenario file.

    ``reach`` says which files it may read (``sim.model.reach``): by default, files
    on disk as the command line reads them.
    """
    reach = reach or Files()
    top = path if isinstance(path, Source) else open_source(path, reach)
    return validate(inherit(chain(top, reach)), top.name, parameters or load_parameters())
