"""The dashboard's charts as ECharts options: plain data the browser draws.

The server only sends numbers and labels (a few kB per chart); the student's
browser lays out and draws them with ECharts, which Solara serves from its
own assets, so nothing is fetched from the internet. Text is at least
``FONT`` px, larger in presentation mode; the x axis is the calendar.
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
from matplotlib.figure import Figure

from sim.classroom.lesson import ClassroomModel, Comparison, Outcome, outcome
from sim.classroom.possible_worlds import FANS, FanSummary, compute_fan
from sim.classroom.shared_world import SharedWorld
from sim.model.agents import KEEP
from sim.model.domain import DIMENSIONS, POWERS, TIERS
from sim.model.outcomes import Failure
from sim.outputs.explain import DOING, DONE, DRIVERS, Reason
from sim.outputs.plots import COLOURS, DIM_COLOURS, HEDGING_COLOUR, NAMES, QS

if TYPE_CHECKING:
    from numpy.typing import ArrayLike

FONT = 14  # px: the smallest text on any chart, readable from the back of a classroom
PRESENT = 18  # px: the same in presentation mode
LIVE = "#d35400"  # events injected during the run
SCRIPTED = "#566573"
FAILED = "#b03a2e"
TIER_NAMES = {
    "none": "no partnership",
    "comprehensive": "comprehensive",
    "strategic": "strategic",
    "comprehensive_strategic": "comprehensive strategic",
    "alliance": "alliance (ruled out)",
}


def power_name(code: str) -> str:
    """A country's name for a code in the events: "US" is "United States", "VN" "Vietnam"; others as given."""
    return NAMES.get(code, "Vietnam" if code == "VN" else code)


def parameter_label(path: str) -> str:
    """A parameter's dotted path in words: ``powers.CN.threat.territory`` is "China: threat, territory"."""
    parts = [power_name(p).replace("_", " ") for p in path.split(".")]
    who = {"powers": None, "hedger": "Vietnam"}.get(parts[0], parts[0])
    rest = parts[1:] if who is not None else parts[2:]
    owner = who if who is not None else parts[1]
    return f"{owner}: {', '.join(rest)}" if rest else owner


def event_label(kind: str, actor: str | None, target: str | None = None) -> str:
    """An event in plain words: "Maritime incident (China)", "Sanctions (United States on Russia)"."""
    if kind == "rapprochement":
        return "Russia–China rapprochement"
    if kind == "shock":
        return "A shock to one parameter"
    if kind == "competition" and actor and target:  # two powers contest, neither acts "on" the other
        return f"Competition between {power_name(actor)} and {power_name(target)}"
    who = power_name(actor) if actor else ""
    if target and target != "VN":
        who = f"{who} on {power_name(target)}"
    title = kind.replace("_", " ").capitalize()
    return f"{title} ({who})" if who else title


def _round(values: ArrayLike) -> list[float]:
    return [round(float(v), 4) for v in np.asarray(values)]


def _base(title: str, dates: list[str], font: int, ylabel: str, ylim: tuple[float, float] = (0, 1)) -> dict:
    """A line chart's option over the calendar, without its series: title, axes, legend and tooltip."""
    return {
        "animation": False,
        "textStyle": {"fontSize": font},
        "title": {"text": title, "left": 8, "top": 2, "textStyle": {"fontSize": font + 1, "fontWeight": "bold"}},
        # the legend beside the title and the tiers' names on the right: the plot keeps the height, down to 1280x600
        "grid": {"left": 4 * font, "right": 13 * font, "top": 2.8 * font, "bottom": 2.2 * font},
        "legend": {"top": 0, "right": 8, "textStyle": {"fontSize": font}, "itemWidth": 22},
        "tooltip": {"trigger": "axis", "textStyle": {"fontSize": font}},
        "xAxis": {
            "type": "category",
            "data": dates,
            "boundaryGap": False,
            "axisLabel": {"fontSize": font, "hideOverlap": True},
        },
        "yAxis": {
            "type": "value",
            "min": ylim[0],
            "max": ylim[1],
            "name": ylabel,
            "nameLocation": "middle",
            "nameGap": 40,
            "nameTextStyle": {"fontSize": font},
            "axisLabel": {"fontSize": font},
            "splitLine": {"show": False},
        },
        "series": [],
    }


def event_marks(model: ClassroomModel) -> list[tuple[int, str, str, bool]]:
    """The events on the chart: (number, date, plain names, live?), one per date and kind of event."""
    marks: dict[tuple[str, bool], list[str]] = {}
    scripted = model.scripted
    last = str(model.calendar.date(model.horizon))
    for i, event in enumerate(model.events):
        at = str(event.at)
        if at > last:
            continue
        names = marks.setdefault((at, i >= scripted), [])
        label = event_label(event.name, event.actor, event.target)
        if label not in names:
            names.append(label)
    ordered = sorted(marks.items())
    return [(n + 1, at, "; ".join(names), live) for n, ((at, live), names) in enumerate(ordered)]


def _marker_series(model: ClassroomModel, font: int, failures: Sequence[tuple[Outcome, str]] = ()) -> dict:
    """An empty series that carries the tier bands, the numbered event lines and the failure dates."""
    s = model.world.scalars
    edges = [0.0] + [float(s[t][0]) for t in TIERS[1:]] + [1.0]
    areas = [
        [
            {
                "yAxis": edges[i],
                "name": TIER_NAMES[name],
                "itemStyle": {"color": "rgba(128,128,128,0.05)" if i % 2 else "rgba(128,128,128,0.12)"},
            },
            {"yAxis": edges[i + 1]},
        ]
        for i, name in enumerate(TIERS)
    ]
    lines: list[dict] = [
        {
            "xAxis": at,
            "lineStyle": {"color": LIVE if live else SCRIPTED, "type": "solid" if live else "dashed", "width": 2},
            "label": {"formatter": str(n), "color": LIVE if live else SCRIPTED, "fontSize": font, "fontWeight": "bold"},
        }
        for n, at, _, live in event_marks(model)
    ]
    for result, label in failures:
        if result.failure != Failure.NONE:
            lines.append(
                {
                    "xAxis": str(result.date),
                    "lineStyle": {"color": FAILED, "type": "solid", "width": 3},
                    "label": {"formatter": label, "color": FAILED, "fontSize": font, "position": "insideEndTop"},
                }
            )
    lines.append(
        {"yAxis": edges[-2], "lineStyle": {"color": "#333", "type": "dashed", "width": 1}, "label": {"show": False}}
    )
    return {
        "type": "line",
        "name": "marks",
        "data": [],
        "silent": True,
        "markArea": {"silent": True, "label": {"position": "right", "fontSize": font, "color": "#555"}, "data": areas},
        "markLine": {"silent": True, "symbol": "none", "data": lines},
    }


def _dates(model: ClassroomModel) -> list[str]:
    return [str(model.calendar.date(t)) for t in range(model.horizon + 1)]


def _line(
    name: str, values: ArrayLike, colour: str, width: float = 3, dashed: bool = False, legend: bool = True
) -> dict:
    data: list = _round(values)
    if data and not dashed:  # a dot on the latest quarter: the world's "now", visible from its first quarter
        data[-1] = {"value": data[-1], "symbol": "circle", "symbolSize": 9}
    return {
        "type": "line",
        "name": name,
        "data": data,
        "symbol": "none",
        "lineStyle": {"color": colour, "width": width, "type": "dashed" if dashed else "solid"},
        "itemStyle": {"color": colour},
        **({} if legend else {"legendHoverLink": False}),
    }


def world_chart(model: ClassroomModel, font: int = FONT) -> dict:
    """The class's world: Vietnam's alignment with each power so far, tier bands, events, the failure date."""
    a = model.trajectories()["alignment"][:, 0]
    option = _base(f"{model.what_if.name}: this class's world", _dates(model), font, "Vietnam's alignment")
    option["series"] = [_line(NAMES[p], a[:, i], COLOURS[p]) for i, p in enumerate(POWERS)]
    option["series"].append(_marker_series(model, font, [(outcome(model), "failure")]))
    option["legend"]["data"] = [NAMES[p] for p in POWERS]
    return option


def _bands(q: np.ndarray, i: int) -> list[dict]:
    """The 90% and 50% bands of power ``i`` over a fan's percentiles ``q``: a hidden low edge and a stacked band."""
    p = POWERS[i]
    series = []
    inner = (QS.index(25), QS.index(75))
    for (below, above), alpha in (((QS.index(5), QS.index(95)), 0.15), (inner, 0.3)):
        stack = f"{p}{below}"
        hidden = {"showSymbol": False, "lineStyle": {"opacity": 0}, "silent": True, "tooltip": {"show": False}}
        series.append({"type": "line", "name": f"{p} low", "stack": stack, "data": _round(q[:, i, below]), **hidden})
        band = _round(q[:, i, above] - q[:, i, below])
        area = {"areaStyle": {"color": COLOURS[p], "opacity": alpha}}
        series.append({"type": "line", "name": f"{p} band", "stack": stack, "data": band, **hidden, **area})
    return series


def fan_chart(model: ClassroomModel, q: np.ndarray, runs: int, font: int = FONT) -> dict:
    """Median, 50% and 90% bands over the fan's runs (``q``: percentiles QS per step and power), the class dashed."""
    option = _base(f"{runs} possible worlds; dashed: this class's", _dates(model), font, "alignment")
    series = []
    for i, p in enumerate(POWERS):
        series += _bands(q, i)
        series.append(_line(NAMES[p], q[:, i, QS.index(50)], COLOURS[p], width=2.5))
    a = model.trajectories()["alignment"][:, 0]
    series += [_line(f"{NAMES[p]} (this class)", a[:, i], COLOURS[p], 2, True) for i, p in enumerate(POWERS)]
    series.append(_marker_series(model, font))
    option["series"] = series
    option["legend"]["data"] = [NAMES[p] for p in POWERS]
    return option


def security_chart(model: ClassroomModel, font: int = FONT) -> dict:
    """Hedging index (1 = even engagement) and security satisfaction per demand, with the isolation line."""
    t = model.trajectories()
    option = _base("Hedging and security satisfaction", _dates(model), font, "share", (0, 1))
    option["series"] = [_line("hedging (1 = even)", t["hedging_index"][:, 0], HEDGING_COLOUR)]
    for d, dim in enumerate(DIMENSIONS):
        option["series"].append(_line(f"{dim} security", t["satisfaction"][:, 0, d], DIM_COLOURS[dim], 2))
    marks = _marker_series(model, font)
    marks["markArea"]["data"] = []
    isolation = float(model.world.scalars["isolation"][0])
    marks["markLine"]["data"][-1] = {
        "yAxis": isolation,
        "lineStyle": {"color": "#333", "type": "dotted", "width": 1.5},
        "label": {"formatter": "isolation line", "fontSize": font, "position": "end"},
    }
    option["series"].append(marks)
    option["legend"]["data"] = [s["name"] for s in option["series"][:-1]]  # the lines, not the marks
    return option


def considered(reason: Reason) -> int:
    """The move a tie's panel shows: the move made, or for a tie kept, the best move passed up."""
    if reason.chosen != KEEP:
        return reason.chosen
    others = [j for j in (0, 2) if reason.feasible[j]]
    return max(others, key=lambda j: reason.gain[j]) if others else KEEP


def explain_chart(reasons: dict[str, Reason], font: int = FONT) -> dict:
    """Each driver's pull, in points, on each tie's move (or the move passed up); one scale for all three ties."""
    rows = [*DRIVERS, "habit of keeping"]
    series = []
    for power, r in reasons.items():
        k = considered(r)
        pull = r.points(k) if k != KEEP else dict.fromkeys(DRIVERS, 0.0)
        values = [pull[d] for d in DRIVERS] + [-r.inertia / r.scale if k != KEEP else 0.0]
        what = DONE[k] if k == r.chosen else f"kept ({DOING[k]} passed up)"
        series.append({
            "type": "bar", "name": f"{NAMES[power]}: {what}", "data": [round(v, 2) for v in values],
            "itemStyle": {"color": COLOURS[power]}, "barGap": "10%",
        })  # fmt: skip
    return {
        "animation": False,
        "textStyle": {"fontSize": font},
        "title": {
            "text": "Why Vietnam moved: each driver's pull, in points",
            "left": 8,
            "top": 2,
            "textStyle": {"fontSize": font + 1, "fontWeight": "bold"},
        },
        "grid": {"left": 170, "right": 24, "top": 40, "bottom": 62},
        "legend": {"bottom": 0, "left": 8, "textStyle": {"fontSize": font}},
        "tooltip": {"trigger": "axis", "axisPointer": {"type": "shadow"}, "textStyle": {"fontSize": font}},
        "xAxis": {
            "type": "value",
            "axisLabel": {"fontSize": font},
            "name": "points",
            "nameTextStyle": {"fontSize": font},
        },
        "yAxis": {"type": "category", "data": rows, "inverse": True, "axisLabel": {"fontSize": font}},
        "series": series,
    }


def comparison_chart(model: ClassroomModel, c: Comparison, mine: Outcome, own: Outcome, font: int = FONT) -> dict:
    """The student's (or strategy's) Vietnam, solid, beside the model's own, dashed; each failure date marked."""
    who = "Your Vietnam" if model.student else f"Vietnam playing {model.playing}"
    option = _base(f"{who} (solid) and the model's own (dashed)", _dates(model), font, "Vietnam's alignment")
    series = []
    for i, p in enumerate(POWERS):
        series.append(_line(NAMES[p], c.student["alignment"][:, 0, i], COLOURS[p]))
        series.append(_line(f"{NAMES[p]} (model's own)", c.model["alignment"][:, 0, i], COLOURS[p], 2, True))
    series.append(_marker_series(model, font, [(mine, "yours fails"), (own, "model's fails")]))
    option["series"] = series
    option["legend"]["data"] = [NAMES[p] for p in POWERS]
    return option


def text_alternative(option: dict) -> str:
    """What a chart shows, in a sentence a screen reader can say: its title and each line's latest value.

    A band's edges and the marks of events and tiers are left out; a line
    is named with the value it ends on (``None`` where it has no data yet).
    """
    title = option.get("title", {}).get("text", "A chart")
    said = []
    for series in option.get("series", []):
        name, data = series.get("name"), series.get("data")
        if not name or not data or series.get("stack") or name == "marks":
            continue
        values = [v.get("value") if isinstance(v, dict) else v for v in data if v is not None]
        last = values[-1] if values else None
        said.append(f"{name} {last:.2f}" if isinstance(last, int | float) else str(name))
    return f"{title}: {'; '.join(said)}." if said else f"{title}."


REPLAY = "replay"  # the id of the debrief chart's series that marks the quarter the replay shows


def debrief_chart(model: ClassroomModel, debrief: Mapping[str, Any], fan: FanSummary | None, font: int = FONT) -> dict:
    """The debrief's chart: the class's ties over the quarters against the model's own Vietnam and the fan.

    The class's ties are solid, the model's own Vietnam (same seed and live
    events) dashed (its failure date too, if it fails), each world without a live event dotted, over the fan of
    possible worlds (50% and 90% bands), to the scenario's horizon.
    ``model`` is the class's world, ``debrief`` its ``SharedWorld.debrief()``, ``fan`` the fan of its world (None:
    no bands). The series with id ``REPLAY`` marks the quarter shown (the last played): the page moves it.
    """
    dates = _dates(model)
    ties = debrief["ties"]
    runs = f", {fan.runs} possible worlds" if fan is not None else ""
    title = f"This class (solid), model's own (dashed){runs}"
    option = _base(title, dates, font, "Vietnam's alignment")
    option["legend"] |= {"top": 1.6 * font, "left": 8}  # under the title: the title is long
    del option["legend"]["right"]
    option["grid"]["top"] = 4.4 * font
    series: list[dict] = []
    for i, p in enumerate(POWERS):
        if fan is not None:
            series += _bands(fan.q, i)
        series.append(_line(NAMES[p], [row[i] for row in ties["class"]], COLOURS[p]))
        series.append(_line(f"{NAMES[p]} (model's own)", [row[i] for row in ties["model"]], COLOURS[p], 2, True))
        for n, event in enumerate(debrief["events"], start=1):
            without = _line(f"{NAMES[p]} (without event {n})", [row[i] for row in event["ties"]], COLOURS[p], 1.5)
            without["lineStyle"]["type"] = "dotted"
            without["data"] = [v["value"] if isinstance(v, dict) else v for v in without["data"]]
            series.append(without)
    marks = _marker_series(model, font, [(outcome(model), "class fails")])
    fails = debrief["model"]["failure_date"]
    if fails is not None:  # the model's own Vietnam failed: its date, dashed as its line
        marks["markLine"]["data"].append({
            "xAxis": fails, "lineStyle": {"color": FAILED, "type": "dashed", "width": 2},
            "label": {"formatter": "model's fails", "color": FAILED, "fontSize": font, "position": "insideEndBottom"},
        })  # fmt: skip
    series.append(marks)
    now = dates[len(ties["class"]) - 1]
    series.append({
        "type": "line", "id": REPLAY, "name": REPLAY, "data": [], "silent": True,
        "markLine": {"silent": True, "symbol": "none", "data": [{
            "xAxis": now, "lineStyle": {"color": "#000", "type": "solid", "width": 2},
            "label": {"formatter": "shown", "fontSize": font, "position": "insideStartTop"}}]},
    })  # fmt: skip
    option["series"] = series
    option["legend"]["data"] = [NAMES[p] for p in POWERS]
    return option


ROLE_COLOURS = {"Hanoi": "#1b1b1b", "Washington": COLOURS["US"], "Beijing": COLOURS["CN"], "Moscow": COLOURS["RU"]}
SCORE_NAMES = {"Hanoi": "Hanoi's security", "Washington": "Washington's tie", "Beijing": "Beijing's tie",
               "Moscow": "Moscow's tie"}  # fmt: skip


def score_chart(debrief: Mapping[str, Any], font: int = FONT) -> dict:
    """Each role's score after each quarter played: the class's (solid) beside the model's in the same chair (dashed).

    Hanoi's score is its security, a great power's its mean tie with Vietnam
    (``shared_world.score``), as they stood after each quarter
    (``SharedWorld.debrief``'s ``scores``); a role the class did not play is
    the model's, so its two lines are one.
    """
    option = _base("Each role's score: the class (solid), the model in its chair (dashed)", list(debrief["dates"]),
                   font, "score")  # fmt: skip
    option["grid"] |= {"right": 2 * font, "top": 4.4 * font}
    option["legend"] |= {"top": 1.6 * font, "left": 8}
    del option["legend"]["right"]
    series = []
    for role, history in debrief["scores"].items():
        colour = ROLE_COLOURS[role]
        series.append(_line(SCORE_NAMES[role], history["class"], colour))
        series.append(_line(f"{SCORE_NAMES[role]}, the model in the chair", history["model"], colour, 2, True))
    option["series"] = series
    option["legend"]["data"] = [SCORE_NAMES[role] for role in debrief["scores"]]
    return option


def chart_png(option: Mapping[str, Any], width: float = 12.8, height: float = 6.4, dpi: int = 100) -> bytes:
    """An ECharts line chart's option (``debrief_chart``'s) drawn as a PNG with matplotlib, for a file.

    Its lines (solid, dashed, dotted), its stacked bands, its title, and its
    tier bands and vertical marks; the colours and names are the option's.
    """
    dates = list(option["xAxis"]["data"])
    x = np.arange(len(dates))
    fig = Figure(figsize=(width, height), dpi=dpi)
    ax = fig.add_subplot()
    lows: dict[str, list[float]] = {}
    for s in option["series"]:
        data = [v["value"] if isinstance(v, dict) else v for v in s.get("data", [])]
        if "stack" in s and "areaStyle" not in s:
            lows[s["stack"]] = data
        elif "stack" in s:
            low = np.asarray(lows[s["stack"]], dtype=float)
            ax.fill_between(x[: len(data)], low, low + np.asarray(data, dtype=float), linewidth=0,
                            color=s["areaStyle"]["color"], alpha=s["areaStyle"]["opacity"])  # fmt: skip
        elif data:
            style = s["lineStyle"]
            dash = {"solid": "-", "dashed": "--", "dotted": ":"}[style.get("type", "solid")]
            label = s["name"] if s["name"] in option["legend"]["data"] else None
            ax.plot(x[: len(data)], data, dash, color=style["color"], linewidth=style["width"], label=label)
        for k, area in enumerate(s.get("markArea", {}).get("data", [])):
            low, high = area[0]["yAxis"], area[1]["yAxis"]
            ax.axhspan(low, high, color="grey", alpha=0.04 if k % 2 else 0.12, linewidth=0)
            ax.text(len(dates) - 1.5, (low + high) / 2, area[0].get("name", ""), ha="right", va="center",
                    fontsize=9, color="#555")  # fmt: skip
        for mark in s.get("markLine", {}).get("data", []):
            style = mark.get("lineStyle", {})
            dash = {"solid": "-", "dashed": "--", "dotted": ":"}[style.get("type", "solid")]
            colour, width_ = style.get("color", "#333"), style.get("width", 1) * 0.75
            if "xAxis" in mark and mark["xAxis"] in dates:
                ax.axvline(dates.index(mark["xAxis"]), linestyle=dash, color=colour, linewidth=width_)
            elif "yAxis" in mark:
                ax.axhline(mark["yAxis"], linestyle=dash, color=colour, linewidth=width_)
    ax.set_xlim(0, max(len(dates) - 1, 1))
    ax.set_ylim(option["yAxis"]["min"], option["yAxis"]["max"])
    ax.set_ylabel(option["yAxis"].get("name", ""))
    ticks = x[:: max(1, len(dates) // 10)]
    ax.set_xticks(ticks, [dates[t] for t in ticks])
    ax.set_title(option["title"]["text"], fontsize=11, loc="left")
    ax.legend(loc="upper left", fontsize=9)
    fig.tight_layout()
    out = io.BytesIO()
    fig.savefig(out, format="png", metadata={"Software": None})
    return out.getvalue()


def class_debrief_chart(shared: SharedWorld, font: int = FONT, debrief: Mapping[str, Any] | None = None) -> dict:
    """``debrief_chart`` of a class: its debrief (default: as it stands now), and the fan of its world (cached).

    The fan is worked out outside the class's lock (it takes seconds the first time), the rest under it.
    """
    with shared.lock:
        key, args = shared.world.fan_recipe()
    fan = FanSummary.of(FANS.get(key, lambda: compute_fan(*args)))
    with shared.lock:
        return debrief_chart(shared.world, shared.debrief() if debrief is None else debrief, fan, font)
