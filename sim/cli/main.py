"""Command line: ``bamboo run | compare | sweep | sensitivity | discover | bench | validate | events | app``.

Bad input never produces a traceback: one message naming the file, the line or
field and what was expected, on stderr, and exit status 2. Every input that
sizes work is checked against its limit (``sim.model.limits``), and the memory a
job needs against the memory available, before any work. Results are written
to a staging folder and moved into place only when complete, so an
interrupted or failed run leaves nothing behind, and an existing output
folder is replaced only with ``--force``, and only if Bamboo wrote it
(``sim.runs.output``). Runs and sweeps keep their finished chunks in
``.<out>.partial`` beside the output until they complete, so that an
interrupted one continues with ``--resume``.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import hashlib
import importlib
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING

from sim import __version__
from sim.model import limits
from sim.model.domain import POWERS
from sim.model.limits import LimitError
from sim.model.yamlfile import escape
from sim.runs import output
from sim.runs.output import OutputError

if TYPE_CHECKING:  # the command's own imports load these when it runs: --version and usage stay light
    import numpy as np
    from tqdm import tqdm

    from sim.analysis.posterior import Posterior
    from sim.analysis.record import Record
    from sim.analysis.rolling import Facts
    from sim.runs import explore
    from sim.runs.ensemble import Checkpoint, Chunk
    from sim.runs.scenario import Scenario
    from sim.runs.tally import StrategyTally


class UsageError(Exception):
    """Bad input from the user: reported in one line, exit status 2."""


class Interrupted(Exception):
    """Ctrl+C: the message says what was kept; exit status 130."""


def _whole(low: int, high: int | None = None, what: str = "") -> Callable[[str], int]:
    """An argparse type: a whole number from ``low`` to ``high`` (``what`` follows the limit in the message)."""

    def parse(text: str) -> int:
        shown = text if len(text) <= 30 else text[:30] + "…"
        digits = text.strip().lstrip("+-")
        if not (digits.isascii() and digits.isdigit()):
            raise argparse.ArgumentTypeError(f"expected a whole number, got {shown!r}")
        if len(digits) > 30:  # beyond every limit: not even converted
            limit = "a whole number of at most 30 digits" if high is None else f"a number of at most {high:,}{what}"
            raise argparse.ArgumentTypeError(f"expected {limit}, got {shown}")
        n = int(text)
        if n < low:
            raise argparse.ArgumentTypeError(f"expected a number of at least {low}, got {n}")
        if high is not None and n > high:
            raise argparse.ArgumentTypeError(f"expected a number of at most {high:,}{what}, got {shown}")
        return n

    return parse


def _years(text: str) -> tuple[int, ...]:
    """A comma-separated list of years, increasing (``--origins``)."""
    try:
        years = tuple(int(t) for t in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected years separated by commas, e.g. 1996,2004; got {text!r}") from None
    if list(years) != sorted(set(years)):
        raise argparse.ArgumentTypeError(f"expected increasing years, each once; got {text!r}")
    return years


def parser() -> argparse.ArgumentParser:
    """The command line's arguments: one subcommand each, with its flags checked against their limits."""
    top = argparse.ArgumentParser(prog="bamboo", description="Bamboo: Vietnam's multi-alignment, simulated.")
    top.add_argument("--version", action="version", version=f"bamboo {__version__}")
    sub = top.add_subparsers(dest="command", required=True, metavar="COMMAND")

    runs = _whole(1, limits.MAX_RUNS)
    chunk = _whole(1)  # its limit depends on the scenario, which states the memory: see _memory
    force = "replace the output folder if Bamboo wrote it"

    def common(p: argparse.ArgumentParser) -> None:
        p.add_argument("--runs", type=runs, default=None, help="Monte Carlo runs (default: the scenario's)")
        p.add_argument(
            "--seed", type=_whole(0, limits.MAX_SEED), default=None, help="random seed (default: the scenario's)"
        )
        p.add_argument("--chunk", type=chunk, default=None, help="runs simulated at once (default 10000)")
        p.add_argument(
            "--parameters", type=Path, default=None, help="a posterior each run draws from (bamboo calibrate)"
        )
        p.add_argument("--force", action="store_true", help=force)
        p.add_argument("--quiet", action="store_true", help="no progress bar, no messages on success")

    def design_flags(p: argparse.ArgumentParser) -> None:
        p.add_argument(
            "--factors", default=None, metavar="LIST", help="factors to vary, comma-separated (default: all open ones)"
        )
        p.add_argument("--seed", type=_whole(0, limits.MAX_SEED), default=None, help="seed (default: the scenario's)")
        p.add_argument("--chunk", type=chunk, default=None, help="runs simulated at once (default 10000)")
        p.add_argument("--force", action="store_true", help=force)
        p.add_argument("--quiet", action="store_true", help="no progress bar, no messages on success")

    def execution(p: argparse.ArgumentParser) -> None:
        where = p.add_mutually_exclusive_group()
        where.add_argument("--workers", type=_whole(1), default=1, help="local worker processes (default 1: here)")
        where.add_argument("--scheduler", metavar="ADDRESS", default=None, help="a Dask scheduler, e.g. tcp://h:8786")
        p.add_argument("--resume", action="store_true", help="continue an interrupted run from its finished chunks")

    run = sub.add_parser("run", help="run a scenario: summary, trajectories, plots, manifest")
    run.add_argument("scenario", type=Path, help="a scenario file (YAML)")
    run.add_argument("--out", default=None, help="output folder (default: results/<scenario>)")
    traj = run.add_mutually_exclusive_group()
    traj.add_argument(
        "--trajectories",
        dest="trajectories",
        action="store_true",
        default=None,
        help="write per-run trajectories (default: only up to 10,000 runs)",
    )
    traj.add_argument("--no-trajectories", dest="trajectories", action="store_false")
    run.add_argument(
        "--strategy", default=None, help="Vietnam's strategy for the run (default: the scenario's, or hedge)"
    )
    run.add_argument(
        "--strategies",
        default="all",
        metavar="LIST",
        help="strategies to set side by side in summary.json, comma-separated; all (default) or none",
    )
    common(run)
    execution(run)

    swp = sub.add_parser("sweep", help="run a design of parameter points: survival and alignment per point")
    swp.add_argument("design", type=Path, help="a sweep design file (YAML), e.g. scenarios/sweeps/*.yaml")
    swp.add_argument("--out", default=None, help="output folder (default: results/<design>)")
    swp.add_argument("--chunk", type=chunk, default=None, help="runs simulated at once (default 10000)")
    swp.add_argument("--force", action="store_true", help=force)
    swp.add_argument("--quiet", action="store_true", help="no progress bar, no messages on success")
    execution(swp)

    sens = sub.add_parser("sensitivity", help="Morris and Sobol' indices of survival, alignment, value of hedging")
    sens.add_argument("scenario", type=Path, help="a scenario file (YAML)")
    sens.add_argument("--methods", default="morris,sobol", metavar="LIST", help="morris, sobol or both (default)")
    design_flags(sens)
    sens.add_argument(
        "--samples", type=_whole(2, 1 << 16), default=None, help="Sobol' base samples N, a power of two (default 512)"
    )
    sens.add_argument("--trajectories", type=_whole(2, 10_000), default=None, help="Morris trajectories (default 20)")
    sens.add_argument("--replicates", type=_whole(1, limits.MAX_CHUNK), default=None, help="runs per point (16)")
    sens.add_argument("--out", default=None, help="output folder (default: results/<scenario>-sensitivity)")
    sens.add_argument(
        "--parameters", type=Path, default=None, help="a calibrated posterior: its 5-95%% spread as the ranges"
    )
    execution(sens)

    discovery_points = 200_000  # PRIM holds every point's factors in memory, several times over
    disc = sub.add_parser("discover", help="scenario discovery (PRIM): where multi-alignment collapses")
    disc.add_argument("scenario", type=Path, help="a scenario file (YAML), with ranges to explore")
    design_flags(disc)
    disc.add_argument(
        "--points", type=_whole(10, discovery_points), default=None, help="runs, one per point (default 20000)"
    )
    disc.add_argument("--boxes", type=_whole(1, 9), default=2, help="boxes written back as scenarios (default 2)")
    disc.add_argument("--out", default=None, help="output folder (default: results/<scenario>-discovery)")
    execution(disc)

    bench = sub.add_parser("bench", help="runs per second: idiomatic Mesa against the ensemble path (JSON)")
    mesa_runs, ensemble_runs = _whole(1, limits.MAX_BENCH_MESA_RUNS), _whole(1, limits.MAX_BENCH_ENSEMBLE_RUNS)
    bench.add_argument("--mesa-runs", type=mesa_runs, default=40, help="one-run models through mesa.batch_run")
    bench.add_argument("--ensemble-runs", type=ensemble_runs, default=50_000, help="runs through the ensemble path")
    pool_runs = _whole(0, limits.MAX_BENCH_ENSEMBLE_RUNS)
    bench.add_argument("--pool-runs", type=pool_runs, default=1_000_000, help="runs on two worker processes (0: none)")
    steps = _whole(1, limits.MAX_STEPS)
    bench.add_argument("--steps", type=steps, default=40, help="quarterly steps per run (default 40)")

    cmp = sub.add_parser("compare", help="run two scenarios with common random numbers; paired differences")
    cmp.add_argument("a", type=Path, help="the reference scenario")
    cmp.add_argument("b", type=Path, help="the alternative scenario")
    cmp.add_argument("--out", default=None, help="output folder (default: results/<a>-vs-<b>)")
    common(cmp)

    val = sub.add_parser("validate", help="check scenario files without running them")
    val.add_argument("files", type=Path, nargs="+")
    sub.add_parser("events", help="list the event catalogue with each event's effect and source")
    facts = sub.add_parser("facts", help="check the stylized facts across the documented ranges, with ablations")
    facts.add_argument("--draws", type=_whole(1, 2000), default=100, help="Latin-hypercube draws (default 100)")
    facts.add_argument("--reps", type=_whole(1, 1000), default=30, help="runs per draw (default 30)")
    facts.add_argument("--seed", type=_whole(0, limits.MAX_SEED), default=2025, help="the design's seed (default 2025)")
    facts.add_argument(
        "--out", default=None, help="also write each draw's verdicts and what each fact hangs on to this folder"
    )
    facts.add_argument("--force", action="store_true", help=force)

    def past(p: argparse.ArgumentParser, out: str) -> None:
        p.add_argument(
            "--scenario", type=Path, default=None, help="history scenario (default: scenarios/history_1986_2025.yaml)"
        )
        p.add_argument("--record", type=Path, default=None, help="the record to score against (default: the packaged)")
        p.add_argument("--series", type=Path, default=None, help="the world's data series (default: the packaged)")
        p.add_argument("--cutoff", type=_whole(1800, 2200), default=2012, help="last in-sample year (default 2012)")
        p.add_argument("--out", default=None, help=f"output folder (default: results/{out})")

    hist = sub.add_parser("history", help="the hindcast 1986-2025, scored against the record beside naive baselines")
    past(hist, "history")
    hist.add_argument("--parameters", type=Path, default=None, help="a calibrated posterior (bamboo calibrate)")
    hist.add_argument("--runs", type=runs, default=None, help="runs (default: the scenario's)")
    hist.add_argument(
        "--seed", type=_whole(0, limits.MAX_SEED), default=None, help="random seed (default: the scenario's)"
    )
    hist.add_argument("--force", action="store_true", help=force)
    hist.add_argument("--quiet", action="store_true", help="no messages on success")
    hist.add_argument(
        "--rolling",
        action="store_true",
        help="forecasts restarted from the recorded state at rolling origins, with and without post-origin events "
        "(rolling.json, rolling.csv; default output results/rolling; --cutoff does not apply)",
    )
    hist.add_argument(
        "--origins",
        type=_years,
        default=None,
        help="with --rolling: origin years, e.g. 1996,2004 (default every four years 1996-2020)",
    )

    fc = sub.add_parser("forecast", help="a sealed forecast from the recorded state at an origin (forecast.json)")
    fc.add_argument(
        "--origin", type=_whole(1800, 2200), default=None, help="the last recorded year (default: the record's last)"
    )
    fc.add_argument("--to", type=_whole(1800, 2200), default=None, help="the last forecast year (default origin + 3)")
    fc.add_argument(
        "--scenario", type=Path, default=None, help="history scenario (default: scenarios/history_1986_2025.yaml)"
    )
    fc.add_argument("--record", type=Path, default=None, help="the record the state is read from (default: packaged)")
    fc.add_argument("--parameters", type=Path, default=None, help="a calibrated posterior (bamboo calibrate)")
    fc.add_argument("--runs", type=runs, default=None, help="runs (default: the scenario's)")
    fc.add_argument(
        "--seed", type=_whole(0, limits.MAX_SEED), default=None, help="random seed (default: the scenario's)"
    )
    fc.add_argument("--out", default=None, help="output folder (default: results/forecast)")
    fc.add_argument("--force", action="store_true", help=force)
    fc.add_argument("--quiet", action="store_true", help="no messages on success")

    sc = sub.add_parser("score", help="grade a sealed forecast against a record of the years it forecast")
    sc.add_argument("forecast", type=Path, help="forecast.json (bamboo forecast)")
    sc.add_argument("record", type=Path, help="a record file in the format of sim/data/record.yaml")
    sc.add_argument("--out", default=None, help="also write the grade (score.json) to this folder")
    sc.add_argument("--force", action="store_true", help=force)
    sc.add_argument("--quiet", action="store_true", help="no messages on success")

    cal = sub.add_parser("calibrate", help="fit the free parameters to the record up to the cut-off (ABC-SMC)")
    past(cal, "calibration")
    cal.add_argument("--population", type=_whole(10, 10_000), default=100, help="particles (default 100)")
    cal.add_argument("--generations", type=_whole(1, 100), default=8, help="at most this many (default 8)")
    cal.add_argument("--reps", type=_whole(1, 1000), default=20, help="runs per particle (default 20)")
    cal.add_argument("--minutes", type=float, default=25.0, help="stop after this wall time (default 25)")
    cal.add_argument("--workers", type=_whole(1, 64), default=1, help="processes (default 1: reproducible)")
    cal.add_argument("--seed", type=_whole(0, limits.MAX_SEED), default=2025, help="seed (default 2025)")
    cal.add_argument("--force", action="store_true", help=force)
    cal.add_argument("--quiet", action="store_true", help="no progress bar, no messages on success")

    app = sub.add_parser("app", help="the classroom dashboard in the browser (works offline)")
    app.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    app.add_argument("--port", type=_whole(0), default=8765, help="port (default 8765; 0: any free port)")
    app.add_argument("--parameters", type=Path, default=None, help="a posterior each run draws from (bamboo calibrate)")

    cls = sub.add_parser("class", help="one shared world for a class: the teacher's console and the students' pages")
    cls.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1; 0.0.0.0: the class)")
    cls.add_argument("--port", type=_whole(1, 65535), default=8766, help="port (default 8766)")
    return top


# -- helpers -------------------------------------------------------------------
def _load(path: Path) -> Scenario:
    from sim.runs.scenario import load_scenario

    return load_scenario(path)


def _warn(scenario: Scenario, quiet: bool) -> None:
    if not quiet:
        for w in scenario.warnings:
            print(f"bamboo: warning: {escape(w)}", file=sys.stderr)


def _output(out: str | None, default: Path, force: bool) -> output.Output:
    """The checked output folder (``--out`` or the default); stale staging folders of a killed run removed."""
    target = output.prepare(str(default) if out is None else out, force)
    output.clean_stale(target.path)
    return target


def _progress(total: int | None, quiet: bool, desc: str, unit: str = "run") -> tqdm:
    from tqdm import tqdm

    return tqdm(
        total=total, unit=unit, desc=escape(desc), disable=quiet, file=sys.stderr, leave=False, dynamic_ncols=True
    )


def _checkpoint(
    out: Path, identity: dict, args: argparse.Namespace, scenarios: Sequence[Scenario], parts: list[Chunk]
) -> Checkpoint:
    """The folder of finished chunks beside ``out``; says how many a resumed run skips."""
    from sim.runs.ensemble import Checkpoint

    checkpoint = Checkpoint.open(out.parent / f".{out.name}.partial", identity, args.resume, args.force)
    finished = sum(checkpoint.finished(p, c) for p in range(len(scenarios)) for c in parts)
    if args.resume and not args.quiet:
        total = len(scenarios) * len(parts)
        print(f"bamboo: resuming: {finished} of {total} chunk(s) already finished", file=sys.stderr)
    return checkpoint


def _is_interrupt(exc: BaseException | None) -> bool:
    """Whether ``exc`` is a Ctrl+C, or carries one.

    A Ctrl+C that lands inside a compiled (Numba) call comes back as a SystemError ("returned a result with an
    exception set") whose cause is the KeyboardInterrupt.
    """
    while exc is not None:
        if isinstance(exc, KeyboardInterrupt):
            return True
        exc = exc.__cause__ or exc.__context__
    return False


@contextlib.contextmanager
def _resumable(checkpoint: Checkpoint, out: Path) -> Iterator[None]:
    """On an interruption or a lost cluster, say what was kept: the finished chunks, if any."""
    from sim.runs.ensemble import ExecutionError

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
        if not _is_interrupt(exc):
            raise
        raise Interrupted(f"interrupted; {kept()}") from None
    except ExecutionError as exc:
        raise ExecutionError(f"{exc}; {kept()}") from None
    except OSError as exc:  # the machine, not the input: a full disk while writing the results
        raise ExecutionError(f"cannot write the results ({exc.strerror or exc}); {kept()}") from None


def _memory(
    args: argparse.Namespace, steps: int, runs: int, points: int, per_step: int, columns: int = limits.COLUMNS
) -> int:
    """Refuse, before any work, --chunk and --workers beyond their limits, and a job beyond the memory here."""
    from sim.runs.ensemble import DEFAULT_CHUNK

    size = args.chunk or DEFAULT_CHUNK
    workers = getattr(args, "workers", 1)
    limits.check_flags(steps, size, workers, per_step, columns, runs, points)
    chunk = min(size, runs)
    workers = min(workers, points * -(-runs // size))
    if getattr(args, "scheduler", None):  # the chunks are simulated on the cluster; here, only the totals
        return limits.check_memory(steps, 0, 1, 0, columns)
    return limits.check_memory(steps, chunk, workers, per_step, columns)


# -- commands ------------------------------------------------------------------
def cmd_run(args: argparse.Namespace) -> int:
    """``bamboo run``: a scenario's ensemble; summary.json, manifest.json, figures and (within a limit) trajectories."""
    from sim.outputs import plots
    from sim.runs.ensemble import DEFAULT_CHUNK, chunks, execute, executor
    from sim.runs.results import manifest, summary, write_json

    scenario = _with_posterior(_load(args.scenario), args.parameters)
    if args.strategy is not None:
        scenario = dataclasses.replace(scenario, strategy=_strategy(args.strategy, "--strategy"))
    compared = _strategies(args.strategies, scenario.strategy)
    runs = args.runs or scenario.runs
    seed = scenario.seed if args.seed is None else args.seed
    trajectories = runs <= 10_000 if args.trajectories is None else args.trajectories
    if trajectories and runs > limits.MAX_TRAJECTORY_RUNS:
        raise UsageError(
            f"--trajectories: at most {limits.MAX_TRAJECTORY_RUNS:,} runs write trajectories, "
            f"got {runs:,}; use --no-trajectories or fewer --runs"
        )
    _memory(args, scenario.steps, runs, 1, limits.TRAJECTORIES if trajectories else 0)
    size = args.chunk or DEFAULT_CHUNK
    parts = chunks(runs, size)
    workers = min(args.workers, len(parts))
    target = _output(args.out, Path("results") / args.scenario.stem, args.force)
    out = target.path
    if trajectories:
        limits.check_disk(out.parent, scenario.steps, runs)
    _warn(scenario, args.quiet)
    identity = {"command": "run", "scenario_sha256": scenario.content_hash(), "runs": runs, "seed": seed}
    identity |= {"chunk": size, "trajectories": trajectories, "package_version": __version__}
    posterior_sha256 = _sha256(args.parameters)
    identity |= {"strategies": list(compared or ()), "parameters_sha256": posterior_sha256}
    checkpoint = _checkpoint(out, identity, args, [scenario], parts)
    with _resumable(checkpoint, out), output.staged(target) as staging:
        with _progress(runs, args.quiet, scenario.name) as bar:
            (agg,) = execute(
                [scenario],
                runs,
                seed,
                size,
                run_on=executor(workers, args.scheduler),
                checkpoint=checkpoint,
                trajectories=trajectories,
                on_chunk=lambda point, chunk, resumed: bar.update(chunk.runs),
                strategies=compared,
            ).values()
        result = summary(scenario, agg, runs, seed)
        if args.parameters is not None:
            result["parameters"] = {"posterior": str(args.parameters), "sha256": posterior_sha256}
        files = [write_json(staging / "summary.json", result)]
        if trajectories:
            files.append(checkpoint.join_trajectories(0, parts, staging / "trajectories.parquet"))
        files += plots.save_all(agg, scenario, scenario.resolved_parameters.thresholds(), staging)
        write_json(staging / "manifest.json", manifest(scenario, runs, seed, files))
    checkpoint.discard()
    if not args.quiet:
        print(
            f"{escape(scenario.name)}: multi-alignment survives in {agg.survival_probability():.1%} of {runs:,} runs "
            f"({scenario.start} to {scenario.horizon})"
        )
        modes = ", ".join(f"{k.replace('_', ' ')} {v:.1%}" for k, v in agg.failure_modes().items() if v)
        if modes:
            print(f"failures: {modes}")
        if agg.tally is not None:
            _print_strategies(agg.tally)
        print(
            f"wrote {out}/: summary.json, manifest.json, {'trajectories.parquet, ' if trajectories else ''}"
            f"plots ({', '.join(plots.figures(agg))}) as PNG and SVG"
        )
    return 0


def _strategy(name: str, where: str) -> str:
    from sim.model.strategies import STRATEGIES

    if name not in STRATEGIES:
        raise UsageError(f"{where}: unknown strategy {name!r}; expected one of {', '.join(STRATEGIES)}")
    return name


def _strategies(spec: str, own: str) -> tuple[str, ...] | None:
    """The strategies to compare: every registered one, none, or those named (with the model's own and the run's)."""
    from sim.model.strategies import DEFAULT, STRATEGIES

    if spec == "none":
        return None
    named = set(STRATEGIES) if spec == "all" else {_strategy(n.strip(), "--strategies") for n in spec.split(",")}
    return tuple(n for n in STRATEGIES if n in named | {DEFAULT, own})


def _print_strategies(tally: StrategyTally) -> None:
    from sim.model.strategies import DEFAULT

    survival = ", ".join(f"{n} {tally.survival(n):.1%}" for n in tally.names)
    print(f"survival by strategy (same {tally.runs:,} runs): {survival}")
    others = [n for n in tally.names if n != DEFAULT]
    if others:
        for label, other in (("best", max(others, key=tally.survival)), ("worst", min(others, key=tally.survival))):
            diff, lo, hi = tally.paired_survival(DEFAULT, other)
            ci = f"95% CI {lo:+.1%} to {hi:+.1%}"
            print(f"value of hedging against the {label} alternative ({other}): {diff:+.1%} ({ci})")
        security = ", ".join(f"{n} {tally.security_mean(n):.3f}" for n in tally.names)
        print(f"security (mean share of demand met) by strategy: {security}")
        secure = max(others, key=tally.security_mean)
        gap, lo, hi = tally.security_gap(secure)
        print(f"security of hedging against the most secure alternative ({secure}): {gap:+.3f} "
              f"(95% CI {lo:+.3f} to {hi:+.3f})")  # fmt: skip
        coerced = ", ".join(
            f"{n} {c / max(tally.runs, 1):.0%}" for n, c in zip(tally.names, tally.coerced, strict=True)
        )
        print(f"runs with a power coercing at the line for a year: {coerced}")


def cmd_compare(args: argparse.Namespace) -> int:
    """``bamboo compare``: two scenarios on common random numbers; their paired differences in compare.json."""
    from sim.outputs import plots
    from sim.runs.comparison import compare
    from sim.runs.ensemble import DEFAULT_CHUNK
    from sim.runs.results import file_hashes, manifest, write_json

    a, b = (_with_posterior(_load(x), args.parameters) for x in (args.a, args.b))
    if (a.start, a.horizon) != (b.start, b.horizon):
        raise UsageError(
            f"{args.b}: start and horizon ({b.start} to {b.horizon}) must match {args.a} "
            f"({a.start} to {a.horizon}) for a paired comparison"
        )
    runs = args.runs or a.runs
    seed = a.seed if args.seed is None else args.seed
    _memory(args, a.steps, runs, 1, limits.COMPARISON)
    size = args.chunk or DEFAULT_CHUNK
    target = _output(args.out, Path("results") / f"{args.a.stem}-vs-{args.b.stem}", args.force)
    out = target.path
    _warn(a, args.quiet)
    _warn(b, args.quiet)
    with output.staged(target) as staging:
        with _progress(runs, args.quiet, f"{a.name} vs {b.name}") as bar:
            paired = compare(a, b, runs, seed, size, on_chunk=bar.update)
        files = [write_json(staging / "compare.json", paired.report(args.parameters))]
        files += plots.save(plots.paired_difference(paired.difference, a, b), staging / "difference")
        meta = {"a": manifest(a, runs, seed, []), "b": manifest(b, runs, seed, []), "files": file_hashes(files)}
        write_json(staging / "manifest.json", meta)
    if not args.quiet:
        (pa, pb), (_, lo, hi) = paired.survival, paired.survival_difference()
        alignment = paired.final_alignment_difference()
        print(
            f"survival: {escape(a.name)} {pa:.1%}, {escape(b.name)} {pb:.1%} "
            f"(difference {pb - pa:+.1%}, 95% CI {lo:+.1%} to {hi:+.1%}, {runs:,} paired runs)"
        )
        for p in POWERS:
            s = alignment[p]
            print(f"final alignment with {p}: {s['mean']:+.3f} (90% of runs within {s['p05']:+.3f} to {s['p95']:+.3f})")
        print(f"wrote {out}/: compare.json, difference.png, difference.svg, manifest.json")
    return 0


def cmd_validate(args: argparse.Namespace) -> int:
    """``bamboo validate``: check each scenario file, with the memory it needs to run as written.

    Returns:
        The exit status: 2 if any file failed, else 0.
    """
    from sim.runs.ensemble import DEFAULT_CHUNK
    from sim.runs.scenario import ScenarioError

    failed = 0
    for path in args.files:
        try:
            s = _load(path)
        except ScenarioError as exc:
            print(f"bamboo: error: {escape(str(exc))}", file=sys.stderr)
            failed += 1
            continue
        kept = limits.TRAJECTORIES if s.runs <= 10_000 else 0
        need = limits.estimate(s.steps, min(s.runs, DEFAULT_CHUNK), per_step=kept)
        print(
            f"ok: {path}: {s.name!r}, {len(s.events)} event(s), {s.start} to {s.horizon}, {s.runs:,} runs; "
            f"about {limits.size(need)} of memory to run as written"
        )
        _warn(s, False)
    return 2 if failed else 0


def cmd_facts(args: argparse.Namespace) -> int:
    """``bamboo facts``: a Markdown table of the stylized facts across the documented ranges and under ablation.

    With ``--out``, also each draw's verdicts and each fact's drivers (``sim.analysis.survey``).
    """
    from sim.analysis import survey
    from sim.analysis.facts import HEADER, designs, verdicts

    target = None if args.out is None else _output(args.out, Path(args.out), args.force)
    design, defaults = designs(args.draws, args.reps, args.seed)
    print(f"Stylized facts: {args.draws} Latin-hypercube draws over every documented range, {args.reps} runs each")
    print()
    print("\n".join(HEADER))
    judged = []
    for verdict in verdicts(design, defaults):  # a row as each fact is judged: it takes minutes
        judged.append(verdict)
        print(verdict.row(), flush=True)
    if target is not None:
        with output.staged(target) as staging:
            files = survey.write(staging, design, defaults, judged)
        print(f"wrote {target.path}/: {', '.join(f.name for f in files)}, manifest.json")
    return 0


def _past(args: argparse.Namespace) -> tuple[Path, Scenario, Record]:
    """The history scenario with its world from data, and the record, checked against each other and the cut-off."""
    from sim.analysis.hindcast import HISTORY_SCENARIO
    from sim.analysis.history import SeriesError, with_world
    from sim.analysis.record import RecordError, load_record
    from sim.runs.scenario import SHIPPED

    path = args.scenario or SHIPPED / HISTORY_SCENARIO
    try:
        record = load_record(args.record)
        scenario = with_world(_load(path), args.series)
        path = args.scenario or Path("scenarios") / HISTORY_SCENARIO  # as a reader of the reports knows it
    except (RecordError, SeriesError) as exc:
        raise UsageError(str(exc)) from None
    if not scenario.start.year <= record.years[0] or scenario.horizon.year <= record.years[-1]:
        raise UsageError(
            f"{path}: the scenario runs {scenario.start} to {scenario.horizon}; the record needs "
            f"{record.years[0]}-01 to {record.years[-1] + 1}-01 at least"
        )
    if not record.years[0] < args.cutoff < record.years[-1]:
        raise UsageError(f"--cutoff: expected a year inside the record, {record.years[0]}-{record.years[-1] - 1}")
    return path, scenario, record


@contextlib.contextmanager
def _failing(*errors: type[Exception]) -> Iterator[None]:
    """Errors of the work itself (not of the input): a message and exit status 1, as ExecutionError."""
    from sim.runs.ensemble import ExecutionError

    try:
        yield
    except errors as exc:
        raise ExecutionError(str(exc)) from None


def _sha256(path: Path | None) -> str | None:
    """The file's SHA-256 (hex), or None for no file."""
    return None if path is None else hashlib.sha256(path.read_bytes()).hexdigest()


def _posterior(scenario: Scenario, path: Path) -> Posterior:
    """The posterior in ``path``, over the parameters the scenario does not set itself (a bad file: exit 2)."""
    from sim.analysis.posterior import PosteriorError, load_posterior

    try:
        return load_posterior(path, scenario.resolved_parameters).without(scenario.parameters)
    except PosteriorError as exc:
        raise UsageError(str(exc)) from None


def _with_posterior(scenario: Scenario, path: Path | None) -> Scenario:
    """The scenario whose runs draw the calibrated parameters from ``path`` (those it does not set itself)."""
    if path is None:
        return scenario
    posterior = _posterior(scenario, path)
    return dataclasses.replace(scenario, parameter_set=scenario.resolved_parameters.with_posterior(posterior))


def _narrowed(scenario: Scenario, path: Path | None) -> Scenario:
    """The scenario with each calibrated parameter's range narrowed to the posterior in ``path`` (if given)."""
    from sim.analysis.posterior import narrowed

    return scenario if path is None else narrowed(scenario, _posterior(scenario, path))


def cmd_history(args: argparse.Namespace) -> int:
    """``bamboo history``: the hindcast of the record, scored beside naive baselines; hindcast.json and its figure."""
    from sim.analysis.hindcast import hindcast, simulate, skill_lines
    from sim.outputs import plots
    from sim.runs.results import manifest, write_json

    if args.rolling:
        return _rolling(args)
    if args.origins is not None:
        raise UsageError("--origins: applies only with --rolling")
    path, scenario, record = _past(args)
    scenario = _with_posterior(scenario, args.parameters)
    runs = args.runs or scenario.runs
    seed = scenario.seed if args.seed is None else args.seed
    limits.check_held(scenario.steps, runs)  # the hindcast keeps every run's record at once
    target = _output(args.out, Path("results") / "history", args.force)
    _warn(scenario, args.quiet)
    trajectories, arms = simulate(scenario, runs, seed)
    report = hindcast(trajectories, scenario.calendar, record, args.cutoff, arms)
    report |= {"scenario": str(path), "scenario_sha256": scenario.content_hash(), "runs": runs, "seed": seed}
    report["parameters"] = str(args.parameters) if args.parameters else "the defaults (uncalibrated)"
    from sim.analysis.history import default_path

    data = str(args.series or default_path())
    own = [e for e in scenario.events if e.file != data]  # the scenario's events, not the data's yearly settings
    with output.staged(target) as staging:
        files = [write_json(staging / "hindcast.json", report)]
        files += plots.save(plots.hindcast(report, own, args.cutoff), staging / "hindcast")
        meta = manifest(scenario, runs, seed, files) | {"parameters_sha256": _sha256(args.parameters)}
        write_json(staging / "manifest.json", meta)
    if not args.quiet:
        print(f"Hindcast {record.years[0]}-{record.years[-1]}, {runs:,} runs, cut-off {args.cutoff}:")
        for window, scores in report["scores"].items():
            row = ", ".join(
                f"{name} {s['tier_match']['overall']:.0%} / {s['rps']['overall']:.3f}" for name, s in scores.items()
            )
            print(f"  {window.replace('_', ' ')} (tier match / RPS): {row}")
        print("\n".join(skill_lines(report)))
        print(f"wrote {target.path}/: hindcast.json, hindcast.png, hindcast.svg, manifest.json")
    return 0


def _restart_inputs(args: argparse.Namespace) -> tuple[Record, Scenario, Facts, Path, int]:
    """What a restart from the record needs (``history --rolling``, ``forecast``), read once, faults as usage.

    The record, the history scenario, the dated facts, the scenario's path as a reader of the reports knows
    it, and the first origin the facts allow.
    """
    from sim.analysis.hindcast import HISTORY_SCENARIO
    from sim.analysis.record import RecordError, load_record
    from sim.analysis.rolling import ExogenousError, load_facts
    from sim.runs.scenario import SHIPPED

    try:
        record = load_record(args.record)
        scenario = _load(args.scenario or SHIPPED / HISTORY_SCENARIO)
        facts = load_facts()
    except (RecordError, ExogenousError) as exc:
        raise UsageError(str(exc)) from None
    path = args.scenario or Path("scenarios") / HISTORY_SCENARIO
    first = max(int(record.years[0]), facts.covers_from.year - 1)
    return record, scenario, facts, path, first


def _rolling(args: argparse.Namespace) -> int:
    """``bamboo history --rolling``: forecasts from the recorded state at each origin; rolling.json and .csv."""
    import time

    from sim.analysis.history import SeriesError, load_series
    from sim.analysis.rolling import CSV_COLUMNS, ORIGINS, rolling, rows, summary_lines
    from sim.runs.results import manifest, write_csv, write_json

    record, scenario, _, path, first = _restart_inputs(args)
    try:
        load_series(args.series)
    except SeriesError as exc:
        raise UsageError(str(exc)) from None
    origins = args.origins or ORIGINS
    if not all(first <= o < record.years[-1] for o in origins):
        raise UsageError(f"--origins: expected years within {first}-{record.years[-1] - 1}, got {list(origins)}")
    if scenario.start.year > first or scenario.horizon.year <= record.years[-1]:
        raise UsageError(f"{path}: the scenario must run from {first} or before to {record.years[-1] + 1}-01")
    if args.parameters is not None:
        _posterior(scenario, args.parameters)  # a bad posterior fails before any run

    def prepare(restarted: Scenario) -> Scenario:
        return _with_posterior(restarted, args.parameters)

    runs = args.runs or scenario.runs
    seed = scenario.seed if args.seed is None else args.seed
    target = _output(args.out, Path("results") / "rolling", args.force)
    _warn(scenario, args.quiet)
    began = time.perf_counter()
    with _failing(ValueError):
        report = rolling(scenario, record, origins, runs=runs, seed=seed, series=args.series, prepare=prepare)
    seconds = time.perf_counter() - began
    report |= {"scenario": str(path), "scenario_sha256": scenario.content_hash()}
    report["parameters"] = str(args.parameters) if args.parameters else "the defaults (uncalibrated)"
    with output.staged(target) as staging:
        files = [
            write_json(staging / "rolling.json", report),
            write_csv(staging / "rolling.csv", CSV_COLUMNS, rows(report)),
        ]
        meta = manifest(scenario, runs, seed, files) | {"parameters_sha256": _sha256(args.parameters)}
        write_json(staging / "manifest.json", meta)
    if not args.quiet:
        print(f"Rolling-origin forecasts from {', '.join(map(str, origins))}, {runs:,} runs each, {seconds:.0f} s:")
        print("\n".join(summary_lines(report)))
        print(f"wrote {target.path}/: rolling.json, rolling.csv, manifest.json")
    return 0


def cmd_forecast(args: argparse.Namespace) -> int:
    """``bamboo forecast``: a sealed forecast from the recorded state at the origin; forecast.json."""
    from sim.analysis.forecasting import DEFAULT_YEARS, dumps, make, summary_lines
    from sim.analysis.record import default_path as record_path
    from sim.runs.results import file_hashes, write_json

    record, scenario, facts, path, first = _restart_inputs(args)
    origin = int(record.years[-1]) if args.origin is None else args.origin
    if not first <= origin <= record.years[-1]:
        raise UsageError(f"--origin: expected a year within {first}-{record.years[-1]}, got {origin}")
    last = origin + DEFAULT_YEARS if args.to is None else args.to
    if not origin < last <= origin + 50:
        raise UsageError(f"--to: expected a year after the origin {origin}, at most {origin + 50}; got {last}")
    if scenario.start.year > first:
        raise UsageError(f"{path}: the scenario must run from {first} or before")
    if args.parameters is not None:
        _posterior(scenario, args.parameters)  # a bad posterior fails before any run

    def prepare(restarted: Scenario) -> Scenario:
        return _with_posterior(restarted, args.parameters)

    runs = args.runs or scenario.runs
    seed = scenario.seed if args.seed is None else args.seed
    target = _output(args.out, Path("results") / "forecast", args.force)
    _warn(scenario, args.quiet)
    inputs = {
        "scenario": str(path),
        "record": str(args.record) if args.record else "sim/data/record.yaml",
        "record_sha256": _sha256(args.record or record_path()),
        "parameters": str(args.parameters) if args.parameters else "the defaults (uncalibrated)",
        "parameters_sha256": _sha256(args.parameters),
    }
    with _failing(ValueError):
        document = make(
            scenario, record, origin, last, runs=runs, seed=seed, facts=facts, prepare=prepare, inputs=inputs
        )
    with output.staged(target) as staging:
        (staging / "forecast.json").write_text(dumps(document), encoding="utf-8")
        write_json(staging / "manifest.json", {"files": file_hashes([staging / "forecast.json"])})
    if not args.quiet:
        print("\n".join(summary_lines(document)))
        print(f"sealed: sha256 {document['sha256']}")
        print(f"wrote {target.path}/: forecast.json, manifest.json")
    return 0


def cmd_score(args: argparse.Namespace) -> int:
    """``bamboo score``: grade a sealed forecast against a record of the years it forecast."""
    from sim.analysis.forecasting import ForecastError, grade, grade_lines, read
    from sim.analysis.record import RecordError, load_record
    from sim.runs.results import file_hashes, write_json

    target = None if args.out is None else _output(args.out, Path(args.out), args.force)
    try:
        document = read(args.forecast)
        record = load_record(args.record)
        report = grade(document, record)
    except (ForecastError, RecordError) as exc:
        raise UsageError(str(exc)) from None
    except (KeyError, TypeError, ValueError) as exc:  # sealed, but not a forecast this version can read
        raise UsageError(f"{args.forecast}: not a forecast of bamboo forecast ({exc})") from None
    report |= {"forecast": str(args.forecast), "record": str(args.record), "record_sha256": _sha256(args.record)}
    if target is not None:
        with output.staged(target) as staging:
            files = [write_json(staging / "score.json", report)]
            write_json(staging / "manifest.json", {"files": file_hashes(files)})
    if not args.quiet:
        print("\n".join(grade_lines(report)))
        if target is not None:
            print(f"wrote {target.path}/: score.json, manifest.json")
    return 0


def cmd_calibrate(args: argparse.Namespace) -> int:
    """``bamboo calibrate``: fit the free parameters to the record up to the cut-off (ABC-SMC).

    Writes the posterior (posterior.csv, for ``--parameters``), calibration.json and the posterior's figure.
    """
    from sim.analysis.calibration import CalibrationError, calibrate
    from sim.analysis.posterior import save_posterior
    from sim.outputs import plots
    from sim.runs.results import manifest, write_json

    limits.check_workers(args.workers)
    path, scenario, record = _past(args)
    paths = [q.path for q in scenario.resolved_parameters.free() if q.path not in scenario.parameters]
    if not paths:
        raise UsageError(f"{path}: the scenario sets every free parameter; nothing is left to calibrate")
    if not 0 < args.minutes <= 24 * 60:
        raise UsageError(f"--minutes: expected a wall time above 0 and at most a day, got {args.minutes:g}")
    target = _output(args.out, Path("results") / "calibration", args.force)
    # how many simulations ABC-SMC needs depends on its acceptance rates: the bar counts them, with the time cap
    with (
        _progress(None, args.quiet, f"calibrating (stops by {args.minutes:g} min)", "simulation") as bar,
        _failing(CalibrationError),
    ):
        fit = calibrate(
            scenario,
            record,
            args.cutoff,
            paths,
            population=args.population,
            generations=args.generations,
            reps=args.reps,
            seed=args.seed,
            minutes=args.minutes,
            workers=args.workers,
            on_evaluation=lambda: bar.update(1),
        )
    with output.staged(target) as staging:
        files = [
            save_posterior(fit.posterior, staging / "posterior.csv", fit.header(path)),
            write_json(staging / "calibration.json", fit.report(path)),
        ]
        figure = plots.posterior(fit.posterior.summary(), fit.posterior.particles, fit.posterior.weights, fit.prior)
        files += plots.save(figure, staging / "posterior")
        write_json(staging / "manifest.json", manifest(scenario, args.reps, args.seed, files))
    if not args.quiet:
        print(
            f"Calibrated {len(paths)} parameters to {record.years[0]}-{args.cutoff}: {fit.evaluations:,} simulations, "
            f"{len(fit.epsilons)} generations, final threshold {fit.epsilons[-1]:.3f} (RPS), effective sample size "
            f"{fit.ess:.0f}, {fit.seconds / 60:.1f} min"
        )
        print(f"wrote {target.path}/: posterior.csv, calibration.json, posterior.png, posterior.svg, manifest.json")
    return 0


def cmd_events(args: argparse.Namespace) -> int:
    """``bamboo events``: the event catalogue, each event's effect, roles, duration and source."""
    from sim.model import roles
    from sim.model.events import EVENT_TYPES

    for name, cls in sorted(EVENT_TYPES.items()):
        lasts = "permanent" if cls.duration is None else f"{cls.duration} steps"
        fields = f"; fields: {', '.join(cls.extra_fields)}" if cls.extra_fields else ""
        r = roles.ROLES[name]
        print(
            f"{name}\n  effect: {cls.effect}\n  actor: {r.actor}\n  target: {r.target}\n"
            f"  default actor {cls.default_actor}, target {cls.default_target}; "
            f"lasts {lasts} unless 'until' is given{fields}\n  source: {cls.source}\n"
        )
    return 0


def cmd_sweep(args: argparse.Namespace) -> int:
    """``bamboo sweep``: a design of parameter points (``sim.runs.sweep``); survival and alignment per point."""
    from sim.outputs import plots
    from sim.runs import sweep
    from sim.runs.results import SERIES

    design = sweep.load_design(args.design)
    columns = sum(len(SERIES[k][0]) for k in sweep.SERIES)
    _memory(args, design.scenario.steps, design.runs, len(design.points), 0, columns)
    size = args.chunk or sweep.DEFAULT_CHUNK
    parts = sweep.chunks(design.runs, size)
    workers = min(args.workers, len(parts) * len(design.points))
    target = _output(args.out, Path("results") / args.design.stem, args.force)
    out = target.path
    _warn(design.scenario, args.quiet)
    identity = {"command": "sweep", "design_sha256": design.content_hash(), "chunk": size}
    identity |= {"package_version": __version__}
    scenarios = design.scenarios()
    checkpoint = _checkpoint(out, identity, args, scenarios, parts)
    with _resumable(checkpoint, out), output.staged(target) as staging:
        total = design.runs * len(scenarios)
        with _progress(total, args.quiet, design.name) as bar:
            rows = sweep.run(
                design,
                scenarios,
                size,
                run_on=sweep.executor(workers, args.scheduler),
                checkpoint=checkpoint,
                on_chunk=lambda point, chunk, resumed: bar.update(chunk.runs),
            )
        files = sweep.write(design, rows, staging, plots.save(plots.sweep_survival(design, rows), staging / "survival"))
    checkpoint.discard()
    if not args.quiet:
        survival = [r["survival_probability"] for r in rows]
        print(
            f"{escape(design.name)}: {len(rows)} design points x {design.runs:,} runs; "
            f"survival from {min(survival):.1%} to {max(survival):.1%}"
        )
        print(f"wrote {out}/: {', '.join(f.name for f in files)}, manifest.json")
    return 0


def _factors(scenario: Scenario, spec: str | None, events: bool) -> list[explore.Factor]:
    from sim.runs import explore

    names = None if spec is None else [n.strip() for n in spec.split(",") if n.strip()]
    if names is not None and not names:
        raise UsageError("--factors: expected factor names, comma-separated")
    try:
        found = explore.factors(scenario, names, events)
    except explore.FactorError as exc:
        raise UsageError(f"--factors: {exc}") from None
    if not found:
        raise UsageError(f"{scenario.path}: nothing to vary: no parameter or event has a range")
    return found


@contextlib.contextmanager
def _explore(
    args: argparse.Namespace, design: explore.Design, out_name: str, label: str
) -> Iterator[tuple[Path, dict[str, np.ndarray], float, Path]]:
    """Run a design (``sim.runs.explore``) into a staged output folder: yields (staging, outcomes, seconds, out)."""
    import time

    from sim.runs import explore
    from sim.runs.ensemble import executor

    if design.runs > limits.MAX_RUNS:
        raise UsageError(f"{design.runs:,} runs in all; expected at most {limits.MAX_RUNS:,}: a smaller design")
    size = args.chunk or explore.DEFAULT_CHUNK
    if design.replicates > size:
        raise UsageError(f"--replicates {design.replicates:,}: a point's runs must fit in a chunk ({size:,})")
    parts = design.chunks(size)
    _memory(args, design.scenario.steps, size, len(parts), 0)
    target = _output(args.out, Path("results") / out_name, args.force)
    out = target.path
    _warn(design.scenario, args.quiet)
    identity = {"command": label, "chunk": size, "package_version": __version__} | design.identity()
    checkpoint = _checkpoint(out, identity, args, [design.scenario], parts)
    workers = min(args.workers, len(parts))
    with _resumable(checkpoint, out), output.staged(target) as staging:
        started = time.perf_counter()
        with _progress(design.runs, args.quiet, f"{design.scenario.name}: {label}") as bar:
            outcomes = explore.run(
                design,
                size,
                run_on=executor(workers, args.scheduler),
                checkpoint=checkpoint,
                on_chunk=lambda runs, resumed: bar.update(runs),
            )
        try:
            yield staging, outcomes, time.perf_counter() - started, out
        except UsageError:  # the design ran, but its outcomes cannot be analysed: nothing to resume
            checkpoint.discard()
            raise
    checkpoint.discard()


def _design_size(
    args: argparse.Namespace, points: int, replicates: int, found: list[explore.Factor], scenario: Scenario
) -> None:
    """Refuse, before a point is drawn, a design whose runs, chunks or own arrays exceed their limits."""
    from sim.runs import explore

    strategies = len(explore.strategies_for(scenario.strategy, True))
    runs = points * replicates * strategies
    if runs > limits.MAX_RUNS:
        raise UsageError(
            f"{points:,} points x {replicates:,} replicates x {strategies} strategies = {runs:,} runs in all; "
            f"expected at most {limits.MAX_RUNS:,}: fewer --samples, --trajectories or --replicates"
        )
    size = args.chunk or explore.DEFAULT_CHUNK
    if replicates > size:
        raise UsageError(f"--replicates {replicates:,}: a point's runs must fit in a chunk ({size:,})")
    chunks = -(-points // max(1, size // replicates))  # whole points per chunk, as Design.chunks cuts them
    limits.check_flags(scenario.steps, size, args.workers, 0, runs=size, points=chunks)
    limits.check_design(points, len(found), len(explore.OUTCOMES))


def cmd_sensitivity(args: argparse.Namespace) -> int:
    """``bamboo sensitivity``: Morris and Sobol' indices of the outcomes over the scenario's ranges."""
    from sim.analysis import sensitivity
    from sim.outputs import plots
    from sim.runs import explore

    scenario = _narrowed(_load(args.scenario), args.parameters)
    methods = [m.strip() for m in args.methods.split(",") if m.strip()]
    if not methods or any(m not in sensitivity.METHODS for m in methods) or len(set(methods)) < len(methods):
        raise UsageError(f"--methods: expected morris, sobol or both, comma-separated; got {args.methods!r}")
    samples = args.samples or sensitivity.SOBOL_SAMPLES
    if samples & (samples - 1):
        raise UsageError(f"--samples: expected a power of two (Sobol' sequences balance only then), got {samples}")
    found = _factors(scenario, args.factors, events=True)
    seed = scenario.seed if args.seed is None else args.seed
    replicates = args.replicates or sensitivity.REPLICATES
    trajectories = args.trajectories or sensitivity.MORRIS_TRAJECTORIES
    _design_size(args, sensitivity.points(methods, samples, trajectories, len(found)), replicates, found, scenario)
    plan, design = sensitivity.design(scenario, found, methods, samples, trajectories, replicates, seed)
    name = f"{args.scenario.stem}-sensitivity"
    with _explore(args, design, name, "sensitivity") as (staging, outcomes, seconds, out):
        rows = sensitivity.indices(plan, {k: outcomes[k] for k in explore.OUTCOMES})
        meta = sensitivity.metadata(plan, design, outcomes, seconds, args.workers)
        figures = plots.save_sensitivity(rows, plan, design, staging)
        files = sensitivity.write(staging, design, outcomes, rows, meta, figures)
    if not args.quiet:
        print(
            f"{escape(scenario.name)}: {design.points:,} points x {replicates} runs x "
            f"{len(design.strategies)} strategies in {seconds:.0f} s"
        )
        for method, index in (("sobol", "ST"), ("morris", "mu_star")):
            if method in methods:
                lead = sensitivity.top(rows, method, "survival_probability", index, 5)
                shown = ", ".join(f"{r['factor']} {r['estimate']:.2f}" for r in lead)
                print(f"{method} {index} of survival, highest: {shown}")
        print(f"wrote {out}/: {', '.join(f.name for f in files)}, manifest.json")
    return 0


def cmd_discover(args: argparse.Namespace) -> int:
    """``bamboo discover``: scenario discovery (PRIM), the boxes of the factor space where multi-alignment collapses."""
    import pandas as pd

    from sim.analysis import discovery
    from sim.outputs import plots

    scenario = _load(args.scenario)
    found = _factors(scenario, args.factors, events=True)
    seed = scenario.seed if args.seed is None else args.seed
    design = discovery.design(scenario, found, args.points or discovery.POINTS, seed)
    with _explore(args, design, f"{args.scenario.stem}-discovery", "discovery") as (staging, outcomes, seconds, out):
        y = discovery.collapsed(outcomes)
        if not y.any() or y.all():
            raise UsageError(
                f"{scenario.name}: multi-alignment {'never' if not y.any() else 'always'} collapsed in "
                f"{design.points:,} runs; nothing to tell apart (widen the ranges or choose another scenario)"
            )
        boxes, trajectories = discovery.find_boxes(pd.DataFrame(design.values), y, args.boxes)
        meta = discovery.metadata(design, outcomes, seconds)
        figures = plots.save_peeling(design, boxes, trajectories, staging)
        files = discovery.write(staging, design, outcomes, boxes, trajectories, meta, figures)
    if not args.quiet:
        print(f"{escape(scenario.name)}: multi-alignment collapsed in {y.mean():.1%} of {design.points:,} runs")
        for box in boxes:
            bounds = "; ".join(f"{k} in [{lo:.3g}, {hi:.3g}]" for k, (lo, hi) in box.limits.items())
            print(
                f"box {box.number}: density {box.density:.1%} (± {box.density_se:.1%}), "
                f"coverage {box.coverage:.0%}, mass {box.mass:.1%}: {bounds}"
            )
        print(f"wrote {out}/: {', '.join(f.name for f in files)}, manifest.json")
    return 0


def cmd_bench(args: argparse.Namespace) -> int:
    """``bamboo bench``: runs per second, idiomatic Mesa against the ensemble path, printed as JSON."""
    import json

    from sim.runs.bench import measure

    print(json.dumps(measure(args.mesa_runs, args.ensemble_runs, args.steps, args.pool_runs), indent=2))
    return 0


def cmd_app(args: argparse.Namespace) -> int:
    """``bamboo app``: serve the classroom dashboard until interrupted.

    Returns:
        The server's exit status.
    """
    from sim.analysis.posterior import PosteriorError, load_posterior
    from sim.classroom.app import serve
    from sim.model.params import load_parameters

    posterior = None
    if args.parameters is not None:  # read before the server starts: a bad file is exit 2, no page served
        try:
            posterior = load_posterior(args.parameters, load_parameters())
        except PosteriorError as exc:
            raise UsageError(str(exc)) from None
    return serve(args.host, args.port, posterior)


def cmd_class(args: argparse.Namespace) -> int:
    """``bamboo class``: serve one shared world per class (sim.classroom.class_server) until interrupted.

    Returns:
        The server's exit status.
    """
    from sim.classroom.class_server import serve

    return serve(args.host, args.port)


COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {
    "app": cmd_app,
    "class": cmd_class,
    "run": cmd_run,
    "compare": cmd_compare,
    "sweep": cmd_sweep,
    "sensitivity": cmd_sensitivity,
    "discover": cmd_discover,
    "bench": cmd_bench,
    "validate": cmd_validate,
    "events": cmd_events,
    "facts": cmd_facts,
    "history": cmd_history,
    "calibrate": cmd_calibrate,
    "forecast": cmd_forecast,
    "score": cmd_score,
}


INTERRUPTED = "bamboo: interrupted; nothing was written"


def _quit_at_once(signum: int, frame: FrameType | None) -> None:
    """Ctrl+C while the command starts (its imports): nothing is written yet, so one line and exit 130 at once."""
    os.write(sys.stderr.fileno(), (INTERRUPTED + "\n").encode())
    os._exit(130)


def _interrupt_once(signum: int, frame: FrameType | None) -> None:
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


def main(argv: list[str] | None = None) -> int:
    """Run the command in ``argv`` (default: the process's arguments).

    Returns:
        The exit status: 0 done, 1 the work failed (or the machine: a full disk), 2 bad input, 130 interrupted.
    """
    # a process started with Ctrl+C ignored (nohup, a shell's background job) keeps ignoring it, as Python does
    own_signals = threading.current_thread() is threading.main_thread()
    own_signals = own_signals and signal.getsignal(signal.SIGINT) is not signal.SIG_IGN
    previous = signal.signal(signal.SIGINT, _quit_at_once) if own_signals else None
    try:
        args = parser().parse_args(argv)  # before the model's imports: --version and usage load nothing heavy
        for module in (
            "sim.runs.ensemble",
            "sim.model.params",
            "sim.runs.scenario",
        ):  # the slow start, under the quick exit
            importlib.import_module(module)
        if own_signals:
            signal.signal(signal.SIGINT, _interrupt_once)
        try:
            return _command(args)
        finally:
            output.release()  # the output folder's lock, held since its --out was checked
    finally:
        if own_signals and argv is not None:  # called with arguments (a test, a notebook): as it was
            signal.signal(signal.SIGINT, previous)
        elif own_signals:  # the process's own command, ended and reported: a Ctrl+C while Python shuts down
            # (a while, after Numba) is let pass, not turned into a second line or a death by the signal
            signal.signal(signal.SIGINT, signal.SIG_IGN)


def _command(args: argparse.Namespace) -> int:
    """Run the command, turning every refusal into one line on stderr and an exit status."""
    from sim.model.params import ParameterError
    from sim.runs.ensemble import ExecutionError, SetupError
    from sim.runs.scenario import ScenarioError

    try:
        return COMMANDS[args.command](args)
    except (UsageError, ParameterError, ScenarioError, SetupError, LimitError, OutputError) as exc:
        print(f"bamboo: error: {escape(str(exc))}", file=sys.stderr)
        return 2
    except ExecutionError as exc:
        print(f"bamboo: error: {escape(str(exc))}", file=sys.stderr)
        return 1
    except Interrupted as exc:
        print(f"bamboo: {exc}", file=sys.stderr)
        return 130
    except (KeyboardInterrupt, SystemError) as exc:
        if not _is_interrupt(exc):
            raise
        print(INTERRUPTED, file=sys.stderr)
        return 130
    except BrokenPipeError:  # the reader of the output went away (bamboo events | head)
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except OSError as exc:  # the machine, not the input: a full disk, a folder removed while writing
        where = f" ({exc.filename})" if exc.filename else ""
        print(f"bamboo: error: cannot complete: {exc.strerror or exc}{where}; nothing was written", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
