"""The dashboard in a real headless Chromium, as a teacher uses it, with no internet.

`bamboo app` is started on 127.0.0.1; Debian's Chromium (driven by Playwright,
never a downloaded browser) opens it, picks a scenario, moves a slider, steps
the world, injects an event and plays on, and the charts must change each time. Every
request must stay on the machine. Screenshots go to the test's folder, and to
docs/img/dashboard.png when BAMBOO_DOCS_SCREENSHOT is set.
"""

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
DOCS_SCREENSHOT = Path(__file__).resolve().parents[1] / "docs" / "img" / "dashboard.png"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

if not CHROMIUM.exists():
    if os.environ.get("CI"):
        pytest.fail(f"{CHROMIUM} is missing: CI must install Debian's chromium (see .ci/run)", pytrace=False)
    pytest.skip(f"{CHROMIUM} is missing (apt-get install chromium); CI runs this test", allow_module_level=True)

from playwright.sync_api import sync_playwright  # noqa: E402


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def dashboard(tmp_path_factory):
    """`bamboo app` on a free local port; its URL."""
    port = free_port()
    log = tmp_path_factory.mktemp("server") / "server.log"
    with log.open("w") as out:
        server = subprocess.Popen(
            [sys.executable, "-m", "sim", "app", "--host", "127.0.0.1", "--port", str(port)],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + 90
        while True:
            if server.poll() is not None:
                pytest.fail(f"bamboo app exited with {server.returncode}:\n{log.read_text()}")
            try:
                urllib.request.urlopen(url, timeout=2).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    pytest.fail(f"bamboo app did not answer within 90 s:\n{log.read_text()}")
                time.sleep(0.5)
        yield url
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def changed(locator, before: bytes, timeout: float = 30.0) -> bytes:
    """Wait until the element looks different from ``before``; its new screenshot."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        now = locator.screenshot()
        if now != before:
            return now
        time.sleep(0.3)
    raise AssertionError("the chart did not change")


def test_teacher_picks_a_scenario_moves_a_slider_steps_and_injects_an_event(dashboard, tmp_path):
    requests = []
    with sync_playwright() as p:
        browser = p.chromium.launch_persistent_context(
            str(tmp_path / "profile"),  # a fresh profile
            executable_path=str(CHROMIUM),
            headless=True,
            args=ARGS,
            viewport={"width": 1600, "height": 1500},
        )
        try:
            page = browser.new_page()
            page.on("request", lambda r: requests.append(r.url))
            page.on("websocket", lambda ws: requests.append(ws.url))
            errors = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.on("response", lambda r: r.status >= 400 and errors.append(f"{r.status} {r.url}"))
            page.goto(dashboard)

            charts = page.locator(".vue-grid-layout img")
            world, fan = charts.nth(0), charts.nth(1)
            page.get_by_text("Survives in").wait_for(timeout=90_000)
            world_before, fan_before = world.screenshot(), fan.screenshot()

            # pick a scenario: the world and its fan are those of the new scenario
            page.locator(".v-select").filter(has_text="Scenario").click()
            page.get_by_role("option", name="South China Sea crisis").click()
            world_before = changed(world, world_before)
            fan_before = changed(fan, fan_before)

            # move a slider: China's territorial threat to near its top; the fan is recomputed
            label = page.get_by_text("China's territorial threat:")
            slider = label.locator("xpath=following::div[contains(@class, 'v-slider')][1]")
            box = slider.bounding_box()
            page.mouse.click(box["x"] + 0.9 * box["width"], box["y"] + box["height"] / 2)
            page.get_by_text("China's territorial threat: 0.9").wait_for(timeout=30_000)
            fan_before = changed(fan, fan_before)
            world_before = world.screenshot()

            # step the world three quarters: the live chart moves on
            step = page.get_by_role("button", name="Step")
            for t in (1, 2, 3):
                step.click()
                page.get_by_text(f"Time: {t}.0").wait_for(timeout=30_000)
            world_before = changed(world, world_before)
            page.get_by_text("Why Vietnam moved at").wait_for(timeout=30_000)

            # a live event at the current date: marked on the chart, and listed
            page.get_by_role("button", name="Inject at").click()
            page.get_by_text("maritime incident by CN").wait_for(timeout=30_000)
            world_before = changed(world, world_before)

            # play on to the crisis, then pause
            page.get_by_role("button", name="▶").click()
            page.get_by_text("Time: 12.0").wait_for(timeout=60_000)
            page.get_by_role("button", name="❚❚").click()
            changed(world, world_before)

            page.get_by_text("Controls", exact=True).scroll_into_view_if_needed()
            time.sleep(2)
            page.screenshot(path=str(tmp_path / "dashboard.png"), full_page=True)
            if os.environ.get("BAMBOO_DOCS_SCREENSHOT"):
                page.screenshot(path=str(DOCS_SCREENSHOT), full_page=True)
        finally:
            browser.close()

    assert not errors, errors
    hosts = {r.split("/")[2] for r in requests if r.startswith(("http:", "https:", "ws:", "wss:"))}
    assert hosts == {dashboard.split("/")[2]}, f"requests left the machine: {hosts}"
