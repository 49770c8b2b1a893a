"""Limits on every input that sizes work, the memory a job needs, and the memory this machine has.

Each limit is checked when a file is read (so ``bamboo validate`` refuses what
``bamboo run`` would) or when the command line is parsed, always before any
work starts. The memory estimate comes from measurements of the ensemble path
(docs/safety.md); a job whose estimate exceeds the memory available now is
refused before it starts. ``LIMITS`` is the table shown in docs/safety.md
(tests/test_docs.py keeps the two equal).
"""

from __future__ import annotations

import os
from pathlib import Path

MAX_STEPS = 200  # horizon: 50 years of quarterly steps
MAX_RUNS = 100_000_000  # runs of a run or a comparison; design points x runs of a sweep
MAX_CHUNK = 100_000  # runs simulated at once
MAX_TRAJECTORY_RUNS = 1_000_000  # runs whose per-step trajectories are written
MAX_CHUNKS = 10_000  # chunks of a job: each finished one is a file until the job completes
MAX_POINTS = 10_000  # design points of a sweep
MAX_LEVELS = 1_000  # levels of one grid axis
MAX_EVENTS = 1_000  # events of a flattened scenario
MAX_BASE_DEPTH = 16  # files in a chain of base scenarios
MAX_FILE_BYTES = 1 << 20  # a scenario or design file
MAX_DATA_BYTES = 16 << 20  # a record, series or posterior file (a posterior of 10,000 particles is about 4 MiB)
MAX_NODES = 100_000  # YAML values in a file, an alias counted as what it stands for
MAX_DEPTH = 100  # YAML lists and mappings nested in each other
MAX_DIGITS = 30  # digits of a whole number in YAML
MAX_TEXT = 10_000  # characters of one value in YAML (a description, a path)
MAX_PATH = 4096  # characters of a base file's path (Linux's own limit)
MAX_NAME = 200  # characters of a scenario's or a design's name: it titles every figure and the progress bar
MAX_SEED = 2**63 - 1
MAX_WEIGHT = 1e6  # a weight, an inertia or a behavioural parameter (their defaults are at most 35)
MAX_OUT_NAME = 200  # bytes in the output folder's name (its staging folders add 10; a name has at most 255)
MAX_UPLOADS = 20  # scenario files one dashboard session keeps
MAX_UPLOAD_BYTES = 32 << 20  # bytes one dashboard session may upload in all, whatever the files' names
MAX_BENCH_MESA_RUNS = 1_000  # bench: one Mesa model per run, all kept by batch_run
MAX_BENCH_ENSEMBLE_RUNS = 10_000_000

# Memory of the ensemble path, measured with /usr/bin/time on Linux (docs/safety.md), rounded up.
PROCESS = 460 * 2**20  # the command: Python, numpy, Mesa, matplotlib, numba and the compiled kernels
WORKER = 320 * 2**20  # a worker process, with its share of the fork server (numba included)
PER_RUN = 24 * 2**10  # one run's state in a chunk, with its runs under the other strategies and the kernels' scratch
TRAJECTORIES = 1400  # per run and step when trajectories are written: the model's record and its Parquet columns
RECORD = 200  # per run and step of one model's record, kept whole by the hindcast (history: 5.6 GB for 100,000 runs)
COMPARISON = 2 * RECORD  # per run and step in a comparison: the records of both models
COLUMNS = 17  # columns of the series an Aggregate keeps (sim.runs.results.SERIES)
BINS = 2000  # histogram bins per column (sim.runs.results.BINS)


class LimitError(ValueError):
    """A job beyond a documented limit, or beyond this machine's memory: exit status 2."""


def processors() -> int:
    """Processors this process may use."""
    if hasattr(os, "process_cpu_count"):
        return os.process_cpu_count() or 1
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0)) or 1
    return os.cpu_count() or 1


def _rows() -> list[tuple[str, str, str]]:
    return [
        ("horizon", f"{MAX_STEPS} steps after start (50 years)", "each result histogram grows with the steps"),
        ("runs (file, `--runs`)", f"{MAX_RUNS:,}", "time grows with runs; memory does not"),
        ("runs with trajectories", f"{MAX_TRAJECTORY_RUNS:,}", "about 70 bytes of disk per run and step"),
        ("`--chunk`", f"{MAX_CHUNK:,} runs", "memory grows with the chunk"),
        ("chunks of a job (runs / chunk, x points)", f"{MAX_CHUNKS:,}", "each kept on disk until the job ends"),
        ("`--workers`", "the processors of this machine", "each worker holds a chunk"),
        ("`--seed`, `seed:`", f"{MAX_SEED:,} (2^63 - 1)", "numpy's seed range"),
        (
            "`thresholds.persistence`, `behaviour.tier_patience`",
            f"{MAX_STEPS} steps",
            "a wait longer than any run is the same as none",
        ),
        ("weights, inertia, `behaviour.*`", f"{MAX_WEIGHT:,.0f}", "their defaults are at most 35; more only overflows"),
        ("sweep design points", f"{MAX_POINTS:,}", "counted exactly, whatever the axes"),
        ("sweep grid levels per axis", f"{MAX_LEVELS:,}", ""),
        ("sweep points x runs", f"{MAX_RUNS:,}", "the runs of one run"),
        (
            "sensitivity points x replicates x strategies",
            f"{MAX_RUNS:,}",
            "counted before a point is drawn; the design's arrays within the memory available",
        ),
        ("`history --runs`", "the memory available", "every run's record is kept at once"),
        ("events (flattened scenario)", f"{MAX_EVENTS:,}", "each is applied at every step"),
        ("chain of `base:` files", f"{MAX_BASE_DEPTH} files", ""),
        ("a `base:` path", f"{MAX_PATH:,} characters", "shown shortened in the middle in a message"),
        ("scenario or design file", f"{MAX_FILE_BYTES // 2**20} MiB", "checked before parsing; pipes, devices refused"),
        (
            "record, series or posterior file (`--record`, `--series`, `--parameters`)",
            f"{MAX_DATA_BYTES // 2**20} MiB",
            "checked while reading; pipes, devices refused",
        ),
        ("YAML values in a file", f"{MAX_NODES:,}", "an alias counts as all it stands for"),
        ("YAML nesting", f"{MAX_DEPTH} levels", "lists and mappings inside each other"),
        ("a whole number in YAML", f"{MAX_DIGITS} digits", "longer ones are refused, never converted"),
        ("one value in YAML (a text, a number)", f"{MAX_TEXT:,} characters", "tags (`!!int`, `!foo`) are refused"),
        ("a scenario's or design's `name`", f"{MAX_NAME} characters", "it titles every figure"),
        ("output folder name", f"{MAX_OUT_NAME} bytes", "its staging folders beside it add 10"),
        ("dashboard uploads per session", f"{MAX_UPLOADS}", "each at most the file limit above"),
        (
            "bytes a dashboard session uploads",
            f"{MAX_UPLOAD_BYTES // 2**20} MiB in all",
            "whatever the files' names; a chunk the server did not ask for is dropped",
        ),
        (
            "`bench --steps`, `--mesa-runs`, `--ensemble-runs`",
            f"{MAX_STEPS}; {MAX_BENCH_MESA_RUNS:,}; {MAX_BENCH_ENSEMBLE_RUNS:,}",
            "",
        ),
        ("memory of a job", "the memory available when it starts", "estimated as below; refused before work"),
    ]


def table() -> str:
    """The limits as a Markdown table (docs/safety.md)."""
    lines = ["| input | limit | note |", "|---|---|---|"]
    lines += [f"| {a} | {b} | {c} |" for a, b, c in _rows()]
    return "\n".join(lines)


# -- memory ------------------------------------------------------------------------
def aggregate_bytes(steps: int, columns: int = COLUMNS) -> int:
    """One Aggregate: a histogram and a sum per column and step (sim.runs.results.Aggregate)."""
    return (steps + 1) * columns * (BINS + 1) * 8


def chunk_bytes(steps: int, chunk: int, per_step: int) -> int:
    """A chunk being simulated; ``per_step``: bytes kept per run and step (0, TRAJECTORIES or COMPARISON)."""
    return chunk * (PER_RUN + per_step * (steps + 1))


def estimate(steps: int, chunk: int, workers: int = 1, per_step: int = 0, columns: int = COLUMNS) -> int:
    """Bytes a job needs at its peak: the command and its totals, and each process simulating a chunk."""
    agg = aggregate_bytes(steps, columns)
    main = PROCESS + 3 * agg  # the totals, a chunk's result and the percentiles read from them
    if workers <= 1:
        return main + chunk_bytes(steps, chunk, per_step)
    return main + 2 * workers * agg + workers * (WORKER + agg + chunk_bytes(steps, chunk, per_step))


def available() -> int | None:
    """Memory available now (Linux: MemAvailable, within a control group's limit); None if unknown."""
    found = []
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                found.append(int(line.split()[1]) * 1024)
    except (OSError, ValueError, IndexError):
        pass
    try:
        limit = Path("/sys/fs/cgroup/memory.max").read_text().strip()
        used = Path("/sys/fs/cgroup/memory.current").read_text().strip()
        if limit != "max":
            found.append(int(limit) - int(used))
    except (OSError, ValueError):
        pass
    return min(found) if found else None


def size(n: float) -> str:
    """Bytes for people: 840 MB, 8.7 GB."""
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if n >= scale:
            return f"{n / scale:.1f} {unit}" if n < 10 * scale else f"{n / scale:,.0f} {unit}"
    return f"{int(n)} B"


def check_flags(
    steps: int, chunk: int, workers: int, per_step: int, columns: int = COLUMNS, runs: int = 0, points: int = 1
) -> None:
    """--chunk and --workers within their limits; the refusal states what they would cost."""
    kept = _kept(steps, per_step)
    count = points * -(-runs // chunk)
    if count > MAX_CHUNKS:
        raise LimitError(
            f"{count:,} chunks of {chunk:,} runs; expected at most {MAX_CHUNKS:,} (each finished chunk is kept on "
            f"disk, about {size(120_000 * (steps + 1) * columns / 41 / COLUMNS)} each, until the job completes); "
            "give a larger --chunk"
        )
    if chunk > MAX_CHUNK:
        raise LimitError(
            f"--chunk {chunk:,}: expected at most {MAX_CHUNK:,} runs at once; a chunk of {chunk:,} runs{kept} "
            f"would need about {size(chunk_bytes(steps, chunk, per_step))} by itself"
        )
    if workers > processors():
        need = estimate(steps, min(chunk, MAX_CHUNK), workers, per_step, columns)
        raise LimitError(
            f"--workers {workers}: expected at most {processors()} (the processors of this machine); "
            f"{workers} workers would need about {size(need)} and run no faster"
        )


def check_workers(workers: int, each: int = WORKER) -> None:
    """A command's own ``--workers`` (calibrate): at most the processors here, as every other command's."""
    if workers > processors():
        raise LimitError(
            f"--workers {workers}: expected at most {processors()} (the processors of this machine); "
            f"{workers} workers would need about {size(PROCESS + workers * each)} and run no faster"
        )


def check_held(steps: int, runs: int, per_step: int = RECORD, flag: str = "--runs") -> int:
    """A job that holds every run at once (the hindcast): its estimate, or LimitError if it exceeds the memory here."""
    need = PROCESS + 3 * aggregate_bytes(steps) + chunk_bytes(steps, runs, per_step)
    have = available()
    if have is None or need <= have:
        return need
    fits = max(0, int((have - PROCESS - 3 * aggregate_bytes(steps)) // chunk_bytes(steps, 1, per_step)))
    raise LimitError(
        f"{flag} {runs:,}: every run's record over {steps} steps is kept at once, about {size(need)} of memory; "
        f"about {size(have)} is available, enough for {fits:,} runs"
    )


def check_design(points: int, factors: int, outcomes: int) -> int:
    """A design's own arrays (its points, their values and outcomes, a few copies): LimitError beyond the memory."""
    need = PROCESS + points * (4 * factors + 2 * outcomes) * 8
    have = available()
    if have is None or need <= have:
        return need
    raise LimitError(
        f"{points:,} design points of {factors} factors need about {size(need)} of memory before a run starts; "
        f"about {size(have)} is available"
    )


def _kept(steps: int, per_step: int) -> str:
    return f" of {steps} steps, keeping trajectories" if per_step else f" of {steps} steps"


def check_memory(steps: int, chunk: int, workers: int, per_step: int, columns: int = COLUMNS) -> int:
    """The job's estimate; LimitError if it exceeds the memory available, saying what would fit."""
    need = estimate(steps, chunk, workers, per_step, columns)
    have = available()
    if have is None or need <= have:
        return need
    kept = _kept(steps, per_step)
    advice = []
    fixed = estimate(steps, 0, workers, per_step, columns)
    per = (estimate(steps, chunk, workers, per_step, columns) - fixed) / max(chunk, 1)
    fits = int((have - fixed) / per) if have > fixed and per > 0 else 0
    if fits >= 1:
        advice.append(f"--chunk {min(fits, chunk - 1):,} would fit")
    if workers > 1:
        advice.append("fewer --workers need less")
    if per_step == TRAJECTORIES:
        advice.append("--no-trajectories needs less")
    raise LimitError(
        f"this job needs about {size(need)} of memory ({workers} process(es), chunks of {chunk:,} runs{kept}); "
        f"about {size(have)} is available. " + ("; ".join(advice) or "Shorten the horizon") + "."
    )


def check_disk(folder: Path, steps: int, runs: int) -> None:
    """Trajectories need disk twice over (the finished chunks, then the joined file); refuse if it is short."""
    import shutil

    need = 2 * runs * (steps + 1) * 3 * 24  # about 24 bytes per row, measured; three rows per run and step
    probe = folder
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    try:
        usage = shutil.disk_usage(probe)
    except OSError:
        return
    free = usage.free
    if usage.total and need > free:  # a total of 0: no disk behind it (/proc); writing there fails by itself
        raise LimitError(
            f"trajectories of {runs:,} runs over {steps} steps need about {size(need)} of disk; "
            f"{size(free)} is free there. Use --no-trajectories or fewer --runs"
        )
