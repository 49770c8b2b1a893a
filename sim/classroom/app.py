"""The classroom dashboard: one Solara page, served offline by ``bamboo app``.

Laid out for a projector at 1280×720: the play bar on top; the lesson
(scenario, who plays Vietnam, dials, seed) on the left; the class's world in
the middle with a second view below it (possible worlds, why Vietnam moved,
security, the comparison); live events and Hanoi's moves on the right.
Presentation mode hides the lesson and enlarges the text.

The simulation runs on the server; the charts are ECharts options (sim.classroom.charts)
that the browser draws, so an update costs the server a small dictionary, not
a picture. Every widget calls ``sim.classroom.lesson``; this module only lays out.
"""

from __future__ import annotations

import functools
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

import solara
from solara.components.file_drop import FileInfo

from sim.classroom import gate
from sim.classroom.charts import (
    FONT,
    LIVE,
    PRESENT,
    comparison_chart,
    event_label,
    event_marks,
    explain_chart,
    fan_chart,
    parameter_label,
    power_name,
    security_chart,
    world_chart,
)
from sim.classroom.fans import FANS, FanView, fan_key, fan_view
from sim.classroom.lesson import ClassroomModel, Knob, Lesson, outcome, strategies
from sim.classroom.possible_worlds import Fields
from sim.classroom.trimmer import TRIMMER
from sim.classroom.widgets import InjectButton, OpenScenario, PageLanguage, ScenarioFile, chart, receive
from sim.model import roles
from sim.model.domain import POWERS
from sim.model.events import EVENT_TYPES
from sim.model.outcomes import Failure
from sim.model.params import load_parameters
from sim.model.reach import show_name
from sim.outputs.explain import MOVE_NAMES, explain

TITLE = "Bamboo classroom"
PLAY_SECONDS = 0.6  # between quarters while playing
EVENTS = {event_label(kind, None): kind for kind in sorted(EVENT_TYPES)}  # plain name -> event type
VIEWS = ("Possible worlds", "Why Vietnam moved", "Security", "Compare")
# each of the two views takes half of what the window leaves below the play bar, the verdict and the view
# buttons: both are in view without scrolling from a 1280x600 window (a projector's 720p less the browser's bar)
VIEW_HEIGHT = "max(170px, calc(50vh - 118px))"
type Notice = tuple[str, str]  # a message to the teacher: its kind ("error" or "success") and its text

CSS = """
.bamboo { font-size: 15px; }
.bamboo .v-input, .bamboo .v-label, .bamboo .v-select__selection, .bamboo .v-btn { font-size: 15px !important; }
.bamboo-side { padding-top: 8px; width: 290px; min-width: 290px; max-height: calc(100vh - 64px); overflow-y: auto; }
.bamboo-right { width: 275px; min-width: 275px; max-height: calc(100vh - 64px); overflow-y: auto; }
.bamboo-main { flex: 1 1 auto; min-width: 0; }
.bamboo-bar { align-items: center; gap: 10px; padding: 4px 8px; border-bottom: 1px solid #ddd; }
.bamboo-date { font-size: 26px; font-weight: bold; min-width: 110px; }
.bamboo-title { font-size: 18px; font-weight: bold; }
.bamboo-note { font-size: 14px; color: #444; line-height: 1.35; }
.bamboo-events { font-size: 14px; line-height: 1.35; }
.bamboo.present, .bamboo.present .v-btn { font-size: 20px !important; }
.bamboo.present .bamboo-date { font-size: 34px; }
.bamboo.present .bamboo-note, .bamboo.present .bamboo-events { font-size: 18px; }
.bamboo .v-slider { margin-top: 0; }
.bamboo .v-input__slider .v-label { display: none; }  /* named for screen readers; the line above shows the value */
.bamboo-verdict { font-size: 16px; }
.bamboo.present .bamboo-verdict { font-size: 26px !important; font-weight: bold; }
.bamboo-moves .v-btn { min-width: 0 !important; padding: 0 10px !important; }
.bamboo .v-messages { min-height: 0; }
.bamboo .v-input__slot { margin-bottom: 0; }
.bamboo .v-text-field__details { display: none; }
"""


def verdict_line(model: ClassroomModel) -> tuple[str, str]:
    """The verdict of the class's world so far, and its colour: neutral while it runs, green only at the end."""
    result = outcome(model)
    if result.failure != Failure.NONE:
        return f"Multi-alignment failed — {result.words()}", "error"
    if model.running:
        return f"No failure so far ({model.date}); the verdict comes at {model.calendar.date(model.horizon)}", "info"
    return f"Multi-alignment held to {model.date}", "success"


# -- the page ------------------------------------------------------------------------------
@solara.component
def Page() -> None:
    """The dashboard: the play bar over the lesson, the class's world, and the live events (and Hanoi's desk)."""
    lesson = solara.use_memo(Lesson, [])
    model: solara.Reactive[ClassroomModel] = solara.use_reactive(solara.use_memo(lesson.model, []))
    tick = solara.use_reactive(0)  # bumped after every step: what redraws the world
    playing = solara.use_reactive(False)
    present = solara.use_reactive(False)
    view = solara.use_reactive(VIEWS[0])
    m = model.value

    def rebuild() -> None:
        playing.set(False)
        model.set(lesson.model())

    def play_loop(cancel: threading.Event) -> None:
        while playing.value and not cancel.is_set():
            time.sleep(PLAY_SECONDS)
            if cancel.is_set() or not playing.value:
                return
            world = model.value
            with world.lock:
                if not world.running:
                    playing.set(False)
                    return
                world.step()
            tick.set(tick.value + 1)

    solara.use_thread(play_loop, [playing.value, m], intrusive_cancel=False)
    solara.Style(CSS)
    solara.Title(TITLE)
    classes = ["bamboo", "present"] if present.value else ["bamboo"]
    with solara.Column(classes=classes, gap="0px", style={"padding": "0"}):
        PageLanguage.element()
        PlayBar(model, tick, playing, present, rebuild)
        with solara.Row(gap="8px", style={"align-items": "flex-start", "padding": "4px 8px"}):
            if not present.value:
                with solara.Column(classes=["bamboo-side"], gap="4px"):
                    LessonPanel(lesson, m, rebuild)
            with solara.Column(classes=["bamboo-main"], gap="4px"):
                Main(model, tick.value, present.value, view)
            with solara.Column(classes=["bamboo-right"], gap="4px"):
                LiveEvents(model, tick)
                if m.student:
                    HanoiDesk(model, tick)


@solara.component
def PlayBar(
    model: solara.Reactive[ClassroomModel],
    tick: solara.Reactive[int],
    playing: solara.Reactive[bool],
    present: solara.Reactive[bool],
    rebuild: Callable[[], None],
) -> None:
    """The world's date, Play or Pause, Step, Reset (``rebuild``), the scenario's name and presentation mode."""
    m = model.value
    tick.value  # noqa: B018 -- read, so that every step redraws the date and the buttons

    def step() -> None:  # the world as it is when the click arrives, not as it was when the button was drawn
        world = model.value
        with world.lock:
            if world.running:
                world.step()
        tick.set(tick.value + 1)

    with solara.Row(classes=["bamboo-bar"]):
        solara.Text(TITLE, classes=["bamboo-title"])
        solara.Text(str(m.date), classes=["bamboo-date"])
        if playing.value:
            solara.Button("Pause", on_click=lambda: playing.set(False), color="primary")
        else:
            solara.Button("Play", on_click=lambda: playing.set(True), color="primary", disabled=not m.running)
        solara.Button("Step", on_click=step, disabled=not m.running or playing.value)
        solara.Button("Reset", on_click=rebuild)
        solara.Text(m.what_if.name, classes=["bamboo-title"], style={"margin-left": "12px"})
        solara.v.Spacer()
        solara.Checkbox(label="Presentation mode", value=present)


@solara.component
def LessonPanel(lesson: Lesson, world: ClassroomModel, rebuild: Callable[[], None]) -> None:
    """Scenario, who plays Vietnam, dials and seed: each change starts the world again (``world``, drawn anew)."""
    no_message: Notice | None = None
    message, set_message = solara.use_state(no_message)  # what became of the last upload or seed
    scenarios = lesson.scenarios()
    names = {label: name for name, label in strategies().items()}

    def choose(name: str) -> None:
        lesson.choose(scenarios[name])
        set_message(None)
        rebuild()

    def uploaded(file: FileInfo, widget: ScenarioFile) -> None:
        shown = show_name(file["name"])
        try:
            refused = receive(lesson, file)
        except Exception:  # a fault of the server's own: the student still hears of it, the log has the rest
            logging.getLogger("bamboo.app").exception("an upload could not be read")
            refused = "the server could not read it (its log says why)"
        widget.chunk_listeners.clear()  # the file is read: its reader, and anything queued for it, go
        widget.clear()  # the button is ready for the next file; the page says what became of this one
        if refused:
            set_message(("error", f"{shown} was refused, and the page still shows {lesson.scenario.name}: {refused}"))
        else:
            set_message(("success", f"Opened {shown}: {lesson.scenario.name}"))
            rebuild()

    def seed(text: str) -> None:
        try:
            lesson.set_seed(text)
        except ValueError as exc:
            set_message(("error", f"Seed refused: {exc}; the world keeps seed {lesson.seed}"))
            return
        set_message(None)
        rebuild()

    solara.Select("Scenario", values=list(scenarios), value=lesson.scenario.name, on_value=choose, dense=True)
    OpenScenario(uploaded)
    if message:
        (solara.Error if message[0] == "error" else solara.Success)(message[1], dense=True, text=True)
    label = next(k for k, v in names.items() if v == lesson.strategy)

    def play_as(name: str) -> None:
        lesson.strategy = names[name]
        rebuild()

    solara.Select("Vietnam is played by", values=list(names), value=label, on_value=play_as, dense=True)
    Dials(lesson, world, rebuild)
    solara.InputText("Seed (the same seed gives the class the same world)", value=str(lesson.seed),
                     on_value=seed, continuous_update=False)  # fmt: skip


@solara.component
def Dials(lesson: Lesson, world: ClassroomModel, rebuild: Callable[[], None]) -> None:
    """The dials of the lesson's scenario, each where the lesson sets it; moving one starts the world again.

    ``world`` is the world they made: the dials are drawn anew with each new one.
    """

    def dial(name: str, value: float) -> None:
        lesson.set(name, value)
        rebuild()

    for name, knob in lesson.dials.items():
        Dial(knob, lesson.knobs[name], functools.partial(dial, name))


@solara.component
def Dial(knob: Knob, value: float, on_value: Callable[[float], None]) -> None:
    """One dial: a checkbox for a setting that is on or off (a step of 1), else a slider over its scale."""
    if knob.step == 1.0:
        solara.Checkbox(label=knob.label, value=value >= 0.5, on_value=on_value)
        return
    solara.Text(f"{knob.label}: {value:.2f}", classes=["bamboo-note"])
    solara.SliderFloat(knob.label, value=value, min=knob.low, max=knob.high, step=knob.step, on_value=on_value,
                       thumb_label=False)  # fmt: skip


@solara.component
def Main(model: solara.Reactive[ClassroomModel], tick: int, present: bool, view: solara.Reactive[str]) -> None:
    """The class's world: its verdict so far and its possible worlds', its chart and events, and a second view."""
    m = model.value
    font = PRESENT if present else FONT
    # the fan is computed in the background (shared across pages by sim.classroom.lesson): the page answers at once,
    # and shows the last fan until the new one is ready
    computed = solara.use_thread(lambda: fan_view(m), [m, len(m.live_events)], intrusive_cancel=False)
    fan = computed.value
    with m.lock:
        text, kind = verdict_line(m)
        world = world_chart(m, font)
    height = VIEW_HEIGHT
    with solara.Row(style={"align-items": "center", "gap": "8px"}):
        getattr(solara, kind.capitalize())(text, dense=True, text=True, classes=["bamboo-verdict"],
                                           style={"margin": "0", "flex": "1 1 auto"})  # fmt: skip
        solara.Text(fan_line(m, fan), classes=["bamboo-note"])
    chart(world, height)
    EventList(m, tick)
    solara.ToggleButtonsSingle(value=view, values=list(VIEWS), dense=True)
    second = VIEW_HEIGHT
    with m.lock:
        option = second_chart(m, view.value, fan, font)
    if view.value == "Why Vietnam moved":
        WhyVietnamMoved(m, tick, font)
    elif view.value == "Possible worlds" and fan is None:
        solara.Info("Computing 300 possible worlds…", text=True)
    elif option is None:
        solara.Info("Choose who plays Vietnam in the lesson (you, or another strategy) to compare it with the model's "
                    "own Vietnam.", text=True)  # fmt: skip
    else:
        chart(option, second)


def fan_line(m: ClassroomModel, fan: FanView | None) -> str:
    """How multi-alignment fares across the possible worlds, in a line: the last fan until this world's is ready."""
    if fan is None:
        return "Computing 300 possible worlds…"
    summary = fan.summary
    modes = ", ".join(f"{k.replace('_', ' ')} {v:.0%}" for k, v in summary.modes.items() if v > 0)
    shares = f" ({modes})" if modes else ""
    busy = " (updating…)" if fan.key != fan_key(m) else ""
    return f"Across {summary.runs} possible worlds, multi-alignment survives in {summary.survival:.0%}{shares}{busy}"


def second_chart(m: ClassroomModel, view: str, fan: FanView | None, font: int) -> dict[str, Any] | None:
    """The chart of the second view, or None where it has none (its fan not ready, or nothing to compare)."""
    if view == "Possible worlds":
        return None if fan is None else fan_chart(m, fan.summary.q, fan.summary.runs, font)
    if view == "Security":
        return security_chart(m, font)
    if view == "Compare" and m.playing != "hedge":
        return comparison(m, font)
    return None


def comparison(m: ClassroomModel, font: int) -> dict[str, Any]:
    """The comparison chart: the world's Vietnam beside the model's own, with each one's outcome."""
    twin = m.own_vietnam()
    c = m.compare()
    return comparison_chart(m, c, outcome(m), outcome(twin), font)


@solara.component
def EventList(m: ClassroomModel, tick: int) -> None:
    """The events on the world's chart, numbered, in plain words; those injected live in their own colour."""
    marks = event_marks(m)
    if not marks:
        return
    with solara.Div(classes=["bamboo-events"]):
        for n, at, names, live in marks:
            colour = LIVE if live else "#333"
            solara.Text(
                f"{n}  {at}  {names}{'  (live)' if live else ''}", style={"color": colour, "margin-right": "14px"}
            )


@solara.component
def WhyVietnamMoved(m: ClassroomModel, tick: int, font: int) -> None:
    """Why Vietnam made each move of the last quarter: each driver's pull, charted, and a sentence per tie."""
    if not m.decisions:
        solara.Info("Step the world: this view tells why Vietnam made each move of the last quarter.", text=True)
        return
    with m.lock:
        decision = m.decisions[-1]
        reasons = explain(decision)
        when = m.calendar.date(decision.step)
    solara.Text(f"At {when}. Points: how much each driver pulled on the move; habit counts for keeping a tie.",
                classes=["bamboo-note"])  # fmt: skip
    with solara.Row(style={"align-items": "flex-start"}):
        chart(explain_chart(reasons, font), VIEW_HEIGHT, "55%")
        with solara.Column(style={"width": "45%"}, gap="6px"):
            for r in reasons.values():
                solara.Text(r.sentence(student=m.student), classes=["bamboo-note", "bamboo-why"])


@solara.component
def LiveEvents(model: solara.Reactive[ClassroomModel], tick: solara.Reactive[int]) -> None:
    """Inject any catalogue event at the date on the button: its actor and target follow the event chosen."""
    label, set_label = solara.use_state(event_label("maritime_incident", None))
    kind = EVENTS[label]
    cls = EVENT_TYPES[kind]
    pairs = roles.pairs(kind)
    actors = [p for p in POWERS if any(a == p for a, _ in pairs)]
    chosen, set_actor = solara.use_state(cls.default_actor)
    target, set_target = solara.use_state(cls.default_target)
    magnitude, set_magnitude = solara.use_state(0.8)
    quarters, set_quarters = solara.use_state(0)
    path, set_path = solara.use_state("powers.CN.threat.territory")
    shift, set_shift = solara.use_state(0.2)
    no_refusal: str | None = None
    refused, set_refused = solara.use_state(no_refusal)
    usual = cls.default_actor if cls.default_actor in actors else actors[0]
    actor = chosen if chosen in actors else usual
    targets = [t for t in ("VN", *POWERS) if (actor, t) in pairs]
    target = target if target in targets else cls.default_target if cls.default_target in targets else targets[0]

    def pick(new_label: str) -> None:
        new = EVENT_TYPES[EVENTS[new_label]]
        set_label(new_label)
        set_actor(new.default_actor)  # each event starts from its own actor and target
        set_target(new.default_target)
        set_refused(None)

    def inject(shown: int) -> None:  # the quarter the button showed when it was clicked
        extra: Fields = {"path": path, "value": shift} if kind == "shock" else {}
        try:
            world = model.value.inject_at(shown, kind, quarters or None, actor=actor, target=target,
                                          magnitude=magnitude, **extra)  # fmt: skip
        except ValueError as exc:  # e.g. a shock on an initial value
            set_refused(str(exc))
            return
        set_refused(None)
        if world is not model.value:
            model.set(world)
        tick.set(tick.value + 1)

    with solara.Card("Live event", margin=0, style={"padding": "6px"}):
        solara.Select("Event", values=list(EVENTS), value=label, on_value=pick, dense=True)
        InjectAt(model, tick, inject)  # right under the event: the settings below change height, the button never moves
        if refused:
            solara.Error(refused, dense=True, text=True)
        solara.Text(cls.effect, classes=["bamboo-note"])
        by = {power_name(p): p for p in actors}
        on = {power_name(t): t for t in targets}
        if len(actors) > 1:
            solara.Select(
                "By", values=list(by), value=power_name(actor), on_value=lambda n: set_actor(by[n]), dense=True
            )
        else:
            solara.Text(f"By {power_name(actor)}", classes=["bamboo-note"])
        if len(targets) > 1:
            solara.Select(
                "On", values=list(on), value=power_name(target), on_value=lambda n: set_target(on[n]), dense=True
            )
        if kind == "shock":
            named = {parameter_label(p): p for p in sorted(load_parameters().entries)}
            solara.Select("Parameter", values=list(named), value=parameter_label(path),
                          on_value=lambda n: set_path(named[n]))  # fmt: skip
            solara.SliderFloat("Shift", value=shift, min=-1.0, max=1.0, step=0.05, on_value=set_shift)
        solara.Text(f"Strength: {magnitude:.2f}", classes=["bamboo-note"])
        solara.SliderFloat("Strength", value=magnitude, min=0.0, max=1.0, step=0.05, on_value=set_magnitude)
        lasts = "as long as this event usually lasts" if not quarters else f"{quarters} quarters"
        solara.Text(f"Lasts: {lasts}", classes=["bamboo-note"])
        solara.SliderInt("Lasts (quarters)", value=quarters, min=0, max=12, on_value=set_quarters)


@solara.component
def InjectAt(model: solara.Reactive[ClassroomModel], tick: solara.Reactive[int], inject: Callable[[int], None]) -> None:
    """The inject button alone, redrawn at every step with the world's date (the rest of the card is not)."""
    m = model.value
    tick.value  # noqa: B018 -- read, so that every step redraws the date on the button
    InjectButton.element(step=m.steps, date=str(m.date), disabled=not m.running, on_inject=inject)


@solara.component
def HanoiDesk(model: solara.Reactive[ClassroomModel], tick: solara.Reactive[int]) -> None:
    """The student's moves for the next quarter, one per partner."""
    m = model.value
    tick.value  # noqa: B018 -- read, so that every step redraws the desk
    with solara.Card("Your moves", margin=0, style={"padding": "6px"}):
        solara.Text(f"for the quarter after {m.date}", classes=["bamboo-note"], style={"display": "block"})
        for power in POWERS:

            def choose(move: str, power: str = power) -> None:
                model.value.moves[power] = MOVE_NAMES.index(move) - 1

            solara.Text(power_name(power), classes=["bamboo-note"], style={"display": "block", "margin-top": "4px"})
            solara.ToggleButtonsSingle(MOVE_NAMES[m.moves[power] + 1], list(MOVE_NAMES), on_value=choose, dense=True,
                                       classes=["bamboo-moves"])  # fmt: skip


gate.dispatch_only()  # ipyvue's handler imports and calls nothing a page names (sim.classroom.gate)
solara.lab.on_kernel_start(gate.install)  # and only the page's own messages reach its kernel, from the first page on
solara.lab.on_kernel_start(lambda: TRIMMER.session_closed)  # called with each new session; its result at its close
solara.lab.on_kernel_start(FANS.page_opened)  # the fan workers stay while any page is open
