"""Markdown tables of the parameters for docs/ODD.md, generated from the packaged data file.

``tests/test_docs.py`` checks that the tables in the document equal these, so
the specification cannot drift from the data.
"""

from __future__ import annotations

from sim.params import Parameter, ParameterSet, load_parameters


def _number(x: float) -> str:
    return f"{x:g}"


def _range(p: Parameter) -> str:
    return "—" if p.range is None else f"[{_number(p.range[0])}, {_number(p.range[1])}]"


def _source(p: Parameter, params: ParameterSet) -> str:
    s = p.source
    if "ref" in s:
        text = f"`{params.sources[s['ref']]}`: “{s['quote']}”"
    else:
        text = f"external: {s['external']}" + (f" ({s['note']})" if s.get("note") else "")
    return text.replace("|", "\\|")


def parameter_table(params: ParameterSet | None = None) -> str:
    """Every parameter: path, value, range ("—": fixed), free or not, and source."""
    params = params or load_parameters()
    rows = ["| parameter | value | range | free | source |", "|---|---|---|---|---|"]
    for p in params.entries.values():
        free = "yes" if p.free else "no"
        rows.append(f"| `{p.path}` | {_number(p.value)} | {_range(p)} | {free} | {_source(p, params)} |")
    return "\n".join(rows)


def free_parameter_table(params: ParameterSet | None = None) -> str:
    """The free (behavioural, unmeasured) parameters a calibration would fit."""
    params = params or load_parameters()
    rows = ["| parameter | value | range |", "|---|---|---|"]
    rows += [f"| `{p.path}` | {_number(p.value)} | {_range(p)} |" for p in params.free()]
    return "\n".join(rows)


def parameter_counts(params: ParameterSet | None = None) -> str:
    """The line under the table: how many parameters, how many with a range, how many free."""
    params = params or load_parameters()
    ranged = sum(p.range is not None for p in params.entries.values())
    return f"({len(params.entries)} parameters; {ranged} with a range; {len(params.free())} free.)"
