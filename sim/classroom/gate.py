"""What a page may say to the dashboard's server: the page's own messages, checked, and nothing else.

Solara hands every websocket message from a browser to the page's kernel, and
the widget libraries under it act on what a message asks: ipyvue's template
widgets accept ``create_widget`` (import a module named by the client and call
a function of it with the client's arguments), ``update_ref`` (set any
attribute of any widget) and ``functionRef`` (call any method), and any
widget's synchronised attributes can be set to anything of their type. On a
class network that lets anyone who reaches the page write files as the
server's user (docs/safety.md). The gate stands between the websocket and the
kernel and passes only what the classroom page itself sends:

- the kernel's hello (``kernel_info_request``, ``comm_info_request``);
- the one channel Solara's page opens (``solara.control``), and on it only
  ``run`` (draw the page) and ``app-status``;
- on a widget the page drew: the new value of a control (``v_model``) checked
  against what the control offers (an item of a menu, a number within a
  slider, an index of a toggle, a short text), the theme's ``dark_effective``
  and a file drop's ``file_info``; and an event that the widget handles
  (a click, or one of the page's own ``vue_`` methods), by a plain name;
- closing a channel it had.

Anything else (another message type, another channel, a message for a widget
the page does not have, an attribute that is not a control's value, a value
outside its control, an ipyvue ``create_widget``, ``update_ref`` or
``destroy_widget``) is dropped, with one escaped line in the server's log; the
page's session carries on. ipyvue's own handler is replaced as well (defence
in depth): it dispatches a page event to its ``vue_`` method and does nothing
else.
"""

from __future__ import annotations

import ipaddress
import logging
import math
import re
from collections.abc import Callable, Mapping
from typing import Any

log = logging.getLogger("bamboo.gate")

KERNEL_REQUESTS = frozenset({"kernel_info_request", "comm_info_request"})
CONTROL_TARGET = "solara.control"
CONTROL_METHODS = frozenset({"run", "app-status"})
EVENT_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,39}(\.[a-z]{1,10})?")  # click, keyup.enter, inject
MAX_TEXT = 1000  # characters in a text control's value (a seed, a name)
MAX_FILES = 1  # files announced by one drop
MAX_FILE_NAME = 255

type Kernel = Any  # Solara's kernel: its comm manager holds the page's channels
type Message = Mapping[str, Any]


class Refused(Exception):
    """A message the page does not send: dropped, and said why in the server's log."""


def admit(kernel: Kernel, msg: Message, widgets: Mapping[str, Any]) -> None:
    """Pass ``msg`` if the classroom page could have sent it; raise ``Refused`` if not.

    Args:
        kernel: the page's kernel (its ``comm_manager.comms`` are the page's channels).
        msg: the message as Solara decoded it from the websocket.
        widgets: the page's widgets by their channel id.
    """
    header = msg.get("header")
    kind = header.get("msg_type") if isinstance(header, Mapping) else None
    content = msg.get("content")
    if kind in KERNEL_REQUESTS:
        return
    if not isinstance(content, Mapping):
        raise Refused(f"a {_said(kind)} message with no content")
    if kind == "comm_open":
        _channel_opened(content)
    elif kind == "comm_msg":
        _channel_message(kernel, content, widgets)
    elif kind == "comm_close":
        _known_channel(kernel, content)
    else:
        raise Refused(f"a message of type {_said(kind)}")


def _said(value: object) -> str:
    """What a client sent, as one short escaped phrase for the log."""
    if not isinstance(value, str):
        return type(value).__name__
    text = "".join(c if c.isprintable() else "?" for c in value[:61])  # no newline, escape or bidi mark
    return repr(text[:60] + "…" if len(text) > 60 else text)


def _channel_opened(content: Message) -> None:
    """The page opens one channel of its own: Solara's control channel, with nothing in it."""
    target = content.get("target_name")
    if target != CONTROL_TARGET or content.get("data") not in (None, {}):
        raise Refused(f"a channel to {_said(target)}")


def _known_channel(kernel: Kernel, content: Message) -> Any:
    """The channel a message is on, which the page must have."""
    comm_id = content.get("comm_id")
    comms = getattr(getattr(kernel, "comm_manager", None), "comms", {})
    if not isinstance(comm_id, str) or comm_id not in comms:
        raise Refused(f"a message on channel {_said(comm_id)}, which the page does not have")
    return comms[comm_id]


def _channel_message(kernel: Kernel, content: Message, widgets: Mapping[str, Any]) -> None:
    """A message on a channel: the control channel's two methods, or a widget's value or event."""
    comm = _known_channel(kernel, content)
    data = content.get("data")
    if not isinstance(data, Mapping):
        raise Refused("a channel message with no data")
    method = data.get("method")
    if getattr(comm, "target_name", None) == CONTROL_TARGET:
        if method not in CONTROL_METHODS:
            raise Refused(f"control method {_said(method)}")
        return
    widget = widgets.get(content["comm_id"])
    if widget is None:
        raise Refused(f"a message for widget {_said(content['comm_id'])}, which the page did not draw")
    if method == "update":
        _update(widget, data)
    elif method == "custom":
        _event(widget, data.get("content"))
    elif method != "request_state":  # a page that reconnects asks for a widget's state again
        raise Refused(f"widget method {_said(method)}")


def _update(widget: Any, data: Message) -> None:
    """A control's new value, checked against what the control offers."""
    state = data.get("state")
    if not isinstance(state, Mapping) or not state or data.get("buffer_paths") not in (None, []):
        raise Refused("a widget update with no state, or with binary parts")
    for name, value in state.items():
        check = CHECKS.get(name)
        if check is None or not widget.has_trait(name):
            raise Refused(f"an update of {_said(name)} on a {type(widget).__name__}")
        check(widget, value)


def _event(widget: Any, content: object) -> None:
    """A page event, by a plain name, that the widget handles: nothing else ipyvue would act on."""
    if not isinstance(content, Mapping) or set(content) - {"event", "data"}:
        keys = sorted(map(_said, content)) if isinstance(content, Mapping) else []
        raise Refused(f"a widget message with {', '.join(keys) or 'no event'}")
    name = content.get("event")
    if not isinstance(name, str) or not EVENT_NAME.fullmatch(name):
        raise Refused(f"event {_said(name)}")
    handlers = getattr(widget, "_event_handlers_map", {})
    if not (callable(getattr(widget, f"vue_{name}", None)) or name in handlers):
        raise Refused(f"event {name} on a {type(widget).__name__}, which has no such event")


# -- what each control accepts ------------------------------------------------------------------
def _control_value(widget: Any, value: object) -> None:
    """A control's value: an item of its menu, an index of its toggle, a number on its slider, a short text."""
    kind = type(widget).__name__
    items = getattr(widget, "items", None)
    if items:
        offered = [i.get("value", i.get("text")) if isinstance(i, Mapping) else i for i in items]
        if value not in offered and not (isinstance(value, list) and all(v in offered for v in value)):
            raise Refused(f"a {kind} set to {_said(value)}, which it does not offer")
    elif kind == "BtnToggle":
        if value is not None and not (type(value) is int and 0 <= value < len(widget.children)):
            raise Refused(f"a toggle set to {_said(value)}")
    elif _number(value) and _number(getattr(widget, "min", None)) and _number(getattr(widget, "max", None)):
        if not widget.min <= value <= widget.max:
            raise Refused(f"a {kind} set to {_said(value)}, outside {widget.min} to {widget.max}")
    elif isinstance(value, str):
        if len(value) > MAX_TEXT:
            raise Refused(f"a {kind} set to a text of {len(value)} characters")
    elif not isinstance(value, bool) and value is not None:
        raise Refused(f"a {kind} set to a {type(value).__name__}")


def _dark(widget: Any, value: object) -> None:
    """The page's theme: light or dark."""
    if not isinstance(value, bool):
        raise Refused(f"a theme set to {_said(value)}")


def _file_info(widget: Any, value: object) -> None:
    """What a file drop announces: one file, its name and its size."""
    files = value if isinstance(value, list) else None
    if files is None or len(files) > MAX_FILES:
        raise Refused("a file drop of other than one file")
    for f in files:
        ok = (
            isinstance(f, Mapping)
            and set(f) <= {"name", "isFile", "size"}
            and isinstance(f.get("name"), str)
            and len(f["name"]) <= MAX_FILE_NAME
            and type(size := f.get("size")) is int
            and size >= 0
        )
        if not ok:
            raise Refused("a file drop that does not say one file's name and size")


def _number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


CHECKS: dict[str, Callable[[Any, object], None]] = {
    "v_model": _control_value,
    "dark_effective": _dark,
    "file_info": _file_info,
}


# -- the gate in Solara's server ----------------------------------------------------------------
def install() -> None:
    """Put the gate between Solara's websocket and the page's kernel, and make ipyvue's handler dispatch only.

    Called as each page's kernel starts, before the page's first message
    (``solara.lab.on_kernel_start``): importing Solara's server module any
    earlier, before Solara has read which app it serves, would leave it none.
    """
    import ipywidgets.widgets.widget as ipywidget
    import solara.server.server as server

    dispatch_only()
    process = server.process_kernel_messages
    if getattr(process, "gated", False):
        return

    def gated(kernel: Kernel, msg: dict[str, Any]) -> bool:
        try:
            admit(kernel, msg, ipywidget._instances)
        except Refused as refused:
            log.warning("bamboo app: refused a message from a page: %s", refused)
            return True  # dropped; the page's session carries on
        return bool(process(kernel, msg))

    gated.gated = True  # type: ignore[attr-defined]
    server.process_kernel_messages = gated


def dispatch_only() -> None:
    """Make ipyvue's template handler dispatch a page event to the widget's ``vue_`` method, and do nothing else."""
    import ipyvue.VueTemplateWidget as templates

    templates.Events._handle_event = _dispatch_only


def _dispatch_only(self: Any, _: object, content: Message, buffers: list[bytes]) -> None:
    """The template handler of ipyvue, less everything but a page event for the widget's own ``vue_`` method."""
    name = content.get("event") if isinstance(content, Mapping) else None
    handler = getattr(self, f"vue_{name}", None) if isinstance(name, str) and EVENT_NAME.fullmatch(name) else None
    if handler is None:
        return
    data = content.get("data", {})
    if buffers:
        handler(data, buffers)
    else:
        handler(data)


# -- what an address may ask of the server -------------------------------------------------------
HIDDEN = frozenset({"/resourcez"})  # Solara's counters of sessions and memory: nobody's business on a class network


class Addresses:
    """An ASGI wrapper of Solara's web app: no path with a NUL byte, no server counters.

    A NUL in a path made Solara's static files answer 500 and log a
    traceback; ``/resourcez`` showed anyone the server's sessions and
    memory. Both get a plain 404 here, before Solara sees them.
    """

    def __init__(self, app: Any) -> None:
        """Wrap ``app``, Solara's Starlette application."""
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        """Answer 404 to a hidden or NUL-bearing path; pass everything else (and the lifespan) on."""
        if scope.get("type") in ("http", "websocket"):
            raw = bytes(scope.get("raw_path") or b"").lower()
            path = str(scope.get("path", ""))
            if "\x00" in path or b"%00" in raw or path.rstrip("/") in HIDDEN:
                if scope["type"] == "websocket":
                    await send({"type": "websocket.close", "code": 1008})
                    return
                await send({"type": "http.response.start", "status": 404, "headers": [(b"content-length", b"9")]})
                await send({"type": "http.response.body", "body": b"Not Found"})
                return
        await self.app(scope, receive, send)


class _AfterImport:
    """A one-time import hook: runs ``then(module)`` right after module ``name`` is first executed."""

    def __init__(self, name: str, then: Callable[[Any], None]) -> None:
        self.name, self.then = name, then

    def find_spec(self, fullname: str, path: object = None, target: object = None) -> Any:
        """The module's own spec, its loader made to call ``then`` once the module has run."""
        import importlib.util
        import sys

        if fullname != self.name:
            return None
        sys.meta_path.remove(self)
        spec = importlib.util.find_spec(fullname)
        if spec is None or spec.loader is None:
            return spec
        run, then = spec.loader.exec_module, self.then

        def exec_then(module: Any) -> None:
            run(module)
            then(module)

        spec.loader.exec_module = exec_then  # type: ignore[method-assign]
        return spec


def guard_addresses() -> None:
    """Wrap Solara's web app in ``Addresses`` as Solara's server module loads (before it serves a request).

    Importing that module ourselves any earlier would leave Solara serving no
    app (see ``install``); the hook waits for Solara to import it.
    """
    import sys

    name = "solara.server.starlette"
    if name in sys.modules:
        _wrap(sys.modules[name])
        return
    hook: Any = _AfterImport(name, _wrap)  # a finder of sys.meta_path, by its find_spec
    sys.meta_path.insert(0, hook)


def _wrap(module: Any) -> None:
    """Wrap the ``app`` of Solara's server module in ``Addresses``, once."""
    if not isinstance(module.app, Addresses):
        module.app = Addresses(module.app)


def loopback(host: str) -> bool:
    """Whether ``host`` is reached only from this machine (a server on any other address is on a network)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
