"""The dashboard server's confinement (classroom.sandbox): once confined, a process writes only where it was allowed.

Each check runs in a process of its own, since confinement cannot be undone.
"""

import subprocess
import sys
import textwrap

import pytest

from sim.classroom import sandbox

pytestmark = pytest.mark.skipif(not sandbox.abi(), reason="this kernel has no Landlock")

CHILD = textwrap.dedent(
    """
    import os, sys
    from pathlib import Path
    from sim.classroom import sandbox
    allowed, outside, log = (Path(p) for p in sys.argv[1:4])
    kept = open(log, "a")  # opened before: a file already open stays writable (the server's log)
    assert sandbox.confine_writes([allowed])
    (allowed / "inside.txt").write_text("fine")
    (allowed / "sub").mkdir()
    kept.write("still writing\\n"); kept.flush()
    refused = []
    for attempt in (
        lambda: (outside / "outside.txt").write_text("no"),
        lambda: (outside / "existing.txt").write_text("emptied"),
        lambda: (outside / "dir").mkdir(),
        lambda: (outside / "existing.txt").unlink(),
        lambda: os.rename(allowed / "inside.txt", outside / "moved.txt"),
    ):
        try:
            attempt()
        except PermissionError:
            refused.append(True)
        else:
            refused.append(False)
    print(refused)
    """
)


def test_a_confined_process_writes_only_where_it_may(tmp_path):
    allowed, outside = tmp_path / "cache", tmp_path / "home"
    outside.mkdir()
    (outside / "existing.txt").write_text("a teacher's file")
    log = outside / "server.log"
    done = subprocess.run(
        [sys.executable, "-c", CHILD, str(allowed), str(outside), str(log)], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[True, True, True, True, True]"
    assert (allowed / "inside.txt").read_text() == "fine" and (allowed / "sub").is_dir()
    assert (outside / "existing.txt").read_text() == "a teacher's file"
    assert sorted(p.name for p in outside.iterdir()) == ["existing.txt", "server.log"]
    assert log.read_text() == "still writing\n"


def test_what_a_confined_process_starts_is_confined_too(tmp_path):
    allowed, outside = tmp_path / "cache", tmp_path / "home"
    outside.mkdir()
    child = textwrap.dedent(
        """
        import subprocess, sys
        from pathlib import Path
        from sim.classroom import sandbox
        allowed, outside = Path(sys.argv[1]), Path(sys.argv[2])
        assert sandbox.confine_writes([allowed])
        done = subprocess.run(["sh", "-c", f"echo x > {outside}/by_a_child.txt"])
        print(done.returncode)
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", child, str(allowed), str(outside)], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() != "0" and not (outside / "by_a_child.txt").exists()
