"""Reading a scenario file and the base files it inherits: YAML with lines, merged child over base."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Protocol

from sim.model import yamlfile
from sim.model.checks import suggest
from sim.model.limits import MAX_BASE_DEPTH
from sim.model.reach import Files, ReachError, Source
from sim.model.yamlfile import Mapping, YamlFault, kind, token
from sim.runs.scenario.spec import ScenarioError

TOP_KEYS = (
    "name",
    "description",
    "sources",
    "base",
    "start",
    "horizon",
    "runs",
    "seed",
    "uncertainty",
    "strategy",
    "parameters",
    "events",
)


class Reach(Protocol):
    """Which files a scenario may read (``sim.model.reach``): the command line's files, or the dashboard's library."""

    def open(self, name: str) -> Source:
        """The file called ``name``."""
        ...

    def base(self, naming: Source, name: str) -> Source:
        """The file ``name`` that the file ``naming`` builds on."""
        ...


def parse(source: Source) -> Mapping:
    """A file's YAML as a line-aware mapping, or a ScenarioError naming the file as the user named it."""
    data = source.data
    if b"\x00" in data:
        raise ScenarioError(source.name, None, "", "expected a YAML text file, found binary data")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ScenarioError(source.name, None, "", f"expected UTF-8 text (byte {exc.start} is not)") from None
    if not text.strip():
        raise ScenarioError(
            source.name, None, "", "the file is empty; expected a scenario (name, description, events ...)"
        )
    try:
        doc = yamlfile.parse(text)
    except YamlFault as fault:
        raise ScenarioError(source.name, fault.line, fault.where, fault.message) from None
    if not isinstance(doc, Mapping):  # the reader makes every mapping a line-aware Mapping
        raise ScenarioError(source.name, 1, "", f"expected a mapping of scenario keys, found {kind(doc)}")
    return doc


def open_source(path: str | Path, reach: Reach | None = None) -> Source:
    """The file a command or the dashboard names, through ``reach`` (default: the command line's files)."""
    try:
        return (reach or Files()).open(str(path))
    except ReachError as exc:
        raise ScenarioError(path, None, "", str(exc)) from None


def read_yaml(path: Path) -> Mapping:
    """Parse a YAML file to a line-aware mapping, or raise ScenarioError."""
    return parse(open_source(path))


def chain(top: Source, reach: Reach) -> list[tuple[Source, Mapping]]:
    """The file and its bases, child first; at most MAX_BASE_DEPTH files, no file twice."""
    chain: list[tuple[Source, Mapping]] = []
    source = top
    while True:
        doc = parse(source)
        if doc and not any(key in TOP_KEYS for key in doc):  # not a scenario: show nothing of it
            raise ScenarioError(
                source.name, doc.line, "", f"not a scenario file: none of its keys is one of {', '.join(TOP_KEYS)}"
            )
        for key in doc:
            if key not in TOP_KEYS:
                raise ScenarioError(
                    source.name,
                    doc.lines[key],
                    token(key),
                    f"unknown key{suggest(key, TOP_KEYS)}; expected one of {', '.join(TOP_KEYS)}",
                )
        chain.append((source, doc))
        if "base" not in doc:
            return chain
        name, line = doc["base"], doc.lines["base"]
        if not isinstance(name, str) or not name.strip():
            raise ScenarioError(source.name, line, "base", "expected the path of another scenario file")
        if len(chain) >= MAX_BASE_DEPTH:
            raise ScenarioError(
                source.name, line, "base", f"inheritance deeper than {MAX_BASE_DEPTH} files; expected a shorter chain"
            )
        try:
            base = reach.base(source, name)
        except ReachError as exc:
            raise ScenarioError(source.name, line, "base", str(exc)) from None
        if base.key in [s.key for s, _ in chain]:
            cycle = " -> ".join([s.name for s, _ in chain] + [base.name])
            raise ScenarioError(source.name, line, "base", f"circular inheritance: {cycle}")
        source = base


class Overrides(Mapping):
    """A scenario's ``parameters`` merged over its bases': the line and the file that set each one."""

    def __init__(
        self,
        values: dict[str, Any] | None = None,
        line: int = 0,
        lines: dict[str, int] | None = None,
        files: dict[str, str] | None = None,
        file: str | None = None,
    ) -> None:
        """The overrides ``values``; ``line`` and ``file``: those of the mapping written last (0, None: none was)."""
        super().__init__(values or {})
        self.line, self.lines, self.files, self.file = line, lines or {}, files or {}, file

    @classmethod
    def over(cls, below: object, own: Mapping, file: str) -> Overrides:
        """The ``parameters`` mapping ``own`` of ``file`` over those its bases set (``below``, if a mapping)."""
        base = below if isinstance(below, Overrides) else cls()
        files = {**base.files, **dict.fromkeys(own, file)}
        return cls({**base, **own}, own.line, {**base.lines, **own.lines}, files, file)

    def blame(self, name: str, message: str, path: str) -> ScenarioError:
        """The error for parameter ``name``: at its own file and line, or at the mapping's if no file sets it.

        A group such as ``thresholds`` is blamed on the last override inside it; the mapping is the last one
        merged, which may be a base file's: its line goes with its file.
        """
        name = next((n for n in reversed(self) if n.startswith(f"{name}.")), name)
        if name in self:
            return ScenarioError(self.files.get(name, path), self.lines.get(name), f"parameters.{token(name)}", message)
        return ScenarioError(self.file or path, self.line or None, f"parameters.{token(name)}", message)


def inherit(chain: list[tuple[Source, Mapping]]) -> dict[str, Any]:
    """Merge each file over its base: keys override, parameters merge, events append.

    The values are the files' own, unchecked; ``_origin`` holds the file and line that set each key.
    """
    merged: dict[str, Any] = {"_origin": {}}
    for source, doc in reversed(chain):
        path = source.name
        merged["_origin"].update({k: (path, doc.lines[k]) for k in doc})
        for key, value in doc.items():
            if key == "base":
                continue
            if key == "parameters" and isinstance(value, Mapping):
                merged[key] = Overrides.over(merged.get(key), value, path)
            elif key == "events" and isinstance(value, list):
                lines = getattr(value, "lines", [None] * len(value))
                own = [(path, e, ln) for e, ln in zip(value, lines, strict=True)]
                merged[key] = (merged[key] if isinstance(merged.get(key), list) else []) + own
            else:
                merged[key] = value
    return merged
