"""Execute every tutorial notebook top to bottom, twice: as committed (the exercises are
skeletons: every cell must run and every grading cell must report NOT DONE) and with the
solutions from tutorials/solutions/ injected (every grading cell must report PASSED).

Notebooks are committed without outputs; this test regenerates them in memory.
"""

import os
import re
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from scripts.exercises import load_solutions, with_solutions

TUTORIALS = Path(__file__).resolve().parents[2] / "tutorials"
NOTEBOOKS = sorted(TUTORIALS.glob("[0-9][0-9]_*.ipynb"))
SECONDS_PER_CELL = 120
# wider figures are illegible at a notebook column's width (~900 px; the display scales down
# to 75 % at most): long unrolled networks use the textbook view, op-level drawings stay small
MAX_FIGURE_WIDTH_PT = 1300
SVG_WIDTH = re.compile(r'<svg width="([\d.]+)pt"')
STATUS = re.compile(r"^exercise (\S+): (PASSED|FAILED|NOT DONE)\b", re.MULTILINE)


def run(notebook, tmp_path, monkeypatch):
    """Execute ``notebook`` in place in a kernel whose working directory is ``tmp_path``."""
    monkeypatch.setenv("MPLBACKEND", "Agg")
    for variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        monkeypatch.setenv(variable, "1")  # the kernel inherits this; BLAS threads only slow it
    # the notebooks import tutorials/grading.py, as they do when Jupyter runs them in place
    path = os.pathsep.join(filter(None, [str(TUTORIALS), os.environ.get("PYTHONPATH")]))
    monkeypatch.setenv("PYTHONPATH", path)
    client = NotebookClient(
        notebook,
        timeout=SECONDS_PER_CELL,
        kernel_name="python3",
        resources={"metadata": {"path": str(tmp_path)}},
    )
    client.execute()


def text_of(cell) -> str:
    return "".join(o.get("text", "") for o in cell.get("outputs", [])
                   if o.get("output_type") == "stream")


def grading_statuses(notebook) -> dict[str, str]:
    """Exercise number -> the status its grading cell printed (asserts exactly one each)."""
    statuses = {}
    for cell in notebook.cells:
        if "grading" not in cell.metadata.get("tags", []):
            continue
        number = cell.metadata["exercise"]
        found = STATUS.findall(text_of(cell))
        assert [n for n, _ in found] == [number], (number, text_of(cell)[-500:])
        statuses[number] = found[0][1]
    return statuses


def errors_of(notebook) -> list[str]:
    return [f"{o.get('ename')}: {o.get('evalue')}" for cell in notebook.cells
            if cell.cell_type == "code" for o in cell.get("outputs", [])
            if o.get("output_type") == "error"]


def figure_widths(notebook) -> list[float]:
    """Widths in pt of every SVG figure the notebook displayed (graphs, frames)."""
    return [float(m.group(1)) for cell in notebook.cells for o in cell.get("outputs", [])
            for m in [SVG_WIDTH.search(o.get("data", {}).get("image/svg+xml", ""))] if m]


def test_there_are_tutorials():
    assert len(NOTEBOOKS) == 7, f"expected the seven notebooks in {TUTORIALS}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs_with_skeletons(path, tmp_path, monkeypatch):
    notebook = nbformat.read(path, as_version=4)
    run(notebook, tmp_path, monkeypatch)
    assert not errors_of(notebook)
    statuses = grading_statuses(notebook)
    assert statuses and set(statuses.values()) == {"NOT DONE"}, statuses
    widths = figure_widths(notebook)
    assert all(w <= MAX_FIGURE_WIDTH_PT for w in widths), widths
    for cell in notebook.cells:  # "not done" is a message, never a traceback
        if "grading" in cell.metadata.get("tags", []):
            assert "Traceback" not in text_of(cell) and "still raises" in text_of(cell)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_passes_with_solutions(path, tmp_path, monkeypatch):
    notebook = with_solutions(nbformat.read(path, as_version=4), load_solutions(path))
    run(notebook, tmp_path, monkeypatch)
    assert not errors_of(notebook)
    statuses = grading_statuses(notebook)
    assert statuses and set(statuses.values()) == {"PASSED"}, statuses


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_committed_without_outputs(path):
    notebook = nbformat.read(path, as_version=4)
    stale = [i for i, c in enumerate(notebook.cells)
             if c.cell_type == "code" and (c.get("outputs") or c.get("execution_count"))
             or "execution" in c.metadata]
    assert not stale, (f"{path.name}: cells {stale} have stale outputs; "
                       "run scripts/strip_notebooks.py")
