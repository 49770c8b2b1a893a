"""``python -m sim``: the command line (``sim.cli.main``), as the ``bamboo`` script runs it.

A Ctrl+C before the command line has loaded exits at once, with one line and status 130: nothing is written
yet. ``sim.cli.main.main`` takes over from there.
"""

import os
import signal
import sys


def _quit_at_once(signum: int, frame: object) -> None:
    os.write(
        2, b"bamboo: interrupted; nothing was written\n"
    )  # sim.cli.main.INTERRUPTED, before sim.cli.main is loaded
    os._exit(130)


if signal.getsignal(signal.SIGINT) is not signal.SIG_IGN:  # ignored (nohup, a background job): left ignored
    signal.signal(signal.SIGINT, _quit_at_once)

from sim.cli.main import main  # noqa: E402  (after the handler: loading it takes a while)

sys.exit(main())
