"""One shared class world in real headless Chromium: a teacher's console and students in the four capitals.

`bamboo class` is started on 127.0.0.1; Debian's Chromium (driven by
Playwright, never a downloaded browser) opens the console and one page per
student, each in a browser context of its own (its own storage, as on its
own laptop). Every request must stay on the machine. With
BAMBOO_DOCS_SCREENSHOT set, the screenshots of docs/classroom.md's shared
world are taken again (1280×600, 1280×720, 1920×1080).
"""

import json
import os
import re
from pathlib import Path

import pytest
from conftest import REPO, serving

pytestmark = pytest.mark.slow  # a real Chromium and a class server

CHROMIUM = Path("/usr/bin/chromium")
DOCS_IMG = REPO / "docs" / "img"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]  # fmt: skip
SIZES = [(1280, 600), (1280, 720), (1920, 1080)]
PROJECTOR = {"width": 1280, "height": 600}  # a browser window on a 720p projector

if not CHROMIUM.exists():
    if os.environ.get("CI"):
        pytest.fail(f"{CHROMIUM} is missing: CI must install Debian's chromium (see .ci/run)", pytrace=False)
    pytest.skip(f"{CHROMIUM} is missing (apt-get install chromium); CI runs this test", allow_module_level=True)

from playwright.sync_api import expect, sync_playwright  # noqa: E402

MOVES = {  # each role's move for the first quarter, and how the debrief words it
    "Hanoi": ("deepen", "deepen US, keep CN, keep RU"),
    "Washington": ("court", "court"),
    "Beijing": ("press", "press"),
    "Moscow": ("hold", "hold"),
}


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """`bamboo class` on a free local port: (the students' address, the console's address with its key)."""
    log = tmp_path_factory.mktemp("class") / "server.log"
    with serving("class", log, 120) as root:
        console = re.search(r"(http://\S+/teacher#key=\S+)", log.read_text()).group(1)
        from sim.classroom import sandbox

        said = "writes only into its caches" if sandbox.abi() else "cannot confine the server's writes"
        assert said in log.read_text()  # confined as it starts (sim.classroom.sandbox), or says why not
        yield root, console


@pytest.fixture(scope="module")
def chromium():
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=ARGS)
        yield browser
        browser.close()


@pytest.fixture
def laptop(chromium, server):
    """Opens a page in a browser context of its own; checks, when the test ends, that no request left the machine."""
    root = server[0]
    opened, requests, errors = [], [], []

    def open_page(url):
        context = chromium.new_context(viewport=PROJECTOR)
        opened.append(context)
        page = context.new_page()
        page.on("request", lambda r: requests.append(r.url))
        page.on("websocket", lambda ws: requests.append(ws.url))
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(url)
        return page

    yield open_page
    for context in opened:
        context.close()
    local = (root, root.replace("http://", "ws://"), "blob:", "data:")
    assert [u for u in requests if not u.startswith(local)] == []
    assert errors == []


def open_class(page):
    page.get_by_label("Scenario").select_option("Status quo")
    page.get_by_label("Seed").fill("7")
    page.get_by_role("button", name="Open the class").click()
    expect(page.locator("#code")).to_have_text(re.compile(r"^[A-Z0-9]{6}$"), timeout=30_000)
    return page.locator("#code").text_content()


def join(page, code, name, role):
    page.get_by_label("Class code").fill(code)
    page.get_by_label("Your name").fill(name)
    page.get_by_role("button", name="Join").click()
    page.get_by_role("button", name=role, exact=True).click()
    expect(page.get_by_role("button", name=role, exact=True)).to_have_attribute("aria-pressed", "true")


def choose(page, role):
    move, _ = MOVES[role]
    group = "Tie with United States" if role == "Hanoi" else f"{role}'s stance toward Vietnam"
    page.get_by_role("group", name=group).get_by_label(move).check()
    page.get_by_role("button", name="Send my move").click()
    expect(page.locator("#move-state")).to_contain_text("Your move is in")


def shoot(page, name, tmp_path, arrange=None):
    """Screenshots of ``page`` at each of SIZES (into docs/img with BAMBOO_DOCS_SCREENSHOT); ``arrange`` before each."""
    for width, height in SIZES:
        page.set_viewport_size({"width": width, "height": height})
        page.wait_for_timeout(300)  # the chart takes its new size
        if arrange is not None:
            arrange()
        file = f"{name}_{width}x{height}.png"
        page.screenshot(path=str(tmp_path / file))
        if os.environ.get("BAMBOO_DOCS_SCREENSHOT"):
            page.screenshot(path=str(DOCS_IMG / file))
    page.set_viewport_size(PROJECTOR)


def in_view(page, *locators):
    for locator in locators:
        box = locator.bounding_box()
        assert box is not None and box["y"] >= 0 and box["y"] + box["height"] <= PROJECTOR["height"] + 1, locator


def shows_the_debrief(page, role):
    """A student's page shows the debrief, read-only: the chart, every student's moves, its own row marked."""
    debrief = page.locator("#debrief")
    expect(debrief).to_be_visible()
    expect(page.locator("#chart")).to_be_hidden()
    expect(debrief).to_contain_text("The model's own Vietnam")
    expect(page.locator("#debrief-chart canvas").first).to_be_visible()
    expect(page.locator("#score-chart canvas").first).to_be_visible()  # each role's score, the class and the model
    expect(page.locator("#score-chart")).to_have_attribute("aria-label", re.compile("Hanoi's security"))
    table = page.get_by_role("table", name="Every student's moves by quarter")
    mine = table.locator("tr[aria-current=true]")
    expect(mine).to_have_count(1)
    expect(mine).to_contain_text(f"{role} student (you)")
    expect(mine).to_contain_text(MOVES[role][1])
    for other in MOVES:  # every student's moves and score, not only one's own
        expect(table.get_by_role("row").filter(has_text=f"{other} student")).to_contain_text(MOVES[other][1])
    page.get_by_label("Quarter shown").fill("0")
    expect(page.locator("#replay-shown")).to_contain_text("quarter 0:")
    expect(page.get_by_role("button", name=re.compile("Download|PNG"))).to_have_count(0)  # the teacher's alone
    expect(page.locator("#move-form")).to_be_hidden()
    expect(page.locator("#status")).to_contain_text("the game is over")


def end_the_game(teacher, students, tmp_path):
    """The teacher ends the game: each student's page shows the debrief, and may go back to the world and again."""
    for quarter in (2, 3, 4):  # three more quarters, each student choosing: the debrief's charts have a course
        for role, page in students.items():
            if role == "Hanoi":
                page.get_by_role("group", name="Tie with United States").get_by_label("keep").check()
                page.get_by_role("button", name="Send my move").click()
                expect(page.locator("#move-state")).to_contain_text("Your move is in")
            else:
                choose(page, role)
        teacher.get_by_role("button", name="Advance a quarter").click()
        for page in students.values():  # the debrief shown during the game went away with the quarter
            expect(page.locator("#status")).to_contain_text(f"quarter {quarter} of")
            expect(page.locator("#debrief")).to_be_hidden()
    teacher.once("dialog", lambda dialog: dialog.accept())  # "End the game for the whole class?"
    teacher.get_by_role("button", name="End the game").click()
    expect(teacher.locator("#status")).to_contain_text("the game is over")
    for role, page in students.items():
        shows_the_debrief(page, role)
    hanoi = students["Hanoi"]
    hanoi.get_by_label("Quarter shown").fill("1")
    scores = hanoi.locator("#score-chart")  # in view with the student's own row under it
    shoot(hanoi, "class_student_debrief", tmp_path, lambda: scores.evaluate("chart => chart.scrollIntoView()"))
    page = students["Hanoi"]
    page.get_by_role("button", name="Back to the world").click()
    expect(page.locator("#chart canvas").first).to_be_visible()
    page.get_by_role("button", name="Debrief").click()
    expect(page.locator("#debrief tr[aria-current=true]").last).to_contain_text("Hanoi student (you)")


def test_a_teacher_and_four_capitals_play_one_world(laptop, server, tmp_path):
    root, console = server
    teacher = laptop(console)
    assert teacher.locator("html").get_attribute("lang") == "en"
    code = open_class(teacher)
    students = {}
    for role in MOVES:
        page = laptop(root)
        join(page, code, f"{role} student", role)
        students[role] = page
    roster = teacher.locator("#roster")
    for role in MOVES:
        expect(roster).to_contain_text(f"{role} student — choosing")

    for role, page in students.items():
        choose(page, role)
    for role in MOVES:
        expect(roster).to_contain_text(f"{role} student — has chosen")  # each move reached the world

    teacher.get_by_label("Event", exact=True).select_option("maritime_incident")
    teacher.get_by_label("Who").select_option(label="Maritime incident (China)")
    teacher.get_by_role("button", name="Inject").click()
    for page in students.values():
        expect(page.locator("#events")).to_contain_text("maritime incident by China")  # on every page
    teacher.get_by_role("button", name="Advance a quarter").click()
    for page in [teacher, *students.values()]:
        expect(page.locator("#status")).to_contain_text("quarter 1 of")
        expect(page.locator("#chart canvas").first).to_be_visible()
    for page in students.values():
        expect(page.locator("#why li").first).not_to_have_text(re.compile("After the first quarter"))
        expect(page.locator("#score")).to_contain_text(re.compile(r"^\d\.\d\d: "))

    in_view(teacher, teacher.locator("#chart"), teacher.get_by_role("button", name="Advance a quarter"),
            teacher.get_by_role("button", name="Inject"), teacher.locator("#code"))  # fmt: skip
    shoot(teacher, "class_console", tmp_path)
    for role, page in students.items():
        in_view(page, page.locator("#chart"), page.get_by_role("button", name="Send my move"))
        shoot(page, f"class_student_{role.lower()}", tmp_path)

    teacher.get_by_role("button", name="Debrief").click()
    table = teacher.get_by_role("table", name="Every student's moves by quarter")
    for role, (_, words) in MOVES.items():
        row = table.get_by_role("row").filter(has_text=f"{role} student")
        expect(row).to_contain_text(words)
    expect(teacher.locator("#debrief")).to_contain_text("The model's own Vietnam")
    expect(teacher.locator("#debrief")).to_contain_text("Without maritime incident by China")
    expect(teacher.locator("#debrief-chart canvas").first).to_be_visible()  # the class against the model and the fan
    expect(teacher.locator("#debrief-chart")).to_have_attribute("aria-label", re.compile("This class"))
    expect(teacher.locator("#score-chart canvas").first).to_be_visible()
    expect(teacher.locator("#score-chart")).to_have_attribute("aria-label", re.compile("Each role's score"))
    replay = teacher.get_by_label("Quarter shown")
    expect(teacher.locator("#replay-shown")).to_contain_text("quarter 1:")
    replay.fill("0")  # back to the start: the world before the first quarter
    expect(teacher.locator("#replay-shown")).to_contain_text("quarter 0:")
    expect(teacher.locator("#replay-shown")).to_contain_text("multi-alignment holds")
    replay.fill("1")
    shoot(teacher, "class_debrief", tmp_path)

    with teacher.expect_download() as download:
        teacher.get_by_role("button", name="Download CSV").click()
    text = Path(download.value.path()).read_text()
    assert text.startswith("row,seat,name,role") and "Hanoi student" in text
    with teacher.expect_download() as download:
        teacher.get_by_role("button", name="Download PNG").click()
    assert Path(download.value.path()).read_bytes().startswith(b"\x89PNG\r\n\x1a\n")

    end_the_game(teacher, students, tmp_path)


def test_a_dropped_student_rejoins_the_same_world_and_seat(laptop, server):
    root, console = server
    teacher = laptop(console)
    code = open_class(teacher)
    page = laptop(root)
    join(page, code, "Lan", "Moscow")
    choose(page, "Moscow")
    context = page.context
    page.close()  # the laptop's lid shut: the page and its websocket are gone

    teacher.get_by_role("button", name="Advance a quarter").click()
    expect(teacher.locator("#status")).to_contain_text("quarter 1 of")
    again = context.new_page()
    again.goto(root)
    expect(again.locator("#who-am-i")).to_contain_text(f"Class {code} · Lan · Moscow")
    expect(again.locator("#status")).to_contain_text("quarter 1 of")  # the same world, moved on meanwhile
    expect(again.get_by_role("button", name="Moscow", exact=True)).to_have_attribute("aria-pressed", "true")
    expect(teacher.locator("#roster li", has_text="Lan")).to_have_count(1)  # the same seat, not a second one

    teacher.get_by_role("button", name="Advance a quarter").click()
    expect(again.locator("#status")).to_contain_text("quarter 2 of")
    teacher.get_by_role("button", name="Debrief").click()
    row = (
        teacher.get_by_role("table", name="Every student's moves by quarter").get_by_role("row").filter(has_text="Lan")
    )
    expect(row).to_contain_text("hold")


def test_the_real_server_refuses_oversized_and_binary_frames_and_closes_on_huge_ones(server):
    from websockets.exceptions import ConnectionClosed, InvalidStatus
    from websockets.sync.client import connect

    from sim.classroom.class_server import MAX_FRAME, MAX_MESSAGE

    url = server[0].replace("http://", "ws://") + "ws"
    with connect(url, subprotocols=["bamboo"]) as ws:
        ws.send(b"\x00" * 10)
        assert json.loads(ws.recv(timeout=10))["why"].startswith("the class speaks JSON text")
        ws.send("x" * (MAX_MESSAGE + 1))
        assert "at most" in json.loads(ws.recv(timeout=10))["why"]
        ws.send("x" * (MAX_FRAME + 1))
        with pytest.raises(ConnectionClosed) as closed:
            ws.recv(timeout=10)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 1009  # message too big
    with pytest.raises(InvalidStatus) as refused:  # another site's page: refused before the websocket opens
        connect(url, origin="http://elsewhere.example")
    assert refused.value.response.status_code == 403
