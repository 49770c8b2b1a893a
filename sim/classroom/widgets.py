"""The dashboard's own widgets: the chart drawn by the browser, the inject button, the scenario file button."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from typing import Any

import ipyvuetify
import solara
import traitlets
from solara.components.file_drop import FileDropZone, FileInfo

from sim.classroom.charts import (
    text_alternative,
)
from sim.classroom.lesson import (
    Lesson,
)
from sim.model.limits import MAX_FILE_BYTES
from sim.runs.scenario import ScenarioError


def receive(lesson: Lesson, file: FileInfo) -> str | None:
    """Give an uploaded file (Solara's FileInfo) to the lesson; the refusal to show, or None.

    Whatever goes wrong while the browser sends the file (it stops, it sends
    other bytes than it announced) is a refusal the student reads, not an
    error in the server's log.
    """
    size = file["size"]
    small = isinstance(size, int) and 0 <= size <= MAX_FILE_BYTES  # a larger file is refused before it is sent
    try:
        data = file["file_obj"].read(MAX_FILE_BYTES + 1) if small else b""
    except Exception:  # the browser's side of the transfer: any failure of it is the student's message
        return "the browser did not send the file as it announced it; open it again"
    try:
        lesson.upload(file["name"], data, size=size if small else MAX_FILE_BYTES + 1)
    except ScenarioError as exc:
        return str(exc)
    return None


class InjectButton(ipyvuetify.VuetifyTemplate):
    """The inject button: a click sends back the quarter the button showed, so the event fires at that date.

    While the world plays, the server may have stepped on before the click
    arrives; the browser's own copy of ``step`` is what the teacher saw.
    """

    template = traitlets.Unicode(
        '<template><v-btn color="warning" block :disabled="disabled" @click="inject(step)">'
        "Inject at {{ date }}</v-btn></template><script>module.exports = {};</script>"
    ).tag(sync=True)
    step = traitlets.Int(0).tag(sync=True)
    date = traitlets.Unicode("").tag(sync=True)
    disabled = traitlets.Bool(False).tag(sync=True)
    on_inject = traitlets.Callable(None, allow_none=True)

    def vue_inject(self, step: int) -> None:
        """The browser's click, with the quarter the button showed."""
        if self.on_inject is not None:
            self.on_inject(int(step))


class Chart(ipyvuetify.VuetifyTemplate):
    """An ECharts chart, drawn by the browser from its option, sent as one JSON text.

    Solara's FigureEcharts takes the option as nested data, which the page's
    renderer walks value by value on every redraw; as text it is one value,
    and the browser parses it. ECharts itself comes from Solara's assets.
    """

    template_file = (__file__, "chart.vue")
    option_json = traitlets.Unicode("{}").tag(sync=True)
    attributes = traitlets.Dict(default_value=None, allow_none=True).tag(sync=True)
    cdn = traitlets.Unicode(None, allow_none=True).tag(sync=True)


def chart(option: dict[str, Any], height: str, width: str = "100%") -> solara.Element:
    """A chart of ECharts ``option`` (a JSON object), at the CSS ``height`` and ``width`` given.

    A screen reader reads it as a picture whose text says what the chart
    shows (``sim.classroom.charts.text_alternative``).
    """
    attributes = {"style": f"height: {height}; width: {width}", "role": "img", "aria-label": text_alternative(option)}
    return Chart.element(option_json=json.dumps(option), attributes=attributes)


class PageLanguage(ipyvuetify.VuetifyTemplate):
    """Tells the browser, and so screen readers and translators, that the page is in English."""

    template = traitlets.Unicode(
        '<template><span style="display: none"></span></template>'
        '<script>module.exports = { mounted() { document.documentElement.lang = "en"; } };</script>'
    ).tag(sync=True)


class ScenarioFile(FileDropZone):
    """A button that opens the browser's file dialog, and takes a file dropped on it too.

    The server reads a file by asking the browser for it chunk by chunk; a
    chunk is taken only if it is the next part of the file being read, of
    the length it says, within the size the browser announced and the file
    limit. Anything else a page sends (chunks never asked for, more bytes
    than announced) is dropped, so that a page cannot fill the server's
    memory through the button.
    """

    template_file = (__file__, "scenario_file.vue")
    multiple = traitlets.Bool(False).tag(sync=True)

    def vue_upload(self, content: dict[str, Any], buffers: list[bytes]) -> None:
        """A chunk of the file being read: kept if it is the one expected, dropped otherwise."""
        listener = self.chunk_listeners.get(content.get("id")) if isinstance(content, dict) else None
        if listener is None or listener.version != self.version or len(buffers) != 1:
            return
        chunk = buffers[0]
        queued = sum(c["length"] for c in listener.chunk_queue)
        expected = (
            content.get("offset") == listener.offset + queued
            and content.get("length") == len(chunk)
            and listener.offset + queued + len(chunk) <= min(listener.size, MAX_FILE_BYTES + 1)
        )
        if expected:
            listener.handle_chunk(dict(content), chunk)


@solara.component
def OpenScenario(on_file: Callable[[FileInfo, ScenarioFile], None]) -> solara.Element:
    """The upload button: a click opens a file dialog; each file chosen is read and given to ``on_file``, once."""
    widget = ScenarioFile.element(label="Open a scenario file (YAML)…", on_file_info=lambda info: None)

    def wire() -> Callable[[], None]:
        real: ScenarioFile = solara.get_widget(widget)

        def changed(change: dict[str, object]) -> None:
            if not change["new"]:
                return
            real.version += 1
            real.reset_stats()
            files = real.get_files()
            if len(files) == 1:  # the gate lets a drop announce one file only
                threading.Thread(target=on_file, args=(files[0], real), daemon=True).start()  # reading waits

        real.observe(changed, "file_info")
        return lambda: real.unobserve(changed, "file_info")

    solara.use_effect(wire, [])
    return widget
