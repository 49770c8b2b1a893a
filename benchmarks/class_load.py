"""A class of N scripted students in one shared world (`bamboo class`): the teacher advances, every page redraws.

The server is started as a class would start it. A teacher's console and N
students are websocket clients speaking the pages' own messages (the actions
of sim.classroom.shared_world); the students join, take the four roles in turn and,
after each new quarter reaches them, send their move for the next one (a
random stance, or a random move on each of Hanoi's ties; a move the Four No's
forbid is refused, as it would be for a real student). The teacher advances a
quarter every ``--every`` seconds, ``--before`` times, pauses ``--pause``
seconds, and advances ``--after`` more times.

With ``--real N``, N real pages are added beside the scripted students:
Debian's Chromium (``--chromium``, driven by Playwright, headless; no browser
is downloaded) opens the students' page N times, each in a browser context of
its own, joins through the form, takes a role and, after each quarter is
drawn, presses **Send my move** (the choices it offers: keep, or hold). On
those pages advance-to-redraw runs to when the page has drawn the new quarter:
the status line shows it and the browser has painted the frame after (a
MutationObserver, then the next animation frame and a task after it), on the
same clock (the machine's wall clock, read in the page and here).

Advance-to-redraw is the time from the teacher sending ``advance`` to a
student receiving the view of the new quarter; reported over every student
and quarter (p50, p95, max), as the slowest student of each quarter (the
whole class redrawn), and for the first quarter after the pause. The
server's resident memory is read before the class arrives, every second
while it plays (its peak), and after the pages close. The machine's load
average is printed beside the figures: on a shared machine they vary.

    python benchmarks/class_load.py [--students 30] [--real 0] [--every 20] [--before 8] [--pause 180] [--after 7]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import websockets

ROLES = ("Hanoi", "Washington", "Beijing", "Moscow")
POWERS = ("US", "CN", "RU")
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]  # fmt: skip
# in a real page: when each quarter is drawn (status line changed, then the next frame painted), by the wall clock;
# then the page's own Send my move, as a student who keeps the choices it offers
WATCH = """() => {
  window.redrawn = {};
  const status = document.getElementById("status");
  new MutationObserver(() => {
    const found = /quarter (\\d+) of/.exec(status.textContent);
    if (!found || found[1] in window.redrawn) return;
    window.redrawn[found[1]] = 0;
    requestAnimationFrame(() => setTimeout(() => {
      window.redrawn[found[1]] = Date.now();
      const send = document.getElementById("send-move");
      if (send && !send.disabled && !document.getElementById("move-form").hidden) send.click();
    }, 0));
  }).observe(status, { childList: true, characterData: true, subtree: true });
}"""


def rss_mb(pid: int) -> float:
    """Resident memory of a process, in MB (Linux)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


class Student:
    """One student's page: joins, takes a role, and answers each new quarter with a move."""

    def __init__(self, url: str, code: str, number: int, rng: random.Random):
        self.url, self.code, self.rng = url, code, rng
        self.name, self.role = f"Student {number}", ROLES[number % len(ROLES)]
        self.arrived: dict[int, float] = {}  # quarter -> when its view arrived (perf_counter)
        self.token = ""

    async def play(self, ready: asyncio.Event, stop: asyncio.Event) -> None:
        async with websockets.connect(self.url, subprotocols=["bamboo"], max_size=None) as ws:
            await ws.send(json.dumps({"action": "join", "code": self.code, "name": self.name}))
            async for raw in ws:
                msg = json.loads(raw)
                if msg["kind"] == "done" and msg["action"] == "join":
                    self.token = msg["token"]
                    await ws.send(json.dumps({"action": "role", "code": self.code, "token": self.token,
                                              "role": self.role}))  # fmt: skip
                elif msg["kind"] == "view":
                    quarter = msg["view"]["quarter"]
                    if msg["view"]["seat"]["role"] == self.role and not ready.is_set() and quarter == 0:
                        ready.set()
                    if quarter not in self.arrived:
                        self.arrived[quarter] = time.perf_counter()
                        if msg["view"]["seat"]["role"] == self.role and msg["view"]["running"]:
                            await ws.send(json.dumps(self.move()))
                if stop.is_set():
                    return

    def move(self) -> dict:
        base = {"action": "move", "code": self.code, "token": self.token}
        if self.role == "Hanoi":
            return {**base, "moves": {p: self.rng.choice(("loosen", "keep", "keep", "deepen")) for p in POWERS}}
        return {**base, "stance": self.rng.choice(("press", "hold", "court"))}


async def open_real_pages(browser: Any, root: str, code: str, first: int, n: int) -> list[Any]:
    """N real students' pages in class ``code``, joined through the form, each in a role, watched for redraws."""
    pages = []
    for i in range(first, first + n):
        context = await browser.new_context(viewport={"width": 1280, "height": 720})
        page = await context.new_page()
        await page.goto(root)
        await page.get_by_label("Class code").fill(code)
        await page.get_by_label("Your name").fill(f"Student {i} (Chromium)")
        await page.get_by_role("button", name="Join").click()
        role = page.get_by_role("button", name=ROLES[i % len(ROLES)], exact=True)
        await role.click()
        # locators, not wait_for_function: the page's Content-Security-Policy forbids the eval that one needs
        await page.locator("#roles [aria-pressed=true]").wait_for()
        await page.locator("#status", has_text="quarter 0 of").wait_for()
        await page.evaluate(WATCH)
        pages.append(page)
    return pages


def summary(waits: dict[int, list[float]], after_pause: int) -> dict[str, Any]:
    """p50, p95 and max over every page and quarter; the same for the slowest page of each quarter; after the pause."""
    every = [w for ws in waits.values() for w in ws]
    slowest = [max(ws) for ws in waits.values() if ws]
    if not every:
        return {}
    return {
        "advance_to_redraw_s": {
            "p50": round(statistics.median(every), 3),
            "p95": round(percentile(every, 95), 3),
            "max": round(max(every), 3),
        },
        "whole_class_redrawn_s": {
            "p50": round(statistics.median(slowest), 3),
            "p95": round(percentile(slowest, 95), 3),
        },
        "first_after_pause_s": round(max(waits[after_pause]), 3) if waits.get(after_pause) else None,
    }


async def class_session(args: argparse.Namespace, url: str, key: str, pid: int) -> dict:
    memory = {"before_mb": round(rss_mb(pid), 1)}
    async with websockets.connect(url, subprotocols=["bamboo", f"key.{key}"], max_size=None) as teacher:
        await teacher.send(json.dumps({"action": "open", "scenario": args.scenario, "seed": args.seed}))
        done = json.loads(await teacher.recv())
        code, token = done["code"], done["token"]
        rng = random.Random(args.seed)
        students = [Student(url, code, i, random.Random(rng.random())) for i in range(args.students)]
        stop = asyncio.Event()
        readies = [asyncio.Event() for _ in students]
        tasks = [asyncio.create_task(s.play(r, stop)) for s, r in zip(students, readies, strict=True)]
        await asyncio.wait_for(asyncio.gather(*(r.wait() for r in readies)), 120)
        real: list[Any] = []
        playwright = browser = None
        if args.real:
            from playwright.async_api import async_playwright

            playwright = await async_playwright().start()
            browser = await playwright.chromium.launch(executable_path=args.chromium, headless=True, args=ARGS)
            root = url.replace("ws://", "http://").removesuffix("ws")
            real = await open_real_pages(browser, root, code, args.students, args.real)
        memory["with_the_class_mb"] = round(rss_mb(pid), 1)

        async def drain() -> None:  # the console's own views: read, not timed
            async for _ in teacher:
                pass

        drainer = asyncio.create_task(drain())
        peak = 0.0
        sent: dict[int, float] = {}
        wall: dict[int, float] = {}  # the same moments by the wall clock, for the real pages
        schedule = [args.every] * args.before + [args.pause + args.every] + [args.every] * (args.after - 1)
        for quarter, wait in enumerate(schedule, start=1):
            until = time.monotonic() + wait
            while time.monotonic() < until:
                peak = max(peak, rss_mb(pid))
                await asyncio.sleep(min(1.0, max(0.0, until - time.monotonic())))
            sent[quarter] = time.perf_counter()
            wall[quarter] = time.time()
            await teacher.send(json.dumps({"action": "advance", "code": code, "token": token}))
        await asyncio.sleep(min(args.every, 10))
        peak = max(peak, rss_mb(pid))
        memory["peak_during_mb"] = round(peak, 1)
        drawn = [await page.evaluate("() => window.redrawn") for page in real]
        if browser is not None and playwright is not None:
            await browser.close()
            await playwright.stop()
        stop.set()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await teacher.send(json.dumps({"action": "close", "code": code, "token": token}))
        await asyncio.sleep(1)
        drainer.cancel()
    await asyncio.sleep(5)
    memory["after_mb"] = round(rss_mb(pid), 1)

    waits = {q: [s.arrived[q] - t for s in students if q in s.arrived] for q, t in sent.items()}
    missing = sum(args.students - len(ws) for ws in waits.values())
    after_pause = args.before + 1
    out: dict[str, Any] = {"students": args.students, "quarters": len(sent), **summary(waits, after_pause),
                           "views_missing": missing}  # fmt: skip
    if real:
        drawn_waits = {q: [d[str(q)] / 1000 - t for d in drawn if d.get(str(q))] for q, t in wall.items()}
        out["real_pages"] = {"pages": len(real), **summary(drawn_waits, after_pause),
                             "redraws_missing": sum(len(real) - len(ws) for ws in drawn_waits.values())}  # fmt: skip
    out["memory"] = memory
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--students", type=int, default=30, help="scripted students (websocket clients; default 30)")
    p.add_argument("--real", type=int, default=0, help="real Chromium pages beside them (Playwright; default 0)")
    p.add_argument("--chromium", default=CHROMIUM, help=f"the Chromium to drive (default {CHROMIUM})")
    p.add_argument("--every", type=float, default=20.0, help="seconds between quarters (default 20)")
    p.add_argument("--before", type=int, default=8, help="quarters before the pause (default 8)")
    p.add_argument("--pause", type=float, default=180.0, help="seconds of the pause (default 180)")
    p.add_argument("--after", type=int, default=7, help="quarters after the pause (default 7)")
    p.add_argument("--scenario", default="Status quo")
    p.add_argument("--seed", type=int, default=7)
    args = p.parse_args()

    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "sim", "class", "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        key = None
        while key is None:
            line = server.stdout.readline() if server.stdout else ""
            if not line:
                sys.exit(f"bamboo class exited with {server.wait()}")
            found = re.search(r"#key=(\S+)", line)
            key = found.group(1) if found else None
        time.sleep(2)  # the address is printed before uvicorn listens
        load_before = os.getloadavg()
        started = time.monotonic()
        result = asyncio.run(class_session(args, f"ws://127.0.0.1:{port}/ws", key, server.pid))
        result["minutes"] = round((time.monotonic() - started) / 60, 1)
        result["load_average_1_5_15"] = {"before": [round(x, 2) for x in load_before],
                                         "after": [round(x, 2) for x in os.getloadavg()]}  # fmt: skip
        result["processors"] = os.cpu_count()
        print(json.dumps(result, indent=2))
    finally:
        server.terminate()
        server.wait(timeout=15)


if __name__ == "__main__":
    main()
