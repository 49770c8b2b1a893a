"""Command line: ``bamboo run | compare | sweep | bench | validate | events | app``.

Bad input never produces a traceback: one message naming the file, the line or
field and what was expected, on stderr, and exit status 2. Every input that
sizes work is checked against its limit (``sim.limits``), and the memory a
job needs against the memory available, before any work. Results are written
to a staging folder and moved into place only when complete, so an
interrupted or failed run leaves nothing behind, and an existing output
folder is replaced only with ``--force``, and only if Bamboo wrote it
(``sim.output``). Runs and sweeps keep their finished chunks in
``.<out>.partial`` beside the output until they complete, so that an
interrupted one continues with ``--resume``.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import hashlib
import os
import sys
from pathlib import Path

import numpy as np

from sim import __version__, limits, output
from sim.limits import LimitError
from sim.output import OutputError
from sim.params import POWERS, ParameterError


class UsageError(Exception):
    """Bad input from the user: reported in one line, exit status 2."""


class Interrupted(Exception):
    """Ctrl+C: the message says what was kept; exit status 130."""


def _whole(low: int, high: int | None = None, what: str = ""):
    def parse(text: str) -> int:
        shown = text if len(text) <= 30 else text[:30] + "…"
        digits = text.strip().lstrip("+-")
        if not (digits.isascii() and digits.isdigit()):
            raise argparse.ArgumentTypeError(f"expected a whole number, got {shown!r}")
        if high is None and len(digits) > 30:
            raise argparse.ArgumentTypeError(f"expected a whole number of at most 30 digits, got {shown}")
        n = int(text) if len(digits) <= 30 else None  # a longer one is beyond every limit
        if n is not None and n < low:
            raise argparse.ArgumentTypeError(f"expected a number of at least {low}, got {n}")
        if high is not None and (n is None or n > high):
            raise argparse.ArgumentTypeError(f"expected a number of at most {high:,}{what}, got {shown}")
        return n

    return parse


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="bamboo", description="Bamboo: Vietnam's multi-alignment, simulated.")
    top.add_argument("--version", action="version", version=f"bamboo {__version__}")
    sub = top.add_subparsers(dest="command", required=True, metavar="COMMAND")

    runs = _whole(1, limits.MAX_RUNS)
    chunk = _whole(1)  # its limit depends on the scenario, which states the memory: see _memory
    force = "replace the output folder if Bamboo wrote it"

    def common(p):
        p.add_argument("--runs", type=runs, default=None, help="Monte Carlo runs (default: the scenario's)")
        p.add_argument(
            "--seed", type=_whole(0, limits.MAX_SEED), default=None, help="random seed (default: the scenario's)"
        )
        p.add_argument("--chunk", type=chunk, default=None, help="runs simulated at once (default 10000)")
        p.add_argument("--force", action="store_true", help=force)
        p.add_argument("--quiet", action="store_true", help="no progress bar, no messages on success")

    def execution(p):
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

    app = sub.add_parser("app", help="the classroom dashboard in the browser (works offline)")
    app.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    app.add_argument("--port", type=_whole(0), default=8765, help="port (default 8765; 0: any free port)")
    return top


# -- helpers -------------------------------------------------------------------
def _load(path: Path):
    from sim.scenario import load_scenario

    return load_scenario(path)


def _warn(scenario, quiet: bool) -> None:
    if not quiet:
        for w in scenario.warnings:
            print(f"bamboo: warning: {w}", file=sys.stderr)


def _output(out: str | None, default: Path, force: bool) -> output.Output:
    """The checked output folder (``--out`` or the default); stale staging folders of a killed run removed."""
    target = output.prepare(str(default) if out is None else out, force)
    output.clean_stale(target.path)
    return target


def _progress(total: int, quiet: bool, desc: str):
    from tqdm import tqdm

    return tqdm(total=total, unit="run", desc=desc, disable=quiet, file=sys.stderr, leave=False, dynamic_ncols=True)


def _thresholds(scenario) -> dict:
    p = scenario.parameter_set
    return {k.split(".", 1)[1]: p.value(k) for k in p.entries if k.startswith("thresholds.")}


def _checkpoint(out: Path, identity: dict, args, scenarios: list, parts: list):
    """The folder of finished chunks beside ``out``; says how many a resumed run skips."""
    from sim.ensemble import Checkpoint

    checkpoint = Checkpoint.open(out.parent / f".{out.name}.partial", identity, args.resume, args.force)
    finished = sum(checkpoint.finished(p, c) for p in range(len(scenarios)) for c in parts)
    if args.resume and not args.quiet:
        total = len(scenarios) * len(parts)
        print(f"bamboo: resuming: {finished} of {total} chunk(s) already finished", file=sys.stderr)
    return checkpoint


@contextlib.contextmanager
def _resumable(checkpoint, out: Path):
    """On an interruption or a lost cluster, say what was kept: the finished chunks, if any."""
    from sim.ensemble import ExecutionError

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
    except KeyboardInterrupt:
        raise Interrupted(f"interrupted; {kept()}") from None
    except ExecutionError as exc:
        raise ExecutionError(f"{exc}; {kept()}") from None
    except OSError as exc:  # the machine, not the input: a full disk while writing the results
        raise ExecutionError(f"cannot write the results ({exc.strerror or exc}); {kept()}") from None


def _memory(args, steps: int, runs: int, points: int, per_step: int, columns: int = limits.COLUMNS) -> int:
    """Refuse, before any work, --chunk and --workers beyond their limits, and a job beyond the memory here."""
    from sim.ensemble import DEFAULT_CHUNK

    size = args.chunk or DEFAULT_CHUNK
    workers = getattr(args, "workers", 1)
    limits.check_flags(steps, size, workers, per_step, columns, runs, points)
    chunk = min(size, runs)
    workers = min(workers, points * -(-runs // size))
    if getattr(args, "scheduler", None):  # the chunks are simulated on the cluster; here, only the totals
        return limits.check_memory(steps, 0, 1, 0, columns)
    return limits.check_memory(steps, chunk, workers, per_step, columns)


# -- commands ------------------------------------------------------------------
def cmd_run(args) -> int:
    from sim import plots
    from sim.ensemble import DEFAULT_CHUNK, chunks, execute, executor
    from sim.results import manifest, summary, write_json

    scenario = _load(args.scenario)
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
    identity |= {"strategies": list(compared or ())}
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
        files = [write_json(staging / "summary.json", summary(scenario, agg, runs, seed))]
        if trajectories:
            files.append(checkpoint.join_trajectories(0, parts, staging / "trajectories.parquet"))
        files += plots.save_all(agg, scenario, _thresholds(scenario), staging)
        write_json(staging / "manifest.json", manifest(scenario, runs, seed, files))
    checkpoint.discard()
    if not args.quiet:
        print(
            f"{scenario.name}: multi-alignment survives in {agg.survival_probability():.1%} of {runs:,} runs "
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
    from sim.strategies import STRATEGIES

    if name not in STRATEGIES:
        raise UsageError(f"{where}: unknown strategy {name!r}; expected one of {', '.join(STRATEGIES)}")
    return name


def _strategies(spec: str, own: str) -> tuple[str, ...] | None:
    """The strategies to compare: every registered one, none, or those named (with the model's own and the run's)."""
    from sim.strategies import DEFAULT, STRATEGIES

    if spec == "none":
        return None
    named = set(STRATEGIES) if spec == "all" else {_strategy(n.strip(), "--strategies") for n in spec.split(",")}
    return tuple(n for n in STRATEGIES if n in named | {DEFAULT, own})


def _print_strategies(tally) -> None:
    from sim.strategies import DEFAULT

    survival = ", ".join(f"{n} {tally.survival(n):.1%}" for n in tally.names)
    print(f"survival by strategy (same {tally.runs:,} runs): {survival}")
    others = [n for n in tally.names if n != DEFAULT]
    if others:
        for label, other in (("best", max(others, key=tally.survival)), ("worst", min(others, key=tally.survival))):
            diff, lo, hi = tally.paired_survival(DEFAULT, other)
            ci = f"95% CI {lo:+.1%} to {hi:+.1%}"
            print(f"value of hedging against the {label} alternative ({other}): {diff:+.1%} ({ci})")


def cmd_compare(args) -> int:
    from sim import plots
    from sim.ensemble import DEFAULT_CHUNK, chunks
    from sim.outcomes import Failure
    from sim.results import Aggregate, manifest, write_json

    a, b = _load(args.a), _load(args.b)
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
    series = {"alignment": (POWERS, -1.0, 1.0)}
    diff = Aggregate(a.steps, series)
    survived = np.zeros((2, 2), np.int64)  # [A survived, B survived]
    final = {k: np.zeros(len(POWERS)) for k in ("a", "b")}
    with output.staged(target) as staging:
        with _progress(runs, args.quiet, f"{a.name} vs {b.name}") as bar:
            for c in chunks(runs, size):
                ma = a.model(runs=c.runs, seed=seed, first_run=c.first_run)
                mb = b.model(runs=c.runs, seed=seed, first_run=c.first_run)
                ma.run_for(a.steps)
                mb.run_for(b.steps)
                ta, tb = ma.trajectories()["alignment"], mb.trajectories()["alignment"]
                for t in range(a.steps + 1):
                    diff.observe(t, {"alignment": tb[t] - ta[t]})
                diff.close_chunk(np.zeros(c.runs, np.int8), np.full(c.runs, -1))
                sa, sb = ma.verdict.survived, mb.verdict.survived
                np.add.at(survived, (sa.astype(int), sb.astype(int)), 1)
                final["a"] += ta[-1].sum(axis=0)
                final["b"] += tb[-1].sum(axis=0)
                bar.update(c.runs)
        pa, pb = survived[1].sum() / runs, survived[:, 1].sum() / runs
        result = {
            "a": {"scenario": a.name, "file": str(args.a), "survival_probability": round(float(pa), 6)},
            "b": {"scenario": b.name, "file": str(args.b), "survival_probability": round(float(pb), 6)},
            "runs": runs,
            "seed": seed,
            "common_random_numbers": True,
            "survival_difference": round(float(pb - pa), 6),
            "paired_survival": {
                "both_survive": int(survived[1, 1]),
                "only_a_survives": int(survived[1, 0]),
                "only_b_survives": int(survived[0, 1]),
                "neither_survives": int(survived[0, 0]),
            },
            "final_alignment_difference": {p: diff.stats("alignment", i) for i, p in enumerate(POWERS)},
            "final_alignment_mean": {
                "a": {p: round(float(final["a"][i] / runs), 6) for i, p in enumerate(POWERS)},
                "b": {p: round(float(final["b"][i] / runs), 6) for i, p in enumerate(POWERS)},
            },
            "failure_mode_labels": [f.label for f in Failure],
        }
        files = [write_json(staging / "compare.json", result)]
        files += plots.save(plots.paired_difference(diff, a, b), staging / "difference")
        meta = {"a": manifest(a, runs, seed, []), "b": manifest(b, runs, seed, [])}
        meta["files"] = {f.name: hashlib.sha256(f.read_bytes()).hexdigest() for f in files}
        write_json(staging / "manifest.json", meta)
    if not args.quiet:
        print(f"survival: {a.name} {pa:.1%}, {b.name} {pb:.1%} (difference {pb - pa:+.1%}, {runs:,} paired runs)")
        for p in POWERS:
            s = result["final_alignment_difference"][p]
            print(f"final alignment with {p}: {s['mean']:+.3f} (90% of runs within {s['p05']:+.3f} to {s['p95']:+.3f})")
        print(f"wrote {out}/: compare.json, difference.png, difference.svg, manifest.json")
    return 0


def cmd_validate(args) -> int:
    from sim.ensemble import DEFAULT_CHUNK
    from sim.scenario import ScenarioError

    failed = 0
    for path in args.files:
        try:
            s = _load(path)
        except ScenarioError as exc:
            print(f"bamboo: error: {exc}", file=sys.stderr)
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


def cmd_facts(args) -> int:
    from sim.facts import FACTS, Design

    defaults = Design.defaults(reps=max(args.reps, 200), seed=args.seed)
    design = Design.latin_hypercube(draws=args.draws, reps=args.reps, seed=args.seed)
    print(f"Stylized facts: {args.draws} Latin-hypercube draws over every documented range, {args.reps} runs each")
    print()
    print("| fact | holds at the defaults | draws in which it holds | without its mechanism |")
    print("|---|---|---|---|")
    for number, fact in FACTS.items():
        at = fact.evaluate(defaults).holds[0]
        held, ablated = fact.evaluate(design).holds.sum(), fact.evaluate(design, ablated=True).holds.sum()
        print(
            f"| {number}. {fact.claim} | {'yes' if at else 'no'} | {held} of {args.draws} ({held / args.draws:.0%}) "
            f"| {ablated} of {args.draws} |"
        )
    return 0


def cmd_events(args) -> int:
    from sim import roles
    from sim.events import EVENT_TYPES

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


def cmd_sweep(args) -> int:
    from sim import sweep
    from sim.results import SERIES

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
        files = sweep.write(design, rows, staging)
    checkpoint.discard()
    if not args.quiet:
        survival = [r["survival_probability"] for r in rows]
        print(
            f"{design.name}: {len(rows)} design points x {design.runs:,} runs; "
            f"survival from {min(survival):.1%} to {max(survival):.1%}"
        )
        print(f"wrote {out}/: {', '.join(f.name for f in files)}, manifest.json")
    return 0


def cmd_bench(args) -> int:
    import json

    from sim.bench import measure

    print(json.dumps(measure(args.mesa_runs, args.ensemble_runs, args.steps, args.pool_runs), indent=2))
    return 0


def cmd_app(args) -> int:
    from sim.app import serve

    return serve(args.host, args.port)


COMMANDS = {
    "app": cmd_app,
    "run": cmd_run,
    "compare": cmd_compare,
    "sweep": cmd_sweep,
    "bench": cmd_bench,
    "validate": cmd_validate,
    "events": cmd_events,
    "facts": cmd_facts,
}


def main(argv: list[str] | None = None) -> int:
    from sim.ensemble import ExecutionError, SetupError
    from sim.scenario import ScenarioError

    args = parser().parse_args(argv)
    try:
        return COMMANDS[args.command](args)
    except (UsageError, ParameterError, ScenarioError, SetupError, LimitError, OutputError) as exc:
        print(f"bamboo: error: {exc}", file=sys.stderr)
        return 2
    except ExecutionError as exc:
        print(f"bamboo: error: {exc}", file=sys.stderr)
        return 1
    except Interrupted as exc:
        print(f"bamboo: {exc}", file=sys.stderr)
        return 130
    except KeyboardInterrupt:
        print("bamboo: interrupted; nothing was written", file=sys.stderr)
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
