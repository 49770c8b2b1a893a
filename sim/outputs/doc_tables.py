"""Markdown tables of the parameters for docs/ODD.md, generated from the packaged data file.

``tests/test_docs.py`` checks that the tables in the document equal these, so
the specification cannot drift from the data.
"""

from __future__ import annotations

from sim.model.params import SUPPORT, Parameter, ParameterSet, load_parameters


def _number(x: float) -> str:
    return f"{x:g}"


def _range(p: Parameter) -> str:
    return "—" if p.range is None else f"[{_number(p.range[0])}, {_number(p.range[1])}]"


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def _source(p: Parameter, params: ParameterSet) -> str:
    s = p.source
    if s is None:
        return "—"
    if "ref" in s:
        return _cell(f"`{params.sources[s['ref']]}`: “{s['quote']}”")
    return _cell(f"external: {s['external']}" + (f" ({s['note']})" if s.get("note") else ""))


def parameter_table(params: ParameterSet | None = None) -> str:
    """Every parameter: path, value, range ("—": fixed), support, free or not, why, and source."""
    params = params or load_parameters()
    rows = ["| parameter | value | range | support | free | why | source |", "|---|---|---|---|---|---|---|"]
    for p in params.entries.values():
        free = "yes" if p.free else "no"
        rows.append(
            f"| `{p.path}` | {_number(p.value)} | {_range(p)} | {p.support} | {free} | {_cell(p.why)} | "
            f"{_source(p, params)} |"
        )
    return "\n".join(rows)


def assumption_table(params: ParameterSet | None = None) -> str:
    """The assumptions in one table: the numbers no source gives, with what each stands for."""
    params = params or load_parameters()
    rows = ["| parameter | value | range | what it assumes |", "|---|---|---|---|"]
    rows += [
        f"| `{p.path}` | {_number(p.value)} | {_range(p)} | {_cell(p.why)} |"
        for p in params.entries.values()
        if p.support == "assumption"
    ]
    return "\n".join(rows)


def free_parameter_table(params: ParameterSet | None = None) -> str:
    """The free (behavioural, unmeasured) parameters a calibration would fit."""
    params = params or load_parameters()
    rows = ["| parameter | value | range | support |", "|---|---|---|---|"]
    rows += [f"| `{p.path}` | {_number(p.value)} | {_range(p)} | {p.support} |" for p in params.free()]
    return "\n".join(rows)


def order_table(params: ParameterSet | None = None) -> str:
    """The orders the sources fix between parameters, which every draw keeps."""
    params = params or load_parameters()
    rows = ["| higher | lower |", "|---|---|"]
    rows += [f"| `{hi}` | `{lo}` |" for hi, lo in params.orders]
    return "\n".join(rows)


def support_counts(params: ParameterSet | None = None) -> dict[str, int]:
    """How many parameters have each level of support in the sources."""
    params = params or load_parameters()
    return {level: sum(p.support == level for p in params.entries.values()) for level in SUPPORT}


def parameter_counts(params: ParameterSet | None = None) -> str:
    """The line under the table: how many parameters, how each is supported, how many with a range, how many free."""
    params = params or load_parameters()
    ranged = sum(p.range is not None for p in params.entries.values())
    c = support_counts(params)
    return (
        f"({len(params.entries)} parameters: {c['measured']} measured, {c['sourced-direction']} with a sourced "
        f"direction, {c['assumption']} assumptions; {ranged} with a range; {len(params.free())} free; "
        f"{len(params.orders)} orders kept by every draw.)"
    )
