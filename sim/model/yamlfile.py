"""Reading a scenario or design file's YAML: line-aware, bounded, and quiet about what it read.

What differs from PyYAML's safe loader:

- numbers as YAML 1.2 writes them: ``1e3`` and ``1e308`` are numbers (YAML 1.1
  reads them as text);
- no timestamps: ``2030-01-01`` stays text, for the calendar to judge; no
  tags: a value written with one (``!!int abc``, ``!!binary``, ``!foo`` ...)
  is refused, so only text, numbers, true/false, null, lists and mappings are
  ever built;
- merge keys (``<<: *anchor``) work, and the mapping may override what they
  bring; a key written twice is refused;
- bounded: at most MAX_NODES values, an alias counting as everything it stands
  for, so no file makes the reader (or a message about it) grow beyond a
  fixed size; a whole number of more than MAX_DIGITS digits is kept as a
  ``Huge``, which every field refuses (and no message spells out); a value of
  more than MAX_TEXT characters is refused;
- fast and bounded while it reads: libyaml's parser (C) where it is installed,
  PyYAML's composer counting values and nesting as they come, so that a file
  of the size limit is read or refused in a fraction of a second; a file of
  up to PYTHON_ERRORS bytes that libyaml refuses is read again by PyYAML's own
  parser, whose message a user of PyYAML knows.

A fault is a YamlFault with a line and a message that shows at most the
offending token, shortened (``show``); never more of the file.
"""

from __future__ import annotations

import re
from typing import Any

import yaml
from yaml.composer import Composer
from yaml.constructor import SafeConstructor
from yaml.events import AliasEvent, ScalarEvent
from yaml.nodes import MappingNode, ScalarNode, SequenceNode
from yaml.resolver import Resolver

from sim.model.limits import MAX_DEPTH, MAX_DIGITS, MAX_NODES, MAX_TEXT

try:
    from yaml._yaml import CParser

    FAST = True
except ImportError:  # PyYAML built without libyaml: its own parser, slower
    FAST = False

TAG = "tag:yaml.org,2002:"
PLAIN_TAGS = {TAG + t for t in ("str", "int", "float", "bool", "null", "seq", "map", "merge", "value")}


class YamlFault(ValueError):
    """A file that is not the YAML expected: the line (or None) and what is wrong."""

    def __init__(self, line: int | None, message: str, where: str = "") -> None:
        """A fault at ``line`` (None if not known) of the file named ``where``, saying ``message``."""
        self.line, self.message, self.where = line, message, where
        super().__init__(message)


class Mapping(dict):
    """A YAML mapping that remembers the line of itself and of each key."""

    line: int = 0
    lines: dict


class Sequence(list):
    """A YAML sequence that remembers the line of each item."""

    lines: list


def show(value: object, width: int = 40) -> str:
    """A value for a message, in YAML's words and never longer than about ``width`` characters."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        text = repr(value if len(value) <= width else value[:width] + "…")
        return text
    if isinstance(value, (int, float, Huge)):
        text = repr(value)
        return text if len(text) <= width else text[:width] + "…"
    if isinstance(value, list):
        items = [show(v, 12) for v in value[:4]]
        return "[" + ", ".join(items + (["…"] if len(value) > 4 else [])) + "]"
    if isinstance(value, dict):
        items = [f"{show(k, 12)}: {show(v, 12)}" for k, v in list(value.items())[:3]]
        return "{" + ", ".join(items + (["…"] if len(value) > 3 else [])) + "}"
    return "a value of another kind"


def token(text: str, width: int = 40) -> str:
    """A name from the file (a key, a path) for a message: itself, or its first ``width`` characters, escaped.

    Control and bidirectional characters (an ANSI escape, U+202E, a newline) are written as Python writes them
    in a string's repr, so that a name cannot move the cursor, reverse the text or split the message.
    """
    return escape(text if len(text) <= width else text[:width] + "…")


def escape(text: str) -> str:
    """``text`` with every character that is not printable (controls, bidi marks, newlines) escaped."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in text)


def kind(value: object) -> str:
    """What a value is, in YAML's words."""
    if value is None:
        return "nothing (null, or only comments)"
    if isinstance(value, bool):
        return "true or false"
    if isinstance(value, (int, float, Huge)):
        return "a number"
    if isinstance(value, str):
        return "a text"
    return "a list" if isinstance(value, list) else "a mapping" if isinstance(value, dict) else "another kind of value"


# -- the loader ----------------------------------------------------------------------
PYTHON_ERRORS = 16 << 10  # a file up to this size that libyaml refuses is read again for PyYAML's message


class _Bounded(Composer):
    """PyYAML's composer, refusing tags and counting values and nesting as they come, before anything is built."""

    values = 0  # the values composed so far, an alias counted once (``_check_size`` expands them)
    depth = 0  # the lists and mappings the value being composed is inside
    aliases = False  # whether an alias was seen: only then can the document hold more than ``values``

    def compose_node(self, parent: Any, index: Any) -> Any:
        """The next value, once it is counted, its depth checked and its event free of tags and within MAX_TEXT."""
        event = self.peek_event()  # type: ignore[attr-defined]
        line = event.start_mark.line + 1
        self.values += 1
        if self.values > MAX_NODES:
            # aliases are counted once here; only a file that has them is told about expanding them
            expanded = " once its aliases (*name) are expanded" if self.aliases else ""
            raise YamlFault(line, f"more than {MAX_NODES:,} values{expanded}; expected a scenario of ordinary size")
        if self.depth > MAX_DEPTH:
            raise YamlFault(line, f"lists and mappings nested more than {MAX_DEPTH} deep")
        if isinstance(event, AliasEvent):
            self.aliases = True
        else:  # a mapping's value is composed with its key as ``index``: the field a message names
            _check_event(event, line, token(index.value) if isinstance(index, ScalarNode) else "")
        self.depth += 1
        try:
            return super().compose_node(parent, index)
        finally:
            self.depth -= 1


def _check_event(event: yaml.Event, line: int, where: str) -> None:
    """Refuse a value (on ``line``, of the field ``where``) written with a tag, or of more than MAX_TEXT characters."""
    tag = getattr(event, "tag", None)
    if tag not in (None, "!"):  # "!" is a plain text's own mark (``! 5`` is the text "5")
        shown = token(str(tag).replace(TAG, "!!"), 30)
        raise YamlFault(line, f"the tag {shown} is not used here; expected text, numbers, lists, mappings", where)
    if isinstance(event, ScalarEvent) and len(event.value) > MAX_TEXT:
        raise YamlFault(line, f"a value of {len(event.value):,} characters; expected at most {MAX_TEXT:,}", where)


class _Loader(_Bounded, yaml.SafeLoader):
    """PyYAML's own parser, with the bounded composer."""


_FLOAT_12 = re.compile(
    r"""^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+]?[0-9]+)?
    |[-+]?\.[0-9][0-9_]*(?:[eE][-+]?[0-9]+)?
    |[-+]?[0-9][0-9_]*[eE][-+]?[0-9]+
    |[-+]?\.(?:inf|Inf|INF)
    |\.(?:nan|NaN|NAN))$""",
    re.X,
)
# YAML 1.1's resolvers, without timestamps and with YAML 1.2's floats (exponents need no dot or sign)
_Loader.yaml_implicit_resolvers = {
    first: [(tag, _FLOAT_12 if tag == TAG + "float" else regexp) for tag, regexp in rules if tag != TAG + "timestamp"]
    for first, rules in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _line(node: yaml.Node) -> int:
    """The line of ``node``, counted from 1."""
    return node.start_mark.line + 1


def _mapping(loader: _Loader, node: MappingNode) -> Mapping:
    own = sum(k.tag != TAG + "merge" for k, _ in node.value)
    loader.flatten_mapping(node)  # the merged pairs come first, then the mapping's own
    merged = len(node.value) - own
    out = Mapping()
    out.line, out.lines = _line(node), {}
    for i, (key_node, value_node) in enumerate(node.value):
        key = loader.construct_object(key_node, deep=True)
        if not isinstance(key, str):
            raise YamlFault(_line(key_node), f"expected a text key, found {kind(key)} {show(key, 20)}")
        if i >= merged and key in out and out.lines[key] != "merged":
            raise YamlFault(_line(key_node), "duplicate key", token(key))
        out[key] = loader.construct_object(value_node, deep=True)
        out.lines[key] = "merged" if i < merged else _line(key_node)
    out.lines = {k: (_line(node) if v == "merged" else v) for k, v in out.lines.items()}
    return out


def _sequence(loader: _Loader, node: SequenceNode) -> Sequence:
    out = Sequence(loader.construct_object(child, deep=True) for child in node.value)
    out.lines = [_line(child) for child in node.value]
    return out


class Huge:
    """A whole number of more than MAX_DIGITS digits: kept as its length, so no field accepts it."""

    def __init__(self, digits: int) -> None:
        """A number written with ``digits`` digits."""
        self.digits = digits

    def __repr__(self) -> str:
        """What it is, for a message: never the number itself."""
        return f"a whole number of {self.digits} digits"


def _integer(loader: _Loader, node: ScalarNode) -> int | Huge | str:
    body = node.value.lstrip("+-").replace("_", "")
    digits = len(body) - (2 if body[:2] in ("0x", "0o", "0b") else 0)
    if digits > MAX_DIGITS:  # never converted: 0x with 5,000 hex digits is as refused as 5,000 digits
        return Huge(digits)
    try:
        return loader.construct_yaml_int(node)
    except ValueError:  # what YAML 1.1 calls a number but is none (0x_): text, which no number field accepts
        return str(node.value)


def _text(loader: _Loader, node: ScalarNode) -> str:
    value = loader.construct_scalar(node)
    if not value.isascii() and any("\ud800" <= c <= "\udfff" for c in value):
        raise YamlFault(_line(node), "a text with a lone surrogate escape (\\ud800 to \\udfff); expected plain text")
    return value


def _refused(loader: _Loader, node: yaml.Node) -> None:
    raise YamlFault(
        _line(node), f"the tag {node.tag.replace(TAG, '!!')} is not used here; expected text, numbers, lists, mappings"
    )


_Loader.add_constructor(TAG + "map", _mapping)
_Loader.add_constructor(TAG + "seq", _sequence)
_Loader.add_constructor(TAG + "int", _integer)
_Loader.add_constructor(TAG + "str", _text)
for _tag in ("timestamp", "binary", "set", "omap", "pairs"):
    _Loader.add_constructor(TAG + _tag, _refused)
_Loader.add_constructor(None, _refused)


if FAST:

    class _FastLoader(_Bounded, SafeConstructor, Resolver, CParser):
        """libyaml's parser (C) under the bounded composer, with the same constructors and resolvers."""

        def __init__(self, text: str) -> None:
            CParser.__init__(self, text)
            SafeConstructor.__init__(self)
            Resolver.__init__(self)
            Composer.__init__(self)

    _FastLoader.yaml_constructors = _Loader.yaml_constructors
    _FastLoader.yaml_implicit_resolvers = _Loader.yaml_implicit_resolvers


def _check_size(root: yaml.Node) -> None:
    """Refuse a document of more than MAX_NODES values (aliases expanded) or nested deeper than MAX_DEPTH."""
    sizes: dict[int, int] = {}
    stack = [(root, 0, False)]
    while stack:
        node, depth, done = stack.pop()
        if id(node) in sizes and not done:
            continue
        if depth > MAX_DEPTH:
            raise YamlFault(_line(node), f"lists and mappings nested more than {MAX_DEPTH} deep")
        children = [c for pair in node.value for c in pair] if isinstance(node, MappingNode) else node.value
        children = children if isinstance(node, (MappingNode, SequenceNode)) else []
        if done:
            sizes[id(node)] = min(1 + sum(sizes[id(c)] for c in children), MAX_NODES + 1)
            if sizes[id(node)] > MAX_NODES:
                raise YamlFault(
                    _line(node),
                    f"more than {MAX_NODES:,} values once its aliases (*name) are expanded; "
                    "expected a scenario of ordinary size",
                )
            continue
        stack.append((node, depth, True))
        stack.extend((c, depth + 1, False) for c in children if id(c) not in sizes)


def parse(text: str) -> Any:
    """The document in ``text`` as plain values (Mapping and Sequence remember lines), or a YamlFault.

    Any: the document may hold values of any shape; the caller checks them field by field.
    """
    if not FAST:
        return _parse(text, _Loader)
    try:
        return _parse(text, _FastLoader)
    except _LibyamlFault as fault:
        if len(text) <= PYTHON_ERRORS:  # PyYAML's own words, at a cost bounded by the size
            _parse(text, _Loader)
        raise YamlFault(fault.line, fault.message) from None


class _LibyamlFault(YamlFault):
    """A file libyaml refuses as YAML, in libyaml's words."""


def _parse(text: str, reader: Any) -> Any:
    loader = None
    fault = _LibyamlFault if reader is not _Loader else YamlFault
    try:
        loader = reader(text)  # the reader checks the characters here already
        node = loader.get_single_node()
        if node is None:
            return None
        if loader.aliases:  # without one, the composer has counted every value and every level already
            _check_size(node)
        return loader.construct_document(node)
    except yaml.reader.ReaderError as exc:
        before = text[: exc.position] if reader is _Loader else text.encode()[: exc.position].decode(errors="replace")
        line = before.count("\n") + 1  # libyaml counts bytes, PyYAML characters
        code = exc.character if isinstance(exc.character, int) else ord(exc.character)
        raise fault(line, f"invalid YAML: the character U+{code:04X} is not allowed in YAML") from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = escape((exc.problem or exc.context or "").replace("\n", " "))
        raise fault(mark.line + 1 if mark else None, f"invalid YAML: {problem}") from None
    except RecursionError:
        raise YamlFault(None, f"invalid YAML: lists and mappings nested more than {MAX_DEPTH} deep") from None
    except yaml.YAMLError as exc:
        raise fault(None, f"invalid YAML: {type(exc).__name__}") from None
    finally:
        if loader is not None:
            loader.dispose()
