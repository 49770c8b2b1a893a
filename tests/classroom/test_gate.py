"""The gate between a page's websocket and its kernel (sim.classroom.gate): the page's own messages pass, nothing else.

Each message below is one a browser sends; the hostile ones are those of the
review of the class network (docs/safety.md): an ipyvue ``create_widget`` that
imports a module and calls a function of the client's choosing, an
``update_ref`` that sets any attribute, an event name with a newline, a
channel of another kind, values outside their control. The end-to-end replay
over a real websocket is in tests/classroom/test_browser.py.
"""

import logging
from types import SimpleNamespace

import ipyvuetify as v
import pytest

from sim.classroom import gate
from sim.classroom.app import InjectButton
from sim.classroom.gate import Refused, admit

CONTROL = "control-1"


class Kernel:
    """A page's kernel as the gate sees it: the channels the page has."""

    def __init__(self, widgets):
        comms = {wid: SimpleNamespace(target_name="jupyter.widget") for wid in widgets}
        comms[CONTROL] = SimpleNamespace(target_name="solara.control")
        self.comm_manager = SimpleNamespace(comms=comms)


@pytest.fixture
def page():
    widgets = {
        "menu": v.Select(items=["Status quo", "Perfect storm"], v_model="Status quo"),
        "slider": v.Slider(min=0, max=1, step=0.05, v_model=0.5),
        "toggle": v.BtnToggle(children=[v.Btn(children=[x]) for x in ("loosen", "keep", "deepen")], v_model=1),
        "seed": v.TextField(v_model="2025"),
        "switch": v.Switch(v_model=False),
        "button": v.Btn(children=["Step"]),
        "inject": InjectButton(),
    }
    widgets["button"].on_event("click", lambda *_: None)
    return Kernel(widgets), widgets


def message(kind, **content):
    return {"header": {"msg_type": kind}, "content": content}


def update(comm_id, **state):
    return message("comm_msg", comm_id=comm_id, data={"method": "update", "state": state, "buffer_paths": []})


def custom(comm_id, **content):
    return message("comm_msg", comm_id=comm_id, data={"method": "custom", "content": content})


def passes(page, msg):
    kernel, widgets = page
    admit(kernel, msg, widgets)


def refused(page, msg):
    kernel, widgets = page
    with pytest.raises(Refused) as info:
        admit(kernel, msg, widgets)
    text = str(info.value)
    assert "\n" not in text and "\x1b" not in text and "\u202e" not in text
    return text


# -- what the page sends ------------------------------------------------------------------
@pytest.mark.parametrize(
    "msg",
    [
        message("kernel_info_request"),
        message("comm_open", comm_id="new", target_name="solara.control", data={}),
        message("comm_msg", comm_id=CONTROL, data={"method": "run", "args": {"path": "/", "dark": False}}),
        message("comm_msg", comm_id=CONTROL, data={"method": "app-status"}),
        update("menu", v_model="Perfect storm"),
        update("slider", v_model=0.75),
        update("toggle", v_model=2),
        update("toggle", v_model=None),
        update("seed", v_model="not a number: the lesson says so"),
        update("switch", v_model=True),
        custom("button", event="click", data={"clientX": 3}),
        custom("inject", event="inject", data=3),
        message("comm_close", comm_id="menu"),
    ],
    ids=lambda m: m["header"]["msg_type"] + ":" + str(m["content"].get("comm_id")),
)
def test_what_the_page_sends_passes(page, msg):
    passes(page, msg)


# -- what it does not ---------------------------------------------------------------------
def test_an_ipyvue_create_widget_is_refused_whatever_the_module():
    page_ = None
    for module, name in [("logging", "basicConfig"), ("this", "s"), ("os", "system")]:
        page_ = page_ or _page()
        props = {"filename": "/tmp/x", "filemode": "w"}
        text = refused(page_, custom("inject", create_widget=[module, name], props=props, id="w"))
        assert "create_widget" in text


def _page():
    widgets = {"inject": InjectButton()}
    return Kernel(widgets), widgets


def test_update_ref_destroy_widget_and_function_refs_are_refused(page):
    refused(page, custom("inject", update_ref={"functionRef": "close"}, prop="x", id="inject"))
    refused(page, custom("inject", destroy_widget="menu"))
    refused(page, custom("inject", event="inject", data=3, extra={"objectRef": "comm"}))


@pytest.mark.parametrize("name", ["inject\nERROR forged line", "__init__", "close", "inject; rm", "x" * 60, 7, None])
def test_an_event_must_be_a_plain_name_the_widget_handles(page, name):
    refused(page, custom("inject", event=name, data=None))


def test_a_click_on_a_widget_that_takes_no_clicks_is_refused(page):
    assert "no such event" in refused(page, custom("menu", event="click", data={}))


@pytest.mark.parametrize(
    "msg",
    [
        update("menu", v_model="Invented scenario"),
        update("menu", v_model=["Status quo", "nope"]),
        update("slider", v_model=1.5),
        update("slider", v_model=float("nan")),
        update("toggle", v_model=3),
        update("toggle", v_model=True),
        update("seed", v_model="9" * 5000),
        update("seed", v_model={"a": 1}),
        update("menu", items=["Invented"]),  # an attribute that is not a control's value
        update("inject", template="<template>evil</template>"),
        update("inject", on_inject="print"),
        update("switch", v_model=True, disabled=False),
        message(
            "comm_msg",
            comm_id="menu",
            data={"method": "update", "state": {"v_model": "Status quo"}, "buffer_paths": [["v_model"]]},
        ),
    ],
)
def test_a_value_outside_its_control_or_an_attribute_that_is_no_control_is_refused(page, msg):
    refused(page, msg)


@pytest.mark.parametrize(
    "msg",
    [
        message("execute_request", code="import os"),
        message("shutdown_request"),
        message("comm_open", comm_id="w", target_name="jupyter.widget", data={"state": {}}),
        message("comm_open", comm_id="w", target_name="solara.control", data={"x": 1}),
        message("comm_msg", comm_id=CONTROL, data={"method": "reload", "path": "/"}),
        message("comm_msg", comm_id=CONTROL, data={"method": "evict"}),
        message("comm_msg", comm_id="unknown", data={"method": "update", "state": {"v_model": 1}}),
        message("comm_close", comm_id="unknown"),
        message("comm_msg", comm_id="menu", data="text"),
        message("comm_msg", comm_id="menu", data={"method": "display"}),
        {"header": "nonsense"},
        {"header": {"msg_type": "comm_msg"}, "content": None},
    ],
)
def test_other_kinds_channels_and_methods_are_refused(page, msg):
    refused(page, msg)


def test_a_refusal_escapes_what_the_client_sent(page):
    text = refused(page, custom("inject", event="\x1b[2J\u202eevil\nline", data=None))
    assert "evil?line" in text


def test_ipyvue_dispatches_only_a_page_event_to_its_own_method(tmp_path, monkeypatch):
    """Defence in depth: with the gate passed by, ipyvue's handler still imports and calls nothing."""
    gate.install()
    got = []
    button = InjectButton(on_inject=got.append)
    target = tmp_path / "written.log"
    button._handle_event(None, {"create_widget": ["logging", "basicConfig"], "props": {"filename": str(target)},
                                "id": "x"}, [])  # fmt: skip
    button._handle_event(None, {"update_ref": {"functionRef": "close"}, "prop": "x", "id": button.model_id}, [])
    button._handle_event(None, {"event": "inject", "data": 4}, [])
    assert not target.exists()
    assert got == [4]
    files = [h.baseFilename for h in logging.getLogger().handlers if isinstance(h, logging.FileHandler)]
    assert str(target) not in files


def test_the_gate_sits_between_solaras_websocket_and_the_kernel():
    import solara.server.server as server

    gate.install()
    gate.install()  # once only
    assert server.process_kernel_messages.gated
    kernel = Kernel({})
    assert server.process_kernel_messages(kernel, message("execute_request", code="import os")) is True


def test_addresses_answer_404_to_counters_and_nul_bytes_and_pass_the_rest():
    import asyncio

    from sim.classroom.gate import Addresses

    seen = []

    async def app(scope, receive, send):
        seen.append(scope.get("path", scope["type"]))

    sent = []

    async def send(message):
        sent.append(message)

    wrapped = Addresses(app)
    for path, raw in [("/resourcez", b"/resourcez"), ("/static/a\x00", b"/static/a%00"), ("/x", b"/x%00")]:
        asyncio.run(wrapped({"type": "http", "path": path, "raw_path": raw}, None, send))
    asyncio.run(wrapped({"type": "http", "path": "/", "raw_path": b"/"}, None, send))
    asyncio.run(wrapped({"type": "lifespan"}, None, send))
    assert [m["status"] for m in sent if m["type"] == "http.response.start"] == [404, 404, 404]
    assert seen == ["/", "lifespan"]  # the page and Solara's start-up pass; nothing refused reaches Solara
