"""Reading a scenario or design file's YAML: line-aware, bounded, and quiet about what it read.

What differs from PyYAML's safe loader:

- numbers as YAML 1.2 writes them: ``1e3`` and ``1e308`` are numbers (YAML 1.1
  reads them as text);
- no timestamps: ``2030-01-01`` stays text, for the calendar to judge; tags
  that build anything but text, numbers, true/false, null, lists and mappings
  (``!!binary``, ``!!set`` ...) are refused;
- merge keys (``<<: *anchor``) work, and the mapping may override what they
  bring; a key written twice is refused;
- bounded: at most MAX_NODES values, an alias counting as everything it stands
  for, so no file makes the reader (or a message about it) grow beyond a
  fixed size; a whole number of more than MAX_DIGITS digits is kept as a
  ``Huge``, which every field refuses (and no message spells out).

A fault is a YamlFault with a line and a message that shows at most the
offending token, shortened (``show``); never more of the file.
"""

from __future__ import annotations

import re
from typing import Any

import yaml
from yaml.nodes import MappingNode, ScalarNode, SequenceNode

from sim.limits import MAX_DEPTH, MAX_DIGITS, MAX_NODES

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
    """A name from the file (a key, a path) for a message: itself, or its first ``width`` characters."""
    return text if len(text) <= width else text[:width] + "…"


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
class _Loader(yaml.SafeLoader):
    pass


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


def _integer(loader: _Loader, node: ScalarNode) -> int | Huge:
    digits = sum(c.isdigit() for c in node.value)
    return Huge(digits) if digits > MAX_DIGITS else loader.construct_yaml_int(node)


def _text(loader: _Loader, node: ScalarNode) -> str:
    value = loader.construct_scalar(node)
    if any("\ud800" <= c <= "\udfff" for c in value):
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
    loader = None
    try:
        loader = _Loader(text)  # the reader checks the characters here already
        node = loader.get_single_node()
        if node is None:
            return None
        _check_size(node)
        return loader.construct_document(node)
    except yaml.reader.ReaderError as exc:
        line = text[: exc.position].count("\n") + 1
        code = exc.character if isinstance(exc.character, int) else ord(exc.character)
        raise YamlFault(line, f"invalid YAML: the character U+{code:04X} is not allowed in YAML") from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = (exc.problem or exc.context or "").replace("\n", " ")
        raise YamlFault(mark.line + 1 if mark else None, f"invalid YAML: {problem}") from None
    except RecursionError:
        raise YamlFault(None, f"invalid YAML: lists and mappings nested more than {MAX_DEPTH} deep") from None
    except yaml.YAMLError as exc:
        raise YamlFault(None, f"invalid YAML: {type(exc).__name__}") from None
    finally:
        if loader is not None:
            loader.dispose()
