"""Fixtures shared by the test suite: the repository, the source documents, worlds to test mechanisms on."""

from __future__ import annotations

import contextlib
import dataclasses
import io
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from sim.model.params import load_parameters
from sim.model.streams import Streams
from sim.model.world import World

REPO = Path(__file__).resolve().parent.parent
SCENARIOS = REPO / "scenarios"
# The five source documents live beside the repository, in ../shared/sources (MODEL.md).
SOURCES = REPO.parent / "shared" / "sources"


@pytest.fixture(scope="session")
def sources() -> Path:
    """The folder of source documents; in CI its absence is a failure, elsewhere a skip."""
    if not SOURCES.is_dir():
        if os.environ.get("CI"):
            pytest.fail(f"the source documents are missing: expected them in {SOURCES}")
        pytest.skip(f"the source documents are not beside this checkout ({SOURCES})")
    return SOURCES


def normalise(text: str) -> str:
    """Whitespace only: runs of whitespace become one space; a line break after a hyphen goes.

    How a quote is compared with its source: verbatim up to line breaks and spacing.
    """
    return re.sub(r"-\s+", "-", re.sub(r"\s+", " ", text).strip())


def bamboo(*args, cwd=None, env=None, timeout=None) -> subprocess.CompletedProcess:
    """The command line in a process of its own, as a user runs it; ``env`` adds to this process's environment.

    For what only a process shows: its exit status and stderr without a traceback, signals, memory, the
    environment its workers inherit. Everything else goes through ``run_cli``, which is many times faster.
    """
    return subprocess.run(
        [sys.executable, "-m", "sim", *map(str, args)],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=None if env is None else {**os.environ, **env},
        timeout=timeout,
    )


def run_cli(*args) -> subprocess.CompletedProcess:
    """The command line's ``main(argv)`` in this process: its exit status, stdout and stderr, as ``bamboo`` gives them.

    argparse's exits (``--help``, a bad option) are caught as the process would end: their code, 0 for None.
    An uncaught exception is not turned into a status; it fails the test with its traceback, as it should.
    Working folder and environment: ``monkeypatch.chdir`` and ``monkeypatch.setenv``.
    """
    from sim.cli.main import main

    argv = [str(a) for a in args]
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(argv)
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
            if isinstance(exc.code, str):
                print(exc.code, file=sys.stderr)
    return subprocess.CompletedProcess(["bamboo", *argv], code or 0, out.getvalue(), err.getvalue())


# Philox4x32-10 known answers (Random123's kat_vectors): (counter, key, the block it must give)
FF = 0xFFFFFFFF
PHILOX_KNOWN_ANSWERS = {
    "zeros": ((0, 0, 0, 0), (0, 0), (0x6627E8D5, 0xE169C58D, 0xBC57AC4C, 0x9B00DBD8)),
    "ones": ((FF, FF, FF, FF), (FF, FF), (0x408F276D, 0x41C83B0E, 0xA20BC7C6, 0x6D5451FD)),
    "pi": (
        (0x243F6A88, 0x85A308D3, 0x13198A2E, 0x03707344),
        (0xA4093822, 0x299F31D0),
        (0xD16CFE09, 0x94FDCCEB, 0x5001E420, 0x24126EA1),
    ),
}


def make_world(n: int = 4, uncertainty: bool = False, **values: float) -> World:
    """A World of ``n`` runs: the defaults, or draws from the ranges; ``values`` override by path (dots as __)."""
    params = load_parameters()
    runs = np.arange(n, dtype=np.uint64)
    drawn = params.draw(runs, Streams(11, runs) if uncertainty else None)
    for path, v in values.items():
        drawn[path.replace("__", ".")] = np.full(n, float(v))
    return World.assemble(drawn)


def with_scalars(world: World, **changes) -> World:
    return dataclasses.replace(world, scalars={**world.scalars, **changes})


@pytest.fixture
def world() -> World:
    return make_world()


def free_port() -> int:
    """A port on the loopback address that nothing listens on now."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def serving(command: str, log: Path, seconds: float, env: dict | None = None):
    """``bamboo COMMAND`` on a free local port, its output in ``log``: its URL once it answers; stopped after.

    Fails the test with the server's output if it exits or does not answer within ``seconds``.
    """
    import time
    import urllib.request

    port = free_port()
    with log.open("w") as out:
        server = subprocess.Popen(
            [sys.executable, "-m", "sim", command, "--host", "127.0.0.1", "--port", str(port)],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
        )
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + seconds
        while True:
            if server.poll() is not None:
                pytest.fail(f"bamboo {command} exited with {server.returncode}:\n{log.read_text()}")
            try:
                urllib.request.urlopen(url, timeout=2).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    pytest.fail(f"bamboo {command} did not answer within {seconds:.0f} s:\n{log.read_text()}")
                time.sleep(0.5)
        yield url
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
