"""Serving the dashboard (``bamboo app``): offline, confined, closed sessions freed, fans in worker processes."""

from __future__ import annotations

import contextlib
import os
import shutil
import sys
import warnings
from pathlib import Path
from typing import TYPE_CHECKING

import solara

from sim.classroom import (
    app,  # the page, and the hooks each session starts with, registered before any page
    gate,
    sandbox,
)
from sim.classroom import lesson as classroom
from sim.classroom.fans import FANS

if TYPE_CHECKING:
    from sim.analysis.posterior import Posterior

CULL_TIMEOUT = "2m"  # a closed page's session is freed this long after its last connection went


def offline() -> None:
    """Serve Solara's web assets from the installed solara-assets package; ask nothing of the internet."""
    import solara.server.settings as server

    solara.settings.assets.proxy = True  # assets come from the server's cache, which solara-assets fills
    solara.settings.assets.cdn = "http://127.0.0.1:9/"  # a missing asset is a 404, never a download
    server.telemetry.mixpanel_enable = False
    server.theme.show_banner = False
    server.theme.title = app.TITLE


def free_closed_sessions() -> None:
    """Free a closed page's session within minutes, not Solara's default day (SOLARA_KERNEL_CULL_TIMEOUT overrides)."""
    import solara.server.settings as server

    if "SOLARA_KERNEL_CULL_TIMEOUT" not in os.environ:
        server.kernel.cull_timeout = CULL_TIMEOUT


def fan_workers() -> int:
    """How many processes compute fans: BAMBOO_FAN_WORKERS, else one per processor (0: in the server itself)."""
    text = os.environ.get("BAMBOO_FAN_WORKERS", str(os.cpu_count() or 1)).strip()
    if not text.isdecimal() or not 0 <= int(text) <= 64:
        raise ValueError(f"BAMBOO_FAN_WORKERS must be a whole number from 0 to 64, got {text[:20]!r}")
    return int(text)


def serve(host: str = "127.0.0.1", port: int = 8765, posterior: Posterior | None = None) -> int:
    """Run the dashboard until Ctrl+C; with ``posterior``, every lesson's runs draw their parameters from it."""
    try:
        workers = fan_workers()
    except ValueError as exc:
        print(f"bamboo app: error: {exc}", file=sys.stderr)
        return 2
    offline()
    free_closed_sessions()
    gate.guard_addresses()
    if not gate.loopback(host) and hasattr(os, "geteuid") and os.geteuid() == 0:
        print(f"bamboo app: warning: serving {host} as root: anyone on the network reaches a server that runs as "
              "root; run it as an ordinary user", file=sys.stderr)  # fmt: skip
    classroom.SERVED_POSTERIOR = posterior
    import solara.server.settings as server

    # the server and its fan workers write only their caches (Solara's assets among them) and a scratch folder
    scratch = sandbox.confine_server("bamboo app", [Path(server.assets.proxy_cache_dir)])
    FANS.start(workers)
    # a classroom serves plain http on its own network; Solara warns of that on each new address
    warnings.filterwarnings("ignore", "Cookies with samesite=none require https", UserWarning)
    from click.exceptions import Abort
    from solara.__main__ import run

    args = ["sim.classroom.app", "--host", host, "--port", str(port), "--production", "--no-open", "--no-check-version"]
    try:
        with contextlib.suppress(Abort, KeyboardInterrupt):  # Ctrl+C: the usual way to stop a server
            run.main(args, standalone_mode=False)
    finally:
        FANS.stop()
        shutil.rmtree(scratch, ignore_errors=True)
    return 0
