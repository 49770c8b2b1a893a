"""Parameters: the data file, its validation and the per-run draws (arranged for the rules by ``sim.model.world``).

A parameter is addressed by its dotted path in the data file, e.g.
``powers.RU.reach`` or ``hedger.demand.territory``. Values are kept per run as
arrays of shape (runs,), so the same rules serve one run and an ensemble.
"""

from __future__ import annotations

import copy
import dataclasses
import functools
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import yaml

from sim.model.checks import is_number, suggest
from sim.model.domain import DIMENSIONS, POWERS, THRESHOLD_TIERS, TIERS
from sim.model.limits import MAX_STEPS, MAX_WEIGHT
from sim.model.streams import Streams

# How far a parameter's value rests on evidence (docs/ODD.md, section 8).
SUPPORT = ("measured", "sourced-direction", "assumption")

# Per-power fields: (name, sub-keys) where sub-keys are dimensions, other powers or none.
_POWER_FIELDS = {
    "supply": DIMENSIONS,
    "threat": DIMENSIONS,
    "enmeshment": DIMENSIONS,
    "withholds": DIMENSIONS,
    "coercion_threat": DIMENSIONS,
    "reach": None,
    "reliability": None,
    "interest": None,
    "patient": None,
    "tie_cost": None,
    "withdrawal": None,
    "tolerance": "rivals",
    "rivalry": "rivals",
}
_HEDGER_FIELDS = {
    "demand": DIMENSIONS,
    "weight": DIMENSIONS,
    "capability": DIMENSIONS,
    "alignment": POWERS,
    "tier": POWERS,
    "inertia": POWERS,
    "memory": POWERS,
    "four_nos": None,
}
THRESHOLDS = (*THRESHOLD_TIERS, "isolation", "persistence", "siding", "coercion")


class Drawer(Protocol):
    """What a parameter set asks of a calibrated posterior (``sim.analysis.posterior.Posterior``, a layer above)."""

    @property
    def paths(self) -> tuple[str, ...]:
        """The parameters the posterior gives."""
        ...

    def draw(self, streams: Streams) -> dict[str, np.ndarray]:
        """Each run's values of ``paths``, drawn from ``streams``."""
        ...


class ParameterError(ValueError):
    """A parameter file or override is malformed; the message says where and what."""


@dataclass(frozen=True)
class Parameter:
    """One documented number: its default, plausible range and provenance."""

    path: str
    value: float
    range: tuple[float, float] | None
    source: dict | None
    free: bool = False
    uncertain: bool = False  # drawn per run even when uncertainty is not asked for
    support: str = "assumption"  # one of SUPPORT
    why: str = ""  # what the source is cited for, and how the number was chosen


@dataclass
class ParameterSet:
    """All parameters of a world, with the calendar and thresholds."""

    entries: dict[str, Parameter]
    time: dict
    sources: dict[str, str]
    origin: str = "<memory>"
    orders: tuple[tuple[str, str], ...] = ()  # (higher, lower) pairs the sources fix; every draw keeps them
    posterior: Drawer | None = (
        None  # a calibrated sim.analysis.posterior.Posterior each run draws its values from, or None
    )

    def __getitem__(self, path: str) -> Parameter:
        """The parameter at ``path``; a ParameterError that suggests a near name otherwise."""
        try:
            return self.entries[path]
        except KeyError:
            raise ParameterError(f"unknown parameter {path!r}{suggest(path, self.entries)}") from None

    def value(self, path: str) -> float:
        """The default value of the parameter at ``path``."""
        return self[path].value

    def thresholds(self) -> dict[str, float]:
        """The threshold parameters by name (``alliance``, ``isolation`` ...): the lines the figures draw."""
        return {k.split(".", 1)[1]: self.value(k) for k in self.entries if k.startswith("thresholds.")}

    def check(self) -> None:
        """Refuse worlds that contradict themselves, with the parameter to blame."""
        tiers = THRESHOLD_TIERS
        values = [self.value(f"thresholds.{t}") for t in tiers]
        if values != sorted(values) or len(set(values)) < len(values):
            raise ParameterError(f"thresholds: tiers must rise strictly ({', '.join(tiers)}), got {values}")
        for p in POWERS:
            t = self.value(f"hedger.tier.{p}")
            if t != round(t):
                raise ParameterError(f"hedger.tier.{p}: expected a whole tier index (0 to {len(TIERS) - 1}), got {t:g}")
        if self.value("hedger.four_nos") >= 0.5:
            for p in POWERS:
                if self.value(f"hedger.tier.{p}") >= len(TIERS) - 1:
                    raise ParameterError(
                        f"hedger.tier.{p}: starts as an alliance while the Four No's are in force "
                        "(set hedger.four_nos to 0 to relax them)"
                    )
            line = self.value("thresholds.alliance")
            for p in POWERS:
                a = self[f"hedger.alignment.{p}"]
                top = a.range[1] if a.range and a.uncertain else a.value
                if top >= line:
                    raise ParameterError(
                        f"hedger.alignment.{p}: starts at {top:g}, at or above the alliance line ({line:g}) "
                        "while the Four No's are in force (set hedger.four_nos to 0 to relax them)"
                    )

    def free(self) -> list[Parameter]:
        """The behavioural parameters a calibration would fit."""
        return [p for p in self.entries.values() if p.free]

    def ranged(self) -> list[Parameter]:
        """Every parameter with a range (drawn per run when uncertainty is asked for)."""
        return [p for p in self.entries.values() if p.range is not None]

    def with_overrides(self, overrides: dict[str, Any]) -> ParameterSet:
        """A copy with values (a number) or ranges (a pair [low, high]) replaced."""
        entries = dict(self.entries)
        for path, new in overrides.items():
            old = self[path]
            if isinstance(new, (list, tuple)):
                if len(new) != 2 or not all(is_number(x) for x in new) or new[0] > new[1]:
                    raise ParameterError(f"{path}: expected a number or a range [low, high], got {new!r}")
                lo, hi = float(new[0]), float(new[1])
                entries[path] = dataclasses.replace(old, value=(lo + hi) / 2, range=(lo, hi), uncertain=True)
            elif is_number(new):
                entries[path] = dataclasses.replace(old, value=float(new), range=None, uncertain=False)
            else:
                raise ParameterError(f"{path}: expected a number or a range [low, high], got {new!r}")
            lo, hi = bounds(path)
            value = entries[path]
            ends = value.range or (value.value, value.value)
            if not (lo <= ends[0] and ends[1] <= hi):
                raise ParameterError(f"{path}: expected values in [{lo:g}, {hi:g}], got {new!r}")
        # a scenario that sets a parameter takes it out of the sources' orders: the what-if comes first;
        # a range inside the parameter's own only narrows it (a discovered box), and keeps the orders it can
        narrowed = {
            path
            for path, new in overrides.items()
            if isinstance(new, (list, tuple)) and _inside(entries[path].range, self[path].range)
        }

        def kept(hi: str, lo: str) -> bool:
            if any(p in overrides and p not in narrowed for p in (hi, lo)):
                return False
            top, bottom = entries[hi].range or (entries[hi].value,) * 2, entries[lo].range or (entries[lo].value,) * 2
            return top[1] > bottom[0]

        orders = tuple((hi, lo) for hi, lo in self.orders if kept(hi, lo))
        return ParameterSet(entries, copy.deepcopy(self.time), self.sources, self.origin, orders)

    def with_posterior(self, posterior: Drawer | None) -> ParameterSet:
        """A copy whose runs draw the posterior's parameters from it (``sim.analysis.posterior``)."""
        return dataclasses.replace(self, posterior=posterior)

    def draw(self, runs: np.ndarray, streams: Streams | None, everything: bool = True) -> dict[str, np.ndarray]:
        """Per-run values: the default, or a uniform draw over the parameter's range; a posterior's, if attached.

        With ``streams`` given, parameters overridden by a range are drawn, and
        so is every parameter with a range when ``everything`` is true. A draw
        depends only on the run's index and the parameter's path, so run *i*
        gets the same world in any ensemble (see ``sim.model.streams``).
        """
        n = len(runs)
        values = {}
        drawn = set()
        for path, p in self.entries.items():
            if streams is not None and p.range is not None and (everything or p.uncertain):
                u = streams.uniform(0, "parameter:" + path)[:, 0]
                values[path] = p.range[0] + u * (p.range[1] - p.range[0])
                drawn.add(path)
            else:
                values[path] = np.full(n, p.value)
        if self.posterior is not None and streams is not None:
            # the calibrated values come first; an order they meet with a drawn parameter redraws the other
            values.update(self.posterior.draw(streams))
            drawn -= set(self.posterior.paths)
        if drawn:

            def redraw(path: str, attempt: int) -> np.ndarray:
                rng = self.entries[path].range
                assert rng is not None and streams is not None  # only a parameter with a range is drawn, from streams
                lo, hi = rng
                return lo + streams.uniform(0, f"parameter:{path}:again:{attempt}")[:, 0] * (hi - lo)

            keep_orders(values, self.orders, drawn, redraw)
        return values

    def check_orders(self) -> None:
        """Refuse a parameter file whose values, or ranges, go against an order the sources fix.

        Only the file is held to the orders: a scenario may set values that
        break one (a what-if), and draws then keep the orders among what is
        still drawn.
        """
        for hi, lo in self.orders:
            a, b = self[hi], self[lo]
            top = a.range[1] if a.range else a.value
            bottom = b.range[0] if b.range else b.value
            if a.value <= b.value:
                raise ParameterError(
                    f"{hi}: must exceed {lo} (an order the sources give), got {a.value:g} <= {b.value:g}"
                )
            if top <= bottom:
                raise ParameterError(f"{hi}: its range must reach above {lo}'s (an order the sources give)")


ORDER_ATTEMPTS = 64


def _inside(inner: tuple[float, float] | None, outer: tuple[float, float] | None) -> bool:
    """Whether range ``inner`` lies within range ``outer`` (neither missing)."""
    return inner is not None and outer is not None and outer[0] <= inner[0] and inner[1] <= outer[1]


def keep_orders(
    values: dict[str, np.ndarray],
    orders: Iterable[tuple[str, str]],
    drawn: set[str],
    redraw: Callable[[str, int], np.ndarray],
) -> None:
    """Redraw, run by run, the drawn parameters of any pair that breaks an order, until none does.

    ``redraw(path, attempt)`` gives fresh values for every run; a run keeps
    them only where it broke an order, so each run's world stays a function of
    its own random numbers. A pair of which neither is drawn is left as set.
    After ``ORDER_ATTEMPTS`` rounds a broken pair is refused.
    """
    orders = [(hi, lo) for hi, lo in orders if hi in drawn or lo in drawn]
    for attempt in range(ORDER_ATTEMPTS + 1):
        broken: dict[str, np.ndarray] = {}
        for hi, lo in orders:
            bad = values[hi] <= values[lo]
            for path in (hi, lo):
                if path in drawn:
                    broken[path] = broken.get(path, False) | bad
        if not any(b.any() for b in broken.values()):
            return
        if attempt == ORDER_ATTEMPTS:
            break
        for path, bad in broken.items():
            if bad.any():
                values[path] = np.where(bad, redraw(path, attempt), values[path])
    pair = next((h, lo) for h, lo in orders if np.any(values[h] <= values[lo]))
    raise ParameterError(f"{pair[0]}: must exceed {pair[1]} (an order the sources give); the ranges leave no room")


def check_drawn(values: dict[str, np.ndarray]) -> None:
    """Refuse per-run draws that contradict themselves (as ParameterSet.check does for defaults)."""
    tiers = THRESHOLD_TIERS
    levels = np.stack([values[f"thresholds.{t}"] for t in tiers], 1)
    bad = np.any(np.diff(levels, axis=1) <= 0, axis=1)
    if bad.any():
        raise ParameterError(
            f"thresholds: tiers must rise strictly in every run; {int(bad.sum())} run(s) drew them "
            f"out of order ({', '.join(tiers)})"
        )
    in_force = values["hedger.four_nos"] >= 0.5
    for p in POWERS:
        over = in_force & (values[f"hedger.alignment.{p}"] >= values["thresholds.alliance"])
        if over.any():
            raise ParameterError(
                f"hedger.alignment.{p}: {int(over.sum())} run(s) start at or above the alliance "
                "line while the Four No's are in force; narrow its range or relax hedger.four_nos"
            )


def bounds(path: str) -> tuple[float, float]:
    """The natural interval of a parameter.

    Weights, inertia and behaviour are >= 0 and at most MAX_WEIGHT (a million:
    beyond it a value only overflows); persistence and patience are at least
    one quarter and at most the longest horizon (a wait of more steps than a
    run has is the same as none, and a count of steps must fit a whole
    number); a tier is an index into TIERS; demand is at least 0.01 (it
    divides net security); enmeshment lies in [-1, 1] (its sign says whether
    engagement tames or feeds a threat); everything else lies in [0, 1].
    """
    if path in ("thresholds.persistence", "behaviour.tier_patience"):
        return 1.0, float(MAX_STEPS)
    if path.startswith("hedger.tier."):
        return 0.0, float(len(TIERS) - 1)
    if path.startswith(("hedger.weight", "hedger.inertia", "behaviour")):
        return 0.0, MAX_WEIGHT
    if ".enmeshment." in path:
        return -1.0, 1.0
    if path.startswith("hedger.demand"):
        return 0.01, 1.0
    return 0.0, 1.0


def default_path() -> Path:
    """The packaged parameter file."""
    return Path(str(resources.files("sim") / "data" / "parameters.yaml"))


def load_parameters(path: str | Path | None = None) -> ParameterSet:
    """Read and validate a parameter file (the packaged defaults when no path is given).

    The packaged defaults are read once per process; a ParameterSet is never
    changed in place (``with_overrides`` returns a new one).
    """
    return _packaged() if path is None else _load(Path(path))


@functools.cache
def _packaged() -> ParameterSet:
    """The packaged defaults, read once per process."""
    return _load(default_path())


def _load(path: Path) -> ParameterSet:
    """Read the parameter file at ``path`` and check it whole: every section, parameter, time field and order."""
    raw = _read(path)
    sources = raw.get("sources") or {}
    entries = _entries(raw, sources, path)
    time = raw.get("time") or {}
    for key in ("start", "months_per_step", "horizon"):
        if key not in time:
            raise ParameterError(f"{path}: time.{key} is missing")
    params = ParameterSet(entries, time, sources, str(path), _orders(raw, entries, path))
    params.check_orders()
    return params


def _read(path: Path) -> dict:
    """The parameter file's top-level mapping; a ParameterError if it cannot be read or is not one."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise ParameterError(f"{path}: cannot read parameter file: {exc}") from None
    if not isinstance(raw, dict):
        raise ParameterError(f"{path}: expected a mapping at the top level")
    return raw


def _entries(raw: dict, sources: dict, path: Path) -> dict[str, Parameter]:
    """Every parameter of the file's sections by path, each one the model reads and no other."""
    entries: dict[str, Parameter] = {}
    for section in ("thresholds", "hedger", "powers", "world", "behaviour"):
        if section not in raw:
            raise ParameterError(f"{path}: missing section {section!r}")
        _collect(raw[section], section, entries, sources, path)
    for expected in expected_paths():
        if expected not in entries:
            raise ParameterError(f"{path}: missing parameter {expected!r}")
    for name in entries:
        if name not in _EXPECTED:
            raise ParameterError(f"{path}: unknown parameter {name!r}{suggest(name, _EXPECTED)}")
    return entries


def _orders(raw: dict, entries: dict[str, Parameter], path: Path) -> tuple[tuple[str, str], ...]:
    """The file's (higher, lower) orders, each naming two known parameters and a source."""
    orders = []
    for i, item in enumerate(raw.get("orders") or []):
        if not (isinstance(item, dict) and {"higher", "lower", "source"} <= set(item)):
            raise ParameterError(f"{path}: orders[{i}]: expected {{higher, lower, source}}")
        for key in ("higher", "lower"):
            if item[key] not in entries:
                raise ParameterError(f"{path}: orders[{i}].{key}: unknown parameter {item[key]!r}")
        orders.append((item["higher"], item["lower"]))
    return tuple(orders)


def _collect(node: object, prefix: str, out: dict[str, Parameter], sources: dict, path: Path) -> None:
    """Add to ``out`` every parameter under ``node``, the file's mapping at ``prefix``."""
    if not isinstance(node, dict):
        raise ParameterError(f"{path}: {prefix}: expected a mapping")
    if "value" in node:
        out[prefix] = _parameter(node, prefix, sources, path)
        return
    for key, child in node.items():
        _collect(child, f"{prefix}.{key}", out, sources, path)


def _parameter(node: dict, name: str, sources: dict, path: Path) -> Parameter:
    """The parameter ``name`` the file's ``node`` describes, every field checked."""
    unknown = set(node) - {"value", "range", "source", "free", "support", "why"}
    if unknown:
        raise ParameterError(f"{path}: {name}: unknown field(s) {sorted(unknown)}")
    value = node["value"]
    if not is_number(value):
        raise ParameterError(f"{path}: {name}.value: expected a number, got {value!r}")
    rng = _range(node.get("range"), value, name, path)
    support = node.get("support")
    if support not in SUPPORT:
        raise ParameterError(f"{path}: {name}.support: expected one of {', '.join(SUPPORT)}, got {support!r}")
    why = node.get("why")
    if not isinstance(why, str) or not why.strip():
        raise ParameterError(f"{path}: {name}.why: expected a text saying what the value rests on")
    source = node.get("source")
    if source is None and support == "assumption":
        return Parameter(name, float(value), rng, None, bool(node.get("free", False)), False, support, why.strip())
    if not isinstance(source, dict) or not (("ref" in source and "quote" in source) or ("external" in source)):
        raise ParameterError(f"{path}: {name}.source: expected {{ref, quote}} or {{external, note}}")
    if "ref" in source and source["ref"] not in sources:
        raise ParameterError(f"{path}: {name}.source.ref: unknown source {source['ref']!r}")
    return Parameter(name, float(value), rng, source, bool(node.get("free", False)), False, support, why.strip())


def _range(rng: object, value: float, name: str, path: Path) -> tuple[float, float] | None:
    """Parameter ``name``'s range as the file gives it (``rng``, or None), holding its ``value``."""
    if rng is None:
        return None
    if not (isinstance(rng, list) and len(rng) == 2 and all(is_number(x) for x in rng)):
        raise ParameterError(f"{path}: {name}.range: expected [low, high]")
    if not rng[0] <= value <= rng[1]:
        raise ParameterError(f"{path}: {name}: value {value} outside its range {rng}")
    return (float(rng[0]), float(rng[1]))


def expected_paths() -> list[str]:
    """Every parameter path the model reads, in a fixed order."""
    paths = [f"thresholds.{t}" for t in THRESHOLDS]
    for name, keys in _HEDGER_FIELDS.items():
        paths += [f"hedger.{name}"] if keys is None else [f"hedger.{name}.{k}" for k in keys]
    for p in POWERS:
        for name, kind in _POWER_FIELDS.items():
            if kind is None:
                paths.append(f"powers.{p}.{name}")
            else:
                subkeys = [q for q in POWERS if q != p] if kind == "rivals" else kind
                paths += [f"powers.{p}.{name}.{k}" for k in subkeys]
    paths += ["world.russia_china_closeness", "world.deference", "world.manageable_threat"]
    paths += [f"behaviour.{b}" for b in BEHAVIOUR]
    return paths


BEHAVIOUR = (
    "step_size",
    "temperature",
    "concentration_cost",
    "entrapment_cost",
    "displeasure_cost",
    "commitment_cost",
    "tier_patience",
    "courtship_gain",
    "courtship_decay",
    "courtship_boost",
    "coercion_gain",
    "coercion_decay",
    "memory_decay",
    "learning_rate",
    "tolerance_volatility",
    "tolerance_reversion",
    "visit_half_life",
)
_EXPECTED = frozenset(expected_paths())
