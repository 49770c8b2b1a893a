"""What a scenario may read: the file it is in, and the base files it inherits from.

On the command line (``Files``), a ``base:`` or a sweep design's ``scenario:``
names a file relative to the file that names it, or by an absolute path. It
must end in ``.yaml`` or ``.yml``, which is checked before anything is opened
(``base: /etc/shadow`` reads nothing), and be a regular file of at most
MAX_FILE_BYTES: folders, pipes and devices are refused without reading them.
The command line reads with its user's own rights, so it may reach any such
file its user can read; a message about a file never shows more of it than
the offending token of a file that parsed as a scenario.

In the dashboard (``Library``), the scenarios a file may inherit from are the
shipped ones and the session's own uploads, by file name, and nothing else: no
name reaches the server's disk, and a name outside the library gets the same
answer whether or not such a file exists there. Messages name files as the
user named them.
"""

from __future__ import annotations

import csv
import os
import stat
from dataclasses import dataclass
from pathlib import Path

from sim.model.limits import MAX_FILE_BYTES, MAX_PATH
from sim.model.yamlfile import show

SUFFIXES = (".yaml", ".yml")


class ReachError(ValueError):
    """A file that may not, or cannot, be read; the message says which and why (without the file's content).

    ``kind`` is "missing", "folder" or "other".
    """

    def __init__(self, message: str, kind: str = "other") -> None:
        """A refusal saying ``message``, of the ``kind`` the caller may word in its own terms."""
        super().__init__(message)
        self.kind = kind


@dataclass(frozen=True)
class Source:
    """A file's bytes, with its name as the user wrote it (for messages) and what makes it the same file."""

    name: str
    key: str
    data: bytes
    folder: Path | None = None  # where its relative names start (the command line)


def read_file(path: Path, limit: int = MAX_FILE_BYTES, kind: str = "YAML", role: str = "a scenario file") -> bytes:
    """A regular file's bytes, at most ``limit``; never waits on a pipe or reads a device.

    ``kind`` and ``role`` name the file a message expects: a YAML file, a scenario file's limit by default.
    """
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0))
    except FileNotFoundError:
        raise ReachError("file not found", "missing") from None
    except PermissionError:
        raise ReachError("cannot be read (permission denied)") from None
    except (OSError, ValueError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else "not a usable file name"
        raise ReachError(f"cannot be read ({reason})") from None
    try:
        mode = os.fstat(fd).st_mode
        if stat.S_ISDIR(mode):
            raise ReachError(f"expected a {kind} file, found a folder", "folder")
        if not stat.S_ISREG(mode):
            found = "a named pipe" if stat.S_ISFIFO(mode) else "a socket" if stat.S_ISSOCK(mode) else "a device"
            raise ReachError(f"expected a {kind} file, found {found}")
        chunks, total = [], 0
        while total <= limit:
            chunk = os.read(fd, 1 << 16)
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
    except OSError as exc:
        raise ReachError(f"cannot be read ({exc.strerror or 'read error'})") from None
    finally:
        os.close(fd)
    if total > limit:
        raise ReachError(f"the file is larger than {limit // 1024:,} KiB, the limit for {role}")
    return b"".join(chunks)


def check_name(name: str, role: str = "base") -> None:
    """A base file's name: a scenario file's, by its ending."""
    if "\x00" in name:
        raise ReachError(f"expected the name of a {role} scenario file, found a NUL character in it")
    if len(name) > MAX_PATH:
        raise ReachError(
            f"expected the name of a {role} scenario file of at most {MAX_PATH:,} characters, got {len(name):,}"
        )
    if Path(name).suffix.lower() not in SUFFIXES:
        raise ReachError(f"expected the name of a {role} scenario file ending in .yaml or .yml, got {show(name)}")


class Files:
    """The command line: files on disk, a base relative to the file naming it."""

    def open(self, path: str | Path) -> Source:
        """The file at ``path``, read within the limits of ``read_file``."""
        path = Path(path)
        data = read_file(path)
        return Source(str(path), os.path.realpath(path), data, path.parent)

    def base(self, naming: Source, name: str, role: str = "base") -> Source:
        """The file ``name`` that ``naming`` builds on, found beside it; a ReachError in the ``role``'s words."""
        check_name(name, role)
        path = (naming.folder or Path()) / name
        try:
            return Source(str(path), os.path.realpath(path), read_file(path), path.parent)
        except ReachError as exc:
            shown = show_path(str(path))
            if exc.kind == "missing":
                raise ReachError(f"{role} file {shown} not found", exc.kind) from None
            if exc.kind == "folder":
                raise ReachError(f"{role} file {shown} is a folder; expected a scenario file", exc.kind) from None
            raise ReachError(f"{role} file {shown}: {exc}", exc.kind) from None


class Library:
    """The dashboard: the shipped scenarios and a session's uploads, by file name, and nothing else."""

    def __init__(self, files: dict[str, bytes]) -> None:
        """The files by name: the shipped scenarios and the session's uploads."""
        self.files = dict(files)

    def open(self, name: str) -> Source:
        """The file called ``name``, if it is one of the library's."""
        if name not in self.files:
            raise ReachError(f"{name}: not a shipped scenario or an upload of this session")
        return Source(name, name, self.files[name])

    def base(self, naming: Source, name: str) -> Source:
        """The file ``name`` that ``naming`` builds on, if it is one of the library's (not a path)."""
        check_name(name)
        if name not in self.files:
            known = ", ".join(sorted(self.files))
            raise ReachError(
                f"{show_name(name)} is not a shipped scenario or one of your uploads; expected one of {known}"
            )
        return Source(name, name, self.files[name])


def show_path(path: str, width: int = 120) -> str:
    """A path for a message: itself if short, else its start and its end (the file's name) around an ellipsis."""
    if len(path) <= width:
        return path
    return path[: width // 2] + "…" + path[-(width // 2) :]


def show_name(name: str, width: int = 60) -> str:
    """A file name as the user gave it, without folders or control characters, shortened in the middle."""
    name = "".join(c if c.isprintable() else "?" for c in name.replace("\\", "/").rsplit("/", 1)[-1]) or "upload.yaml"
    if len(name) <= width:
        return name
    keep = (width - 1) // 2
    return name[:keep] + "…" + name[-keep:]


def csv_row(text: str) -> list[str]:
    """The fields of one line of a CSV file: a row is one line (a quoted field cannot run on to the next).

    Raises:
        ValueError: what is wrong with the line, in a few words (never the line itself).
    """
    try:
        return next(csv.reader([text], strict=True))
    except csv.Error as exc:
        if text.count('"') % 2:
            raise ValueError("a quoted field runs past the end of the line") from None
        if "field limit" in str(exc):
            raise ValueError(f"a field of more than {csv.field_size_limit():,} characters") from None
        raise ValueError("not a row of comma-separated values") from None
