"""The package's structure: no module reaches into another's private names."""

import ast
from pathlib import Path

import sim

PACKAGE = Path(sim.__file__).parent


def private_imports(source: str) -> list[str]:
    """``module.name`` for every ``from sim... import _name`` (or ``import sim._x``) in ``source``."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "sim":
            found += [
                f"{node.module}.{a.name}" for a in node.names if a.name.startswith("_") and a.name != "__version__"
            ]
        elif isinstance(node, ast.Import):
            found += [a.name for a in node.names if any(p.startswith("_") for p in a.name.split(".")[1:])]
    return found


def test_the_scan_sees_a_private_import():
    assert private_imports("from sim.model.params import _is_number, bounds\n") == ["sim.model.params._is_number"]
    assert private_imports("def f():\n    from sim.runs.scenario import _whole\n") == ["sim.runs.scenario._whole"]
    assert private_imports("from sim.model.params import bounds\nfrom numpy import _core\n") == []


def test_no_module_imports_another_modules_private_names():
    found = {
        f"{path.relative_to(PACKAGE)}: {name}"
        for path in PACKAGE.rglob("*.py")
        for name in private_imports(path.read_text("utf-8"))
    }
    assert not found, f"private names imported across modules: {sorted(found)}"
