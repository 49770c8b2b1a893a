"""Memory handed back to the system after a dashboard session closes (glibc's ``malloc_trim``)."""

from __future__ import annotations

import ctypes
import gc
import threading
import time
from collections.abc import Callable


class Trimmer:
    """Hands a closed session's memory back to the system, a few seconds after the session closes.

    Python frees a session's objects when Solara closes it, but glibc's
    allocator keeps the freed pages for the process; ``malloc_trim`` returns
    them, so the server's size follows the class rather than its largest
    moment. One thread, woken by each close; nothing happens where there is
    no glibc.
    """

    def __init__(self, delay: float = 5.0) -> None:
        """A trimmer that waits ``delay`` seconds after a close, for the others of a burst."""
        self.delay = delay
        self.wake = threading.Event()
        self.lock = threading.Lock()
        self.thread: threading.Thread | None = None
        self.trim: Callable[[int], int] | None
        try:
            self.trim = ctypes.CDLL(None).malloc_trim
        except (OSError, AttributeError):
            self.trim = None

    def session_closed(self) -> None:
        """A session has closed: trim soon (the thread that does it starts with the first close)."""
        with self.lock:
            if self.thread is None:
                self.thread = threading.Thread(target=self._run, name="bamboo-trimmer", daemon=True)
                self.thread.start()
        self.wake.set()

    def _run(self) -> None:
        while True:
            self.wake.wait()
            time.sleep(self.delay)  # sessions close in bursts at the end of a lesson: one trim for many
            self.wake.clear()
            self.release()

    def release(self) -> None:
        """Free what is unreachable, and hand the freed pages back to the system."""
        gc.collect()
        if self.trim is not None:
            self.trim(0)


TRIMMER = Trimmer()
