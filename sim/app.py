"""The classroom dashboard: a Mesa SolaraViz app, started offline with ``bamboo app``.

The sidebar holds Mesa's controls (reset, play, step), the lesson (scenario,
dials, seed, fan-chart runs, play as Hanoi) and the live events. The page
shows the class's world as it runs, the Monte Carlo fan of the same world,
why Vietnam moved at the last step, and the student's desk when a student
plays Hanoi. Every widget calls ``sim.classroom``; this module only draws.
"""

from __future__ import annotations

import contextlib
import warnings

import solara
from matplotlib.figure import Figure
from mesa.visualization import SolaraViz
from mesa.visualization.utils import force_update, update_counter

from sim import roles
from sim.classroom import KNOBS, ClassroomModel, Comparison, Fan, Lesson, verdict
from sim.events import EVENT_TYPES
from sim.explain import DRIVERS, MOVE_NAMES, explain
from sim.limits import MAX_FILE_BYTES
from sim.outcomes import TIERS
from sim.params import DIMENSIONS, POWERS, load_parameters
from sim.plots import COLOURS, DIM_COLOURS, NAMES, QS, tier_bands
from sim.scenario import ScenarioError

TITLE = "Bamboo classroom"
WIDTH = 6.2  # inches: with DPI, a figure fits a cell of Mesa's page grid
DPI = 90
LIVE = "#d35400"  # events injected during the run


# -- figures -----------------------------------------------------------------------
def _years(model: ClassroomModel, steps: int | None = None):
    n = model.horizon + 1 if steps is None else steps
    return [model.calendar.date(t).decimal_year for t in range(n)]


def _frame(model: ClassroomModel, ax, ylabel: str, ylim=(0, 1), labels: bool = True) -> None:
    """Axes over the whole horizon, with a line per event date (live events in orange), named if ``labels``."""
    years = _years(model)
    scripted = len(model.what_if.events)
    marks: dict[tuple[float, bool], list[str]] = {}  # events on one date share a line
    for i, event in enumerate(model.events):
        names = marks.setdefault((event.at.decimal_year, i >= scripted), [])
        if event.name.replace("_", " ") not in names:
            names.append(event.name.replace("_", " "))
    for (x, live), names in marks.items():
        if x > years[-1]:
            continue
        colour = LIVE if live else "0.35"
        ax.axvline(x, color=colour, lw=0.9, ls="-" if live else ":")
        if labels:
            label = " " + ", ".join(names)
            transform = ax.get_xaxis_transform()
            text = ax.text(x, 0.98, label, rotation=90, va="top", fontsize=6, color=colour, transform=transform)
            text.set_in_layout(False)
    ax.set(xlim=(years[0], years[-1]), ylim=ylim, ylabel=ylabel)


def _tier_bands(model: ClassroomModel, ax) -> None:
    s = model.world.scalars
    tier_bands(ax, {t: float(s[t][0]) for t in TIERS[1:]}, fontsize=6.5)


def _figure(rows: int = 1, cols: int = 1, height: float = 3.2, **kwargs):
    fig = Figure(figsize=(WIDTH, height), dpi=DPI, layout="constrained")
    return fig, fig.subplots(rows, cols, **kwargs)


def alignment_figure(model: ClassroomModel) -> Figure:
    """The class's world: alignment with each power, tier bands, event markers."""
    fig, ax = _figure()
    _tier_bands(model, ax)
    a = model.trajectories()["alignment"][:, 0]
    years = _years(model, len(a))
    for p, power in enumerate(POWERS):
        ax.plot(years, a[:, p], color=COLOURS[power], lw=2, label=NAMES[power])
        ax.plot(years[-1], a[-1, p], "o", color=COLOURS[power], ms=4)
    _frame(model, ax, "Vietnam's alignment")
    ax.legend(loc="lower left", frameon=False, ncol=3, fontsize=8)
    ax.set_title(f"{model.what_if.name}: this class's world, {model.date}", fontsize=10)
    ax.set_yticks([0, 0.5, 1])
    ax.set_xlabel("year", fontsize=8)
    return fig


def security_figure(model: ClassroomModel) -> Figure:
    """Hedging index, and security satisfaction per demand with the isolation line."""
    fig, (top, bottom) = _figure(2, 1, sharex=True)
    t = model.trajectories()
    years = _years(model, len(t["hedging_index"]))
    top.plot(years, t["hedging_index"][:, 0], color="#1e8449", lw=2, marker="o", markevery=[-1], ms=4)
    _frame(model, top, "hedging index", (0, 1.02), labels=False)
    for d, dim in enumerate(DIMENSIONS):
        bottom.plot(years, t["satisfaction"][:, 0, d], color=DIM_COLOURS[dim], lw=1.6, label=dim)
    bottom.plot(years, t["satisfaction"][:, 0].mean(axis=1), color="0.1", lw=1, ls="--", label="mean")
    bottom.axhline(model.world.scalars["isolation"][0], color="0.3", lw=0.8, label="isolation")
    _frame(model, bottom, "satisfaction", labels=False)
    bottom.legend(loc="upper left", bbox_to_anchor=(1.0, 1.05), frameon=False, fontsize=6.5)
    top.set_title("Hedging (1 = even engagement) and security satisfaction", fontsize=10)
    return fig


def fan_figure(model: ClassroomModel, fan: Fan) -> Figure:
    """Median, 50% and 90% bands over the fan's runs; the class's world drawn over them."""
    fig, ax = _figure()
    _tier_bands(model, ax)
    q = fan.aggregate.percentiles("alignment", QS)
    years = _years(model, len(q))
    for p, power in enumerate(POWERS):
        ax.fill_between(years, q[:, p, 0], q[:, p, 4], color=COLOURS[power], alpha=0.12, lw=0)
        ax.fill_between(years, q[:, p, 1], q[:, p, 3], color=COLOURS[power], alpha=0.25, lw=0)
        ax.plot(years, q[:, p, 2], color=COLOURS[power], lw=1.5, label=NAMES[power])
    a = model.trajectories()["alignment"][:, 0]
    for p, power in enumerate(POWERS):
        ax.plot(_years(model, len(a)), a[:, p], color=COLOURS[power], lw=0.9, ls="--")
    _frame(model, ax, "Vietnam's alignment")
    ax.set_yticks([0, 0.5, 1])
    ax.legend(loc="lower left", frameon=False, ncol=3, fontsize=8)
    ax.set_title(f"Monte Carlo: {fan.runs} runs (bands); dashed: this class's world", fontsize=10)
    return fig


def explain_figure(reasons: dict) -> Figure:
    """Each driver's pull on loosening and deepening each tie; inertia's pull on keeping it."""
    fig, axes = _figure(1, len(POWERS), height=2.8, sharey=True)
    labels = [*DRIVERS, "inertia (keep)"]
    rows = range(len(labels))
    for ax, (power, r) in zip(axes, reasons.items(), strict=True):
        loosen = [r.drivers[d][0] for d in DRIVERS] + [0.0]
        deepen = [r.drivers[d][2] for d in DRIVERS] + [0.0]
        ax.barh([y - 0.2 for y in rows], loosen, height=0.4, color="#aab7b8", label="loosen")
        ax.barh([y + 0.2 for y in rows], deepen, height=0.4, color=COLOURS[power], label="deepen")
        ax.barh([len(DRIVERS)], [r.inertia], height=0.4, color="0.2")
        ax.axvline(0, color="0.2", lw=0.6)
        odds = " ".join(f"{m[0].upper()}{p:.0%}" for m, p in zip(MOVE_NAMES, r.probability, strict=True))
        ax.set_title(f"{power}: {MOVE_NAMES[r.chosen]}\n{odds}", fontsize=8.5)
        ax.tick_params(labelsize=6.5)
    axes[0].set_yticks(list(rows), labels, fontsize=7)
    axes[0].invert_yaxis()
    axes[0].legend(loc="lower left", fontsize=6.5, frameon=False)
    fig.supxlabel("change in Vietnam's utility", fontsize=7.5)
    return fig


def comparison_figure(model: ClassroomModel, c: Comparison) -> Figure:
    """The student's Vietnam (solid) beside the model's own (dashed), same world."""
    fig, ax = _figure(height=2.5)
    years = [d.decimal_year for d in c.dates]
    for p, power in enumerate(POWERS):
        ax.plot(years, c.student["alignment"][:, 0, p], color=COLOURS[power], lw=2, label=f"{power}: yours")
        ax.plot(years, c.model["alignment"][:, 0, p], color=COLOURS[power], lw=1.2, ls="--")
    _frame(model, ax, "Vietnam's alignment", labels=False)
    ax.legend(loc="lower left", frameon=False, ncol=3, fontsize=7.5)
    ax.set_title("Your Vietnam (solid) and the model's own (dashed)", fontsize=10)
    return fig


def _chart(fig: Figure):
    return solara.FigureMatplotlib(fig, format="png", dpi=DPI)


def _verdict(text: str, label: str, more: str = "") -> None:
    show = solara.Success if text == "multi-alignment holds" else solara.Error
    show(f"{label}: {text}{more}", dense=True)


# -- the page's cells (Mesa calls each with the model, and redraws it after every step) --
# Each reads the model under its lock: with Mesa's "Use Threads" the model steps while the page draws.
@solara.component
def WorldChart(model: ClassroomModel):
    update_counter.get()
    with model.lock:
        text, fig = verdict(model), alignment_figure(model)
    _verdict(text, f"{model.date}")
    _chart(fig)


@solara.component
def SecurityChart(model: ClassroomModel):
    update_counter.get()
    with model.lock:
        fig = security_figure(model)
    _chart(fig)


@solara.component
def FanChart(model: ClassroomModel):
    update_counter.get()
    # a new fan only when the world changes: new dials or seed (a new model) or a live event
    fan = solara.use_memo(model.fan, [model, len(model.live_events)])
    agg = fan.aggregate
    modes = ", ".join(f"{k.replace('_', ' ')} {v:.0%}" for k, v in agg.failure_modes().items())
    solara.Text(f"Survives in {agg.survival_probability():.0%} of {fan.runs} runs ({modes}); {fan.seconds:.2f} s")
    with model.lock:
        fig = fan_figure(model, fan)
    _chart(fig)


@solara.component
def WhyVietnamMoved(model: ClassroomModel):
    update_counter.get()
    if not model.decisions:
        solara.Text("Why Vietnam moved: step the model to see each driver of its last move.")
        return
    decision = model.decisions[-1]
    reasons = explain(decision)
    solara.Text(f"Why Vietnam moved at {model.calendar.date(decision.step)}")
    _chart(explain_figure(reasons))
    for r in reasons.values():
        solara.Text(r.sentence(), style={"font-size": "12px"})


@solara.component
def HanoiDesk(model: ClassroomModel):
    update_counter.get()
    if not model.student:
        solara.Info("Tick 'Play as Hanoi' in the lesson to choose Vietnam's moves; the powers keep their rules.")
        return
    with solara.Row():
        for power in POWERS:

            def choose(move, power=power):
                model.moves[power] = MOVE_NAMES.index(move) - 1

            with solara.Column(gap="0px"):
                solara.Text(NAMES[power])
                solara.ToggleButtonsSingle(
                    MOVE_NAMES[model.moves[power] + 1], list(MOVE_NAMES), on_value=choose, dense=True
                )
    with model.lock:
        c = model.compare()
        fig = comparison_figure(model, c)
    end = "" if model.running else "Final. "
    _verdict(c.student_verdict, f"{end}Your Vietnam", f"; the model's Vietnam: {c.model_verdict}")
    _chart(fig)


CELLS = [(WorldChart, 0), (FanChart, 0), (SecurityChart, 0), (WhyVietnamMoved, 0), (HanoiDesk, 0)]


# -- the sidebar ---------------------------------------------------------------------
def receive(lesson: Lesson, file: dict) -> str | None:
    """Give a dropped file (Solara's FileInfo) to the lesson; the refusal to show, or None."""
    small = file["size"] <= MAX_FILE_BYTES  # a larger file is refused before a byte of it is sent
    data = file["file_obj"].read(MAX_FILE_BYTES + 1) if small else b""
    try:
        lesson.upload(file["name"], data, size=file["size"])
    except ScenarioError as exc:
        return str(exc)
    return None


@solara.component
def LessonPanel(model: solara.Reactive[ClassroomModel]):
    """Scenario, dials, seed, fan runs, play as Hanoi: each change starts the world again."""
    lesson = model.value.lesson
    error, set_error = solara.use_state(None)
    scenarios = lesson.scenarios()

    def rebuild():
        set_error(None)
        model.set(ClassroomModel(lesson))

    def choose(name):
        lesson.choose(scenarios[name])
        rebuild()

    def upload(file):
        refused = receive(lesson, file)
        if refused:
            set_error(refused)
        else:
            rebuild()

    def dial(name, value):
        lesson.set(name, value)
        rebuild()

    def setting(name, value):
        setattr(lesson, name, value)
        rebuild()

    with solara.Card("Lesson"):
        solara.Select("Scenario", values=list(scenarios), value=lesson.scenario.name, on_value=choose)
        solara.FileDrop(label="or drop a scenario file (YAML) here", on_file=upload)
        if error:
            solara.Error(error, dense=True)
        for name, knob in KNOBS.items():
            value = lesson.knobs[name]
            if knob.step == 1.0:
                solara.Checkbox(label=knob.label, value=value >= 0.5, on_value=lambda on, n=name: dial(n, float(on)))
                continue
            solara.Text(f"{knob.label}: {value:.2f}")
            solara.SliderFloat(
                "",
                value=value,
                min=knob.low,
                max=knob.high,
                step=knob.step,
                on_value=lambda v, n=name: dial(n, v),
                thumb_label=False,
            )
        solara.InputInt(
            "Seed: the same seed gives the whole class the same world",
            value=lesson.seed,
            on_value=lambda v: setting("seed", max(0, v)),  # numpy seeds are not negative
        )
        solara.Text(f"Runs for the fan chart: {lesson.fan_runs}")
        solara.SliderInt(
            "", value=lesson.fan_runs, min=50, max=1000, step=50, on_value=lambda v: setting("fan_runs", v)
        )
        solara.Checkbox(label="Play as Hanoi", value=lesson.student, on_value=lambda on: setting("student", on))


@solara.component
def LiveEvents(model: solara.Reactive[ClassroomModel]):
    """Inject any catalogue event at the current date, while the world runs."""
    update_counter.get()
    m = model.value
    kind, set_kind = solara.use_state("maritime_incident")
    actor, set_actor = solara.use_state("CN")
    target, set_target = solara.use_state("VN")
    magnitude, set_magnitude = solara.use_state(0.8)
    quarters, set_quarters = solara.use_state(0)
    path, set_path = solara.use_state("powers.CN.threat.territory")
    value, set_value = solara.use_state(0.2)
    refused, set_refused = solara.use_state(None)
    cls = EVENT_TYPES[kind]
    pairs = roles.pairs(kind)
    actors = [p for p in POWERS if any(a == p for a, _ in pairs)]
    actor = actor if actor in actors else cls.default_actor
    targets = [t for t in ("VN", *POWERS) if (actor, t) in pairs]
    target = target if target in targets else cls.default_target if cls.default_target in targets else targets[0]

    def inject():
        extra = {"path": path, "value": value} if kind == "shock" else {}
        try:
            m.inject(kind, quarters or None, actor=actor, target=target, magnitude=magnitude, **extra)
        except ValueError as exc:  # e.g. a shock on an initial value
            set_refused(str(exc))
            return
        set_refused(None)
        force_update()

    with solara.Card("Live event"):
        solara.Select("Event", values=sorted(EVENT_TYPES), value=kind, on_value=set_kind)
        solara.Text(cls.effect, style={"font-size": "12px"})
        solara.Text(roles.describe(kind), style={"font-size": "11px"})
        with solara.Row():
            solara.Select("Actor", values=actors, value=actor, on_value=set_actor)
            solara.Select("Target", values=targets, value=target, on_value=set_target)
        if kind == "shock":
            solara.Select("Parameter", values=sorted(load_parameters().entries), value=path, on_value=set_path)
            solara.SliderFloat("Shift", value=value, min=-1.0, max=1.0, step=0.05, on_value=set_value)
        solara.SliderFloat("Magnitude", value=magnitude, min=0.0, max=1.0, step=0.05, on_value=set_magnitude)
        solara.SliderInt("Quarters (0: its own)", value=quarters, min=0, max=12, on_value=set_quarters)
        solara.Button(f"Inject at {m.date}", on_click=inject, color="warning", disabled=not m.running)
        if refused:
            solara.Error(refused, dense=True)
        with solara.Column(gap="0px"):
            for kind_, at, fields in m.live_events:
                solara.Text(f"{at}: {kind_.replace('_', ' ')} by {fields.get('actor')}", style={"font-size": "12px"})


@solara.component
def Page():
    lesson = solara.use_memo(Lesson, [])
    model = solara.use_reactive(solara.use_memo(lesson.model, []))
    # Mesa's Reset builds ClassroomModel(lesson=...): the world again, from the lesson's current settings
    SolaraViz(model, components=CELLS, model_params={"lesson": lesson}, name=TITLE, play_interval=400)
    Sidebar(model)


@solara.component
def Sidebar(model: solara.Reactive[ClassroomModel]):
    SidebarCards(model)  # one component deeper than SolaraViz: Solara places deeper sidebar content below


@solara.component
def SidebarCards(model: solara.Reactive[ClassroomModel]):
    with solara.Sidebar():
        LessonPanel(model)
        LiveEvents(model)


# -- the server ----------------------------------------------------------------------
def offline() -> None:
    """Serve Solara's web assets from the installed solara-assets package; ask nothing of the internet."""
    import solara.server.settings as server

    solara.settings.assets.proxy = True  # assets come from the server's cache, which solara-assets fills
    solara.settings.assets.cdn = "http://127.0.0.1:9/"  # a missing asset is a 404, never a download
    server.telemetry.mixpanel_enable = False
    server.theme.show_banner = False
    server.theme.title = TITLE


def serve(host: str = "127.0.0.1", port: int = 8765) -> int:
    """Run the dashboard until Ctrl+C."""
    offline()
    # a classroom serves plain http on its own network; Solara warns of that on each new address
    warnings.filterwarnings("ignore", "Cookies with samesite=none require https", UserWarning)
    from click.exceptions import Abort
    from solara.__main__ import run

    args = ["sim.app", "--host", host, "--port", str(port), "--production", "--no-open", "--no-check-version"]
    with contextlib.suppress(Abort, KeyboardInterrupt):  # Ctrl+C: the usual way to stop a server
        run.main(args, standalone_mode=False)
    return 0
