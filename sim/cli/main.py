"""Command line: ``bamboo run | compare | sweep | sensitivity | discover | history | forecast | app | class | ...``.

``main`` parses the arguments (``sim.cli.parser``), runs the command (``sim.cli.commands``) and turns every
refusal into one line on stderr and an exit status: 0 done, 1 the work failed, 2 bad input, 130 interrupted.
"""

from __future__ import annotations

import argparse
import importlib
import os
import signal
import sys
import threading
from collections.abc import Callable

from sim.cli import commands
from sim.cli.parser import UsageError, parser
from sim.cli.signals import INTERRUPTED, interrupt_once, quit_at_once
from sim.model.limits import LimitError
from sim.model.yamlfile import escape
from sim.outputs import jobs
from sim.runs import output
from sim.runs.output import OutputError


def main(argv: list[str] | None = None) -> int:
    """Run the command in ``argv`` (default: the process's arguments).

    Returns:
        The exit status: 0 done, 1 the work failed (or the machine: a full disk), 2 bad input, 130 interrupted.
    """
    # a process started with Ctrl+C ignored (nohup, a shell's background job) keeps ignoring it, as Python does
    own_signals = threading.current_thread() is threading.main_thread()
    own_signals = own_signals and signal.getsignal(signal.SIGINT) is not signal.SIG_IGN
    previous = signal.signal(signal.SIGINT, quit_at_once) if own_signals else None
    try:
        args = parser().parse_args(argv)  # before the model's imports: --version and usage load nothing heavy
        for module in (
            "sim.runs.ensemble",
            "sim.model.params",
            "sim.runs.scenario",
        ):  # the slow start, under the quick exit
            importlib.import_module(module)
        if own_signals:
            signal.signal(signal.SIGINT, interrupt_once)
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
    from sim.runs.chunks import ExecutionError, SetupError
    from sim.runs.scenario import ScenarioError

    try:
        return COMMANDS[args.command](args)
    except (UsageError, jobs.JobError, ParameterError, ScenarioError, SetupError, LimitError, OutputError) as exc:
        print(f"bamboo: error: {escape(str(exc))}", file=sys.stderr)
        return 2
    except ExecutionError as exc:
        print(f"bamboo: error: {escape(str(exc))}", file=sys.stderr)
        return 1
    except jobs.Interrupted as exc:
        print(f"bamboo: {exc}", file=sys.stderr)
        return 130
    except (KeyboardInterrupt, SystemError) as exc:
        if not jobs.is_interrupt(exc):
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


COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {
    "app": commands.cmd_app,
    "class": commands.cmd_class,
    "run": commands.cmd_run,
    "compare": commands.cmd_compare,
    "sweep": commands.cmd_sweep,
    "sensitivity": commands.cmd_sensitivity,
    "discover": commands.cmd_discover,
    "bench": commands.cmd_bench,
    "validate": commands.cmd_validate,
    "events": commands.cmd_events,
    "facts": commands.cmd_facts,
    "history": commands.cmd_history,
    "calibrate": commands.cmd_calibrate,
    "forecast": commands.cmd_forecast,
    "score": commands.cmd_score,
}
