"""The dashboard in a real headless Chromium at projector size (1280×720), as a teacher uses it, with no internet.

`bamboo app` is started on 127.0.0.1; Debian's Chromium (driven by Playwright,
never a downloaded browser) opens it. The tests check what a class sees: no
framework chrome, every control in view beside the main chart, live events
that fire at the date shown with the actor their type implies, uploads
refused in the student's own words, and explanations whose numbers add up.
Every request must stay on the machine. With BAMBOO_DOCS_SCREENSHOT set, the
screenshots of docs/classroom.md are taken again.
"""

import json
import os
import re
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from conftest import REPO, serving

pytestmark = pytest.mark.slow  # a real Chromium and a dashboard server

CHROMIUM = Path("/usr/bin/chromium")
DOCS_IMG = REPO / "docs" / "img"
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
PROJECTOR = {"width": 1280, "height": 720}

if not CHROMIUM.exists():
    if os.environ.get("CI"):
        pytest.fail(f"{CHROMIUM} is missing: CI must install Debian's chromium (see .ci/run)", pytrace=False)
    pytest.skip(f"{CHROMIUM} is missing (apt-get install chromium); CI runs this test", allow_module_level=True)

from playwright.sync_api import expect, sync_playwright  # noqa: E402

PROBE = """
from pathlib import Path
Path(__file__).with_name("imported").write_text("the server imported bamboo_probe")
"""


@pytest.fixture(scope="module")
def server_files(tmp_path_factory):
    """The server's log, and a module on its path that leaves a file ``imported`` beside it if it is ever imported."""
    folder = tmp_path_factory.mktemp("server")
    (folder / "bamboo_probe.py").write_text(PROBE)
    return folder


@pytest.fixture(scope="module")
def dashboard(server_files):
    """`bamboo app` on a free local port; its URL."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(server_files), os.environ.get("PYTHONPATH", "")])}
    with serving("app", server_files / "server.log", 90, env) as url:
        yield url


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    with sync_playwright() as p:
        context = p.chromium.launch_persistent_context(
            str(tmp_path_factory.mktemp("profile")),  # a fresh profile
            executable_path=str(CHROMIUM),
            headless=True,
            args=ARGS,
            viewport=PROJECTOR,
        )
        yield context
        context.close()


@pytest.fixture
def page(browser, dashboard):
    """A fresh page of the dashboard, loaded; fails the test on a script error or a request off the machine.

    ``page.frames_received`` holds the text of every websocket message the page received.
    """
    page = browser.new_page()
    requests, errors, frames = [], [], []
    page.frames_received = frames
    page.on("request", lambda r: requests.append(r.url))

    def websocket(ws):
        requests.append(ws.url)
        ws.on("framereceived", lambda payload: frames.append(payload if isinstance(payload, str) else ""))

    page.on("websocket", websocket)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("response", lambda r: r.status >= 400 and errors.append(f"{r.status} {r.url}"))
    page.goto(dashboard)
    page.get_by_text("possible worlds, multi-alignment survives").wait_for(timeout=90_000)
    page.locator(".bamboo-chart canvas").first.wait_for(timeout=30_000)
    yield page
    page.close()
    assert not errors, errors
    hosts = {r.split("/")[2] for r in requests if r.startswith(("http:", "https:", "ws:", "wss:"))}
    assert hosts == {dashboard.split("/")[2]}, f"requests left the machine: {hosts}"


def changed(locator, before: bytes, timeout: float = 30.0) -> bytes:
    """Wait until the element looks different from ``before``; its new screenshot."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        now = locator.screenshot()
        if now != before:
            return now
        time.sleep(0.3)
    raise AssertionError("the chart did not change")


def choose(page, label: str, option: str) -> None:
    """Pick ``option`` in the select labelled ``label``."""
    page.locator(".v-select").filter(has=page.get_by_text(label, exact=True)).first.click()
    page.get_by_role("option", name=option, exact=True).click()


def world_chart(page):
    return page.locator(".bamboo-chart").first


def step(page, times: int = 1) -> None:
    for _ in range(times):
        date = page.locator(".bamboo-date").inner_text()
        page.get_by_role("button", name="Step", exact=True).click()
        expect(page.locator(".bamboo-date")).not_to_have_text(date, timeout=30_000)


def shoot(page, name: str, tmp_path) -> None:
    page.screenshot(path=str(tmp_path / name))
    if os.environ.get("BAMBOO_DOCS_SCREENSHOT"):
        page.screenshot(path=str(DOCS_IMG / name))


CHROME = ["PAGE 0", "Model Parameters", "Time:", "Play Interval", "Render Interval", "Use Threads", "maritime_incident",
          "its own)", "Powered by Solara", "secondary_sanctions"]  # fmt: skip


def test_no_framework_chrome_and_plain_names(page):
    text = page.locator("body").inner_text()
    for chrome in CHROME:
        assert chrome not in text, chrome
    assert not re.search(r"\b(US|CN|RU)\b", text), "powers as codes"
    assert "United States" in text and "China" in text
    assert page.locator(".bamboo-date").inner_text() == "2025-07"


def test_controls_are_in_view_beside_the_main_chart_at_1280_by_720(page, tmp_path):
    choose(page, "Scenario", "US tariffs of 2025")  # a standing US tariff: every dial is there
    page.get_by_text(re.compile("^United States tariff rate:")).wait_for(timeout=30_000)
    chart = world_chart(page).bounding_box()
    controls = {
        "Play": page.get_by_role("button", name="Play", exact=True),
        "Step": page.get_by_role("button", name="Step", exact=True),
        "Reset": page.get_by_role("button", name="Reset", exact=True),
        "Scenario": page.locator(".v-select").filter(has=page.get_by_text("Scenario", exact=True)),
        "Open a file": page.get_by_role("button", name="Open a scenario file (YAML)…"),
        "Seed": page.get_by_label("Seed (the same seed gives the class the same world)"),
        "Inject": page.get_by_role("button", name=re.compile("^Inject at")),
        "Event": page.locator(".v-select").filter(has=page.get_by_text("Event", exact=True)),
        "Four No's": page.get_by_text("Four No's in force"),
    }
    for label in ("United States tariff rate", "China's territorial threat", "Russia–China closeness"):
        slider = "xpath=following::div[contains(@class, 'v-slider')][1]"
        controls[label] = page.get_by_text(re.compile(f"^{label}:")).locator(slider)
    for name, locator in controls.items():
        box = locator.first.bounding_box()
        assert box is not None, name
        inside = box["x"] >= 0 and box["y"] >= 0 and box["x"] + box["width"] <= 1280 and box["y"] + box["height"] <= 720
        assert inside, f"{name} is out of view at 1280×720: {box}"
        if name not in ("Play", "Step", "Reset"):  # the play bar is above the chart, the rest beside it
            beside = box["x"] + box["width"] <= chart["x"] or box["x"] >= chart["x"] + chart["width"]
            assert beside, f"{name} is not beside the main chart: {box} vs {chart}"
    assert chart["y"] + chart["height"] <= 720
    shoot(page, "classroom_lesson.png", tmp_path)


def test_chart_text_is_large_and_presentation_mode_enlarges_it(page, tmp_path):
    # the charts are drawn on canvas from the options the page received: every text size in them, in CSS px
    sizes = [int(x) for f in page.frames_received for x in re.findall(r'\\?"fontSize\\?":\s*(\d+)', f)]
    assert sizes and min(sizes) >= 14, sorted(set(sizes))
    step(page, 6)
    before = world_chart(page).bounding_box()
    page.frames_received.clear()
    page.get_by_text("Presentation mode").click()
    expect(page.get_by_text("China's territorial threat:")).to_have_count(0)  # the dials make room for the chart
    time.sleep(1)
    after = world_chart(page).bounding_box()
    larger = [int(x) for f in page.frames_received for x in re.findall(r'\\?"fontSize\\?":\s*(\d+)', f)]
    assert larger and min(larger) >= 18
    assert after["width"] > before["width"]  # both views still fit the screen: the dials' room goes to width
    assert page.get_by_role("button", name=re.compile("^Inject at")).bounding_box()["y"] < 720
    verdict = page.locator(".bamboo-verdict").first.evaluate("e => parseFloat(getComputedStyle(e).fontSize)")
    assert verdict >= 24  # the verdict reads from the back of the room
    time.sleep(1)
    shoot(page, "classroom_presentation.png", tmp_path)
    page.get_by_text("Presentation mode").click()


def test_an_injected_tariff_defaults_to_the_us_and_fires_at_the_date_shown(page):
    expect(page.locator(".v-select").filter(has=page.get_by_text("By", exact=True))).to_contain_text("China")
    choose(page, "Event", "Tariff")
    by = page.locator(".v-select").filter(has=page.get_by_text("By", exact=True))
    if by.count():
        expect(by).to_contain_text("United States")
    else:
        expect(page.get_by_text("By United States", exact=True)).to_be_visible()
    page.get_by_role("button", name="Play", exact=True).click()
    expect(page.locator(".bamboo-date")).to_have_text("2026-04", timeout=30_000)
    # read the button's date and click it in one go, while the world plays on
    click_and_read = "b => { const t = b.innerText; b.click(); return t; }"
    shown = page.get_by_role("button", name=re.compile("^Inject at")).evaluate(click_and_read)
    date = re.search(r"\d{4}-\d{2}", shown).group(0)
    live = page.locator(".bamboo-events").get_by_text(re.compile(r"Tariff \(United States\)\s+\(live\)"))
    live.wait_for(timeout=30_000)
    page.get_by_role("button", name="Pause", exact=True).click()
    assert re.match(rf"^\d+\s+{date}\s+Tariff \(United States\)\s+\(live\)$", live.inner_text()), (
        shown,
        live.inner_text(),
    )


BAD = b"name: Typo\ndescription: a student's scenario\nruns: many\n"


def test_a_click_opens_a_file_dialog_and_a_refusal_names_the_file_as_uploaded(page, tmp_path):
    with page.expect_file_chooser() as chooser:
        page.get_by_role("button", name="Open a scenario file (YAML)…").click()
    chooser.value.set_files(files=[{"name": "my crisis.yaml", "mimeType": "text/yaml", "buffer": BAD}])
    error = page.get_by_text(re.compile("^my crisis.yaml was refused"))
    error.wait_for(timeout=30_000)
    text = error.inner_text()
    assert "the page still shows Status quo" in text and "my crisis.yaml:3: runs: expected a whole number" in text
    assert "/tmp" not in text and "uploaded-" not in text
    expect(page.locator(".v-select").filter(has=page.get_by_text("Scenario", exact=True))).to_contain_text("Status quo")
    good = b"name: My crisis\ndescription: d\nbase: status_quo.yaml\nevents:\n  - {type: border_closure, at: 2026-01}\n"
    with page.expect_file_chooser() as chooser:
        page.get_by_role("button", name="Open a scenario file (YAML)…").click()
    chooser.value.set_files(files=[{"name": "my crisis.yaml", "mimeType": "text/yaml", "buffer": good}])
    page.get_by_text("Opened my crisis.yaml: My crisis").wait_for(timeout=30_000)
    expect(page.locator(".v-select").filter(has=page.get_by_text("Scenario", exact=True))).to_contain_text("My crisis")
    expect(page.get_by_text(re.compile("was refused"))).to_have_count(0)  # the refusal is gone with the new file
    page.get_by_text("Border closure (China)").wait_for(timeout=30_000)


def test_a_bad_seed_is_refused_with_a_message(page):
    seed = page.get_by_label("Seed (the same seed gives the class the same world)")
    seed.fill("abc")
    seed.press("Enter")
    page.get_by_text(re.compile("^Seed refused: the seed must be a whole number")).wait_for(timeout=30_000)
    expect(seed).to_be_visible()


SIGNED = re.compile(r"[+-]\d+\.\d")


def test_why_vietnam_moved_drivers_add_up_to_the_net_and_chance_is_said(page, tmp_path):
    choose(page, "Scenario", "Perfect storm")
    step(page, 3)
    page.get_by_role("button", name="Why Vietnam moved", exact=True).click()
    sentences = page.locator(".bamboo-why")
    expect(sentences).to_have_count(3, timeout=30_000)
    for text in sentences.all_inner_texts():
        worth = re.search(r"was worth ([+-]\d+\.\d) points: (.*?the other drivers [+-]\d+\.\d)\.", text)
        assert worth, text
        terms = [float(x) for x in SIGNED.findall(worth.group(2))]
        assert round(sum(terms), 1) == float(worth.group(1)), text
        assert re.search(r"would (loosen|keep|deepen) this tie \d+% of the time", text), text
    time.sleep(1)
    shoot(page, "classroom_why.png", tmp_path)


def test_teacher_picks_a_scenario_moves_a_slider_steps_plays_and_a_student_plays_hanoi(page, tmp_path):
    world = world_chart(page)
    before = world.screenshot()
    choose(page, "Scenario", "South China Sea crisis")
    before = changed(world, before)
    label = page.get_by_text(re.compile("^China's territorial threat:"))
    slider = label.locator("xpath=following::div[contains(@class, 'v-slider')][1]")
    box = slider.bounding_box()
    page.mouse.click(box["x"] + 0.9 * box["width"], box["y"] + box["height"] / 2)
    page.get_by_text(re.compile(r"^China's territorial threat: 0\.[89]")).wait_for(timeout=30_000)
    step(page, 2)
    before = changed(world, before)
    page.get_by_role("button", name="Play", exact=True).click()
    expect(page.locator(".bamboo-date")).to_have_text("2027-10", timeout=60_000)
    page.get_by_role("button", name="Pause", exact=True).click()
    changed(world, before)
    choose(page, "Vietnam is played by", "You play Hanoi")
    desk = page.get_by_text("Your moves", exact=True)
    desk.wait_for(timeout=30_000)
    assert desk.bounding_box()["y"] < 720
    page.locator(".v-btn-toggle").filter(has_text="loosen").nth(2).get_by_role("button", name="loosen").click()
    step(page, 6)
    page.get_by_role("button", name="Compare", exact=True).click()
    time.sleep(1.5)
    shoot(page, "classroom_hanoi.png", tmp_path)


# -- a hostile page: what anyone on the class network could send ---------------------------
KEEP_SOCKET = """
const send = WebSocket.prototype.send;
window.bambooSent = [];
WebSocket.prototype.send = function (data) {
    window.bambooSocket = this;
    if (typeof data === "string") window.bambooSent.push(data);
    return send.call(this, data);
};
"""


def forged(template: dict, content: dict, kind: str = "comm_msg") -> str:
    """A message in the page's own framing, on its own websocket, with ``content`` of the client's choosing."""
    msg = json.loads(json.dumps(template))
    msg["header"]["msg_id"] = msg["header"]["msg_id"] + "-forged"
    msg["header"]["msg_type"] = kind
    msg["content"] = content
    return json.dumps(msg)


def test_forged_messages_over_the_real_websocket_write_no_file_and_import_no_module(browser, dashboard, server_files):
    page = browser.new_page()
    page.add_init_script(KEEP_SOCKET)
    received: list[str] = []
    page.on("websocket", lambda ws: ws.on("framereceived", lambda p: received.append(p if isinstance(p, str) else "")))
    page.goto(dashboard)
    page.get_by_text("possible worlds, multi-alignment survives").wait_for(timeout=90_000)
    step(page)  # the page's own click, whose framing the forgeries copy
    sent = [json.loads(m) for m in page.evaluate("window.bambooSent")]
    template = next(m for m in sent if m["header"]["msg_type"] == "comm_msg")
    # the inject button is one of ipyvue's template widgets, whose handler imported and called what it was told
    opened = [json.loads(f) for f in received if '"comm_open"' in f and "Inject at" in f]
    inject = opened[0]["content"]["comm_id"]
    written = server_files / "written.log"
    hostile = [
        {"create_widget": ["logging", "basicConfig"], "props": {"filename": str(written), "filemode": "w"}, "id": "a"},
        {"create_widget": ["bamboo_probe", "anything"], "props": {}, "id": "b"},
        {"create_widget": ["this", "s"], "props": {}, "id": "c"},
        {"update_ref": {"functionRef": "close"}, "prop": "step", "id": inject},
        {"event": "inject\nFORGED line at the start of a line", "data": 1},
    ]
    for content in hostile:
        page.evaluate("m => window.bambooSocket.send(m)", forged(template, {"comm_id": inject, "data": {
            "method": "custom", "content": content}}))  # fmt: skip
    page.evaluate("m => window.bambooSocket.send(m)", forged(template, {"comm_id": "x", "target_name":
                  "jupyter.widget", "data": {"state": {"_model_name": "OutputModel"}}}, "comm_open"))  # fmt: skip
    page.evaluate("m => window.bambooSocket.send(m)", forged(template, {"code": "import bamboo_probe"},
                  "execute_request"))  # fmt: skip
    server_log = server_files / "server.log"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and server_log.read_text().count("refused a message") < len(hostile) + 2:
        if written.exists() or (server_files / "imported").exists():
            break
        time.sleep(0.2)
    assert not written.exists()
    assert not (server_files / "imported").exists()
    log = server_log.read_text()
    assert "Beautiful is better than ugly" not in log  # `import this` prints the Zen of Python
    assert "Traceback" not in log
    assert log.count("refused a message from a page") == len(hostile) + 2
    assert not any(line.startswith("FORGED") for line in log.splitlines())
    step(page)  # the page still works
    page.close()


def test_both_views_fit_a_browser_window_on_a_720p_projector(browser, dashboard, tmp_path):
    page = browser.new_page()
    page.set_viewport_size({"width": 1280, "height": 600})  # 720p less the browser's own bars
    page.goto(dashboard)
    page.get_by_text("possible worlds, multi-alignment survives").wait_for(timeout=90_000)
    charts = page.locator(".bamboo-chart")
    expect(charts).to_have_count(2, timeout=60_000)
    for i in range(2):
        box = charts.nth(i).bounding_box()
        assert box["y"] >= 0 and box["y"] + box["height"] <= 600, f"view {i + 1} is out of view: {box}"
        assert box["height"] >= 160
    inject = page.get_by_role("button", name=re.compile("^Inject at")).bounding_box()
    assert inject["y"] + inject["height"] <= 600
    assert page.evaluate("document.documentElement.scrollHeight") <= 600
    shoot(page, "classroom_1280x600.png", tmp_path)
    page.close()


def test_the_inject_button_stays_put_whatever_the_event(page):
    button = page.get_by_role("button", name=re.compile("^Inject at"))
    where = button.bounding_box()
    for event in ("Tariff", "Sanctions", "A shock to one parameter", "Summit", "Secondary sanctions",
                  "Maritime incident"):  # fmt: skip
        choose(page, "Event", event)
        time.sleep(0.5)
        moved = button.bounding_box()
        assert (moved["x"], moved["y"]) == (where["x"], where["y"]), event


def test_the_page_says_its_language_names_its_controls_and_describes_its_charts(page):
    assert page.evaluate("document.documentElement.lang") == "en"
    for name in ("China's territorial threat", "Russia–China closeness", "Strength", "Lasts (quarters)"):
        expect(page.get_by_role("slider", name=name)).to_have_count(1)
    described = page.locator(".bamboo-chart[role=img]")
    expect(described).to_have_count(2)
    text = described.first.get_attribute("aria-label")
    assert text.startswith("Status quo: this class's world:") and "United States 0." in text and "Russia" in text


def test_no_server_counters_and_no_traceback_for_a_nul_in_a_path(dashboard, server_files):
    for path in ("resourcez", "static/assets/%00", "static/assets/a%00b.js"):
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(dashboard + path, timeout=10)
        refused.value.close()  # its response, read or not, is closed here rather than by a later collection
        assert refused.value.code == 404, path
    urllib.request.urlopen(dashboard + "readyz", timeout=10).close()  # the health check stays
    assert "Traceback" not in (server_files / "server.log").read_text()


def test_the_server_says_it_writes_only_into_its_caches(dashboard, server_files):
    from sim.classroom import sandbox

    log = (server_files / "server.log").read_text()
    if sandbox.abi():
        assert "the server writes only into its caches and its scratch folder" in log
    else:
        assert "cannot confine the server's writes" in log
