"""The commands: each parses what its arguments name, calls the library (a job into a folder) and prints.

Bad input never produces a traceback: one message naming the file, the line or field and what was expected,
on stderr, and exit status 2 (``sim.cli.main``). Every input that sizes work is checked against its limit
(``sim.model.limits``), and the memory a job needs against the memory available, before any work. Results are
written whole or not at all, and runs, sweeps and designs keep their finished chunks so that an interrupted one
continues with ``--resume`` (``sim.outputs.jobs``).
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from sim.cli.parser import UsageError
from sim.model import limits
from sim.model.domain import POWERS
from sim.model.yamlfile import escape
from sim.outputs import jobs
from sim.runs import output

if TYPE_CHECKING:  # the command's own imports load these when it runs: --version and usage stay light
    import numpy as np
    from tqdm import tqdm

    from sim.analysis.posterior import Posterior
    from sim.analysis.record import Record
    from sim.analysis.rolling import Facts
    from sim.model.calendar import Month
    from sim.runs import explore
    from sim.runs.scenario import Scenario
    from sim.runs.tally import StrategyTally


def _load(path: Path) -> Scenario:
    from sim.runs.scenario import load_scenario

    return load_scenario(path)


def _progress(total: int | None, quiet: bool, desc: str, unit: str = "run") -> tqdm:
    from tqdm import tqdm

    # shown after its first half second: a job refused before any work (a limit, the folder) prints no bar
    return tqdm(
        total=total,
        unit=unit,
        desc=escape(desc),
        disable=quiet,
        file=sys.stderr,
        leave=False,
        dynamic_ncols=True,
        delay=0.5,
    )


def _tell(message: str) -> None:
    """What a job has to say beside its result, on stderr: a warning, that it resumes."""
    print(f"bamboo: {escape(message)}", file=sys.stderr)


def _say(args: argparse.Namespace) -> Callable[[str], None] | None:
    """Where a job's messages go: stderr, or nowhere with ``--quiet``."""
    return None if args.quiet else _tell


def _resources(args: argparse.Namespace) -> jobs.Resources:
    """The job's chunk size, workers or cluster, and whether it resumes or replaces its folder."""
    return jobs.Resources(
        chunk=args.chunk,
        workers=getattr(args, "workers", 1),
        scheduler=getattr(args, "scheduler", None),
        resume=getattr(args, "resume", False),
        force=args.force,
    )


@contextlib.contextmanager
def _explore(
    args: argparse.Namespace, design: explore.Design, out_name: str, label: str
) -> Iterator[tuple[Path, dict[str, np.ndarray], float, Path]]:
    """A design run into its folder (``jobs.explore_design``), with a progress bar."""
    with (
        _progress(design.runs, args.quiet, f"{design.scenario.name}: {label}") as bar,
        jobs.explore_design(
            design,
            args.out,
            Path("results") / out_name,
            label,
            resources=_resources(args),
            on_chunk=bar.update,
            say=_say(args),
        ) as done,  # fmt: skip
    ):
        yield done


def cmd_run(args: argparse.Namespace) -> int:
    """``bamboo run``: a scenario's ensemble; summary.json, manifest.json, figures and (within a limit) trajectories."""
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
    with _progress(runs, args.quiet, scenario.name) as bar:
        done = jobs.run(
            scenario,
            args.out,
            Path("results") / args.scenario.stem,
            runs,
            seed,
            trajectories=trajectories,
            strategies=compared,
            parameters=args.parameters,
            resources=_resources(args),
            on_chunk=bar.update,
            say=_say(args),
        )
    if not args.quiet:
        agg = done.aggregate
        print(
            f"{escape(scenario.name)}: multi-alignment survives in {agg.survival_probability():.1%} of {runs:,} runs "
            f"({scenario.start} to {scenario.horizon})"
        )
        shares = agg.failure_modes()
        modes = ", ".join(f"{k.replace('_', ' ')} {v:.1%}" for k, v in shares.items() if v)
        if modes:
            print(f"failures: {modes}")
        dropped = shares["dropped_partner"]
        if dropped:
            by_power = agg.dropped_by_power / max(agg.runs, 1)
            print(f"dropped partners: the power walked away in {by_power:.1%} of runs, Vietnam let go in "
                  f"{dropped - by_power:.1%}")  # fmt: skip
        if agg.tally is not None:
            _print_strategies(agg.tally)
        print(
            f"wrote {done.out}/: summary.json, manifest.json, {'trajectories.parquet, ' if trajectories else ''}"
            f"plots ({', '.join(done.figures)}) as PNG and SVG"
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
    a, b = (_with_posterior(_load(x), args.parameters) for x in (args.a, args.b))
    if (a.start, a.horizon) != (b.start, b.horizon):
        raise UsageError(
            f"{args.b}: start and horizon ({b.start} to {b.horizon}) must match {args.a} "
            f"({a.start} to {a.horizon}) for a paired comparison"
        )
    runs = args.runs or a.runs
    seed = a.seed if args.seed is None else args.seed
    default = Path("results") / f"{args.a.stem}-vs-{args.b.stem}"
    with _progress(runs, args.quiet, f"{a.name} vs {b.name}") as bar:
        paired, out = jobs.compare(
            a,
            b,
            args.out,
            default,
            runs,
            seed,
            parameters=args.parameters,
            resources=_resources(args),
            on_chunk=bar.update,
            say=_say(args),
        )
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
    from sim.runs.chunks import DEFAULT_CHUNK
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
        jobs.warn(s, _tell)
    return 2 if failed else 0


def cmd_facts(args: argparse.Namespace) -> int:
    """``bamboo facts``: a Markdown table of the stylized facts across the documented ranges and under ablation.

    With ``--out``, also each draw's verdicts and each fact's drivers (``sim.analysis.survey``).
    """
    from sim.analysis import survey
    from sim.analysis.facts import HEADER, designs, verdicts

    target = None if args.out is None else jobs.folder(args.out, Path(args.out), args.force)
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
    from sim.runs.chunks import ExecutionError

    try:
        yield
    except errors as exc:
        raise ExecutionError(str(exc)) from None


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


def _preparer(scenario: Scenario, path: Path | None) -> Callable[[Scenario], Scenario]:
    """What each restarted scenario is given: the posterior at ``path``, if any.

    The posterior is read now, so that a bad one fails before any run.
    """
    if path is not None:
        _posterior(scenario, path)
    return lambda restarted: _with_posterior(restarted, path)


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
    target = jobs.folder(args.out, Path("results") / "history", args.force)
    jobs.warn(scenario, _say(args))
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
        meta = manifest(scenario, runs, seed, files) | {"parameters_sha256": jobs.sha256(args.parameters)}
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
    prepare = _preparer(scenario, args.parameters)

    runs = args.runs or scenario.runs
    seed = scenario.seed if args.seed is None else args.seed
    target = jobs.folder(args.out, Path("results") / "rolling", args.force)
    jobs.warn(scenario, _say(args))
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
        meta = manifest(scenario, runs, seed, files) | {"parameters_sha256": jobs.sha256(args.parameters)}
        write_json(staging / "manifest.json", meta)
    if not args.quiet:
        print(f"Rolling-origin forecasts from {', '.join(map(str, origins))}, {runs:,} runs each, {seconds:.0f} s:")
        print("\n".join(summary_lines(report)))
        print(f"wrote {target.path}/: rolling.json, rolling.csv, manifest.json")
    return 0


def _month(flag: str, text: str, expected: str) -> Month:
    """The month a flag gives as YYYY-MM; a UsageError naming the flag and ``expected`` otherwise."""
    from sim.model.calendar import Month

    shown = text if len(text) <= 30 else text[:30] + "…"
    try:
        if len(text.strip()) > 7:  # YYYY-MM: nothing longer is converted
            raise ValueError
        return Month.parse(text)
    except ValueError:
        raise UsageError(f"{flag}: expected {expected}, got {shown!r}") from None


def _forecast_span(args: argparse.Namespace, record: Record, first: int) -> tuple[Month, int]:
    """The origin (a quarter's first month within the record) and the last forecast year the flags give."""
    from sim.analysis.forecasting import DEFAULT_YEARS
    from sim.analysis.rolling import QUARTER_STARTS
    from sim.model.calendar import Month

    quarter = "a quarter's first month, YYYY-01, -04, -07 or -10 (2016-01: from the end of 2015)"
    origin = Month(int(record.years[-1]) + 1, 1) if args.origin is None else _month("--origin", args.origin, quarter)
    if origin.month not in QUARTER_STARTS:
        raise UsageError(f"--origin: expected {quarter}, got {origin}")
    earliest, latest = Month(first + 1, 1), Month(int(record.years[-1]) + 1, 1)
    if not earliest <= origin <= latest:
        raise UsageError(
            f"--origin: expected a month from {earliest} to {latest}, within the record ({record.years[0]}-"
            f"{record.years[-1]}) and the dated facts; got {origin}"
        )
    end = "the end of a year, YYYY-12 (the record states each year's tiers at its end)"
    if args.to is None:
        last = origin.year + DEFAULT_YEARS - 1
        if args.with_events and last > record.years[-1]:
            raise UsageError(
                f"--with-events: expected an origin and --to within the record (the facts and data end with "
                f"{record.years[-1]}); the forecast runs to {last}-12 by default"
            )
        return origin, last
    to = _month("--to", args.to, end)
    if to.month != 12:
        raise UsageError(f"--to: expected {end}, got {to}")
    if not origin.year <= to.year <= origin.year + 50:
        raise UsageError(
            f"--to: expected the end of a year from the origin's on, {origin.year}-12 to "
            f"{origin.year + 50}-12; got {to}"
        )
    if args.with_events and to.year > record.years[-1]:
        raise UsageError(
            f"--to: with --with-events, expected a year the record covers (the facts and data end with it), "
            f"at most {record.years[-1]}-12; got {to}"
        )
    return origin, to.year


def cmd_forecast(args: argparse.Namespace) -> int:
    """``bamboo forecast``: a sealed forecast from the recorded state at the origin; forecast.json."""
    from sim.analysis.forecasting import dumps, make, summary_lines
    from sim.model.calendar import Month
    from sim.outputs import plots
    from sim.runs.results import file_hashes, write_json

    record, scenario, facts, path, first = _restart_inputs(args)
    origin, last = _forecast_span(args, record, first)
    if scenario.start.year > first:
        raise UsageError(f"{path}: the scenario must run from {first} or before")
    prepare = _preparer(scenario, args.parameters)

    runs = args.runs or scenario.runs
    seed = scenario.seed if args.seed is None else args.seed
    span = dataclasses.replace(scenario, start=origin, horizon=Month(last + 1, 1))
    limits.check_held(span.steps, runs)  # the forecast keeps every run's record at once, as the hindcast
    target = jobs.folder(args.out, Path("results") / "forecast", args.force)
    jobs.warn(scenario, _say(args))
    inputs = {
        "scenario": str(path),
        "record": str(args.record) if args.record else "sim/data/record.yaml",
        "parameters": str(args.parameters) if args.parameters else "the defaults (uncalibrated)",
        "parameters_sha256": jobs.sha256(args.parameters),
    }
    with _failing(ValueError):
        document = make(
            scenario,
            record,
            origin,
            last,
            runs=runs,
            seed=seed,
            facts=facts,
            prepare=prepare,
            inputs=inputs,
            post_origin=args.with_events,
        )
    with output.staged(target) as staging:
        (staging / "forecast.json").write_text(dumps(document), encoding="utf-8")
        figure = plots.save(plots.forecast(document), staging / "forecast")
        write_json(staging / "manifest.json", {"files": file_hashes([staging / "forecast.json", *figure])})
    if not args.quiet:
        print("\n".join(summary_lines(document)))
        print(f"sealed: sha256 {document['sha256']}")
        print(f"wrote {target.path}/: forecast.json, forecast.png, forecast.svg, manifest.json")
    return 0


def cmd_score(args: argparse.Namespace) -> int:
    """``bamboo score``: grade a sealed forecast against a record of the years it forecast."""
    from sim.analysis.forecasting import ForecastError, grade, grade_lines, read
    from sim.analysis.record import RecordError, load_record
    from sim.runs.results import file_hashes, write_json

    target = None if args.out is None else jobs.folder(args.out, Path(args.out), args.force)
    try:
        document = read(args.forecast)
        record = load_record(args.record)
        report = grade(document, record)
    except (ForecastError, RecordError) as exc:
        raise UsageError(str(exc)) from None
    except (KeyError, TypeError, ValueError) as exc:  # sealed, but not a forecast this version can read
        raise UsageError(f"{args.forecast}: not a forecast of bamboo forecast ({exc})") from None
    report |= {"forecast": str(args.forecast), "record": str(args.record), "record_sha256": jobs.sha256(args.record)}
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

    The free parameters are screened first (``sim.analysis.screening``): only those the record's statistics
    depend on are calibrated, unless ``--all``. Writes the posterior (posterior.csv, for ``--parameters``),
    calibration.json (with the screening) and the posterior's figure.
    """
    from sim.analysis.calibration import CalibrationError, calibrate, reject
    from sim.analysis.posterior import save_posterior
    from sim.analysis.screening import screen
    from sim.outputs import plots
    from sim.runs.results import manifest, write_json

    limits.check_workers(args.workers)
    path, scenario, record = _past(args)
    paths = [q.path for q in scenario.resolved_parameters.free() if q.path not in scenario.parameters]
    if not paths:
        raise UsageError(f"{path}: the scenario sets every free parameter; nothing is left to calibrate")
    if not 0 < args.minutes <= 24 * 60:
        raise UsageError(f"--minutes: expected a wall time above 0 and at most a day, got {args.minutes:g}")
    if not 0 < args.accept <= 0.5 or args.accept * args.draws < 1:
        raise UsageError(
            f"--accept: expected a share above 0, at most 0.5, keeping a draw at least; got {args.accept:g}"
        )
    limits.check_flags(0, min(args.draws, 5000), 1, 0, runs=args.draws)
    target = jobs.folder(args.out, Path("results") / "calibration", args.force)
    screening = screen(scenario, record, args.cutoff, paths, seed=args.seed)
    if not args.all:
        paths = list(screening.kept) or paths  # nothing moves the statistics: calibrate all, and say so below
    if args.method == "rejection":
        with _failing(ValueError):
            fit = reject(scenario, record, args.cutoff, paths, draws=args.draws, accept=args.accept, seed=args.seed)
    else:
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
            write_json(staging / "calibration.json", fit.report(path) | {"screening": screening.report()}),
        ]
        figure = plots.posterior(fit.posterior.summary(), fit.posterior.particles, fit.posterior.weights, fit.prior)
        files += plots.save(figure, staging / "posterior")
        write_json(staging / "manifest.json", manifest(scenario, args.reps, args.seed, files))
    if not args.quiet:
        print(
            f"Calibrated {len(paths)} of {len(screening.paths)} free parameters (those whose Sobol' total index "
            f"reaches {screening.report()['threshold']} on a statistic{'; --all: every one' if args.all else ''}) "
            f"to {record.years[0]}-{args.cutoff} by {'ABC rejection' if args.method == 'rejection' else 'ABC-SMC'}: "
            f"{fit.evaluations:,} simulations, final threshold {fit.epsilons[-1]:.3f}, effective sample size "
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
    from sim.runs import sweep

    design = sweep.load_design(args.design)
    with _progress(design.runs * len(design.points), args.quiet, design.name) as bar:
        rows, files, out = jobs.sweep_design(
            design, args.out, Path("results") / args.design.stem, resources=_resources(args), on_chunk=bar.update,
            say=_say(args),
        )  # fmt: skip
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
            raise jobs.JobError(
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
    from sim.classroom.dashboard import serve
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
