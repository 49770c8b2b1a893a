"""The shared class world on the network (``bamboo class``): a teacher's console, a student's page, one websocket.

A small Starlette app serves two plain pages and one script (``sim/class_pages``),
ECharts from the installed Solara assets, and one websocket, ``/ws``, whose
messages are exactly the actions of ``sim.classroom.shared_world.Hub.act``: a JSON object
with ``action`` and that action's fields. Each message is checked
(``shared_world.check``) before anything happens; a binary frame, a frame over
``MAX_MESSAGE`` bytes, text that is not one JSON object (or repeats a key),
an unknown action or field, a value outside its schema, too many messages in
a burst, are each refused with one message (``{"kind": "refused", ...}``) and
never reach a world. Only a page that holds the console key (printed when the
server starts, carried in the console's address after ``#`` so that it is
never sent in a URL) may open a class; the teacher's actions need the class's
teacher token, as ``Hub.act`` checks.

After each action that changes a class (its ``version``), every page bound to
that class is sent its own new view (``{"kind": "view", ...}``) with the
world's chart, worked out once per version: the teacher's advance or event and
a student's move reach every seat at once. When the teacher ends the game
(``end``) or opens the debrief, every student's page is sent it too
(``{"kind": "debrief", ...}``, with its chart, worked out once each time it
is shown): read-only, the same for every student; its CSV and PNG are the
teacher's alone. Pushes to one class are coalesced
(one round at a time, another if something changed meanwhile), and a page that
does not take its message within ``SEND_TIMEOUT`` is dropped (it reconnects
and rejoins its seat). The server bounds its connections (``MAX_CONNECTIONS``,
``MAX_PER_CLASS``), writes no file and fetches nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import html
import json
import os
import secrets
import shutil
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, PlainTextResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket

from sim.classroom import gate, sandbox
from sim.classroom.charts import (
    chart_png,
    class_debrief_chart,
    event_label,
    score_chart,
    text_alternative,
    world_chart,
)
from sim.classroom.shared_world import (
    CAPITALS,
    CODE_LENGTH,
    EVENT_KINDS,
    MAX_SEATS,
    MAX_TOKEN,
    ROLES,
    STANCES,
    ActionError,
    Hub,
    SharedWorld,
    check,
)
from sim.model import roles
from sim.model.domain import POWERS
from sim.outputs.plots import COLOURS, NAMES

PAGES = Path(__file__).with_name("class_pages")
ECHARTS = Path("share/solara/cdn/echarts@5.4.0/dist/echarts.min.js")  # under sys.prefix: solara-assets installs it
PROTOCOL = "bamboo"  # the websocket's subprotocol; the console adds "key.<console key>" beside it
KEY_PREFIX = "key."

# the server's bounds
MAX_MESSAGE = 4096  # bytes of one message from a page: the longest action is under 400
MAX_FRAME = 65536  # bytes of one websocket frame: larger ones close the connection (uvicorn's ws_max_size)
MAX_CONNECTIONS = 200  # websockets open on the server
MAX_PER_CLASS = MAX_SEATS + 10  # websockets bound to one class: a page per seat, the console and a few reloads
BURST = 20  # messages a page may send at once ...
RATE = 5.0  # ... and per second after that
SEND_TIMEOUT = 5.0  # seconds a page has to take a message before it is dropped
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; connect-src 'self'; img-src 'self' data: blob:; "
    "style-src 'self' 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


class ClassServerError(RuntimeError):
    """The class server cannot start (a missing asset): said in one line."""


def echarts_file(prefix: str = sys.prefix) -> Path:
    """The ECharts script that solara-assets installed; ClassServerError naming the path if it is absent."""
    path = Path(prefix) / ECHARTS
    if not path.is_file():
        raise ClassServerError(
            f"ECharts is missing at {path}; install the app extra (pip install 'bamboo-sim[app]'), "
            "which brings solara-assets"
        )
    return path


class DuplicateKey(ValueError):
    """A JSON object that names a key twice: which value counts would be the parser's guess."""


def _object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    keys = [k for k, _ in pairs]
    if len(set(keys)) != len(keys):
        raise DuplicateKey("a key given twice")
    return dict(pairs)


def _constant(name: str) -> float:
    raise ValueError(f"{name} is not a number in JSON")


def parse(text: str | None) -> object:
    """A page's websocket message as JSON data; ActionError (one message for the page) if it is not one."""
    if text is None:
        raise ActionError("", "the class speaks JSON text; binary messages are refused")
    if len(text.encode("utf-8", "surrogatepass")) > MAX_MESSAGE:
        raise ActionError("", f"a message is at most {MAX_MESSAGE} bytes")
    try:
        return json.loads(text, object_pairs_hook=_object, parse_constant=_constant)
    except DuplicateKey:
        raise ActionError("", "a message names each field once") from None
    except (ValueError, RecursionError):
        raise ActionError("", 'a message is one JSON object: {"action": ..., and its fields}') from None


def refused(exc: ActionError) -> dict[str, Any]:
    """The one message a page gets for a refused action: the field to blame and why."""
    return {"kind": "refused", "field": exc.field, "why": exc.why}


@dataclass(eq=False)
class Link:
    """One page's websocket: the class and token it acts with (set by its first open, join or view), its budget."""

    ws: WebSocket
    console: bool  # the page holds the console key: it may open a class
    code: str | None = None
    token: str | None = None
    sent: int = -1  # the class's version last sent to this page
    allowance: float = BURST
    checked: float = field(default_factory=time.monotonic)
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    alive: bool = True
    shown: int = 0  # the class's debrief last sent to this page (SharedWorld.shown)

    def spend(self) -> bool:
        """Whether the page may send one more message now (a token bucket: BURST at once, RATE a second)."""
        now = time.monotonic()
        self.allowance = min(BURST, self.allowance + (now - self.checked) * RATE)
        self.checked = now
        if self.allowance < 1:
            return False
        self.allowance -= 1
        return True


class ClassServer:
    """The classes of one server (a ``Hub``) and the pages connected to them; ``app`` is the Starlette app."""

    def __init__(self, hub: Hub | None = None, key: str | None = None, echarts: Path | None = None) -> None:
        """A server over ``hub`` (default: the shipped scenarios); ``key`` opens classes (default: a new secret)."""
        self.hub = hub if hub is not None else Hub()
        self.key = key if key is not None else secrets.token_urlsafe(18)
        self.echarts = echarts if echarts is not None else echarts_file()
        self.links: set[Link] = set()
        self.bound: dict[str, set[Link]] = {}  # class code -> its pages
        self.pushing: dict[str, asyncio.Task[None]] = {}
        self.again: set[str] = set()
        self.charts: dict[str, tuple[int, dict[str, Any]]] = {}  # class code -> (version, chart)
        self.debriefs: dict[str, tuple[int, dict[str, Any]]] = {}  # class code -> (times shown, debrief message)
        self.app = Starlette(
            routes=[
                Route("/", self.student_page),
                Route("/teacher", self.teacher_page),
                Route("/class.js", self.asset("class.js", "text/javascript")),
                Route("/class.css", self.asset("class.css", "text/css")),
                Route("/echarts.min.js", self.echarts_script),
                Route("/debrief.csv", self.debrief_csv),
                Route("/debrief.png", self.debrief_png),
                Route("/favicon.ico", lambda request: Response(status_code=204)),
                WebSocketRoute("/ws", self.socket),
            ]
        )

    # -- pages --------------------------------------------------------------------------------------------------
    def _page(self, name: str, catalogue: dict[str, Any]) -> HTMLResponse:
        text = (PAGES / name).read_text(encoding="utf-8")
        data = html.escape(json.dumps(catalogue), quote=False)  # in a <script type="application/json">: no markup
        return HTMLResponse(text.replace("{{catalogue}}", data), headers=SECURITY_HEADERS)

    async def student_page(self, request: Request) -> Response:
        """The student's page: join, a role, the shared world, the role's why, score and move."""
        return self._page("student.html", self.catalogue())

    async def teacher_page(self, request: Request) -> Response:
        """The teacher's console: open a class, its code, roster, quarters, events, chart and debrief."""
        return self._page("teacher.html", self.catalogue(teacher=True))

    def catalogue(self, teacher: bool = False) -> dict[str, Any]:
        """What the pages offer: roles, stances and colours; for the console, the scenarios and the events."""
        out: dict[str, Any] = {
            "roles": list(ROLES),
            "capitals": CAPITALS,
            "powers": {p: {"name": NAMES[p], "colour": COLOURS[p]} for p in POWERS},
            "stances": list(STANCES),
            "code_length": CODE_LENGTH,
        }
        if teacher:
            out["scenarios"] = list(self.hub.scenarios)
            out["events"] = {
                kind: [
                    {"actor": a, "target": t, "label": event_label(kind, a, t)}
                    for a, t in sorted(roles.pairs(kind), key=lambda pair: (POWERS.index(pair[0]), pair[1]))
                ]
                for kind in EVENT_KINDS
            }
        return out

    @staticmethod
    def asset(name: str, media: str) -> Any:
        """A route serving one file of ``sim/class_pages``."""

        async def serve(request: Request) -> Response:
            return FileResponse(PAGES / name, media_type=media, headers=SECURITY_HEADERS)

        return serve

    async def echarts_script(self, request: Request) -> Response:
        """ECharts, from the installed Solara assets: nothing is fetched from the internet."""
        return FileResponse(self.echarts, media_type="text/javascript", headers={"Cache-Control": "max-age=86400"})

    def _teachers(self, request: Request) -> SharedWorld | None:
        """The class whose teacher sent ``request`` (code and token in headers, never in the URL), else None."""
        code = request.headers.get("x-bamboo-class", "")
        token = request.headers.get("authorization", "").removeprefix("Bearer ")
        shared = self.hub.classes.get(code.upper()) if len(code) <= CODE_LENGTH else None
        if shared is None or len(token) > MAX_TOKEN or not shared.is_teacher(token):
            return None
        return shared

    async def debrief_csv(self, request: Request) -> Response:
        """The debrief of one class as CSV, to its teacher only."""
        shared = self._teachers(request)
        if shared is None:
            return PlainTextResponse("only the class's teacher may download its debrief", 403, SECURITY_HEADERS)
        text = await asyncio.to_thread(shared.debrief_csv)
        disposition = {"Content-Disposition": f'attachment; filename="bamboo-class-{shared.code}.csv"'}
        return Response(text, media_type="text/csv", headers={**SECURITY_HEADERS, **disposition})

    async def debrief_png(self, request: Request) -> Response:
        """The debrief's chart of one class as a PNG (drawn on the server with matplotlib), to its teacher only."""
        shared = self._teachers(request)
        if shared is None:
            return PlainTextResponse("only the class's teacher may download its debrief", 403, SECURITY_HEADERS)
        image = await asyncio.to_thread(lambda: chart_png(class_debrief_chart(shared)))
        disposition = {"Content-Disposition": f'attachment; filename="bamboo-class-{shared.code}.png"'}
        return Response(image, media_type="image/png", headers={**SECURITY_HEADERS, **disposition})

    # -- the websocket ------------------------------------------------------------------------------------------
    async def socket(self, ws: WebSocket) -> None:
        """One page's websocket: each text message one action, answered; views pushed as the class changes."""
        origin = ws.headers.get("origin")
        offered = [p.strip() for p in ws.headers.get("sec-websocket-protocol", "").split(",") if p.strip()]
        if len(self.links) >= MAX_CONNECTIONS or (origin and urlsplit(origin).netloc != ws.headers.get("host")):
            await ws.close(code=1008 if origin else 1013)  # another site's page, or the server is full
            return
        keys = [p.removeprefix(KEY_PREFIX) for p in offered if p.startswith(KEY_PREFIX)]
        console = any(secrets.compare_digest(k.encode(), self.key.encode()) for k in keys[:1])
        await ws.accept(subprotocol=PROTOCOL if PROTOCOL in offered else None)
        link = Link(ws, console)
        self.links.add(link)
        try:
            while link.alive:
                message = await ws.receive()
                if message["type"] == "websocket.disconnect":
                    break
                await self.handle(link, message.get("text"))
        finally:
            link.alive = False
            self.links.discard(link)
            self._unbind(link)

    async def handle(self, link: Link, text: str | None) -> None:
        """One message from a page: refused with one message, or done, answered, and the class's pages updated."""
        try:
            if not link.spend():
                raise ActionError("", f"too many messages; a page may send {RATE:g} a second")
            message = parse(text)
            action, fields = check(message)
            code = fields.get("code", "").upper() if action != "open" else None
            if action == "open" and not link.console:
                raise ActionError("", "only the teacher's console (its address with the key) may open a class")
            if code is not None and code != link.code and len(self.bound.get(code, ())) >= MAX_PER_CLASS:
                raise ActionError("code", f"this class has {MAX_PER_CLASS} pages open already")
            answer = await asyncio.to_thread(self.hub.act, message)  # checked again there: the one entry point
        except ActionError as exc:
            await self.send(link, refused(exc))
            return
        if action == "close":
            await self.send(link, {"kind": "done", "action": action})
            await self._closed(answer["closed"])
            return
        if action == "open":
            code, token = answer["code"], answer["token"]
        else:
            assert code is not None
            token = answer.get("token", fields.get("token"))
        self._bind(link, code, token)
        done: dict[str, Any] = {"kind": "done", "action": action}
        if action in ("open", "join"):
            done |= {"code": code, "token": token, **({"seat": answer["seat"]} if action == "join" else {})}
        elif action in ("debrief", "end"):
            done |= await self.debrief_answer(code, answer)
        if action == "view":
            link.sent = -1  # asked for: sent even if unchanged
        await self.send(link, done)
        self.push(code)

    def _bind(self, link: Link, code: str, token: str) -> None:
        if link.code != code:
            self._unbind(link)
            self.bound.setdefault(code, set()).add(link)
            link.sent, link.shown = -1, 0
        link.code, link.token = code, token

    def _unbind(self, link: Link) -> None:
        if link.code is not None:
            pages = self.bound.get(link.code, set())
            pages.discard(link)
            if not pages:
                self.bound.pop(link.code, None)
        link.code = link.token = None

    async def _closed(self, code: str) -> None:
        """Tell the class's pages that it is closed, and forget it."""
        pages = self.bound.pop(code, set())
        self.charts.pop(code, None)
        self.debriefs.pop(code, None)
        for link in pages:
            link.code = link.token = None
        await asyncio.gather(*(self.send(p, {"kind": "closed", "code": code}) for p in pages))

    async def send(self, link: Link, data: dict[str, Any]) -> None:
        """Send ``data`` to a page; a page gone, or too slow to take it, is dropped."""
        if not link.alive:
            return
        text = json.dumps(data, separators=(",", ":"))
        async with link.lock:
            try:
                await asyncio.wait_for(link.ws.send_text(text), SEND_TIMEOUT)
            except Exception:  # gone or stuck, whatever the server's websocket library raises: drop the page
                link.alive = False
                self.links.discard(link)
                self._unbind(link)
                await self._close_quietly(link)

    @staticmethod
    async def _close_quietly(link: Link) -> None:
        try:
            await asyncio.wait_for(link.ws.close(code=1011), 1.0)
        except Exception:  # already closed: nothing to do
            return

    # -- pushes -------------------------------------------------------------------------------------------------
    def push(self, code: str) -> None:
        """Send the class's new view to each of its pages that has not seen its version (coalesced)."""
        if code in self.pushing:
            self.again.add(code)
            return
        self.pushing[code] = asyncio.get_running_loop().create_task(self._push(code))

    async def _push(self, code: str) -> None:
        try:
            while True:
                self.again.discard(code)
                pages = [p for p in self.bound.get(code, ()) if p.token is not None]
                views = await asyncio.to_thread(self.views, code, pages)
                await asyncio.gather(*(self.send(p, v) for p, v in views))
                await self.push_debrief(code)
                if code not in self.again:
                    return
        finally:
            self.pushing.pop(code, None)

    async def debrief_message(self, code: str) -> dict[str, Any] | None:
        """The debrief the class shows now with its chart, as pages are sent it (once per showing); None: none shown."""
        shared = self.hub.classes.get(code)
        if shared is None:
            return None
        with shared.lock:
            shown, debrief = shared.shown, shared.showing
        if debrief is None:
            return None
        cached = self.debriefs.get(code)
        if cached is None or cached[0] != shown:
            chart = await asyncio.to_thread(class_debrief_chart, shared, debrief=debrief)
            scores = score_chart(debrief)
            message = {"kind": "debrief", "shown": shown, "debrief": debrief, "chart": chart,
                       "chart_text": text_alternative(chart), "score_chart": scores,
                       "score_chart_text": text_alternative(scores)}  # fmt: skip
            cached = shown, message
            self.debriefs[code] = cached
        return cached[1]

    async def debrief_answer(self, code: str, debrief: dict[str, Any]) -> dict[str, Any]:
        """The console's answer to its ``debrief`` or ``end``: the debrief it showed the class, and its chart."""
        shown = await self.debrief_message(code)
        if shown is None:  # the class closed meanwhile
            return {"debrief": debrief, "chart": None, "chart_text": "", "score_chart": None, "score_chart_text": ""}
        return {k: shown[k] for k in ("debrief", "chart", "chart_text", "score_chart", "score_chart_text")}

    async def push_debrief(self, code: str) -> None:
        """Send the debrief the class shows now to each student's page that has not had it (none: nothing)."""
        shared = self.hub.classes.get(code)
        if shared is None or shared.showing is None:
            return
        pages = [p for p in self.bound.get(code, ()) if p.token is not None and p.shown != shared.shown]
        pages = [p for p in pages if not shared.is_teacher(p.token or "")]  # the console has it in its answer
        if not pages:
            return
        message = await self.debrief_message(code)
        if message is None:
            return
        for page in pages:
            page.shown = message["shown"]
        await asyncio.gather(*(self.send(p, message) for p in pages))

    def views(self, code: str, pages: list[Link]) -> list[tuple[Link, dict[str, Any]]]:
        """Each page's view of the class, with the world's chart (worked out once per version); in a thread."""
        shared = self.hub.classes.get(code)
        if shared is None:
            return []
        out = []
        with shared.lock:
            version = shared.version
            stale = [p for p in pages if p.sent < version and p.token is not None]
            if not stale:
                return []
            cached = self.charts.get(code)
            if cached is None or cached[0] != version:
                chart = world_chart(shared.world)
                cached = version, {"chart": chart, "chart_text": text_alternative(chart)}
                self.charts[code] = cached
            for page in stale:
                try:
                    view = shared.view(page.token or "")
                except ActionError:
                    continue
                page.sent = version
                out.append((page, {"kind": "view", "view": view, **cached[1]}))
        return out


def warm(hub: Hub) -> None:
    """Play one quarter of a class nobody sees, so that the first class's first quarter waits for no compiling."""
    shared, teacher = hub.open()
    shared.advance()
    shared.view(teacher)
    hub.close(shared.code)


def serve(host: str = "127.0.0.1", port: int = 8766) -> int:
    """Run the class server until Ctrl+C; prints the console's address (with its key) and the students'."""
    import uvicorn

    try:
        server = ClassServer()
        warm(server.hub)
    except ClassServerError as exc:
        print(f"bamboo class: error: {exc}", file=sys.stderr)
        return 2
    if not gate.loopback(host) and hasattr(os, "geteuid") and os.geteuid() == 0:
        print(f"bamboo class: warning: serving {host} as root: anyone on the network reaches a server that runs as "
              "root; run it as an ordinary user", file=sys.stderr)  # fmt: skip
    config = uvicorn.Config(
        server.app,
        host=host,
        port=port,
        log_level="warning",
        access_log=False,
        ws_max_size=MAX_FRAME,
        limit_concurrency=MAX_CONNECTIONS + 50,
        lifespan="off",
    )
    scratch = sandbox.confine_server("bamboo class")  # it writes no file; should it ever try, the kernel refuses
    shown = "127.0.0.1" if host in ("0.0.0.0", "::") else host
    where = f"http://{shown}:{port}"
    print(f"bamboo class: the teacher's console (keep this address to yourself): {where}/teacher#key={server.key}")
    print(f"bamboo class: students open {where}/ " + ("(this machine's address on the class network)" if
          host in ("0.0.0.0", "::") else ""), flush=True)  # fmt: skip
    try:
        with contextlib.suppress(KeyboardInterrupt):  # Ctrl+C: the usual way to stop a server
            uvicorn.Server(config).run()
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return 0
