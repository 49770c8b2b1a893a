"""The agents: Vietnam as the Hedger and the great powers as security suppliers.

Each agent holds its state as arrays over the runs axis, so one agent object
acts in every run of an ensemble at once, by the same rule. The entities are
those of docs/ODD.md section 2, one class each: ``GreatPower`` (the US and
China), ``Russia`` (a great power that defers to China), and ``Hedger``
(Vietnam, the model's own optimising strategy). Vietnam's other strategies
are subclasses of ``Hedger`` in ``sim.model.strategies``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from mesa import Agent

from sim.model import kernels
from sim.model.domain import DIMENSIONS, POWERS, TIERS
from sim.model.security import Situation

if TYPE_CHECKING:  # the model imports the agents
    from sim.model.balance import BalanceModel

# Vietnam's options for each tie each step: loosen, keep, deepen (in step sizes).
MOVES = np.array([-1.0, 0.0, 1.0])
LOOSEN, KEEP, DEEPEN = kernels.LOOSEN, kernels.KEEP, kernels.DEEPEN
TERRITORY = DIMENSIONS.index("territory")
ALLIANCE = TIERS.index("alliance")
TOP_TIER = ALLIANCE - 1  # the comprehensive strategic partnership


class GreatPower(Agent):
    """A security supplier: offers security, poses threats, courts and coerces Vietnam.

    It courts when Vietnam drifts toward a rival, and coerces when Vietnam's
    tie with a rival exceeds what it tolerates (docs/ODD.md 7.1, 7.5).
    """

    def __init__(self, model: BalanceModel, name: str) -> None:
        """Power ``name`` of ``model``, neither courting nor coercing yet."""
        super().__init__(model)
        self.name = name
        self.index = POWERS.index(name)
        self.courtship = np.zeros(model.runs)
        self.coercion = np.zeros(model.runs)
        self.engagement = np.ones(model.runs)  # how far it holds up its side of the partnership (ODD 7.11)
        self.deviation = np.zeros((model.runs, len(POWERS)))  # of its lines from their parameters, [:, q]

    def drift(self) -> None:
        """Its lines move: their deviation from the parameters is a mean-reverting random walk (ODD 7.11)."""
        m, s = self.model, self.model.world.scalars
        u = m.streams.uniform(m.steps, f"power.{self.name}.lines", len(POWERS))
        self.deviation = kernels.drift(
            self.deviation, u, s["tolerance_reversion"], s["tolerance_volatility"], self.index
        )

    def lines(self) -> np.ndarray:
        """What it tolerates of Vietnam's tie with each power now, (runs, powers): its parameters plus drift."""
        return kernels.lines(self.model.world.tolerance, self.deviation, self.index)

    def respond(self) -> None:
        """Update courtship and coercion from Vietnam's ties at the start of the step.

        It courts when Vietnam drifts toward a rival: in proportion to its
        rivals' gains and its own losses since Vietnam's last decision (the
        powers compete to supply, 004), weighted by its interest in Vietnam. It
        coerces in proportion to how far Vietnam's ties with its rivals exceed
        what it tolerates (its lines, which move: ``drift``), weighted by its interest in Vietnam (a power that has
        turned away bothers less) or, for a patient power, by its want of
        interest: the US, valuing Vietnam as a swing state, finds it "imprudent
        to excessively admonish Hanoi" (001). It reads only Vietnam's ties and
        its own state, so the powers may respond in any order. A power that
        coerces withdraws its cooperation (its engagement falls toward one less
        its coercion, at the pace coercion fades), and comes back as it fades;
        so does a power that walks away for a period (its ``withdrawal``, an
        event's doing: the US leaving the TPP, 000).
        """
        w, hedger = self.model.world, self.model.hedger
        self.drift()
        rates = w.rows("courtship_decay", "courtship_gain", "coercion_decay", "coercion_gain")
        self.courtship, self.coercion = kernels.respond(
            self.index, hedger.alignment, hedger.previous, self.courtship, self.coercion, w.rivalry, self.lines(),
            w.interest, w.patient, rates,
        )  # fmt: skip
        withdrawal = w.withdrawal[:, self.index]
        self.engagement = kernels.engage(self.engagement, self.coercion, withdrawal, w.scalars["coercion_decay"])

    def supply(self) -> np.ndarray:
        """What it can supply per dimension before courtship and coercion (runs, dims)."""
        return self.model.world.supply[:, self.index]

    def offer(self) -> np.ndarray:
        """What it offers this step: courtship raises the offer, coercion withdraws its instruments."""
        w = self.model.world
        boost = w.scalars["courtship_boost"]
        return kernels.offer(self.supply(), self.courtship, self.coercion, boost, w.withholds, self.index)

    def threat(self) -> np.ndarray:
        """The threat it poses per dimension: its standing threat, eased by courtship, plus what coercion adds.

        A courting power tries to "improve on what it lacks" (004): the US reassures
        the Party, China keeps the sea from spoiling the rest.
        """
        w = self.model.world
        boost = w.scalars["courtship_boost"]
        return kernels.threat(w.threat, self.courtship, self.coercion, boost, w.coercion_threat, self.index)

    def delivery(self) -> np.ndarray:
        """What it delivers, courtship and coercion apart: reach x reliability x mean supply (runs,).

        A fall in it is abandonment, which Vietnam remembers (docs/ODD.md 7.7).
        """
        w, p = self.model.world, self.index
        return w.reach[:, p] * w.reliability[:, p] * kernels.row_mean(self.supply())


class Russia(GreatPower):
    """Russia: gives up territorial supply to Vietnam as it draws closer to China (000, 002)."""

    def __init__(self, model: BalanceModel, name: str = "RU") -> None:
        """Russia in ``model``."""
        super().__init__(model, name)

    def supply(self) -> np.ndarray:
        """Its supply, the territorial part ceded in proportion to its deference to China."""
        s = self.model.world.scalars
        out = super().supply().copy()
        out[:, TERRITORY] *= 1.0 - s["deference"] * s["russia_china_closeness"]
        return out


class Hedger(Agent):
    """Vietnam: adjusts its alignment with each power to balance security and costs.

    The model's own strategy (``hedge``). For each tie it weighs three moves
    (loosen, keep, deepen) by the change in utility they bring, with a bonus
    for keeping (inertia) and logit noise, among the moves the Four No's allow
    (docs/ODD.md 7.4). Subclasses (``sim.model.strategies``) choose differently;
    perception, the partnership tiers and the policy constraints are the same
    for every strategy.
    """

    name = "hedge"
    description = "the model's Vietnam: weighs each move by the utility it brings (bamboo diplomacy)"
    sides = False  # True: ignores the Four No's rule against siding with one power against another

    def __init__(self, model: BalanceModel, alignment: np.ndarray, memory: np.ndarray, tier: np.ndarray) -> None:
        """Vietnam in ``model``, from its initial ties, memory of abandonment and tiers, each (runs, powers)."""
        super().__init__(model)
        self.alignment = alignment  # (runs, powers)
        self.previous = alignment.copy()  # the ties before Vietnam's last decision
        self.memory = memory  # memory of abandonment (runs, powers)
        self.tier = np.rint(tier).astype(np.int64)  # partnership tier of each tie, an index into TIERS
        self.lent = np.zeros(alignment.shape)  # the part of each tie state visits lent, which fades (``fade``)
        self.held = alignment.copy()  # the ties as the last visit or fade left them: what fell since took the lift
        self.pressing = np.zeros(alignment.shape, np.int64)  # quarters in a row pressing at a tier's ceiling
        self.lapsing = np.zeros(alignment.shape, np.int64)  # quarters in a row below a tier's rupture line
        self.last_delivery: np.ndarray | None = None
        self.situation: Situation | None = None
        self.gain: np.ndarray | None = None  # utility change of each move at the last decision
        self.feasible_moves: np.ndarray | None = None  # the moves the Four No's allowed at it
        self.choice: np.ndarray | None = None  # the moves made at it
        # what Vietnam believes each power q tolerates of its tie with p, [:, q, p]: at first the 2025 ties and a
        # step beyond, which it reached "without serious adverse repercussions" (001); then learnt (``learn``)
        prior = alignment + model.world.scalars["step_size"][:, None]
        self.belief = np.clip(np.repeat(prior[:, None, :], len(POWERS), axis=1), 0.0, 1.0)
        self.coercion_seen = np.zeros(alignment.shape)  # each power's coercion when Vietnam last learnt

    # -- perception -----------------------------------------------------------
    def levels(self) -> np.ndarray:
        """Tier levels per run, (runs, len(TIERS) + 1): 0, each threshold, then 1 above the alliance band."""
        s = self.model.world.scalars
        n = self.model.runs
        make = lambda: np.stack([np.zeros(n), *(s[t] for t in TIERS[1:]), np.full(n, np.inf)], 1)  # noqa: E731
        return self.model.world.memo("levels", make)

    def rupture_line(self) -> np.ndarray:
        """The alignment below which a tie breaks its tier's commitment: the floor of the tier beneath.

        A tier commits the bureaucracy, not the tie's depth: engagement may sag
        through the tier's band (Vietnam and Russia "have been drifting apart
        for decades" under a CSP, 003), and only a fall through the band below
        is a rupture (003). Zero for the two lowest tiers.
        """
        return kernels.band(self.levels(), self.tier, -1)

    def tier_ceiling(self) -> np.ndarray:
        """The deepest cooperation each tie's tier permits (the top of its band)."""
        return kernels.band(self.levels(), self.tier, 1)

    def trust(self, reliability: np.ndarray) -> np.ndarray:
        """Reliability as Vietnam perceives it, discounted by its memory of abandonment."""
        return reliability * (1.0 - self.memory)

    def remember(self, delivery: np.ndarray) -> None:
        """A fall in what a power delivers is remembered, and slowly forgotten."""
        if self.last_delivery is not None:
            decay = self.model.world.scalars["memory_decay"]
            self.memory = kernels.remember(self.memory, self.last_delivery, delivery, decay)
        self.last_delivery = delivery

    def erode(self, engagement: np.ndarray) -> None:
        """Each tie sinks toward what its power still holds up, a step a quarter at most (docs/ODD.md 7.11).

        A partnership is held by both sides: when a power walks away (its ``engagement``, (runs, powers),
        falls below the tie), the tie erodes whatever Vietnam does.
        """
        self.alignment = kernels.erode(self.alignment, engagement, self.model.world.scalars["step_size"])

    def host(self, power: int, change: np.ndarray) -> None:
        """A state visit by ``power`` lifts its tie by ``change`` (per run, within the Four No's), a lift that fades.

        The visit lends the tie warmth, not an institution: what it lent fades (``fade``), while a tier it
        upgrades stays (``upgrade``) and holds the tie by its rupture line and commitment cost (docs/ODD.md 7.6).
        """
        self.lent = self.spent()
        before = self.alignment[:, power].copy()
        self.model.add_impulse(f"alignment.{POWERS[power]}", change)
        self.lent[:, power] += self.alignment[:, power] - before
        self.held = self.alignment.copy()

    def spent(self) -> np.ndarray:
        """What visits lent that is still in the ties: a tie that fell since (eroded, loosened) lost the lift first.

        Without this, a lift that erosion or Vietnam had already taken away would be taken away again by
        the fade, and a visit could leave a tie lower than no visit would have.
        """
        return np.maximum(self.lent - np.maximum(self.held - self.alignment, 0.0), 0.0)

    def fade(self) -> None:
        """What state visits lent the ties fades, halving every ``visit_half_life`` quarters, whatever Vietnam does."""
        if not self.lent.any():  # no visit, or its warmth long gone: nothing to fade, not a bit changed
            return
        half_life = self.model.world.scalars["visit_half_life"]
        self.alignment, self.lent = kernels.fade(self.alignment, self.spent(), half_life)
        self.held = self.alignment.copy()  # a fresh array: an impulse may write the ties in place

    def learn(self) -> None:
        """Update the belief of each power's lines from what the powers did this quarter (docs/ODD.md 7.10).

        Vietnam does not read the powers' tolerances: it infers them from the coercion and courtship it
        sees in answer to its ties as they stand (``kernels.learn``).
        """
        powers = self.model.great_powers
        coercion = np.stack([p.coercion for p in powers], 1)
        courtship = np.stack([p.courtship for p in powers], 1)
        s = self.model.world.scalars
        self.belief = kernels.learn(
            self.belief, self.alignment, self.model.world.rivalry, coercion, self.coercion_seen, courtship,
            s["learning_rate"], s["step_size"],
        )  # fmt: skip
        self.coercion_seen = coercion

    def perceive(self) -> Situation:
        """What Vietnam faces this step: the powers' offers and threats, its trust, commitments and beliefs."""
        powers = self.model.great_powers
        self.remember(np.stack([p.delivery() for p in powers], 1))
        w = self.model.world
        supply = np.stack([p.offer() for p in powers], 1)
        threat = np.stack([p.threat() for p in powers], 1)
        coercion = np.stack([p.coercion for p in powers], 1)
        trust = self.trust(w.reliability)
        lines = self.rupture_line()
        self.situation = Situation(w, supply, threat, trust, lines, coercion, self.belief)
        return self.situation

    # -- what the Four No's allow ------------------------------------------------
    def ceiling(self) -> np.ndarray:
        """Highest alignment allowed: just under the alliance line while the Four No's hold."""
        s = self.model.world.scalars
        in_force = s["four_nos"] >= 0.5
        return np.where(in_force, s["alliance"] - 1e-9, 1.0)[:, None]

    def feasible(self, a: np.ndarray, step: np.ndarray) -> np.ndarray:
        """Which moves the policy allows for each tie, (runs, powers, 3).

        No tie below zero or above the ceiling; and, while the Four No's hold
        and the strategy keeps them, no tie more than ``siding`` above
        another (no alignment with one country against another), judged on the
        worst case of the other ties moving the other way at once.
        """
        s = self.model.world.scalars
        gap = np.where(s["four_nos"] >= 0.5, s["siding"], np.inf)
        return kernels.feasible(a, step[:, 0], self.ceiling()[:, 0], gap, self.sides)

    # -- the decision -----------------------------------------------------------
    def adjust(self) -> None:
        """One quarter's decision: learn the powers' lines, perceive, choose a move per tie, carry it out."""
        self.learn()
        situation = self.perceive()
        self.previous = self.alignment.copy()
        step = self.model.world.scalars["step_size"][:, None]
        self.feasible_moves = self.feasible(self.alignment, step)
        self.choice = self.obey(self.choose(situation, step, self.feasible_moves), self.feasible_moves)
        self.carry_out(self.choice, step, self.leaps(situation, step, self.choice))

    def obey(self, choice: np.ndarray, feasible: np.ndarray) -> np.ndarray:
        """A move the policy forbids becomes the loosening it asks for, where that is allowed.

        Only a tie that a power's walking away (docs/ODD.md 7.11) has left more than the siding gap above
        another is ever so forbidden to keep: a Vietnam that keeps the Four No's eases it.
        """
        allowed = np.take_along_axis(feasible, choice[:, :, None], axis=2)[:, :, 0]
        return np.where(allowed | ~feasible[:, :, LOOSEN], choice, LOOSEN)

    def gains(self, situation: Situation, step: np.ndarray) -> np.ndarray:
        """Utility change of loosening, keeping and deepening each tie, (runs, powers, 3).

        Deepening is valued as if the tier's ceiling did not bind: a tie
        pressing at its ceiling shows what an upgrade would bring.
        """
        return situation.gains(self.alignment, step * MOVES[None, :])

    def noise(self) -> np.ndarray:
        """Standard Gumbel noise per tie and move, (runs, powers, 3), from the run's own stream."""
        m = self.model
        return m.streams.gumbel(m.steps, "hedger.choice", len(POWERS) * len(MOVES)).reshape(-1, len(POWERS), 3)

    def choose(self, situation: Situation, step: np.ndarray, feasible: np.ndarray) -> np.ndarray:
        """The logit choice: move index (into MOVES) per tie, (runs, powers)."""
        w = self.model.world
        self.gain = self.gains(situation, step)
        return kernels.logit_choice(self.gain, step[:, 0], w.scalars["temperature"], w.inertia, feasible, self.noise())

    def highest_tier(self) -> np.ndarray:
        """The highest tier a tie may hold, per run: the CSP while the Four No's hold, else an alliance."""
        return np.where(self.model.world.scalars["four_nos"] >= 0.5, TOP_TIER, ALLIANCE)

    def leaps(self, situation: Situation, step: np.ndarray, choice: np.ndarray) -> np.ndarray:
        """The tiers beyond the next that Vietnam names where an upgrade falls due this quarter, (runs, powers).

        An upgrade is a decision, not a notch: where a tie has pressed at its tier's ceiling long enough,
        Vietnam names the tier it values most among those whose rupture line the tie already reaches (a tier
        it would breach at once is no commitment to make), within the Four No's. Each tier is valued at the
        depth it asks, its floor or the tie where the tie stands deeper, weighed as any move
        (``Situation.gains``: what the tie would bring, its rivals' displeasure as Vietnam believes their lines,
        the costs of depth) against the next tier's; where tiers are worth the same (the tie stands deeper than
        their floors), the deepest of them, the one that fits the tie. The record has such decisions (002: the
        US partnership went "from comprehensive partnership to CSP level in September 2023" after an upgrade
        held back "since 2018"; docs/ODD.md 7.6). Zero where no upgrade falls due or the next tier is best.
        """
        leap = np.zeros(self.tier.shape, dtype=np.int64)
        s = self.model.world.scalars
        levels, a, tier = self.levels(), self.alignment, self.tier
        highest = self.highest_tier()
        due = (tier + 1 < highest[:, None]) & (choice == DEEPEN)  # room for more than one tier, and pressing on
        if not due.any():  # most quarters (every tie at the top tier, as in 2025): nothing more is weighed
            return leap
        due &= self.pressing + 1 >= np.round(s["tier_patience"])[:, None]
        due &= a + step > np.take_along_axis(levels, tier + 1, axis=1)
        beyond = np.arange(ALLIANCE)  # 0: the next tier, the reference; then one, two, three tiers more
        for p in np.flatnonzero(due.any(axis=0)):
            named = np.minimum(tier[:, p, None] + 1 + beyond, ALLIANCE)
            depth = np.maximum(a[:, p, None], np.take_along_axis(levels, named, axis=1))
            gain = situation.gains(a, np.where(due[:, p, None], depth - a[:, p, None], 0.0))[:, p, :]
            allowed = (tier[:, p, None] + 1 + beyond <= highest[:, None]) & (
                np.take_along_axis(levels, named - 1, axis=1) <= a[:, p, None]  # the tier's rupture line, reached
            )
            value = np.where(allowed | (beyond == 0), gain - gain[:, :1], -np.inf)
            best = len(beyond) - 1 - np.argmax(value[:, ::-1] >= value.max(axis=1, keepdims=True), axis=1)
            leap[:, p] = np.where(due[:, p], best, 0)
        return leap

    def carry_out(self, choice: np.ndarray, step: np.ndarray, leap: np.ndarray | None = None) -> None:
        """Move each tie, within its tier's ceiling; change tiers when pressure or neglect lasts.

        A tie that would deepen past its tier's ceiling stops there and presses;
        pressing for ``tier_patience`` quarters in a row upgrades the tier (a
        summit formalises it) to the next, or by ``leap`` more, the tier Vietnam
        names (``leaps``), unless that is an alliance while the Four No's hold.
        A tie below its tier's rupture line for as long lapses one tier.
        """
        s = self.model.world.scalars
        # the kernel updates in place: fresh arrays, so that whoever kept the last ones (a test, a snapshot) keeps them
        self.alignment, self.tier = self.alignment.copy(), self.tier.copy()
        self.pressing, self.lapsing = self.pressing.copy(), self.lapsing.copy()
        highest = self.highest_tier()
        kernels.carry_out(
            self.alignment, choice, step[:, 0], self.tier, self.pressing, self.lapsing, self.levels(),
            self.ceiling()[:, 0], np.round(s["tier_patience"]), highest,
            np.zeros(self.tier.shape, np.int64) if leap is None else leap,
        )  # fmt: skip

    def downgrade(self, power: int, tier: int, runs: np.ndarray) -> None:
        """The treaty under the tie with ``power`` ends in ``runs`` (a mask): its tier falls to ``tier`` at most.

        The tie itself stays where it is, for Vietnam to move as it then chooses.
        """
        self.tier[:, power] = np.where(runs, np.minimum(self.tier[:, power], tier), self.tier[:, power])
        self.pressing[runs, power] = 0
        self.lapsing[runs, power] = 0

    def upgrade(self, power: int, tier: np.ndarray, runs: np.ndarray | None = None) -> None:
        """A summit raises the tie with ``power`` to at least ``tier`` (per run), within the Four No's.

        ``runs`` (a mask) limits it to the runs whose summit falls now (a date drawn per run).
        """
        where: slice | np.ndarray = slice(None) if runs is None else runs
        highest = self.highest_tier()
        self.tier[where, power] = np.maximum(self.tier[where, power], np.minimum(tier, highest)[where])
        self.pressing[where, power] = 0
        self.lapsing[where, power] = 0
