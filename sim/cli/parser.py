"""The command line's arguments: one subcommand each, with every flag that sizes work checked against its limit."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path

from sim import __version__
from sim.model import limits


class UsageError(Exception):
    """Bad input from the user: reported in one line, exit status 2."""


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
    # --origin and --to are read as text and checked with the record at hand, so that a bad one is one line
    fc.add_argument(
        "--origin",
        default=None,
        metavar="YYYY-MM",
        help="the first month forecast, a quarter's (01, 04, 07, 10): the state and the facts as known before it "
        "(default: the month after the record's last year)",
    )
    fc.add_argument(
        "--to",
        default=None,
        metavar="YYYY-12",
        help="the last month forecast, the end of a year (default: the end of the origin's year + 2)",
    )
    fc.add_argument(
        "--with-events",
        action="store_true",
        help="also the with variant: the dated facts after the origin, the drivers following the data "
        "(for years the record covers)",
    )
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

    cal = sub.add_parser("calibrate", help="fit the free parameters to the record up to the cut-off (ABC)")
    past(cal, "calibration")
    cal.add_argument(
        "--method",
        choices=("rejection", "smc"),
        default="rejection",
        help="ABC rejection on a reference table simulated at once (default), or ABC-SMC (pyabc)",
    )
    cal.add_argument("--draws", type=_whole(100, 1_000_000), default=20_000, help="rejection: prior draws (20000)")
    cal.add_argument("--accept", type=float, default=0.01, help="rejection: the share kept, nearest (default 0.01)")
    cal.add_argument("--population", type=_whole(10, 10_000), default=100, help="smc: particles (default 100)")
    cal.add_argument("--generations", type=_whole(1, 100), default=8, help="smc: at most this many (default 8)")
    cal.add_argument(
        "--reps",
        type=_whole(1, 1000),
        default=1,
        help="smc: runs per particle, averaged (default 1)",
    )
    cal.add_argument(
        "--all", action="store_true", help="calibrate every free parameter, not only those the screening keeps"
    )
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
