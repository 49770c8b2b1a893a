"""Ctrl+C on the command line: at once while it starts, once as a KeyboardInterrupt while it works, then let pass.

Nothing is written before a job's files are complete (``sim.runs.output``), so a Ctrl+C while the command
starts exits at once with one line; one while it works unwinds the job, which says what it kept; a further one
while that clean-up runs is let pass, so that the first one's line is the only one.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
from types import FrameType

INTERRUPTED = "bamboo: interrupted; nothing was written"


def quit_at_once(signum: int, frame: FrameType | None) -> None:
    """Ctrl+C while the command starts (its imports): nothing is written yet, so one line and exit 130 at once."""
    os.write(sys.stderr.fileno(), (INTERRUPTED + "\n").encode())
    os._exit(130)


def interrupt_once(signum: int, frame: FrameType | None) -> None:
    """Ctrl+C while the command works: a KeyboardInterrupt, once; a second Ctrl+C waits for the clean-up to end."""
    if _in_compiler_callback(frame):
        # llvmlite calls back into Python from C (its object cache) through ctypes, which prints and swallows
        # whatever the callback raises: the interrupt would be lost and the run go on, so it is sent again shortly
        threading.Timer(0.05, os.kill, (os.getpid(), signal.SIGINT)).start()
        return
    signal.signal(signal.SIGINT, _cleaning_up)
    raise KeyboardInterrupt


def _in_compiler_callback(frame: FrameType | None) -> bool:
    """Whether Python code called back from the compiler's C code (llvmlite) runs at ``frame``."""
    while frame is not None:
        if f"{os.sep}llvmlite{os.sep}" in frame.f_code.co_filename:
            return True
        frame = frame.f_back
    return False


def _cleaning_up(signum: int, frame: FrameType | None) -> None:
    """A further Ctrl+C while the first one's clean-up runs: let pass, so that the first one's line is the only one."""
