"""Ensemble execution: a scenario's runs in chunks, each chunk through the same agent rules.

Run *i* draws its random numbers from (seed, i) alone (``sim.model.streams``), so a
chunk of runs [first, first + n) reproduces exactly those runs of the whole
ensemble, and aggregates merge exactly (``sim.runs.results.Aggregate``). The result
is therefore the same bit for bit whatever the chunk size, the number of
workers, the executor, the order in which chunks finish, or whether a chunk
was run twice because its worker died.

Executors (``executor``): in this process, a local process pool, or a Dask
cluster. A ``Checkpoint`` keeps each finished chunk on disk, so an interrupted
ensemble resumes where it stopped.
"""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import itertools
import json
import multiprocessing
import os
import re
import zipfile
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING, Literal, Self

import numpy as np
import numpy.typing as npt

from sim.runs.results import SERIES, Aggregate, Series
from sim.runs.tally import RunMeans, StrategyTally

if TYPE_CHECKING:
    from distributed import Client, Future

    from sim.model.balance import BalanceModel
    from sim.runs.scenario import Scenario


DEFAULT_CHUNK = 10_000
ROW_GROUP = 1 << 18  # rows per row group of a trajectories file
FAULTS_ENV = "BAMBOO_TEST_FAULTS"  # test hook, see _injected_fault
OWN = re.compile(r"plan\.json(\.tmp)?|p\d{5}-r\d{12}\.(npz|parquet)(\.tmp)?")  # what a Checkpoint writes
POOL_RESTARTS = 3  # pool breakages in a row, with no chunk finished between them, before giving up

# A task for an executor: its key (for an ensemble, the design point and the chunk) and its function's arguments.
type Task[K] = tuple[K, tuple[object, ...]]


class SetupError(ValueError):
    """The ensemble cannot start as asked (unreachable cluster, checkpoint of another run): exit 2."""


class ExecutionError(RuntimeError):
    """The ensemble could not be completed (workers kept dying): exit 1."""


@dataclass(frozen=True)
class Chunk:
    """The runs [first_run, first_run + runs) of an ensemble."""

    first_run: int
    runs: int


def chunks(runs: int, size: int = DEFAULT_CHUNK) -> list[Chunk]:
    """``runs`` runs in chunks of ``size`` (the last one may be smaller)."""
    return [Chunk(first, min(size, runs - first)) for first in range(0, runs, size)]


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
    agg = Aggregate(scenario.steps, _series(series))
    means = RunMeans()
    model = scenario.model(
        runs=chunk.runs, seed=seed, first_run=chunk.first_run, record=keep_model, observers=[agg, means]
    )
    model.run_for(scenario.steps)
    agg.close_chunk(model.verdict.mode, model.verdict.step)
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


def _series(names: Iterable[str] | None) -> Series | None:
    """The series ``names`` (None: all of them, the Aggregate's default)."""
    return None if names is None else {k: SERIES[k] for k in names}


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
class Checkpoint:
    """Finished chunks on disk: each one's Aggregate (.npz) and, if asked, its trajectories (.parquet).

    ``identity`` says what the chunks are of (scenarios, runs, seed, chunking
    ...); a folder made for anything else is never mixed in.
    """

    def __init__(self, folder: Path, identity: Mapping[str, object]) -> None:
        """The chunks in ``folder`` of the run ``identity`` describes (``open`` checks the folder)."""
        self.folder = Path(folder)
        self.identity = identity

    @classmethod
    def open(cls, folder: Path, identity: Mapping[str, object], resume: bool, force: bool) -> Checkpoint:
        """The checkpoint in ``folder``: its finished chunks kept if ``resume``, discarded if ``force``.

        Raises:
            SetupError: the folder is something else, holds another run's chunks or files Bamboo did not write,
                or holds an interrupted run and neither ``resume`` nor ``force`` is given.
        """
        store = cls(folder, identity)
        plan = store.folder / "plan.json"
        if store.folder.is_symlink() or (store.folder.exists() and not store.folder.is_dir()):
            raise SetupError(f"{store.folder}: expected the folder of finished chunks, found something else there")
        if store.folder.exists() and not any(store.folder.glob("*.npz")):
            store.discard()  # nothing was finished: nothing to keep
            store._refuse_foreign()
        if store.folder.exists():
            if resume:
                try:
                    made = json.loads(plan.read_text())
                except (OSError, ValueError):
                    made = None
                if made != identity:
                    raise SetupError(
                        f"{store.folder}: finished chunks of a different run; {_differences(made, identity)}"
                    )
                return store
            if not force:
                raise SetupError(
                    f"{store.folder}: holds finished chunks of an interrupted run; "
                    "add --resume to continue it or --force to start again"
                )
            store.discard()
            store._refuse_foreign()
        return store

    def _refuse_foreign(self) -> None:
        """Refuse a folder still there once the files this class writes are gone."""
        if self.folder.exists():
            raise SetupError(f"{self.folder}: holds files Bamboo did not write; move them to start again")

    def _stem(self, point: int, chunk: Chunk) -> Path:
        """The chunk's files, without their suffix."""
        return self.folder / f"p{point:05d}-r{chunk.first_run:012d}"

    def finished(self, point: int, chunk: Chunk) -> bool:
        """Whether the chunk of design point ``point`` was saved whole."""
        return self._stem(point, chunk).with_suffix(".npz").exists()

    def load(self, point: int, chunk: Chunk) -> Aggregate:
        """A saved chunk's Aggregate, as it was saved."""
        with np.load(self._stem(point, chunk).with_suffix(".npz")) as f:
            agg = Aggregate(int(f["steps"]), _series(str(k) for k in f["series"]))
            agg.runs = int(f["runs"])
            for key in agg.hist:
                agg.hist[key][...] = f[f"hist_{key}"]
                agg.sums[key][...] = f[f"sums_{key}"]
            agg.tiers[...], agg.failures[...] = f["tiers"], f["failures"]
            if "tally_names" in f:
                agg.tally = StrategyTally(tuple(str(n) for n in f["tally_names"]))
                agg.tally.runs = int(f["tally_runs"])
                for key in StrategyTally.ARRAYS:
                    getattr(agg.tally, key)[...] = f[f"tally_{key}"]
        return agg

    def _start(self) -> None:
        """The folder and its plan, made with the first finished chunk, so a failed start leaves nothing."""
        if not self.folder.exists():
            self.folder.mkdir(parents=True)
            _replace(self.folder / "plan.json", lambda f: f.write(json.dumps(self.identity, indent=2).encode() + b"\n"))

    def save(self, point: int, chunk: Chunk, agg: Aggregate, table: bytes | None) -> None:
        """Trajectories first, then the aggregate; each written aside and renamed, so a chunk is whole or absent."""
        self._start()
        stem = self._stem(point, chunk)
        if table is not None:
            _replace(stem.with_suffix(".parquet"), lambda f: f.write(table))
        # counts in the narrowest type that holds them (read back into int64): a chunk takes milliseconds to save
        arrays: dict[str, npt.ArrayLike] = {
            f"hist_{k}": v.astype(np.min_scalar_type(int(v.max()))) for k, v in agg.hist.items()
        }
        arrays |= {f"sums_{k}": v for k, v in agg.sums.items()}
        arrays |= {"tiers": agg.tiers, "failures": agg.failures, "runs": agg.runs, "steps": agg.steps}
        if agg.tally is not None:
            arrays |= {f"tally_{key}": getattr(agg.tally, key) for key in StrategyTally.ARRAYS}
            arrays |= {"tally_names": np.array(agg.tally.names), "tally_runs": agg.tally.runs}
        _replace(stem.with_suffix(".npz"), lambda f: _savez(f, series=np.array(list(agg.hist)), **arrays))

    def save_arrays(self, point: int, chunk: Chunk, arrays: dict[str, np.ndarray]) -> None:
        """A chunk's per-point outcomes of a design (``sim.runs.explore``), written whole or not at all."""
        self._start()

        def write(f: IO[bytes]) -> None:
            np.savez_compressed(f, **arrays)  # type: ignore[arg-type]  # numpy's stub lets **arrays fill allow_pickle

        _replace(self._stem(point, chunk).with_suffix(".npz"), write)

    def load_arrays(self, point: int, chunk: Chunk) -> dict[str, np.ndarray]:
        """A chunk's per-point outcomes of a design, as saved."""
        with np.load(self._stem(point, chunk).with_suffix(".npz")) as f:
            return {k: f[k] for k in f.files}

    def join_trajectories(self, point: int, parts: list[Chunk], path: Path) -> Path:
        """One Parquet file of a point's trajectories, in row groups of ROW_GROUP rows whatever the chunking.

        The chunks' rows follow one another in run order; regrouping them in
        fixed groups makes the file the same bytes for any chunk size. At most
        one group and one chunk's row group are in memory at a time.
        """
        import pyarrow as pa
        import pyarrow.parquet as pq

        writer, pending = None, None
        for chunk in parts:
            part = pq.ParquetFile(self._stem(point, chunk).with_suffix(".parquet"))
            for i in range(part.num_row_groups):
                table = part.read_row_group(i)
                pending = table if pending is None else pa.concat_tables([pending, table])
                writer = writer or pq.ParquetWriter(path, table.schema, compression="zstd")
                while pending.num_rows >= ROW_GROUP:
                    writer.write_table(pending.slice(0, ROW_GROUP).combine_chunks(), row_group_size=ROW_GROUP)
                    pending = pending.slice(ROW_GROUP)
            part.close()
        if writer is not None:  # as soon as a row group was read: pending is not None either
            if pending is not None and pending.num_rows:
                writer.write_table(pending.combine_chunks(), row_group_size=ROW_GROUP)
            writer.close()
        return path

    def count(self) -> int:
        """Finished chunks kept."""
        return len(list(self.folder.glob("*.npz"))) if self.folder.is_dir() else 0

    def discard(self) -> None:
        """Remove the files this class writes, then the folder if nothing else is in it."""
        if self.folder.is_symlink() or not self.folder.is_dir():
            return
        for path in self.folder.iterdir():
            if OWN.fullmatch(path.name) and path.is_file() and not path.is_symlink():
                path.unlink()
        with contextlib.suppress(OSError):
            self.folder.rmdir()


def _savez(f: IO[bytes], **arrays: npt.ArrayLike) -> None:
    """``np.savez_compressed`` at the fastest deflate level: a chunk's histograms are mostly zeros."""
    with zipfile.ZipFile(f, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as z:
        for name, value in arrays.items():
            with z.open(name + ".npy", "w", force_zip64=True) as out:
                np.lib.format.write_array(out, np.asanyarray(value), allow_pickle=False)


def _replace(path: Path, write: Callable[[IO[bytes]], object]) -> None:
    """Write ``path`` by ``write`` to a file beside it, then rename it: the file is whole or absent."""
    aside = path.with_name(path.name + ".tmp")
    with open(aside, "wb") as f:
        write(f)
    os.replace(aside, path)


def _differences(made: object, wanted: Mapping[str, object]) -> str:
    """What differs between the plan a folder was ``made`` for (None: unreadable) and the one ``wanted``."""
    if not isinstance(made, dict):
        return "its plan.json is missing or unreadable; use --force to start again"
    keys = [k for k in wanted if made.get(k) != wanted[k]] or ["(plan)"]
    told = "; ".join(f"{k}: {made.get(k)!r} there, {wanted.get(k)!r} now" for k in keys)
    return f"{told}. Run again with the same settings, or use --force to discard them"


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
            self.totals[point] = Aggregate(self.scenarios[point].steps, _series(self.series))
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
