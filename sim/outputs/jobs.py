"""Jobs into a folder: running, comparing, sweeping and exploring a scenario, each written whole or not at all.

Every job takes one path: its work is checked against the limits and the memory here before it starts; the
finished chunks are kept in ``.<out>.partial`` beside the output (a checkpoint), so that an interrupted job
continues with ``resume``; the files are written into a staging folder that replaces the output only when
complete (``sim.runs.output``); the checkpoint is discarded once the output is in place. The command line
parses its arguments, calls a job and prints what it returns.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from sim.model import limits
from sim.runs import output

if TYPE_CHECKING:
    import numpy as np

    from sim.runs import explore, sweep
    from sim.runs.checkpoint import Checkpoint
    from sim.runs.chunks import Chunk
    from sim.runs.comparison import Comparison
    from sim.runs.results import Aggregate
    from sim.runs.scenario import Scenario

OnChunk = Callable[[int], None]  # told the number of runs each finished chunk adds (a progress bar)
Say = Callable[[str], None]  # told what a job has to say beside its result (that it resumes)


class Interrupted(Exception):
    """Ctrl+C during a job: the message says what was kept."""


class JobError(Exception):
    """A job that cannot be run as asked (its runs do not fit its chunks): the message says why."""


@dataclasses.dataclass(frozen=True)
class Resources:
    """Where a job runs and how it keeps its work: the chunk size, the workers or cluster, resume and force."""

    chunk: int | None = None  # runs simulated at once (None: the job's default)
    workers: int = 1
    scheduler: str | None = None  # a Dask scheduler's address
    resume: bool = False  # continue from the finished chunks of an interrupted job
    force: bool = False  # replace the output folder if Bamboo wrote it


def is_interrupt(exc: BaseException | None) -> bool:
    """Whether ``exc`` is a Ctrl+C, or carries one.

    A Ctrl+C that lands inside a compiled (Numba) call comes back as a SystemError ("returned a result with an
    exception set") whose cause is the KeyboardInterrupt.
    """
    while exc is not None:
        if isinstance(exc, KeyboardInterrupt):
            return True
        exc = exc.__cause__ or exc.__context__
    return False


def sha256(path: Path | None) -> str | None:
    """The sha256 of a file a job reads (a posterior), recorded in its identity and manifest."""
    return None if path is None else hashlib.sha256(path.read_bytes()).hexdigest()


def folder(out: str | None, default: Path, force: bool) -> output.Output:
    """The checked output folder (``out`` or the default); stale staging folders of a killed job removed."""
    target = output.prepare(str(default) if out is None else out, force)
    output.clean_stale(target.path)
    return target


def warn(scenario: Scenario, say: Say | None) -> None:
    """Tell ``say`` the scenario's warnings (a date beyond its horizon, an event that never fires)."""
    if say is not None:
        for w in scenario.warnings:
            say(f"warning: {w}")


def check_memory(
    resources: Resources,
    steps: int,
    runs: int,
    points: int,
    per_step: int,
    columns: int = limits.COLUMNS,
) -> int:
    """Refuse, before any work, a chunk size and workers beyond their limits, and a job beyond the memory here."""
    from sim.runs.chunks import DEFAULT_CHUNK

    size = resources.chunk or DEFAULT_CHUNK
    limits.check_flags(steps, size, resources.workers, per_step, columns, runs, points)
    chunk = min(size, runs)
    workers = min(resources.workers, points * -(-runs // size))
    if resources.scheduler:  # the chunks are simulated on the cluster; here, only the totals
        return limits.check_memory(steps, 0, 1, 0, columns)
    return limits.check_memory(steps, chunk, workers, per_step, columns)


@contextlib.contextmanager
def into_folder(
    target: output.Output,
    identity: dict[str, object],
    points: int,
    parts: Sequence[Chunk],
    resources: Resources,
    say: Say | None = None,
) -> Iterator[tuple[Checkpoint, Path]]:
    """The one path of every job: its checkpoint, resumed if asked, and a staging folder for its files.

    Yields the checkpoint and the staging folder; on success the staging folder becomes ``target`` and the
    checkpoint is discarded. On a Ctrl+C or a lost cluster, :class:`Interrupted` or ``ExecutionError`` says
    what was kept.
    """
    from sim.runs.checkpoint import Checkpoint

    out = target.path
    checkpoint = Checkpoint.open(out.parent / f".{out.name}.partial", identity, resources.resume, resources.force)
    if resources.resume and say is not None:
        finished = sum(checkpoint.finished(p, c) for p in range(points) for c in parts)
        say(f"resuming: {finished} of {points * len(parts)} chunk(s) already finished")
    with _resumable(checkpoint, out), output.staged(target) as staging:
        try:
            yield checkpoint, staging
        except JobError:  # the work ran, but its result cannot be written: nothing to resume
            checkpoint.discard()
            raise
    checkpoint.discard()


@contextlib.contextmanager
def _resumable(checkpoint: Checkpoint, out: Path) -> Iterator[None]:
    """On an interruption or a lost cluster, say what was kept: the finished chunks, if any."""
    from sim.runs.chunks import ExecutionError

    def kept() -> str:
        n = checkpoint.count()
        if not n:
            return "nothing was written"
        return (
            f"{out} was not written; {n} finished chunk(s) are kept in {checkpoint.folder}: "
            "run the same command with --resume to continue"
        )

    try:
        yield
    except (KeyboardInterrupt, SystemError) as exc:
        if not is_interrupt(exc):
            raise
        raise Interrupted(f"interrupted; {kept()}") from None
    except ExecutionError as exc:
        raise ExecutionError(f"{exc}; {kept()}") from None
    except OSError as exc:  # the machine, not the input: a full disk while writing the results
        raise ExecutionError(f"cannot write the results ({exc.strerror or exc}); {kept()}") from None


@dataclasses.dataclass(frozen=True)
class RunDone:
    """A finished ``run``: its aggregate, and the files it wrote into ``out``."""

    aggregate: Aggregate
    out: Path
    files: list[Path]
    figures: list[str]


def run(
    scenario: Scenario,
    out: str | None,
    default: Path,
    runs: int,
    seed: int,
    *,
    trajectories: bool,
    strategies: tuple[str, ...] | None,
    parameters: Path | None,
    resources: Resources,
    on_chunk: OnChunk | None = None,
    say: Say | None = None,
) -> RunDone:
    """A scenario's ensemble into ``target``: summary.json, manifest.json, the figures and (if asked) trajectories."""
    from sim import __version__
    from sim.outputs import plots
    from sim.runs.chunks import DEFAULT_CHUNK, chunks
    from sim.runs.ensemble import execute, executor
    from sim.runs.results import manifest, summary, write_json

    check_memory(resources, scenario.steps, runs, 1, limits.TRAJECTORIES if trajectories else 0)
    size = resources.chunk or DEFAULT_CHUNK
    parts = chunks(runs, size)
    workers = min(resources.workers, len(parts))
    target = folder(out, default, resources.force)
    if trajectories:
        limits.check_disk(target.path.parent, scenario.steps, runs)
    warn(scenario, say)
    identity = {"command": "run", "scenario_sha256": scenario.content_hash(), "runs": runs, "seed": seed}
    identity |= {"chunk": size, "trajectories": trajectories, "package_version": __version__}
    posterior_sha256 = sha256(parameters)
    identity |= {"strategies": list(strategies or ()), "parameters_sha256": posterior_sha256}
    with into_folder(target, identity, 1, parts, resources, say) as (checkpoint, staging):
        (agg,) = execute(
            [scenario],
            runs,
            seed,
            size,
            run_on=executor(workers, resources.scheduler),
            checkpoint=checkpoint,
            trajectories=trajectories,
            on_chunk=None if on_chunk is None else lambda point, chunk, resumed: on_chunk(chunk.runs),
            strategies=strategies,
        ).values()
        result = summary(scenario, agg, runs, seed)
        if parameters is not None:
            result["parameters"] = {"posterior": str(parameters), "sha256": posterior_sha256}
        files = [write_json(staging / "summary.json", result)]
        if trajectories:
            files.append(checkpoint.join_trajectories(0, parts, staging / "trajectories.parquet"))
        files += plots.save_all(agg, scenario, scenario.resolved_parameters.thresholds(), staging)
        write_json(staging / "manifest.json", manifest(scenario, runs, seed, files))
    return RunDone(agg, target.path, [target.path / f.name for f in files], plots.figures(agg))


def compare(
    a: Scenario,
    b: Scenario,
    out: str | None,
    default: Path,
    runs: int,
    seed: int,
    *,
    parameters: Path | None,
    resources: Resources,
    on_chunk: OnChunk | None = None,
    say: Say | None = None,
) -> tuple[Comparison, Path]:
    """Two scenarios on common random numbers into ``target``: compare.json, the difference figure, the manifest."""
    from sim.outputs import plots
    from sim.runs.chunks import DEFAULT_CHUNK
    from sim.runs.comparison import compare as paired_runs
    from sim.runs.results import file_hashes, manifest, write_json

    check_memory(resources, a.steps, runs, 1, limits.COMPARISON)
    size = resources.chunk or DEFAULT_CHUNK
    target = folder(out, default, resources.force)
    warn(a, say)
    warn(b, say)
    with output.staged(target) as staging:
        paired = paired_runs(a, b, runs, seed, size, on_chunk=on_chunk)
        files = [write_json(staging / "compare.json", paired.report(parameters))]
        files += plots.save(plots.paired_difference(paired.difference, a, b), staging / "difference")
        meta = {"a": manifest(a, runs, seed, []), "b": manifest(b, runs, seed, []), "files": file_hashes(files)}
        write_json(staging / "manifest.json", meta)
    return paired, target.path


def sweep_design(
    design: sweep.Design,
    out: str | None,
    default: Path,
    *,
    resources: Resources,
    on_chunk: OnChunk | None = None,
    say: Say | None = None,
) -> tuple[list[dict[str, float]], list[Path], Path]:
    """A design of parameter points into a folder: the rows (one per point), the files written and the folder."""
    from sim import __version__
    from sim.outputs import plots
    from sim.runs import sweep
    from sim.runs.results import SERIES

    columns = sum(len(SERIES[k][0]) for k in sweep.SERIES)
    check_memory(resources, design.scenario.steps, design.runs, len(design.points), 0, columns)
    size = resources.chunk or sweep.DEFAULT_CHUNK
    parts = sweep.chunks(design.runs, size)
    workers = min(resources.workers, len(parts) * len(design.points))
    target = folder(out, default, resources.force)
    warn(design.scenario, say)
    scenarios = design.scenarios()
    identity = {"command": "sweep", "design_sha256": design.content_hash(), "chunk": size}
    identity |= {"package_version": __version__}
    with into_folder(target, identity, len(scenarios), parts, resources, say) as (checkpoint, staging):
        rows = sweep.run(
            design,
            scenarios,
            size,
            run_on=sweep.executor(workers, resources.scheduler),
            checkpoint=checkpoint,
            on_chunk=None if on_chunk is None else lambda point, chunk, resumed: on_chunk(chunk.runs),
        )
        figure = plots.save(plots.sweep_survival(design, rows), staging / "survival")
        files = sweep.write(design, rows, staging, figure)
    return rows, files, target.path


@contextlib.contextmanager
def explore_design(
    design: explore.Design,
    out: str | None,
    default: Path,
    label: str,
    *,
    resources: Resources,
    on_chunk: OnChunk | None = None,
    say: Say | None = None,
) -> Iterator[tuple[Path, dict[str, np.ndarray], float, Path]]:
    """Run a design (``sim.runs.explore``) into a folder: yields the staging folder, outcomes, seconds and folder.

    The caller analyses the outcomes and writes its files into the staging folder; a :class:`JobError` it
    raises (outcomes that cannot be analysed) discards the checkpoint, since there is nothing to resume.
    """
    from sim import __version__
    from sim.runs import explore
    from sim.runs.ensemble import executor

    if design.runs > limits.MAX_RUNS:
        raise JobError(f"{design.runs:,} runs in all; expected at most {limits.MAX_RUNS:,}: a smaller design")
    size = resources.chunk or explore.DEFAULT_CHUNK
    if design.replicates > size:
        raise JobError(f"--replicates {design.replicates:,}: a point's runs must fit in a chunk ({size:,})")
    parts = design.chunks(size)
    check_memory(resources, design.scenario.steps, size, len(parts), 0)
    target = folder(out, default, resources.force)
    warn(design.scenario, say)
    identity = {"command": label, "chunk": size, "package_version": __version__} | design.identity()
    workers = min(resources.workers, len(parts))
    with into_folder(target, identity, 1, parts, resources, say) as (checkpoint, staging):
        started = time.perf_counter()
        outcomes = explore.run(
            design,
            size,
            run_on=executor(workers, resources.scheduler),
            checkpoint=checkpoint,
            on_chunk=None if on_chunk is None else lambda runs, resumed: on_chunk(runs),
        )
        yield staging, outcomes, time.perf_counter() - started, target.path
