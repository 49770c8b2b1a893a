"""Every notebook runs from top to bottom in a fresh kernel, inside a temporary folder."""

import nbformat
import pytest
from conftest import REPO
from nbclient import NotebookClient

pytestmark = pytest.mark.slow  # every notebook executed in a kernel of its own

NOTEBOOKS = sorted((REPO / "notebooks").glob("*.ipynb"))


def test_the_notebooks_are_there():
    assert [n.stem for n in NOTEBOOKS] == [
        "01_quickstart",
        "02_what_if",
        "03_classroom",
        "04_history",
        "05_sensitivity",
        "06_discovery",
    ]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs(path, tmp_path, monkeypatch):
    # the kernel and everything it writes stay in the temporary folder
    for name, folder in [
        ("HOME", "home"),
        ("IPYTHONDIR", "ipython"),
        ("JUPYTER_RUNTIME_DIR", "runtime"),
        ("JUPYTER_DATA_DIR", "data"),
        ("MPLCONFIGDIR", "matplotlib"),
    ]:
        (tmp_path / folder).mkdir()
        monkeypatch.setenv(name, str(tmp_path / folder))
    monkeypatch.setenv("JUPYTER_PLATFORM_DIRS", "1")  # jupyter's current paths, without its migration warning
    monkeypatch.setenv("MPLBACKEND", "Agg")
    notebook = nbformat.read(path, as_version=4)
    before = set(path.parent.iterdir())
    client = NotebookClient(notebook, timeout=300, kernel_name="python3", resources={"metadata": {"path": tmp_path}})
    client.execute()
    outputs = [o for cell in notebook.cells if cell.cell_type == "code" for o in cell.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    assert any(o.output_type == "display_data" and "image/png" in o.data for o in outputs), "no figure was drawn"
    assert set(path.parent.iterdir()) == before  # nothing written beside the notebooks
