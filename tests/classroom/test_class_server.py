"""The class server (sim.classroom.class_server) without a browser: its one websocket, through Starlette's TestClient.

What a page may send is exactly the shared world's actions: anything else is
refused with one message and changes nothing; a change of the class reaches
every page bound to it; the debrief's CSV goes to the class's teacher only.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import pytest
from starlette.websockets import WebSocketDisconnect

from sim.classroom import class_server
from sim.classroom.class_server import MAX_MESSAGE, ClassServer, ClassServerError, echarts_file
from sim.classroom.shared_world import ROLES

with warnings.catch_warnings():  # starlette's TestClient names an anyio alias that anyio now deprecates
    warnings.simplefilter("ignore", DeprecationWarning)
    from starlette.testclient import TestClient

KEY = "the-console-key"
CONSOLE = ["bamboo", f"key.{KEY}"]


@pytest.fixture(scope="module")
def server():
    return ClassServer(key=KEY)


class Pages(TestClient):
    """A test client that closes every page it opened before it stops (an open page would keep it waiting)."""

    def page(self, **kwargs):
        session = self.websocket_connect("/ws", **kwargs)
        ws = session.__enter__()
        self.opened.append(session)
        return ws

    def close_pages(self):
        for session in reversed(self.opened):
            session.__exit__(None, None, None)


@pytest.fixture
def client(server):
    with Pages(server.app) as client:  # one event loop for every page, as under uvicorn
        client.opened = []
        yield client
        client.close_pages()


def until(ws, wanted, most=60):
    """The first message from ``ws`` for which ``wanted`` holds (those before it are skipped)."""
    for _ in range(most):
        msg = ws.receive_json()
        if wanted(msg):
            return msg
    raise AssertionError(f"no such message in {most}")


def view_where(ws, wanted):
    return until(ws, lambda m: m["kind"] == "view" and wanted(m["view"]))["view"]


def opened(client):
    """A console page with a class open: (its websocket, the class code, the teacher's token)."""
    teacher = client.page(subprotocols=CONSOLE)
    teacher.send_json({"action": "open", "scenario": "Status quo", "seed": 7})
    done = until(teacher, lambda m: m["kind"] == "done")
    view_where(teacher, lambda v: True)
    return teacher, done["code"], done["token"]


def joined(client, code, name, role=None):
    """A student's page in class ``code``: (its websocket, its token, its seat id)."""
    ws = client.page()
    ws.send_json({"action": "join", "code": code, "name": name})
    done = until(ws, lambda m: m["kind"] == "done")
    if role is not None:
        ws.send_json({"action": "role", "code": code, "token": done["token"], "role": role})
        view_where(ws, lambda v: v["seat"]["role"] == role)
    return ws, done["token"], done["seat"]


def snapshot(server, code):
    shared = server.hub.get(code)
    return shared.version, shared.world.steps, len(shared.seats), len(shared.world.live_events), dict(shared.seats)


def test_pages_say_their_language_forbid_other_scripts_and_serve_echarts_from_the_machine(client):
    for path in ("/", "/teacher"):
        page = client.get(path)
        assert page.status_code == 200
        assert '<html lang="en">' in page.text
        assert "default-src 'self'" in page.headers["content-security-policy"]
        assert "http" not in page.text.split("<body", 1)[0].replace("http-equiv", "")  # no CDN, no font service
    assert client.get("/echarts.min.js").status_code == 200
    assert "Status quo" in client.get("/teacher").text  # the shipped scenarios, offered by the console


def test_without_the_solara_assets_the_server_says_where_echarts_was_expected(tmp_path):
    with pytest.raises(ClassServerError, match=r"ECharts is missing at .*echarts\.min\.js"):
        echarts_file(str(tmp_path))
    assert echarts_file().is_file()


BAD = [
    ("binary", b'{"action": "view"}'),
    ("oversized", json.dumps({"action": "join", "code": "AAAAAA", "name": "x" * MAX_MESSAGE})),
    ("not json", "{'action': 'advance'}"),
    ("json, not an object", "[1, 2, 3]"),
    ("nested deep", "[" * 2000 + "]" * 2000),
    ("a key twice", '{"action": "view", "action": "advance", "code": "C", "token": "t"}'),
    ("NaN", '{"action": "inject", "code": "C", "token": "t", "event": "tariff", "magnitude": NaN}'),
    ("unknown action", {"action": "create_widget", "module": "logging", "name": "basicConfig"}),
    ("unknown field", {"action": "advance", "code": "C", "token": "t", "filename": "/tmp/x"}),
    ("no action", {"code": "C"}),
    ("open without the console key", {"action": "open", "scenario": "Status quo"}),
]


@pytest.mark.parametrize(("what", "message"), BAD, ids=[b[0] for b in BAD])
def test_anything_but_an_action_is_refused_with_one_message_and_changes_nothing(client, server, what, message):
    _teacher, code, token = opened(client)
    student, _, _ = joined(client, code, "Lan", "Hanoi")
    before = snapshot(server, code)
    if isinstance(message, dict):
        message = json.dumps(message).replace('"C"', json.dumps(code)).replace('"t"', json.dumps(token))
    else:
        message = message if isinstance(message, bytes) else message.replace('"C"', json.dumps(code))
    (student.send_bytes if isinstance(message, bytes) else student.send_text)(message)
    refusal = student.receive_json()
    assert refusal["kind"] == "refused" and refusal["why"]
    student.send_json({"action": "view", "code": code, "token": "nobody's"})  # the next message is the next answer
    assert student.receive_json()["kind"] == "refused"
    assert snapshot(server, code) == before


def test_a_student_cannot_act_as_the_teacher_nor_with_a_forged_token(client, server):
    _teacher, code, token = opened(client)
    student, mine, _ = joined(client, code, "Lan", "Beijing")
    before = snapshot(server, code)
    for message in (
        {"action": "advance", "code": code, "token": mine},
        {"action": "inject", "code": code, "token": mine, "event": "maritime_incident", "actor": "CN"},
        {"action": "debrief", "code": code, "token": mine},
        {"action": "close", "code": code, "token": mine},
        {"action": "move", "code": code, "token": token[:-1] + "x", "stance": "press"},
        {"action": "role", "code": code, "token": "", "role": "Hanoi"},
        {"action": "move", "code": code, "token": mine, "stance": "invade"},
    ):
        student.send_json(message)
        refusal = student.receive_json()
        assert refusal["kind"] == "refused", message
    assert snapshot(server, code) == before
    csv = client.get("/debrief.csv", headers={"X-Bamboo-Class": code, "Authorization": f"Bearer {mine}"})
    assert csv.status_code == 403
    assert client.get("/debrief.csv").status_code == 403
    csv = client.get("/debrief.csv", headers={"X-Bamboo-Class": code, "Authorization": f"Bearer {token}"})
    assert csv.status_code == 200 and csv.text.startswith("row,seat,name,role")
    assert csv.headers["content-type"].startswith("text/csv")
    for headers in ({"X-Bamboo-Class": code, "Authorization": f"Bearer {mine}"}, {},
                    {"X-Bamboo-Class": code, "Authorization": f"Bearer {token[:-1]}x"}):  # fmt: skip
        refused = client.get("/debrief.png", headers=headers)
        assert refused.status_code == 403 and not refused.content.startswith(b"\x89PNG")


def test_the_debrief_carries_its_chart_and_its_png_goes_to_the_teacher(client, server):
    teacher, code, token = opened(client)
    teacher.send_json({"action": "advance", "code": code, "token": token})
    view_where(teacher, lambda v: v["quarter"] == 1)
    teacher.send_json({"action": "debrief", "code": code, "token": token})
    done = until(teacher, lambda m: m.get("action") == "debrief")
    names = [s["name"] for s in done["chart"]["series"]]
    assert "United States" in names and "United States (model's own)" in names and "replay" in names
    assert done["chart_text"].startswith("This class (solid)")
    assert len(done["debrief"]["record"]) == 2
    png = client.get("/debrief.png", headers={"X-Bamboo-Class": code, "Authorization": f"Bearer {token}"})
    assert png.status_code == 200 and png.content.startswith(b"\x89PNG\r\n\x1a\n")
    assert png.headers["content-type"] == "image/png"
    assert f"bamboo-class-{code}.png" in png.headers["content-disposition"]


def test_when_the_teacher_ends_the_game_every_student_page_is_sent_the_debrief(client, server):
    teacher, code, token = opened(client)
    students = {role: joined(client, code, f"Student {role}", role) for role in ROLES}
    teacher.send_json({"action": "advance", "code": code, "token": token})
    for ws, _, _ in students.values():
        view_where(ws, lambda v: v["quarter"] == 1)
    ws, mine, _ = students["Hanoi"]
    ws.send_json({"action": "end", "code": code, "token": mine})
    assert "only the class's teacher" in until(ws, lambda m: m["kind"] == "refused")["why"]
    teacher.send_json({"action": "end", "code": code, "token": token})
    done = until(teacher, lambda m: m.get("action") == "end")
    assert done["debrief"]["dates"] and done["chart_text"].startswith("This class (solid)")
    names = [s["name"] for s in done["score_chart"]["series"]]  # the chart of each role's score over the quarters
    assert "Hanoi's security" in names and "Beijing's tie, the model in the chair" in names
    assert done["score_chart_text"].startswith("Each role's score")
    secrets = [token] + [t for _, t, _ in students.values()]
    for ws, _mine, seat in students.values():
        seen: list[dict] = []
        sent = until(ws, lambda m, seen=seen: seen.append(m) or m["kind"] == "debrief")
        (v,) = [m["view"] for m in seen if m["kind"] == "view" and m["view"]["ended"]]  # the view, then the debrief
        assert v["debrief"] == 1 and not v["running"] and v["seat"]["id"] == seat
        assert sent["debrief"] == done["debrief"] and sent["chart"] == done["chart"]
        assert sent["score_chart"] == done["score_chart"]
        assert seat in [s["id"] for s in sent["debrief"]["students"]]  # the page marks its own row
        assert not any(t in json.dumps(sent) for t in secrets)  # the same for every student: no token in it
    late, _, _ = joined(client, code, "Late")  # a page that comes after the end is sent it too
    assert until(late, lambda m: m["kind"] == "debrief")["debrief"]["dates"] == done["debrief"]["dates"]
    for headers in ({"X-Bamboo-Class": code, "Authorization": f"Bearer {students['Hanoi'][1]}"}, {}):
        assert client.get("/debrief.csv", headers=headers).status_code == 403  # the exports stay the teacher's
        assert client.get("/debrief.png", headers=headers).status_code == 403


def test_every_change_reaches_every_seat_of_the_class_and_no_other(client, server):
    teacher, code, token = opened(client)
    students = {role: joined(client, code, f"Student {role}", role) for role in ROLES}
    _, other_code, _ = opened(client)
    outsider, _, _ = joined(client, other_code, "Elsewhere")
    view_where(outsider, lambda v: True)  # its own class's view, on joining
    pages = [teacher] + [ws for ws, _, _ in students.values()]

    moves = {"Hanoi": {"moves": {"US": "deepen", "CN": "keep", "RU": "keep"}}, "Washington": {"stance": "court"},
             "Beijing": {"stance": "press"}, "Moscow": {"stance": "hold"}}  # fmt: skip
    for role, (ws, mine, _) in students.items():
        ws.send_json({"action": "move", "code": code, "token": mine, **moves[role]})
    seen = view_where(teacher, lambda v: all(s["chosen"] for s in v["seats"]))
    assert {s["role"] for s in seen["seats"]} == set(ROLES)

    teacher.send_json({"action": "advance", "code": code, "token": token})
    teacher.send_json({"action": "inject", "code": code, "token": token, "event": "maritime_incident", "actor": "CN"})
    for page in pages:
        v = view_where(page, lambda v: v["quarter"] == 1 and v["events"])
        assert "maritime incident by China" in v["events"][0]
    shared = server.hub.get(code)
    assert shared.quarters[0].hanoi == moves["Hanoi"]["moves"]
    assert shared.quarters[0].stances == {"US": "court", "CN": "press", "RU": "hold"}
    outsider.send_json({"action": "view", "code": other_code, "token": "nobody's"})
    assert outsider.receive_json()["kind"] == "refused"  # nothing of the other class came before it


def test_a_student_who_reconnects_with_the_token_has_the_same_seat(client, server):
    _teacher, code, _token = opened(client)
    first, mine, seat = joined(client, code, "Lan", "Moscow")
    first.close()
    again = client.page()
    again.send_json({"action": "join", "code": code.lower(), "name": "Lan", "token": mine})
    done = until(again, lambda m: m["kind"] == "done")
    assert done["seat"] == seat and done["token"] == mine
    v = view_where(again, lambda v: True)
    assert v["seat"]["role"] == "Moscow" and len(server.hub.get(code).seats) == 1


def test_a_burst_of_messages_is_refused_past_its_allowance(client, server, monkeypatch):
    monkeypatch.setattr(class_server, "RATE", 0.01)  # no refill within the test: the burst alone counts
    _teacher, code, _token = opened(client)
    student, mine, _ = joined(client, code, "Lan")
    for _ in range(class_server.BURST):
        student.send_json({"action": "view", "code": code, "token": mine})
    refusal = until(student, lambda m: m["kind"] == "refused", most=4 * class_server.BURST)
    assert "too many messages" in refusal["why"]


def test_connections_are_bounded_per_server_and_per_class(client, server, monkeypatch):
    _teacher, code, _token = opened(client)
    monkeypatch.setattr(class_server, "MAX_PER_CLASS", len(server.bound[code]))
    ws = client.page()
    ws.send_json({"action": "join", "code": code, "name": "One too many"})
    refusal = ws.receive_json()
    assert refusal["kind"] == "refused" and "pages open already" in refusal["why"]
    monkeypatch.setattr(class_server, "MAX_CONNECTIONS", len(server.links))
    with pytest.raises(WebSocketDisconnect), client.websocket_connect("/ws") as full:
        full.receive_json()


def test_a_page_of_another_site_cannot_open_the_websocket(client):
    with (
        pytest.raises(WebSocketDisconnect),
        client.websocket_connect("/ws", headers={"Origin": "http://evil.example"}) as ws,
    ):
        ws.receive_json()


def test_closing_the_class_tells_its_pages(client, server):
    teacher, code, token = opened(client)
    student, _, _ = joined(client, code, "Lan")
    teacher.send_json({"action": "close", "code": code, "token": token})
    assert until(student, lambda m: m["kind"] == "closed")["code"] == code
    assert code not in server.hub.classes


def test_the_server_writes_no_file(client, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    teacher, code, token = opened(client)
    _student, _mine, _ = joined(client, code, "Lan", "Hanoi")
    teacher.send_json({"action": "advance", "code": code, "token": token})
    teacher.send_json({"action": "debrief", "code": code, "token": token})
    until(teacher, lambda m: m.get("action") == "debrief")
    assert list(Path(tmp_path).iterdir()) == []
