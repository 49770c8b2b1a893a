"""A class on one server: N students open the dashboard, move a dial together and step. Prints JSON.

Each student is a websocket client that speaks Solara's protocol (Jupyter
widget messages), as the browser does, so the figures are the server's work
alone: on a real class the browsers run on the students' own machines. Every
round, all students move China's territorial threat at the same moment, each
to a position of the slider's own choosing (the slider moves in steps of 0.05,
so some students land on the same value and share a Monte Carlo fan; with
``--distinct`` every student gets a value no one else has, the worst case),
wait for their fan chart to be redrawn, then all press Step and wait for
their world chart.
Click-to-redraw is the time from sending the change to receiving the chart's
new ECharts option. The server's memory (resident set of the server and its
fan workers) is read before the class arrives, at its peak, and after the
pages close, until ``--wait`` seconds have passed (Solara frees a closed
page's session after the cull timeout: two minutes by default, see
``sim.classroom.dashboard.CULL_TIMEOUT``).

    python benchmarks/classroom_load.py [--students 30] [--rounds 5] [--wait 600] [--distinct]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path

import websockets

SLIDER = "China's territorial threat"


def rss_mb(pid: int) -> float:
    """Resident memory of a process and all its children (the fan workers), in MB (Linux)."""
    total = 0.0
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            total += int(line.split()[1]) / 1024
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            children = (task / "children").read_text().split()
        except FileNotFoundError:  # a thread that ended meanwhile
            continue
        total += sum(rss_mb(int(child)) for child in children)
    return total


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def message(msg_type: str, content: dict, session: str) -> str:
    header = {"msg_id": uuid.uuid4().hex, "msg_type": msg_type, "session": session, "username": "student",
              "date": "", "version": "5.3"}  # fmt: skip
    return json.dumps({"header": header, "parent_header": {}, "metadata": {}, "content": content,
                       "channel": "shell", "buffers": []})  # fmt: skip


def decode(raw) -> dict:
    if isinstance(raw, str):
        return json.loads(raw)
    n = int.from_bytes(raw[:4], "big")
    offsets = [int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(n)]
    end = offsets[1] if n > 1 else len(raw)
    return json.loads(raw[offsets[0] : end])


class Student:
    """One browser page, as the server sees it: a kernel, its widgets, and the clicks it sends."""

    def __init__(self, url: str):
        self.url = url
        self.session = uuid.uuid4().hex
        self.kernel = str(uuid.uuid4())
        self.widgets: dict[str, dict] = {}  # comm id -> state
        self.order: list[str] = []  # comm ids in the order the widgets were made
        self.redrawn: set[str] = set()  # charts whose option came since the last change
        self.news = asyncio.Event()  # set as each message arrives
        self.loaded = asyncio.Event()

    async def open(self) -> float:
        started = time.perf_counter()
        cookie = await asyncio.to_thread(self._cookie)
        ws_url = (
            self.url.replace("http", "ws") + f"jupyter/api/kernels/{self.kernel}/channels?session_id={self.session}"
        )
        self.ws = await websockets.connect(ws_url, additional_headers={"Cookie": cookie}, max_size=None)
        self.reader = asyncio.create_task(self._read())
        control = uuid.uuid4().hex
        await self.ws.send(message("comm_open", {"comm_id": control, "target_name": "solara.control", "data": {}},
                                   self.session))  # fmt: skip
        run = {"method": "run", "args": {"path": "", "appName": "__default__"}}
        await self.ws.send(message("comm_msg", {"comm_id": control, "data": run}, self.session))
        await asyncio.wait_for(self.loaded.wait(), 300)
        while len(self.charts()) < 2 or not self.text("Across "):  # the page is there once its fan is drawn
            self.news.clear()
            await asyncio.wait_for(self.news.wait(), 300)
        return time.perf_counter() - started

    def _cookie(self) -> str:
        with urllib.request.urlopen(self.url, timeout=60) as response:
            cookies = response.headers.get_all("Set-Cookie") or []
        return "; ".join(c.split(";", 1)[0] for c in cookies)

    async def _read(self) -> None:
        async for raw in self.ws:
            msg = decode(raw)
            content, kind = msg.get("content", {}), msg["header"]["msg_type"]
            if kind == "comm_open" and content.get("target_name") == "jupyter.widget":
                self.widgets[content["comm_id"]] = dict(content["data"]["state"])
                self.order.append(content["comm_id"])
            elif kind == "comm_msg":
                data = content.get("data", {})
                if data.get("method") == "update":
                    self.widgets.setdefault(content["comm_id"], {}).update(data.get("state", {}))
                    if "option_json" in data.get("state", {}):
                        self.redrawn.add(content["comm_id"])
                elif data.get("method") == "finished":
                    self.loaded.set()
            self.news.set()

    def find(self, test) -> list[str]:
        return [c for c in self.order if c in self.widgets and test(self.widgets[c])]

    def charts(self) -> list[str]:
        return self.find(lambda s: "option_json" in s)

    def text(self, start: str) -> str:
        """The page's text that starts with ``start`` ("" if none)."""
        texts = [str((s.get("children") or [""])[0]) for s in self.widgets.values()]
        return next((t for t in texts if t.startswith(start)), "")

    async def _change(self, comm: str, data: dict, done) -> float:
        """Send a change; seconds until ``done()`` holds, checked as each message arrives."""
        self.redrawn = set()
        started = time.perf_counter()
        await self.ws.send(message("comm_msg", {"comm_id": comm, "data": data}, self.session))
        deadline = started + 600
        while not done():
            self.news.clear()
            await asyncio.wait_for(self.news.wait(), max(deadline - time.perf_counter(), 0.001))
        return time.perf_counter() - started

    async def move_dial(self, value: float) -> float:
        """Move the dial; seconds until the fan chart (the second chart) shows the new setting's fan."""
        labels = self.find(lambda s: str((s.get("children") or [""])[0]).startswith(SLIDER + ":"))
        after = self.order.index(labels[-1])
        slider = next(c for c in self.order[after:] if self.widgets.get(c, {}).get("_model_name") == "SliderModel")
        fan = self.charts()[1]
        state = {"method": "update", "state": {"v_model": value}, "buffer_paths": []}

        def done():  # the fan chart redrawn, and the page no longer says it is computing the new setting's fan
            note = self.text("Across ")
            return fan in self.redrawn and bool(note) and "updating" not in note

        return await self._change(slider, state, done)

    async def step(self) -> float:
        """Press Step; seconds until the world chart is redrawn."""
        (button,) = self.find(lambda s: s.get("_model_name") == "BtnModel" and s.get("children") == ["Step"])
        click = {"method": "custom", "content": {"event": "click", "data": {}}}
        world = self.charts()[0]
        return await self._change(button, click, lambda: world in self.redrawn)

    async def close(self) -> None:
        await self.ws.close()
        self.reader.cancel()


def quantiles(values: list[float]) -> dict[str, float]:
    values = sorted(values)
    pick = lambda q: values[min(len(values) - 1, round(q * (len(values) - 1)))]  # noqa: E731
    return {"p50_s": round(statistics.median(values), 3), "p95_s": round(pick(0.95), 3), "max_s": round(values[-1], 3),
            "n": len(values)}  # fmt: skip


def positions(students: int, rounds: int, distinct: bool) -> list[list[float]]:
    """Each round's dial value per student: random slider positions (steps of 0.05), or all different."""
    if distinct:
        return [[round(0.40 + 0.5 * (i + r * students) / (rounds * students), 4) for i in range(students)]
                for r in range(rounds)]  # fmt: skip
    rng = random.Random(12)
    rounds_: list[list[float]] = []
    last = [0.35] * students  # where the scenario puts the dial
    for _ in range(rounds):
        last = [rng.choice([k / 20 for k in range(21) if k / 20 != was]) for was in last]  # a move, never a no-op
        rounds_.append(last)
    return rounds_


async def lesson(url: str, pid: int, students: int, rounds: int, distinct: bool) -> dict:
    peak = rss_mb(pid)
    class_ = [Student(url) for _ in range(students)]
    loads = []
    for s in class_:  # the class arrives within a minute, not in one instant
        loads.append(await s.open())
        peak = max(peak, rss_mb(pid))
    opened = rss_mb(pid)
    dials, steps = [], []
    for values in positions(students, rounds, distinct):
        dials += await asyncio.gather(*(s.move_dial(v) for s, v in zip(class_, values, strict=True)))
        peak = max(peak, rss_mb(pid))
        steps += await asyncio.gather(*(s.step() for s in class_))
        peak = max(peak, rss_mb(pid))
    for s in class_:
        await s.close()
    return {"page_load": quantiles(loads), "dial_to_fan_redraw": quantiles(dials),
            "step_to_world_redraw": quantiles(steps), "rss_mb_with_class": round(opened),
            "rss_mb_peak": round(peak)}  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--students", type=int, default=30)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--wait", type=float, default=600, help="seconds to watch memory after the pages close")
    ap.add_argument("--distinct", action="store_true", help="every student a dial value of their own")
    args = ap.parse_args()
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "sim", "app", "--port", str(port)], env=os.environ.copy(),
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    url = f"http://127.0.0.1:{port}/"
    try:
        for _ in range(240):
            try:
                urllib.request.urlopen(url, timeout=2).close()
                break
            except OSError:
                time.sleep(0.5)
        time.sleep(2)
        before = rss_mb(server.pid)
        load = [float(x) for x in Path("/proc/loadavg").read_text().split()[:3]]
        result = asyncio.run(lesson(url, server.pid, args.students, args.rounds, args.distinct))
        print(json.dumps(result), file=sys.stderr, flush=True)  # the class's figures, before the long wait
        after = {}
        closed = time.monotonic()
        while (waited := time.monotonic() - closed) < args.wait:
            time.sleep(min(30, args.wait - waited))
            after[f"{round(time.monotonic() - closed)}s"] = round(rss_mb(server.pid))
        out = {"students": args.students, "rounds": args.rounds, "distinct": args.distinct, "cpus": os.cpu_count(),
               "loadavg_before": load,
               "loadavg_after": [float(x) for x in Path("/proc/loadavg").read_text().split()[:3]],
               "rss_mb_before": round(before), **result, "rss_mb_after_close": after}  # fmt: skip
        print(json.dumps(out, indent=2))
    finally:
        server.terminate()
        server.wait(timeout=30)


if __name__ == "__main__":
    main()
