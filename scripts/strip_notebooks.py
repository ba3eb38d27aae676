"""Remove outputs and execution counts from the tutorial notebooks (they are regenerated
by the tests and by running them). Usage: python scripts/strip_notebooks.py [paths...]"""

import sys
from pathlib import Path

import nbformat


def strip(path: Path) -> bool:
    notebook = nbformat.read(path, as_version=4)
    changed = False
    for cell in notebook.cells:
        if cell.cell_type == "code" and (cell.get("outputs") or cell.get("execution_count")):
            cell.outputs = []
            cell.execution_count = None
            changed = True
    if changed:
        nbformat.write(notebook, path)
    return changed


if __name__ == "__main__":
    root = Path(__file__).resolve().parents[1] / "tutorials"
    paths = [Path(p) for p in sys.argv[1:]] or sorted(root.glob("*.ipynb"))
    for p in paths:
        if strip(p):
            print(f"stripped {p}")
