"""The fans of possible worlds a dashboard draws, computed by worker processes and shared by every page."""

from __future__ import annotations

import multiprocessing
import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass

from sim.classroom.lesson import ClassroomModel
from sim.classroom.possible_worlds import Cache, FanArgs, FanKey, FanSummary, fan_summary
from sim.classroom.trimmer import TRIMMER

FAN_IDLE = 120.0  # seconds with no page open, after which the fan workers exit (respawned on demand)


@dataclass
class FanView:
    """What the page draws of a fan, and the world it is the fan of (``fan_key``)."""

    key: FanKey
    summary: FanSummary


def fan_key(model: ClassroomModel) -> FanKey:
    """What the fan of the world is a fan of: the same for every page of a class on the same settings."""
    return model.fan_recipe()[0]


class FanWorkers:
    """The server's fans, computed in worker processes: a class's fans use every processor, not one.

    One Python process computes one fan at a time, whatever the number of
    cores; worker processes (spawned, one per core by default) compute as
    many as there are cores, while the server process keeps drawing pages.
    Fans are cached by setting and shared across pages. Without workers
    (``workers=0``, and in the tests that draw the page without a server) a
    page computes its fan in its own thread.
    """

    def __init__(self, workers: int = 0) -> None:
        """Fans computed by ``workers`` processes, spawned by ``start`` (0: by each page, in its own thread)."""
        self.workers = workers
        self.pool: ProcessPoolExecutor | None = None
        self.lock = threading.Lock()
        self.views = Cache[FanKey, FanSummary](16, max(workers, 1))
        self.last_used = time.monotonic()
        self.busy = 0  # fans under way: the workers are not idle while one is computed
        self.pages = 0  # pages open: a class that pauses keeps its workers, so the next fan needs no cold start
        self.reaper: threading.Thread | None = None

    def start(self, workers: int) -> None:
        """Spawn ``workers`` processes, and the watch that lets them go when no page has asked for a while."""
        with self.lock:
            self.workers = workers
            self.views = Cache[FanKey, FanSummary](16, max(workers, 1))
            if workers and self.pool is None:
                pool = self._spawn()
                for _ in range(workers):  # each worker imports the model now, not when the first student asks
                    pool.submit(int)
            if workers and self.reaper is None:
                self.reaper = threading.Thread(target=self._reap, name="bamboo-fan-idle", daemon=True)
                self.reaper.start()

    def _spawn(self) -> ProcessPoolExecutor:
        """A new pool of workers, each of which leaves when the server does."""
        spawn = multiprocessing.get_context("spawn")
        self.pool = ProcessPoolExecutor(self.workers, spawn, initializer=_leave_with, initargs=(os.getpid(),))
        return self.pool

    def page_opened(self) -> Callable[[], None]:
        """A page has opened (a session started): the workers stay while it is open; what to call as it closes."""
        with self.lock:
            self.pages += 1

        def closed() -> None:
            with self.lock:
                self.pages -= 1
                self.last_used = time.monotonic()

        return closed

    def idle(self) -> bool:
        """Whether no page has been open, and no fan asked for or under way, for FAN_IDLE seconds."""
        return not self.pages and not self.busy and time.monotonic() - self.last_used > FAN_IDLE

    def _reap(self) -> None:
        """Let the workers go once no page has been open for FAN_IDLE seconds.

        A class that has left gives its memory back (each worker holds the
        model and its compiled rules); the next fan respawns them. A class
        that pauses with its pages open keeps them: after the pause, the
        first fan is as quick as any other.
        """
        while True:
            time.sleep(FAN_IDLE / 8)
            with self.lock:
                if self.pool is not None and self.idle():
                    self.pool.shutdown(wait=False)  # a fan under way still finishes
                    self.pool = None

    def stop(self) -> None:
        """Let the workers go, dropping the fans not yet begun."""
        with self.lock:
            if self.pool is not None:
                self.pool.shutdown(wait=False, cancel_futures=True)
                self.pool = None

    def view(self, model: ClassroomModel) -> FanView:
        """The fan of ``model``'s world as the page draws it: cached, or computed by a worker (or here, without)."""
        key, args = model.fan_recipe()
        if not self.workers:
            return FanView(key, FanSummary.of(model.fan()))
        return FanView(key, self.views.get(key, lambda: self._compute(args)))

    def _compute(self, args: FanArgs) -> FanSummary:
        """One fan's summary, computed by a worker (the workers spawned again if they had left)."""
        with self.lock:
            self.busy += 1
            pool = self.pool if self.pool is not None else self._spawn()
            future = pool.submit(_summary_in_worker, args)
        try:
            return future.result()
        finally:
            with self.lock:
                self.busy -= 1
                self.last_used = time.monotonic()


def _summary_in_worker(args: FanArgs) -> FanSummary:
    """In a fan worker: one fan's summary, then the fan's freed memory handed back to the system."""
    summary = fan_summary(*args)
    if TRIMMER.trim is not None:
        TRIMMER.trim(0)
    return summary


def _leave_with(server: int) -> None:
    """In a fan worker: exit when the server is gone, however it ended (a killed server cannot say so)."""

    def watch() -> None:
        while os.getppid() == server:
            time.sleep(1)
        os._exit(0)

    threading.Thread(target=watch, name="bamboo-watch-server", daemon=True).start()


FANS = FanWorkers()


def fan_view(model: ClassroomModel) -> FanView:
    """The fan of ``model``'s world, from the server's fan workers."""
    return FANS.view(model)
