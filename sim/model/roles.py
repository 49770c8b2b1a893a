"""What an event's ``actor`` and ``target`` mean, and which powers each may be.

The event catalogue (``sim/data/events.yaml``) writes its effects as paths in
which ``{actor}`` and ``{target}`` stand for powers. These are the same roles
in words, for a scenario's author: a scenario naming a power the role cannot
take is refused with the roles spelled out (and how to write what was
probably meant), never with a parameter path the author did not write.
"""

from __future__ import annotations

import functools
from collections.abc import Collection
from dataclasses import dataclass

from sim.model.domain import POWERS, STATE_PATHS
from sim.model.events import EVENT_TYPES
from sim.model.params import load_parameters

VN = "VN"


@dataclass(frozen=True)
class Roles:
    """What an event type's actor and target stand for, in words for the forms and messages."""

    actor: str  # who the actor is, in words
    target: str  # who the target is, in words
    hint: str = ""  # how a common wish is written


ROLES = {
    "sanctions": Roles(
        "the power imposing the sanctions",
        "the great power sanctioned (its reach and arms deliveries fall); Vietnam is never sanctioned in this model",
        "for 'the US sanctions Russia' write actor: US, target: RU",
    ),
    "secondary_sanctions": Roles(
        "the power enforcing sanctions on buyers of another power's arms (CAATSA)",
        "the power whose arms sales are sanctioned; Vietnam, the buyer, is never the target",
        "for 'the US sanctions Vietnam's purchases of Russian arms' write actor: US, target: RU",
    ),
    "tariff": Roles(
        "the power taxing Vietnam's exports",
        "Vietnam (VN), whose exports are taxed",
        "for 'the US puts tariffs on Vietnam' write actor: US (target VN, the default)",
    ),
    "maritime_incident": Roles(
        "the power whose ships or rig enter Vietnam's waters", "Vietnam (VN), whose waters are entered"
    ),
    "border_closure": Roles("the power closing its border gates to Vietnam", "Vietnam (VN), whose trade is cut"),
    "rapprochement": Roles(
        "Russia (RU) or China (CN), drawing closer to the other",
        "the other of the two",
        "the event always concerns Russia and China: write actor: RU, target: CN",
    ),
    "war_drain": Roles(
        "the power at war, whose arms production goes to the front", "Vietnam (VN), the buyer of its arms"
    ),
    "summit": Roles("the power visiting Vietnam or upgrading its partnership", "Vietnam (VN), the host"),
    "treaty_ends": Roles(
        "the power whose treaty with Vietnam ends with it (the Soviet Union, 1991)", "Vietnam (VN), the other party"
    ),
    "walk_away": Roles(
        "the power that withdraws its side of the partnership for a period (the US leaving the TPP)",
        "Vietnam (VN), the partner left",
    ),
    "unreliability": Roles("the power that becomes less reliable", "Vietnam (VN), which relies on it"),
    "arms_diversification": Roles(
        "the power that lifts its arms embargo or starts to supply arms", "Vietnam (VN), the buyer"
    ),
    "competition": Roles(
        "one of two great powers whose competition intensifies",
        "the other of the two (not Vietnam, whose ties they contest)",
        "for 'US-China competition intensifies' write actor: US, target: CN",
    ),
    "shock": Roles("not used (a shock names its parameter by path)", "not used"),
}
FIXED_PAIRS = {"rapprochement": {("RU", "CN"), ("CN", "RU")}}


def _exists(path: str, known: Collection[str]) -> bool:
    """Whether ``path`` names a parameter in ``known`` or a power's state."""
    head, _, rest = path.partition(".")
    return rest in POWERS if head in STATE_PATHS else path in known


@functools.cache
def pairs(kind: str) -> frozenset[tuple[str, str]]:
    """The (actor, target) pairs an event type takes."""
    cls = EVENT_TYPES[kind]
    if kind in FIXED_PAIRS:
        return frozenset(FIXED_PAIRS[kind])
    templates = [path for path, _ in (*cls.shifts, *cls.kicks)]
    targets = cls.targets if any("{target}" in t for t in templates) or not templates else (VN,)
    known = load_parameters().entries
    return frozenset(
        (a, t)
        for a in cls.actors
        for t in targets
        if a != t and all(_exists(p.format(actor=a, target=t), known) for p in templates)
    )


def describe(kind: str) -> str:
    """The roles of an event type in one line."""
    r = ROLES[kind]
    return f"actor: {r.actor}; target: {r.target}"


def check(kind: str, actor: str | None, target: str | None) -> tuple[str, str] | None:
    """None if the event's powers fit its roles, else (the field to blame, why) in the roles' own words."""
    cls = EVENT_TYPES[kind]
    actor, target = actor or cls.default_actor, target or cls.default_target
    allowed = pairs(kind)
    if (actor, target) in allowed:
        return None
    actors = sorted({a for a, _ in allowed}, key=POWERS.index)
    field = "actor" if actor not in actors else "target"
    fits = sorted({t for a, t in allowed if a == actor}, key=(VN, *POWERS).index)
    choices = f"expected one of {', '.join(actors)}" if field == "actor" else f"expected {' or '.join(fits)}"
    r = ROLES[kind]
    hint = f"; {r.hint}" if r.hint else ""
    return field, (
        f"a {kind} event's {field} cannot be {actor if field == 'actor' else target} ({choices}): "
        f"its actor is {r.actor}; its target is {r.target}{hint}"
    )
