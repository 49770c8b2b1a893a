"""The dashboard server's confinement: it may write only into its own caches (defence in depth).

The gate (``sim.classroom.gate``) passes only the page's own messages; should anything
get past it, the server process still cannot create, empty or remove a file
outside the folders it needs to write, because the kernel forbids it: Linux's
Landlock (5.13 and later) restricts a process and every process it starts to
the file-system rights it keeps. Reading is left alone, and so is writing to
files already open (the server's log). Where the kernel has no Landlock, the
server says so and runs unconfined.
"""

from __future__ import annotations

import ctypes
import os
import sys
import tempfile
from collections.abc import Iterable
from pathlib import Path

# Landlock's system calls and constants (linux/landlock.h); the same numbers on every architecture.
_CREATE_RULESET, _ADD_RULE, _RESTRICT_SELF = 444, 445, 446
_CREATE_RULESET_VERSION = 1
_RULE_PATH_BENEATH = 1
_PR_SET_NO_NEW_PRIVS = 38
# every right that changes the file system, by the ABI version that brought it
_WRITES = {
    1: (1 << 1) | (1 << 4) | (1 << 5) | (1 << 6) | (1 << 7) | (1 << 8) | (1 << 9) | (1 << 10) | (1 << 11) | (1 << 12),
    2: 1 << 13,  # linking or renaming across folders
    3: 1 << 14,  # truncating
}


class _RulesetAttr(ctypes.Structure):
    _fields_ = [("handled_access_fs", ctypes.c_uint64)]


class _PathBeneathAttr(ctypes.Structure):
    _pack_ = 1
    _fields_ = [("allowed_access", ctypes.c_uint64), ("parent_fd", ctypes.c_int32)]


def abi() -> int:
    """The kernel's Landlock ABI version; 0 where there is none (another system, an older kernel, disabled)."""
    if not sys.platform.startswith("linux"):
        return 0
    libc = ctypes.CDLL(None, use_errno=True)
    version = int(libc.syscall(_CREATE_RULESET, None, ctypes.c_size_t(0), ctypes.c_uint32(_CREATE_RULESET_VERSION)))
    return max(version, 0)


def confine_writes(allowed: Iterable[Path]) -> bool:
    """Forbid this process and those it starts to change the file system anywhere but under ``allowed``.

    Each allowed folder is created if missing. Returns False, changing
    nothing, where the kernel has no Landlock; raises OSError if a step fails
    once begun.
    """
    version = abi()
    if not version:
        return False
    rights = 0
    for since, bits in _WRITES.items():
        if version >= since:
            rights |= bits
    libc = ctypes.CDLL(None, use_errno=True)
    attr = _RulesetAttr(rights)
    ruleset = int(libc.syscall(_CREATE_RULESET, ctypes.byref(attr), ctypes.c_size_t(ctypes.sizeof(attr)), 0))
    if ruleset < 0:
        raise OSError(ctypes.get_errno(), "landlock_create_ruleset failed")
    try:
        for folder in allowed:
            folder.mkdir(parents=True, exist_ok=True)
            fd = os.open(folder, os.O_PATH | os.O_CLOEXEC)
            try:
                rule = _PathBeneathAttr(rights, fd)
                if libc.syscall(_ADD_RULE, ruleset, _RULE_PATH_BENEATH, ctypes.byref(rule), 0) < 0:
                    raise OSError(ctypes.get_errno(), f"landlock_add_rule failed for {folder}")
            finally:
                os.close(fd)
        if libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_SET_NO_NEW_PRIVS) failed")
        if libc.syscall(_RESTRICT_SELF, ruleset, 0) < 0:
            raise OSError(ctypes.get_errno(), "landlock_restrict_self failed")
    finally:
        os.close(ruleset)
    return True


def caches() -> list[Path]:
    """The folders a Bamboo server must write: the compiled rules' cache and shared memory (its workers' locks)."""
    from sim.model import kernels

    folders = [Path(kernels.__file__).parent / "__pycache__"]
    if os.environ.get("NUMBA_CACHE_DIR"):
        folders.append(Path(os.environ["NUMBA_CACHE_DIR"]))
    if Path("/dev/shm").is_dir():
        folders.append(Path("/dev/shm"))
    return folders


def confine_server(program: str, extra: Iterable[Path] = ()) -> Path:
    """Confine a server (and what it starts) to writing its caches, ``extra`` and a scratch folder; the scratch folder.

    Defence in depth behind what the server accepts (``sim.classroom.gate``,
    ``sim.classroom.class_server``): whatever a page manages to ask, the kernel refuses
    the server a file anywhere else. The scratch folder becomes the process's
    (and its workers') temporary folder; the caller removes it at the end.
    Says on standard error whether the confinement holds.
    """
    scratch = Path(tempfile.mkdtemp(prefix="bamboo-server-"))
    tempfile.tempdir = str(scratch)
    os.environ["TMPDIR"] = str(scratch)
    try:
        confined = confine_writes([scratch, *caches(), *extra])
    except OSError as exc:
        confined = False
        print(f"{program}: warning: could not confine the server's writes ({exc})", file=sys.stderr)
    if confined:
        print(f"{program}: the server writes only into its caches and its scratch folder", file=sys.stderr)
    else:
        print(f"{program}: warning: this system cannot confine the server's writes (Linux Landlock is needed); "
              "the server runs unconfined", file=sys.stderr)  # fmt: skip
    return scratch
