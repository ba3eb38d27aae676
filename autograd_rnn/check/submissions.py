"""Find the students' submissions in a folder and the functions each one defines.

Layouts (``layout=``):

- "folders": one sub-folder per student (any depth of .py files inside it: ``alice/
  rnn_layers.py``, ``bob/cs231n/rnn_layers.py``); the student is the folder's name;
- "files": one ``.py`` file per student directly in the folder; the student is the stem;
- "single": the folder is one submission (Gradescope's ``/autograder/submission``);
- "auto" (default): "folders" if a sub-folder holds .py files, else "files" when two
  top-level files define the same layer function, else "single".

Functions are found by reading the files' syntax trees (``ast``), never by running them: the
grader's process executes no student code. A layer's functions are the first pair of
``Reference.functions`` a submission defines (cs231n's names: ``rnn_step_forward`` /
``rnn_step_backward``, the single ``temporal_softmax_loss``, ...).
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from pathlib import Path

from autograd_rnn.check.backward_report import CheckUsageError

LAYOUTS = ("auto", "folders", "files", "single")


@dataclass
class Submission:
    """One student's files, and the top-level names each defines (or why it cannot be read)."""

    student: str
    files: list[Path]
    defined: dict[Path, set[str]] = field(default_factory=dict)
    unreadable: dict[Path, str] = field(default_factory=dict)

    def locate(self, reference) -> tuple[str, str | None] | None:
        """(forward spec, backward spec or None) of ``reference``'s functions, or None."""
        for forward, backward in reference.functions:
            f = self._file_defining(forward)
            b = self._file_defining(backward) if backward else None
            if f is not None and (backward is None or b is not None):
                return f"{f}:{forward}", (f"{b}:{backward}" if backward else None)
        return None

    def _file_defining(self, name: str) -> Path | None:
        return next((p for p in self.files if name in self.defined.get(p, ())), None)


def top_level_names(path: Path) -> set[str]:
    """Names a module defines at top level (def, class, assignment, import); raises
    SyntaxError, ValueError or OSError when the file cannot be parsed."""
    tree = ast.parse(path.read_bytes(), filename=str(path))
    names = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names.update(t.id for t in targets if isinstance(t, ast.Name))
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names.update((a.asname or a.name).split(".")[0] for a in node.names)
    return names


def _read(student: str, files: list[Path]) -> Submission:
    sub = Submission(student, files)
    for path in files:
        try:
            sub.defined[path] = top_level_names(path)
        except SyntaxError as error:
            sub.unreadable[path] = f"SyntaxError at line {error.lineno}: {error.msg}"
        except (ValueError, OSError) as error:
            sub.unreadable[path] = f"{type(error).__name__}: {error}"
    return sub


def _python_files(folder: Path) -> list[Path]:
    return sorted((p for p in folder.rglob("*.py") if "__pycache__" not in p.parts),
                  key=lambda p: (len(p.relative_to(folder).parts), str(p)))


def find_submissions(root, layout: str = "auto", function_names=()) -> tuple[list, bool]:
    """(submissions sorted by student, whether the folder is a single submission)."""
    root = Path(root)
    if layout not in LAYOUTS:
        raise CheckUsageError(f"layout must be one of {', '.join(LAYOUTS)}, got {layout!r}")
    if not root.is_dir():
        raise CheckUsageError(f"no such folder: {root}")
    folders = sorted(d for d in root.iterdir() if d.is_dir() and not d.name.startswith(".")
                     and d.name != "__pycache__" and _python_files(d))
    top = sorted(root.glob("*.py"))
    if layout == "auto":
        layout = "folders" if folders else ("files" if _shared(top, function_names)
                                            else "single")
    if layout == "folders":
        subs = [_read(d.name, _python_files(d)) for d in folders]
    elif layout == "files":
        subs = [_read(p.stem, [p]) for p in top]
    else:
        subs = [_read(root.resolve().name, _python_files(root))] if _python_files(root) else []
    if not subs:
        raise CheckUsageError(f"no submissions in {root}: expected .py files, one sub-folder "
                              "or one file per student (see --layout)")
    return subs, layout == "single"


def _shared(files: list[Path], function_names) -> bool:
    """Whether two of ``files`` define one of ``function_names`` (one file per student)."""
    seen: set[str] = set()
    for path in files:
        try:
            names = top_level_names(path) & set(function_names)
        except (SyntaxError, ValueError, OSError):
            continue
        if names & seen:
            return True
        seen |= names
    return False
