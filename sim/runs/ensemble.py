"""Ensemble execution: a scenario's runs in chunks, each chunk through the same agent rules.

Run *i* draws its random numbers from (seed, i) alone (``sim.model.streams``), so a
chunk of runs [first, first + n) reproduces exactly those runs of the whole
ensemble, and aggregates merge exactly (``sim.runs.results.Aggregate``). The result
is therefore the same bit for bit whatever the chunk size, the number of
workers, the executor, the order in which chunks finish, or whether a chunk
was run twice because its worker died.

Executors (``executor``): in this process, a local process pool, or a Dask
cluster. A checkpoint (``sim.runs.checkpoint``) keeps each finished chunk on disk, so an
interrupted ensemble resumes where it stopped.
"""

from __future__ import annotations

import concurrent.futures as cf
import itertools
import multiprocessing
import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Literal, Self

import numpy as np

from sim.runs.checkpoint import Checkpoint
from sim.runs.chunks import DEFAULT_CHUNK, Chunk, ExecutionError, SetupError, chunks
from sim.runs.results import Aggregate, series_named
from sim.runs.tally import RunMeans, StrategyTally

if TYPE_CHECKING:
    from distributed import Client, Future

    from sim.model.balance import BalanceModel
    from sim.runs.scenario import Scenario


FAULTS_ENV = "BAMBOO_TEST_FAULTS"  # test hook, see _injected_fault
POOL_RESTARTS = 3  # pool breakages in a row, with no chunk finished between them, before giving up

# A task for an executor: its key (for an ensemble, the design point and the chunk) and its function's arguments.
type Task[K] = tuple[K, tuple[object, ...]]


def run_chunk(
    scenario: Scenario,
    chunk: Chunk,
    seed: int,
    keep_model: bool = False,
    series: Iterable[str] | None = None,
    strategies: tuple[str, ...] | None = None,
) -> tuple[Aggregate, BalanceModel | None]:
    """Simulate one chunk; returns its Aggregate (and the model, when asked, for trajectories).

    With ``strategies``, the same runs are simulated under each of them too
    (common random numbers), and the Aggregate carries their ``tally``.
    """
    agg = Aggregate(scenario.steps, series_named(series))
    means = RunMeans()
    model = scenario.model(
        runs=chunk.runs, seed=seed, first_run=chunk.first_run, record=keep_model, observers=[agg, means]
    )
    model.run_for(scenario.steps)
    agg.close_chunk(model.verdict.mode, model.verdict.step, model.verdict.dropped_by_power)
    if strategies:
        agg.tally = _tally(scenario, chunk, seed, strategies, model, means)
    return agg, (model if keep_model else None)


def _tally(
    scenario: Scenario, chunk: Chunk, seed: int, strategies: tuple[str, ...], model: BalanceModel, means: RunMeans
) -> StrategyTally:
    """The chunk's runs under every strategy; the one already run is not run again."""
    survived: dict[str, np.ndarray] = {}
    modes: dict[str, np.ndarray] = {}
    security: dict[str, np.ndarray] = {}
    coerced: dict[str, np.ndarray] = {}
    for name in strategies:
        m, mm = model, means
        if name != model.strategy:
            mm = RunMeans()
            m = scenario.model(
                runs=chunk.runs, seed=seed, first_run=chunk.first_run, record=False, observers=[mm], strategy=name
            )
            m.run_for(scenario.steps)
        survived[name], modes[name], security[name] = m.verdict.survived, m.verdict.mode, mm.mean
        coerced[name] = m.verdict.coerced
    tally = StrategyTally(tuple(strategies))
    tally.add(survived, modes, security, coerced)
    return tally


def simulate(
    scenario: Scenario, runs: int | None = None, seed: int | None = None, chunk_size: int = DEFAULT_CHUNK
) -> Aggregate:
    """The scenario's ensemble in this process, merged into one Aggregate (``execute`` for one scenario)."""
    runs = runs or scenario.runs
    seed = scenario.seed if seed is None else seed
    return execute([scenario], runs, seed, chunk_size)[0]


# -- one task: a chunk of one scenario, wherever it runs -------------------------
def chunk_task(
    scenario: Scenario,
    point: int,
    chunk: Chunk,
    seed: int,
    series: Iterable[str] | None,
    trajectories: bool,
    strategies: tuple[str, ...] | None = None,
) -> tuple[Aggregate, bytes | None]:
    """The unit of work shipped to workers: (Aggregate, trajectories as Parquet bytes or None).

    The scenario travels pickled, flattened and validated, so workers need this
    package but not the scenario files.
    """
    agg, model = run_chunk(scenario, chunk, seed, keep_model=trajectories, series=series, strategies=strategies)
    table = _parquet_bytes(model) if model is not None else None
    _injected_fault(point, chunk)
    return agg, table


def _parquet_bytes(model: BalanceModel) -> bytes:
    """The model's trajectories as the bytes of a Parquet file."""
    import pyarrow as pa

    from sim.runs.results import TrajectoryWriter

    sink = pa.BufferOutputStream()
    writer = TrajectoryWriter(sink)
    writer.write(model)
    writer.close()
    return sink.getvalue().to_pybytes()


def _injected_fault(point: int, chunk: Chunk) -> None:
    """Test hook: the process that finishes chunk (point, first_run) dies before reporting it, once.

    Armed by a file ``exit-<point>-<first_run>`` in the folder named by
    $BAMBOO_TEST_FAULTS, and only under pytest. Renaming the file is atomic, so
    exactly one process fires it.
    """
    folder = os.environ.get(FAULTS_ENV)
    if not folder or "PYTEST_CURRENT_TEST" not in os.environ:
        return
    trigger = Path(folder) / f"exit-{point}-{chunk.first_run}"
    try:
        trigger.rename(Path(folder) / f"fired-{point}-{chunk.first_run}")
    except OSError:
        return
    os._exit(75)


# -- executors: each yields (key, result) as tasks finish --------------------------
class InProcess:
    """Chunks one after another in this process (``--workers 1``)."""

    def __enter__(self) -> Self:
        """Nothing to start."""
        return self

    def __exit__(self, *exc: object) -> Literal[False]:
        """Nothing to stop; an exception goes on."""
        return False

    def imap[K, R](self, fn: Callable[..., R], tasks: Iterable[Task[K]]) -> Iterator[tuple[K, R]]:
        """Each task's key and ``fn(*args)``, in order."""
        for key, args in tasks:
            yield key, fn(*args)


def _bounded[K, F](
    submit: Callable[[tuple[object, ...]], F],
    tasks: Iterable[Task[K]],
    limit: int,
    wait: Callable[[list[F]], Iterable[F]],
) -> Iterator[tuple[K, F]]:
    """Keep at most ``limit`` tasks in flight, so finished results never pile up in memory.

    Yields each finished task's key and future (``F``: a concurrent.futures or a Dask future); the next task is
    submitted when the caller asks for more.
    """
    queue = iter(tasks)
    flying = {submit(args): key for key, args in itertools.islice(queue, limit)}
    while flying:
        for future in wait(list(flying)):
            key = flying.pop(future)
            yield key, future
            flying |= {submit(args): k for k, args in itertools.islice(queue, 1)}


class ProcessPool:
    """A local pool of worker processes (``--workers N``), restarted if a worker dies.

    A dead worker breaks the whole pool (BrokenProcessPool): the chunks in
    flight are lost, so the pool is restarted and every unfinished chunk is
    submitted again. Workers are forked from a clean server process
    (forkserver), never from this one, which may hold threads.
    """

    pool: cf.ProcessPoolExecutor  # started on entering the with block

    def __init__(self, workers: int) -> None:
        """A pool of ``workers`` processes, started on entering the with block."""
        self.workers = workers
        self.context = multiprocessing.get_context("forkserver")
        self.context.set_forkserver_preload(["sim.runs.warm"])  # workers start with the model and its kernels loaded

    def __enter__(self) -> Self:
        """Start the worker processes."""
        self.pool = cf.ProcessPoolExecutor(self.workers, mp_context=self.context)
        return self

    def __exit__(self, *exc: object) -> Literal[False]:
        """Stop the worker processes, dropping the tasks not started; an exception goes on."""
        self.pool.shutdown(wait=True, cancel_futures=True)
        return False

    def imap[K, R](self, fn: Callable[..., R], tasks: Iterable[Task[K]]) -> Iterator[tuple[K, R]]:
        """Each task's key and ``fn(*args)``, as they finish; the unfinished ones again if the pool breaks."""
        unfinished = dict(tasks)
        breakages = 0
        while unfinished:
            try:
                for key, future in _bounded(
                    lambda args: self.pool.submit(fn, *args), list(unfinished.items()), 2 * self.workers, _first_done
                ):
                    result = future.result()
                    del unfinished[key]
                    breakages = 0
                    yield key, result
            except BrokenProcessPool:
                breakages += 1
                if breakages > POOL_RESTARTS:
                    raise ExecutionError(
                        f"worker processes died {breakages} times in a row without finishing a chunk; giving up"
                    ) from None
                self.pool.shutdown(wait=False, cancel_futures=True)
                self.pool = cf.ProcessPoolExecutor(self.workers, mp_context=self.context)


def _first_done[R](futures: list[cf.Future[R]]) -> list[cf.Future[R]]:
    """Finished futures, successful ones first, so a breakage loses no finished result."""
    done, _ = cf.wait(futures, return_when=cf.FIRST_COMPLETED)
    return sorted(done, key=lambda f: f.exception() is not None)


class DaskCluster:
    """An existing Dask distributed cluster (``--scheduler ADDRESS``).

    If a worker dies, the scheduler gives its tasks to another worker
    (up to ``distributed.scheduler.allowed-failures`` times per task).
    """

    client: Client  # connected on entering the with block

    def __init__(self, address: str) -> None:
        """The cluster whose scheduler is at ``address``, connected to on entering the with block."""
        self.address = address

    def __enter__(self) -> Self:
        """Connect, and check that every worker runs this version of the package."""
        from distributed import Client

        from sim import __version__

        try:
            self.client = Client(self.address, set_as_default=False)
        except (OSError, TimeoutError, ValueError) as exc:
            raise SetupError(f"cannot reach the Dask scheduler at {self.address}: {exc}") from None
        try:
            versions = self.client.run(_package_version)
        except Exception as exc:
            self.client.close()
            raise SetupError(f"Dask workers at {self.address} cannot import the bamboo package: {exc}") from None
        wrong = ", ".join(f"{w} has {v}" for w, v in versions.items() if v != __version__)
        if wrong:  # a cluster with no workers yet (adaptive) is fine: tasks wait for them
            self.client.close()
            raise SetupError(f"Dask cluster at {self.address}: expected bamboo {__version__} on every worker; {wrong}")
        return self

    def __exit__(self, *exc: object) -> Literal[False]:
        """Disconnect; an exception goes on."""
        self.client.close()
        return False

    def imap[K, R](self, fn: Callable[..., R], tasks: Iterable[Task[K]]) -> Iterator[tuple[K, R]]:
        """Each task's key and ``fn(*args)``, as they finish on the cluster."""
        from distributed import wait
        from distributed.scheduler import KilledWorker

        def first_done(futures: list[Future[R]]) -> list[Future[R]]:
            with self.client.as_current():
                return list(wait(futures, return_when="FIRST_COMPLETED").done)

        limit = 2 * max(sum(self.client.nthreads().values()), 1)
        try:
            for key, future in _bounded(
                lambda args: self.client.submit(fn, *args, pure=False), tasks, limit, first_done
            ):
                yield key, future.result()
        except KilledWorker as exc:
            raise ExecutionError(f"Dask workers kept dying on one chunk; giving up ({exc})") from None


def _package_version() -> str:
    """This package's version, as a worker has it."""
    from sim import __version__

    return __version__


Executor = InProcess | ProcessPool | DaskCluster


def executor(workers: int = 1, scheduler: str | None = None) -> Executor:
    """The executor for ``--workers`` / ``--scheduler``: a context manager with ``imap``."""
    if scheduler:
        return DaskCluster(scheduler)
    return ProcessPool(workers) if workers > 1 else InProcess()


# -- checkpoints -------------------------------------------------------------------


# -- the ensemble ------------------------------------------------------------------
@dataclass
class _Progress:
    """The design points under way: each one's chunks merged as they finish, in any order."""

    scenarios: Sequence[Scenario]
    series: tuple[str, ...] | None
    left: dict[int, int]  # chunks still to finish, by point
    on_chunk: Callable[[int, Chunk, bool], object] | None
    on_point: Callable[[int, Aggregate], object] | None
    totals: dict[int, Aggregate] = field(default_factory=dict)
    done: dict[int, Aggregate] = field(default_factory=dict)

    def finish(self, point: int, chunk: Chunk, agg: Aggregate, resumed: bool) -> None:
        """Merge a finished chunk; after a point's last one, hand its Aggregate on (to ``on_point``, else ``done``)."""
        if point not in self.totals:  # built once per point, not per chunk
            self.totals[point] = Aggregate(self.scenarios[point].steps, series_named(self.series))
        self.totals[point].merge(agg)
        self.left[point] -= 1
        if self.on_chunk is not None:
            self.on_chunk(point, chunk, resumed)
        if not self.left[point]:
            if self.on_point is not None:
                self.on_point(point, self.totals.pop(point))
            else:
                self.done[point] = self.totals.pop(point)


def execute(
    scenarios: Sequence[Scenario],
    runs: int,
    seed: int,
    chunk_size: int = DEFAULT_CHUNK,
    *,
    run_on: Executor | None = None,
    checkpoint: Checkpoint | None = None,
    series: tuple[str, ...] | None = None,
    trajectories: bool = False,
    on_chunk: Callable[[int, Chunk, bool], object] | None = None,
    on_point: Callable[[int, Aggregate], object] | None = None,
    strategies: tuple[str, ...] | None = None,
) -> dict[int, Aggregate]:
    """Run ``runs`` runs of every scenario (a design point each) in chunks, on ``run_on`` (default: here).

    ``on_chunk(point, chunk, resumed)`` follows each chunk; ``on_point(point,
    aggregate)`` follows each scenario's last chunk, and its Aggregate is then
    dropped (without ``on_point`` the Aggregates are returned instead), so a
    sweep holds only the few points in progress. With ``strategies``, each
    chunk is also run under every one of them (``sim.runs.tally``).
    """
    if trajectories and checkpoint is None:
        raise ValueError("trajectories are kept in a checkpoint folder: give one")
    parts = chunks(runs, chunk_size)
    plan = [(p, c) for p in range(len(scenarios)) for c in parts]
    progress = _Progress(scenarios, series, dict.fromkeys(range(len(scenarios)), len(parts)), on_chunk, on_point)
    todo: list[Task[tuple[int, Chunk]]] = []
    for p, c in plan:
        if checkpoint is not None and checkpoint.finished(p, c):
            progress.finish(p, c, checkpoint.load(p, c), True)
        else:
            todo.append(((p, c), (scenarios[p], p, c, seed, series, trajectories, strategies)))
    if todo:
        with run_on or InProcess() as ex:
            for (p, c), (agg, table) in ex.imap(chunk_task, todo):
                if checkpoint is not None:
                    checkpoint.save(p, c, agg, table)
                progress.finish(p, c, agg, False)
    return progress.done
