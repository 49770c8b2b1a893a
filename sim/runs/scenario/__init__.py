"""Scenario files: YAML that perturbs the world with dated events.

A scenario names itself, may inherit from a ``base`` file, sets the calendar,
runs and seed, overrides parameters by dotted path (a number, or a range
[low, high] drawn per run), and lists events. Every malformed file is refused
with a ScenarioError that names the file, the line and field, and what was
expected.

Its modules, from the top: ``load`` (read, merge, check), ``checks`` (each key
of a merged file), ``files`` (a file and its bases, merged), ``spec`` (the
Scenario a run needs, and the error).
"""

from sim.model.limits import MAX_RUNS
from sim.runs.scenario.checks import EVENT_KEYS, whole_number
from sim.runs.scenario.files import TOP_KEYS, Reach, open_source, parse, read_yaml
from sim.runs.scenario.load import SHIPPED, load_scenario
from sim.runs.scenario.spec import EventSpec, Refuse, Scenario, ScenarioError

__all__ = [
    "EVENT_KEYS",
    "MAX_RUNS",
    "SHIPPED",
    "TOP_KEYS",
    "EventSpec",
    "Reach",
    "Refuse",
    "Scenario",
    "ScenarioError",
    "load_scenario",
    "open_source",
    "parse",
    "read_yaml",
    "whole_number",
]
