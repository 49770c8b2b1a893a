"""Output folders: results appear whole or not at all, and nothing Bamboo did not write is ever removed.

A command writes into a staging folder beside its output folder
(``.NAME.XXXXXXXX``, holding a ``.bamboo-staging`` file with its process id)
and renames it into place once everything is written. An existing output
folder is replaced only with ``--force``, and only if Bamboo wrote it: every
file in it is a regular file listed in its ``manifest.json`` with the hash it
had when written (an empty folder holds nothing to lose). The output is never
the current folder, one of its parents or ``/``, a file or a symbolic link;
those are refused before any work, as is a place that cannot be written. A
staging folder whose writer is no longer running (it was killed) is removed
by the next command writing the same output.

One writer per output folder: ``prepare`` takes an exclusive lock (``flock``)
on ``.NAME.bamboo-lock`` beside the folder, held until the command ends
(``release``), before it looks at what the folder holds. A second command on
the same folder, with ``--force`` or ``--resume`` or not, is refused at once,
so nothing is removed or replaced under a running job. The operating system
drops the lock when its process ends, however it ends (``kill -9``).
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import shutil
import stat
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from sim.model.limits import MAX_OUT_NAME

MANIFEST = "manifest.json"
MARKER = ".bamboo-staging"
RANDOM = 8  # characters tempfile.mkdtemp adds to a staging folder's name
LOCK = ".bamboo-lock"  # the lock file beside an output folder: .NAME.bamboo-lock
LOCK_TEXT = "bamboo output lock, held by process "


class OutputError(ValueError):
    """An output folder that cannot, or may not, be written: exit status 2, nothing changed."""


@dataclass(frozen=True)
class Output:
    """A checked output folder: ``path``, and whether an existing folder (Bamboo's own, or empty) is replaced."""

    path: Path
    replace: bool


def prepare(text: str, force: bool) -> Output:
    """Check an output folder before any work; OutputError says why it cannot be used."""
    if not text:
        raise OutputError("--out is empty; expected the name of a folder for the results")
    path = Path(text)
    real = Path(os.path.realpath(path))
    here = Path.cwd().resolve()
    if path.name in ("", "..") or real == here or real in here.parents:
        raise OutputError(
            f"{text}: is the current folder, one of its parents or /; expected a folder of its own for the results"
        )
    if len(os.fsencode(path.name)) > MAX_OUT_NAME or any(len(os.fsencode(p)) > 255 for p in path.parts):
        raise OutputError(f"{_short(text)}: the folder name is too long; expected at most {MAX_OUT_NAME} bytes")
    if path.is_symlink():
        raise OutputError(f"{text}: is a symbolic link; expected a folder, named as itself")
    _check_nearest_parent(text, path)
    if path.exists() and not path.is_dir():
        raise OutputError(f"{text}: is a file, not a folder; choose another --out (nothing was changed)")
    # the folder it goes in, resolved now: a parent named through the output itself (out/../out) would
    # vanish with the output it replaces
    path = Path(os.path.realpath(path.parent)) / path.name
    lock(path, text)  # before looking inside: what is there may be another command's work in progress
    if not path.exists():
        return Output(path, False)
    if not force:
        raise OutputError(f"{text}: output folder exists; choose another --out or add --force to replace it")
    own_files(path)
    return Output(path, True)


@dataclass
class _Held:
    fd: int
    made: list[Path]  # parent folders created for the lock file, removed again if left empty


_HELD: dict[Path, _Held] = {}


def lock(out: Path, text: str) -> None:
    """Hold the lock of the output folder ``out`` (``--out`` as ``text``) until ``release``; OutputError if taken."""
    path = out.parent / f".{out.name}{LOCK}"
    if path in _HELD:
        return
    made = _make_parents(out.parent)
    while True:
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK, 0o666)
        except OSError as exc:
            _remove_empty(made)
            raise OutputError(f"{out}: cannot write the results there ({exc.strerror})") from None
        if not stat.S_ISREG(os.fstat(fd).st_mode):  # a pipe or a device of that name: not Bamboo's to use
            os.close(fd)
            _remove_empty(made)
            raise OutputError(f"{text}: {path.name} beside it is not Bamboo's lock file; choose another --out")
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            holder = os.pread(fd, 200, 0).decode(errors="replace").removeprefix(LOCK_TEXT).strip()
            os.close(fd)
            by = f" (process {holder})" if holder.isdigit() else ""
            raise OutputError(
                f"{text}: another bamboo command{by} is writing this output folder; wait for it to end, "
                "or choose another --out (nothing was changed)"
            ) from None
        try:
            same = os.path.samestat(os.fstat(fd), os.stat(path, follow_symlinks=False))
        except OSError:
            same = False
        if same:  # else its holder removed it as we opened it: take the new one
            break
        os.close(fd)
    before = os.pread(fd, 200, 0)
    if before and not before.startswith(LOCK_TEXT.encode()):  # a file of the user's by that name
        os.close(fd)
        _remove_empty(made)
        raise OutputError(f"{text}: {path.name} beside it is not Bamboo's lock file; choose another --out")
    os.ftruncate(fd, 0)
    os.pwrite(fd, f"{LOCK_TEXT}{os.getpid()}\n".encode(), 0)
    _HELD[path] = _Held(fd, made)


def release() -> None:
    """Give up every output folder's lock this process holds, removing the lock files (the command has ended)."""
    while _HELD:
        path, held = _HELD.popitem()
        with contextlib.suppress(OSError):
            os.unlink(path)  # while still held: a command waiting for it opens a new file
        os.close(held.fd)
        _remove_empty(held.made)


def _check_nearest_parent(text: str, path: Path) -> None:
    """OutputError if the nearest existing parent of ``path`` is not a folder (the results cannot go inside it)."""
    for parent in path.parents:
        if parent.exists() or parent.is_symlink():
            if not parent.is_dir():
                raise OutputError(f"{text}: {parent} is not a folder, so the results cannot go inside it")
            break


def _short(text: str) -> str:
    return text if len(text) <= 80 else text[:40] + "…" + text[-30:]


def own_files(folder: Path) -> list[str]:
    """The files of a folder Bamboo wrote (none if it is empty), or OutputError saying why it is not one."""
    why = f"{folder}: --force replaces only a folder Bamboo wrote, unchanged"
    try:
        entries = sorted(os.listdir(folder))
    except OSError as exc:
        raise OutputError(f"{folder}: cannot be read ({exc.strerror})") from None
    if not entries:
        return []
    try:
        listed = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))["files"]
        if not all(isinstance(k, str) and isinstance(v, str) for k, v in listed.items()):
            raise TypeError
    except (OSError, ValueError, TypeError, KeyError, AttributeError):
        raise OutputError(f"{why}; it has no manifest.json of Bamboo's") from None
    others = [e for e in entries if e != MANIFEST and e not in listed]
    if others:
        more = f" and {len(others) - 3} more" if len(others) > 3 else ""
        raise OutputError(f"{why}; it holds files Bamboo did not write ({', '.join(others[:3])}{more})")
    for name in entries:
        try:
            regular = stat.S_ISREG(os.lstat(folder / name).st_mode)
            same = name == MANIFEST or (regular and _sha256(folder / name) == listed[name])
        except OSError as exc:
            raise OutputError(f"{folder}: {name} cannot be read ({exc.strerror})") from None
        if not regular:
            raise OutputError(f"{why}; {name} is not a file Bamboo wrote")
        if not same:
            raise OutputError(f"{why}; {name} has changed since it was written")
    return entries


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def remove_own(folder: Path) -> None:
    """Remove a folder Bamboo wrote: each of its files by name, then the (then empty) folder."""
    for name in own_files(folder):
        os.unlink(folder / name)
    os.rmdir(folder)


@contextlib.contextmanager
def staged(out: Output) -> Iterator[Path]:
    """A staging folder beside the output that takes its place only when everything in it is written."""
    made = _make_parents(out.path.parent)
    staging = None
    try:
        staging = Path(tempfile.mkdtemp(prefix=f".{out.path.name}.", dir=out.path.parent))
        (staging / MARKER).write_text(str(os.getpid()))
        mask = os.umask(0)
        os.umask(mask)
        staging.chmod(0o777 & ~mask)  # as any folder the user makes, not private as mkdtemp leaves it
    except OSError as exc:
        if staging is not None:
            shutil.rmtree(staging, ignore_errors=True)
        _remove_empty(made)
        raise OutputError(f"{out.path}: cannot write the results there ({exc.strerror})") from None
    try:
        yield staging
        (staging / MARKER).unlink()
        if out.replace and out.path.exists():
            remove_own(out.path)
        staging.rename(out.path)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        _remove_empty(made)
        raise


def _make_parents(folder: Path) -> list[Path]:
    """Create a folder and its missing parents; return those created, deepest first."""
    missing = []
    for p in (folder, *folder.parents):
        if p.exists():
            break
        missing.append(p)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        _remove_empty(missing)
        raise OutputError(f"{folder}: cannot create the folder ({exc.strerror})") from None
    return missing


def _remove_empty(folders: list[Path]) -> None:
    for p in folders:
        with contextlib.suppress(OSError):
            p.rmdir()


def is_staging(folder: Path) -> bool:
    """A staging folder of Bamboo's (its writer may still be running)."""
    return (folder / MARKER).is_file()


def clean_stale(out: Path) -> list[Path]:
    """Remove the staging folders of ``out`` whose writer is no longer running; return them."""
    removed: list[Path] = []
    prefix = f".{out.name}."
    try:
        siblings = os.listdir(out.parent)
    except OSError:
        return removed
    for name in siblings:
        folder = out.parent / name
        if not (name.startswith(prefix) and len(name) == len(prefix) + RANDOM) or folder.is_symlink():
            continue
        try:
            pid = int((folder / MARKER).read_text())
        except (OSError, ValueError):
            continue  # not a staging folder of Bamboo's
        if pid > 0 and pid != os.getpid() and not _running(pid):
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(folder)
    return removed


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # another user's process
    return True
