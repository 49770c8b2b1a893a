"""Dashboard uploads on a classroom network: what one student's file can reach, and what it can cost.

An upload may inherit only from the shipped scenarios and the session's own
uploads; its messages name files as the student named them; no upload makes
the server read its disk, run without bound, or show a traceback.
"""

import io
import time

import pytest

from sim.classroom.app import receive
from sim.classroom.lesson import SCENARIOS, Lesson
from sim.model import limits

HEAD = b"name: Mine\ndescription: a student's scenario\n"


def dropped(name: str, data: bytes, size: int | None = None) -> dict:
    """A file as Solara's FileDrop hands it over (lazy: the content is read on demand)."""
    return {"name": name, "size": len(data) if size is None else size, "file_obj": io.BytesIO(data), "data": None}


def refusal(lesson: Lesson, name: str, data: bytes) -> str:
    before = lesson.scenario.name
    message = receive(lesson, dropped(name, data))
    assert message is not None and "Traceback" not in message
    assert lesson.scenario.name == before  # a refusal changes nothing
    return message


@pytest.mark.parametrize(
    "base",
    [
        str(SCENARIOS / "status_quo.yaml"),  # exists on the server, by its full path
        "../scenarios/status_quo.yaml",
        "/etc/passwd.yaml",
        "sub/status_quo.yaml",
        "nowhere.yaml",
    ],
)
def test_an_upload_inherits_only_from_shipped_scenarios_and_the_session_s_uploads(base):
    message = refusal(Lesson(), "mine.yaml", HEAD + f"base: {base}\n".encode())
    assert message.startswith("mine.yaml:3: base: ") and "is not a shipped scenario or one of your uploads" in message
    assert str(SCENARIOS) not in message and "/tmp" not in message


def test_whether_a_server_file_exists_cannot_be_told_from_the_message():
    lesson = Lesson()
    there = refusal(lesson, "a.yaml", HEAD + f"base: {SCENARIOS / 'status_quo.yaml'}\n".encode())
    absent = refusal(lesson, "a.yaml", HEAD + f"base: {SCENARIOS / 'no_such.yaml'}\n".encode())
    assert there.split(" is not ", 1)[1] == absent.split(" is not ", 1)[1]


def test_an_upload_builds_on_a_shipped_scenario_and_on_an_earlier_upload():
    lesson = Lesson()
    assert receive(lesson, dropped("first.yaml", HEAD + b"base: south_china_sea_crisis.yaml\n")) is None
    second = b"name: Second\ndescription: d\nbase: first.yaml\nevents:\n  - {type: summit, at: 2026-01}\n"
    assert receive(lesson, dropped("second.yaml", second)) is None
    assert lesson.scenario.name == "Second" and len(lesson.scenario.events) == 3
    assert {"Mine", "Second", "Status quo"} <= set(lesson.scenarios())
    other = Lesson()  # another session does not see them
    assert "is not a shipped scenario" in refusal(other, "third.yaml", HEAD + b"base: first.yaml\n")


def test_messages_name_the_file_as_the_student_named_it():
    message = refusal(Lesson(), "C:\\Users\\kim\\crisis.yaml", HEAD + b"runs: many\n")
    assert message.startswith("crisis.yaml:3: runs: expected a whole number")


def test_a_300_character_file_name_works_and_is_shortened_in_messages():
    name = "x" * 296 + ".yaml"
    lesson = Lesson()
    assert receive(lesson, dropped(name, HEAD)) is None and lesson.scenario.name == "Mine"
    message = refusal(lesson, name, HEAD + b"runs: many\n")
    assert len(message) < 200 and message.startswith("xxx") and "…" in message


def alias_bomb() -> bytes:
    """435 bytes that stand for 9^9 values."""
    levels = ["&l0 [" + ", ".join(['"lol"'] * 9) + "]"]
    levels += [f"&l{i} [" + ", ".join([f"*l{i - 1}"] * 9) + "]" for i in range(1, 9)]
    return HEAD + b"sources: [" + ", ".join(levels).encode() + b"]\n"


def test_an_upload_that_would_exhaust_the_server_is_refused_at_once():
    lesson = Lesson()
    started = time.perf_counter()
    assert "at most 200 steps" in refusal(lesson, "h.yaml", HEAD + b"horizon: 9999-12\n")
    assert "aliases" in refusal(lesson, "bomb.yaml", alias_bomb())
    assert time.perf_counter() - started < 5


def test_a_large_upload_is_refused_before_it_is_read():
    class Unread(io.BytesIO):
        def read(self, *args):
            raise AssertionError("read")

    lesson = Lesson()
    file = {"name": "big.yaml", "size": limits.MAX_FILE_BYTES + 1, "file_obj": Unread(), "data": None}
    assert "larger than" in receive(lesson, file)
    lying = dropped("liar.yaml", HEAD + b"#" * limits.MAX_FILE_BYTES, size=10)  # the browser's size was wrong
    assert "larger than" in receive(lesson, lying)


def test_a_session_keeps_a_bounded_number_of_uploads():
    lesson = Lesson()
    for i in range(limits.MAX_UPLOADS):
        assert receive(lesson, dropped(f"u{i}.yaml", HEAD)) is None
    assert "at most 20 uploads" in refusal(lesson, "one_more.yaml", HEAD)
    assert receive(lesson, dropped("u0.yaml", HEAD + b"runs: 5\n")) is None  # replacing one of them is fine


def test_nothing_of_an_upload_reaches_the_server_s_disk(tmp_path, monkeypatch):
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", None)
    lesson = Lesson()
    assert receive(lesson, dropped("mine.yaml", HEAD + b"base: status_quo.yaml\n")) is None
    assert list(tmp_path.iterdir()) == []


def test_one_name_uploaded_again_and_again_keeps_one_menu_entry_and_flat_memory():
    import gc
    import tracemalloc

    lesson = Lesson()
    shipped = len(lesson.scenarios())

    def send(i: int) -> None:
        assert receive(lesson, dropped("same.yaml", b"name: Mine %d\ndescription: d\n" % i)) is None

    tracemalloc.start()
    try:
        for i in range(20):
            send(i)
        gc.collect()
        after_20 = tracemalloc.get_traced_memory()[0]
        for i in range(20, 300):
            send(i)
        gc.collect()
        after_300 = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    assert len(lesson.scenarios()) == shipped + 1  # one file: one entry, its latest scenario
    assert lesson.scenario.name == "Mine 299"
    assert after_300 - after_20 < 256 * 1024, (after_20, after_300)


def test_a_session_uploads_a_bounded_number_of_bytes_whatever_the_names(monkeypatch):
    import sim.classroom.lesson

    monkeypatch.setattr(sim.classroom.lesson, "MAX_UPLOAD_BYTES", 1000)
    lesson = Lesson()
    file = HEAD + b"#" * 250 + b"\n"
    for _ in range(3):
        assert receive(lesson, dropped("same.yaml", file)) is None
    assert "uploads at most" in refusal(lesson, "other.yaml", file)
    assert "reload the page" in refusal(lesson, "same.yaml", file)


def test_chunks_the_server_did_not_ask_for_are_dropped():
    from sim.classroom.app import ScenarioFile

    widget = ScenarioFile()
    widget.file_info = [{"name": "a.yaml", "isFile": True, "size": 10}]
    widget.version += 1
    widget.reset_stats()
    (file,) = widget.get_files()
    reader = file["file_obj"]
    big = b"x" * (5 << 20)
    for _ in range(100):  # 500 MiB never asked for
        widget.vue_upload({"id": reader.id, "file_index": 0, "offset": 0, "length": len(big)}, [big])
    widget.vue_upload({"id": reader.id, "file_index": 0, "offset": 0, "length": 20}, [b"y" * 20])  # more than 10
    widget.vue_upload({"id": reader.id, "file_index": 0, "offset": 4, "length": 2}, [b"zz"])  # not the next part
    widget.vue_upload({"id": reader.id, "file_index": 0, "offset": 0, "length": 3}, [b"abcd"])  # other than it says
    widget.vue_upload({"id": 10**9, "file_index": 0, "offset": 0, "length": 2}, [b"zz"])  # no such reader
    assert reader.chunk_queue == []
    widget.vue_upload({"id": reader.id, "file_index": 0, "offset": 0, "length": 6}, [b"name: "])
    widget.vue_upload({"id": reader.id, "file_index": 0, "offset": 6, "length": 4}, [b"Mine"])
    assert [c["buffer"] for c in reader.chunk_queue] == [b"name: ", b"Mine"]
    widget.vue_upload({"id": reader.id, "file_index": 0, "offset": 10, "length": 1}, [b"!"])  # past the size
    assert len(reader.chunk_queue) == 2


def test_a_transfer_that_fails_is_a_message_to_the_student():
    class Broken(io.BytesIO):
        def read(self, *args):
            raise ValueError("memoryview assignment: lvalue and rvalue have different structures")

    lesson = Lesson()
    message = receive(lesson, {"name": "a.yaml", "size": 10, "file_obj": Broken(), "data": None})
    assert message is not None and "did not send the file" in message
    assert receive(lesson, {"name": "a.yaml", "size": "ten", "file_obj": Broken(), "data": None}) is not None
