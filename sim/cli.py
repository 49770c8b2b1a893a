"""Command line: ``bamboo run`` a what-if and write its summary and plots."""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
from pathlib import Path

import numpy as np

from sim import __version__
from sim.model import BalanceModel
from sim.params import POWERS, ParameterError, load_parameters


class UsageError(Exception):
    """Bad input from the user: reported in one line, exit status 2."""


def _positive(text: str) -> int:
    try:
        n = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if n < 1:
        raise argparse.ArgumentTypeError(f"expected a number of at least 1, got {n}")
    return n


def _seed(text: str) -> int:
    try:
        n = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if n < 0:
        raise argparse.ArgumentTypeError(f"expected a seed of 0 or more, got {n}")
    return n


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="bamboo", description="Bamboo: Vietnam's multi-alignment, simulated.")
    top.add_argument("--version", action="version", version=f"bamboo {__version__}")
    sub = top.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="run the status-quo what-if and plot alignment trajectories")
    run.add_argument("--runs", type=_positive, default=1000, help="Monte Carlo runs (default 1000)")
    run.add_argument("--seed", type=_seed, default=1, help="random seed (default 1)")
    run.add_argument("--steps", type=_positive, default=None, help="quarters to simulate (default: the horizon)")
    run.add_argument("--uncertainty", action="store_true", help="draw every parameter per run from its range")
    run.add_argument("--parameters", type=Path, default=None, help="a parameter file (default: the packaged one)")
    run.add_argument("--out", type=Path, default=Path("results/status_quo"), help="output folder")
    run.add_argument("--force", action="store_true", help="replace the output folder if it exists")
    run.add_argument("--quiet", action="store_true", help="print nothing on success")
    return top


def summarise(model: BalanceModel, seed: int) -> dict:
    traj = model.trajectories()

    def stats(x: np.ndarray) -> dict:
        p05, p50, p95 = np.percentile(x, [5, 50, 95])
        return {"mean": float(x.mean()), "p05": float(p05), "p50": float(p50), "p95": float(p95)}

    final = traj["alignment"][-1]
    return {
        "scenario": "status quo",
        "runs": model.runs,
        "seed": seed,
        "start": str(model.dates[0]),
        "end": str(model.dates[-1]),
        "steps": len(model.dates) - 1,
        "survival_probability": model.survival_probability(),
        "failure_modes": {k: v for k, v in model.failure_modes().items() if k != "survived"},
        "final_alignment": {p: stats(final[:, i]) for i, p in enumerate(POWERS)},
        "hedging_index": stats(traj["hedging_index"][-1]),
        "security_satisfaction": stats(traj["satisfaction"][-1].mean(axis=1)),
        "version": __version__,
    }


def run(args) -> int:
    from sim import plots  # matplotlib only when plotting

    out: Path = args.out
    if out.exists() and not args.force:
        raise UsageError(f"{out}: output folder exists; choose another --out or add --force to replace it")
    parameters = load_parameters(args.parameters)
    model = BalanceModel(runs=args.runs, rng=args.seed, parameters=parameters, uncertainty=args.uncertainty)
    model.run_for(args.steps or model.horizon)
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        summary = summarise(model, args.seed)
        (staging / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
        plots.save(plots.alignment_fan_chart(model), staging / "alignment")
        if out.exists():
            shutil.rmtree(out)
        staging.rename(out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    if not args.quiet:
        print(
            f"survival probability {summary['survival_probability']:.3f} over {summary['runs']} runs, "
            f"{summary['start']} to {summary['end']}"
        )
        print(f"wrote {out}/summary.json, {out}/alignment.png, {out}/alignment.svg")
    return 0


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        return {"run": run}[args.command](args)
    except (UsageError, ParameterError) as exc:
        print(f"bamboo: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
