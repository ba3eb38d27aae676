"""The exercises' structure (statement, skeleton, grading cell; solutions outside the notebooks)
and the instructor exports of scripts/exercises.py. No kernel: these run in milliseconds."""

import re

import nbformat
import pytest

from scripts import exercises
from scripts.exercises import cells_of, load_solutions, to_nbgrader, with_solutions

NOTEBOOKS = exercises.notebooks()


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_every_notebook_has_graded_exercises_in_order(path):
    notebook = nbformat.read(path, as_version=4)
    statements, skeletons, graders = (cells_of(notebook, tag)
                                      for tag in ("exercise", "solution", "grading"))
    number = path.name[1]  # "01_..." -> exercises 1.1, 1.2, ...
    assert len(skeletons) >= 2, f"{path.name}: at least two exercises"
    assert list(skeletons) == [f"{number}.{k}" for k in range(1, len(skeletons) + 1)]
    assert set(statements) == set(skeletons) == set(graders)
    index = {id(cell): i for i, cell in enumerate(notebook.cells)}
    for n in skeletons:
        assert statements[n].cell_type == "markdown" and f"Exercise {n} (" in statements[n].source
        assert index[id(statements[n])] < index[id(skeletons[n])] < index[id(graders[n])]
        assert index[id(graders[n])] == index[id(skeletons[n])] + 1  # graded right after
        assert "# YOUR CODE HERE" in skeletons[n].source
        assert "raise NotImplementedError" in skeletons[n].source
        assert f'grading.exercise("{n}"' in graders[n].source
    listed = re.search(r"\*\*Exercises\*\*(.*)", notebook.cells[0].source, re.S)
    assert listed and all(n in listed.group(1) for n in skeletons), "intro lists the exercises"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_solutions_live_outside_and_fill_every_skeleton(path):
    solutions = load_solutions(path)
    notebook = nbformat.read(path, as_version=4)
    assert set(solutions) == set(cells_of(notebook, "solution"))
    for number, source in solutions.items():
        assert "NotImplementedError" not in source and "YOUR CODE HERE" not in source, number
        compile(source, f"solution {number}", "exec")
    answered = with_solutions(notebook, solutions)
    for number, cell in cells_of(answered, "solution").items():
        assert cell.source == solutions[number].rstrip("\n")
    assert all("NotImplementedError" in c.source  # the committed notebook is untouched
               for c in cells_of(notebook, "solution").values())


def test_with_solutions_refuses_a_mismatch():
    path = NOTEBOOKS[0]
    notebook = nbformat.read(path, as_version=4)
    solutions = load_solutions(path)
    solutions.pop(next(iter(solutions)))
    with pytest.raises(ValueError, match="solution cells"):
        with_solutions(notebook, solutions)


def test_nbgrader_export_marks_cells_for_nbgrader():
    path = NOTEBOOKS[2]
    exported = to_nbgrader(nbformat.read(path, as_version=4), load_solutions(path), points=2)
    tagged = [c for c in exported.cells if c.metadata.get("tags")]
    assert tagged and all("nbgrader" in c.metadata for c in tagged)
    for cell in cells_of(exported, "solution").values():
        meta = cell.metadata["nbgrader"]
        assert meta["solution"] and not meta["grade"] and not meta["locked"]
        assert cell.source.startswith("### BEGIN SOLUTION\n")
        assert cell.source.endswith("\n### END SOLUTION")
        assert "NotImplementedError" not in cell.source
    grade_ids = []
    for number, cell in cells_of(exported, "grading").items():
        meta = cell.metadata["nbgrader"]
        assert meta["grade"] and meta["locked"] and meta["points"] == 2
        assert cell.source.endswith(f"grading.raise_unless_passed({number!r})")
        grade_ids.append(meta["grade_id"])
    all_ids = [c.metadata["nbgrader"]["grade_id"] for c in tagged]
    assert len(all_ids) == len(set(all_ids)) and grade_ids


def test_cli_writes_answer_keys_and_never_overwrites(tmp_path, capsys):
    exercises.main(["answers", str(tmp_path)])
    written = sorted(p.name for p in tmp_path.iterdir())
    assert written == sorted([p.name for p in NOTEBOOKS] + ["grading.py"])
    answered = nbformat.read(tmp_path / NOTEBOOKS[0].name, as_version=4)
    assert all("NotImplementedError" not in c.source
               for c in cells_of(answered, "solution").values())
    before = (tmp_path / NOTEBOOKS[0].name).read_bytes()
    with pytest.raises(SystemExit, match="--overwrite"):
        exercises.main(["nbgrader", str(tmp_path)])
    assert (tmp_path / NOTEBOOKS[0].name).read_bytes() == before  # nothing replaced
    exercises.main(["nbgrader", str(tmp_path), "--overwrite"])
    assert "nbgrader" in (tmp_path / NOTEBOOKS[0].name).read_text()


def test_no_grading_export_drops_only_the_grading_cells(tmp_path):
    exercises.main(["no-grading", str(tmp_path)])
    for path in NOTEBOOKS:
        original = nbformat.read(path, as_version=4)
        stripped = nbformat.read(tmp_path / path.name, as_version=4)
        assert not cells_of(stripped, "grading")
        assert set(cells_of(stripped, "solution")) == set(cells_of(original, "solution"))
        assert len(stripped.cells) == len(original.cells) - len(cells_of(original, "grading"))


def test_cli_refuses_to_write_into_tutorials():
    with pytest.raises(SystemExit, match="must not be tutorials"):
        exercises.main(["answers", str(exercises.TUTORIALS)])
