"""The tutorials' exercises for instructors: answer keys and nbgrader source notebooks.

Each exercise is three cells sharing ``metadata["exercise"]`` (its number, e.g. "3.1"):
a markdown statement tagged ``exercise``, a code cell tagged ``solution`` (in the committed
notebooks, a skeleton ending in ``raise NotImplementedError``) and a code cell tagged
``grading`` (runs the checks, prints a table and ``exercise 3.1: PASSED|FAILED|NOT DONE``).
The solutions live in ``tutorials/solutions/<notebook>.py``, one ``# %% exercise 3.1``
section per exercise, never in the notebooks.

Usage:
    python scripts/exercises.py answers OUT_DIR      # notebooks with the solutions filled in
    python scripts/exercises.py nbgrader OUT_DIR     # nbgrader "source" notebooks (+ grading.py)
    python scripts/exercises.py no-grading OUT_DIR   # the skeletons without the grading cells
    add --overwrite to replace notebooks already in OUT_DIR.
"""

from __future__ import annotations

import argparse
import copy
import re
import shutil
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
TUTORIALS = ROOT / "tutorials"
SOLUTIONS = TUTORIALS / "solutions"
SECTION = re.compile(r"^# %% exercise (\S+)[ \t]*$", re.MULTILINE)


def notebooks() -> list[Path]:
    return sorted(TUTORIALS.glob("[0-9][0-9]_*.ipynb"))


def load_solutions(notebook: Path) -> dict[str, str]:
    """Exercise number -> solution source, from ``solutions/<notebook stem>.py``."""
    path = SOLUTIONS / f"{notebook.stem}.py"
    if not path.exists():
        return {}
    parts = SECTION.split(path.read_text(encoding="utf-8"))
    pairs = zip(parts[1::2], parts[2::2], strict=True)
    return {number: body.strip("\n") + "\n" for number, body in pairs}


def cells_of(notebook, tag: str) -> dict[str, object]:
    """Exercise number -> the cell tagged ``tag``; ValueError on a duplicate number."""
    found = {}
    for cell in notebook.cells:
        if tag in cell.metadata.get("tags", []):
            number = cell.metadata.get("exercise")
            if number is None or number in found:
                raise ValueError(f"cell tagged {tag!r} with missing or duplicate exercise "
                                 f"number {number!r}")
            found[number] = cell
    return found


def with_solutions(notebook, solutions: dict[str, str]):
    """A copy of ``notebook`` whose solution cells hold the solutions. ValueError when the
    notebook's exercises and the solutions file do not match one to one."""
    result = copy.deepcopy(notebook)
    cells = cells_of(result, "solution")
    if set(cells) != set(solutions):
        raise ValueError(f"solution cells {sorted(cells)} but solutions for {sorted(solutions)}")
    for number, cell in cells.items():
        cell.source = solutions[number].rstrip("\n")
    return result


def to_nbgrader(notebook, solutions: dict[str, str], points: int = 1):
    """nbgrader source notebook: solution cells wrap the solution in BEGIN/END SOLUTION
    (``nbgrader generate_assignment`` turns them back into skeletons), grading cells become
    locked autograder tests worth ``points`` that raise unless the exercise passed."""
    result = with_solutions(notebook, solutions)
    for cell in result.cells:
        tags = cell.metadata.get("tags", [])
        number = cell.metadata.get("exercise")
        meta = {"grade": False, "solution": False, "locked": True, "schema_version": 3,
                "task": False, "grade_id": f"ex{number}-{cell.cell_type}"}
        if "solution" in tags:
            cell.source = f"### BEGIN SOLUTION\n{cell.source}\n### END SOLUTION"
            meta.update(solution=True, locked=False, grade_id=f"ex{number}-solution")
        elif "grading" in tags:
            cell.source += f"\ngrading.raise_unless_passed({number!r})"
            meta.update(grade=True, points=points, grade_id=f"ex{number}-grading")
        elif "exercise" in tags:
            meta["grade_id"] = f"ex{number}-statement"
        else:
            continue
        cell.metadata["nbgrader"] = meta
    return result


def without_grading(notebook, solutions: dict[str, str] | None = None):
    """A copy of ``notebook`` without its grading cells (e.g. to grade elsewhere)."""
    result = copy.deepcopy(notebook)
    result.cells = [c for c in result.cells if "grading" not in c.metadata.get("tags", [])]
    return result


EXPORTS = {"answers": with_solutions, "nbgrader": to_nbgrader, "no-grading": without_grading}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("kind", choices=list(EXPORTS))
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("--overwrite", action="store_true")
    args = parser.parse_args(argv)
    if args.out_dir.resolve() == TUTORIALS.resolve():
        raise SystemExit("OUT_DIR must not be tutorials/ itself (the notebooks there stay "
                         "skeletons)")
    targets = [args.out_dir / p.name for p in notebooks()] + [args.out_dir / "grading.py"]
    existing = [str(t) for t in targets if t.exists()]
    if existing and not args.overwrite:  # checked first: all or nothing
        raise SystemExit(f"{', '.join(existing)} exist(s); pass --overwrite to replace them")
    args.out_dir.mkdir(parents=True, exist_ok=True)
    convert = EXPORTS[args.kind]
    for path, target in zip(notebooks(), targets, strict=False):
        notebook = nbformat.read(path, as_version=4)
        nbformat.write(convert(notebook, load_solutions(path)), target)
        print(f"wrote {target}")
    shutil.copyfile(TUTORIALS / "grading.py", targets[-1])
    print(f"wrote {targets[-1]}")


if __name__ == "__main__":
    main(sys.argv[1:])
