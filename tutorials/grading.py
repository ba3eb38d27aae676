"""Grading for the tutorial exercises: run the student's code through the project's own
checkers and print a pass/fail table (which check, which parameter or timestep, a hint).

A grading cell reads::

    with grading.exercise("1.2", "sigmoid as a custom op") as ex:
        ex.close("forward", sigmoid(a).data, expected, where="x in [-6, 6]")
        ex.report(ar.gradcheck(lambda a: sigmoid(a).sum(), [a]), hint="d sigmoid = s (1 - s)")

When the block ends the table is printed, then one status line,
``exercise 1.2: PASSED | FAILED | NOT DONE``. Code that still raises NotImplementedError
(the skeleton) gives NOT DONE; any other error becomes a FAIL row with a one-line message.
Nothing is raised, so "not done yet" never shows a traceback. For autograders that need an
exception (nbgrader marks a test cell failed when it raises), ``raise_unless_passed()``.

The notebooks import this file from their own folder (``tutorials/``).
"""

from __future__ import annotations

import traceback
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

RESULTS: dict[str, Result] = {}  # exercise number -> its latest result, in this kernel
_LIBRARY_DIRS = ("autograd_rnn", "numpy", "site-packages", "contextlib.py")


@dataclass
class Row:
    """One check: what was compared, where (parameter, timestep, input), the outcome."""

    what: str
    where: str
    passed: bool
    detail: str = ""
    hint: str = ""


@dataclass
class Result:
    """Every check of one exercise and its status: PASSED, FAILED or NOT DONE."""

    number: str
    title: str
    rows: list[Row] = field(default_factory=list)
    not_done: str = ""  # why, when the student's code still raises NotImplementedError
    error: str = ""  # an unexpected exception, one line

    @property
    def status(self) -> str:
        if self.not_done:
            return "NOT DONE"
        if self.error or not self.rows or not all(r.passed for r in self.rows):
            return "FAILED"
        return "PASSED"

    @property
    def passed(self) -> bool:
        return self.status == "PASSED"

    def table(self) -> str:
        lines = [f"Exercise {self.number}: {self.title}"]
        if self.rows:
            head = ("check", "where", "result", "detail")
            body = [(r.what, r.where or "-", "ok" if r.passed else "FAIL", r.detail)
                    for r in self.rows]
            widths = [max(len(row[i]) for row in [head, *body]) for i in range(3)]
            for k, row in enumerate([head, *body]):
                cells = [c.ljust(w) for c, w in zip(row[:3], widths, strict=True)] + [row[3]]
                lines.append("  " + "  ".join(cells).rstrip())
                if k > 0 and not self.rows[k - 1].passed and self.rows[k - 1].hint:
                    lines.append("      hint: " + self.rows[k - 1].hint)
        if self.error:
            lines.append(f"  stopped by an error: {self.error}")
        if self.not_done:
            lines.append(f"  not done yet: {self.not_done}")
        passed = sum(r.passed for r in self.rows)
        counts = "" if self.not_done else f" ({passed} of {len(self.rows)} checks passed"
        counts += "" if self.not_done else (", then an error)" if self.error else ")")
        lines.append(f"exercise {self.number}: {self.status}{counts}")
        return "\n".join(lines)


class Exercise:
    """Collects the rows of one grading cell (see the module docstring)."""

    def __init__(self, number: str, title: str) -> None:
        self.result = Result(number, title)

    def check(self, what: str, passed, *, where: str = "", detail: str = "",
              hint: str = "") -> bool:
        """Record a yes/no check."""
        self.result.rows.append(Row(what, where, bool(passed), detail, hint))
        return bool(passed)

    def close(self, what: str, yours, expected, *, where: str = "", rtol: float = 1e-7,
              atol: float = 1e-10, hint: str = "") -> bool:
        """Compare arrays entry by entry: |yours - expected| <= atol + rtol |expected|."""
        expected = np.asarray(expected, dtype=np.float64)
        try:
            mine = np.asarray(getattr(yours, "data", yours), dtype=np.float64)
        except (TypeError, ValueError) as error:
            return self.check(what, False, where=where, hint=hint,
                              detail=f"not a numeric array: {_one_line(error)}")
        if mine.shape != expected.shape:
            return self.check(what, False, where=where, hint=hint,
                              detail=f"shape {mine.shape}, expected {expected.shape}")
        diff = np.abs(mine - expected)
        ok = bool(np.all(diff <= atol + rtol * np.abs(expected)))
        worst = float(np.nanmax(diff)) if diff.size and not np.isnan(diff).all() else np.nan
        if np.isnan(mine).any():
            ok, worst = False, np.nan
        detail = f"max |yours - expected| {worst:.1e}"
        if not ok and mine.size > 1 and not np.isnan(worst):
            at = np.unravel_index(int(np.nanargmax(diff)), diff.shape)
            detail += (f" at {tuple(int(i) for i in at)}: yours {mine[at]:.6g}, "
                       f"expected {expected[at]:.6g}")
        return self.check(what, ok, where=where, detail=detail, hint=hint)

    def equal(self, what: str, yours, expected, *, where: str = "", hint: str = "") -> bool:
        """Exact equality (ints, strings, tuples)."""
        ok = yours == expected
        detail = f"{yours!r}" if ok else f"yours {_short(yours)}, expected {_short(expected)}"
        return self.check(what, ok, where=where, detail=detail, hint=hint)

    def report(self, report, *, where: str = "", hint: str = "") -> bool:
        """Rows from ``ar.gradcheck`` or ``ar.check.check_backward``: one per input (and,
        for check_backward with a reference layer, per output and vs the engine)."""
        hints = list(getattr(report, "hints", []))
        sections = [("vs finite differences", report.comparisons)]
        sections.append(("forward vs reference", getattr(report, "forward_comparisons", [])))
        sections.append(("vs engine", getattr(report, "reference_comparisons", [])))
        for label, comparisons in sections:
            for c in comparisons:
                prefix = "" if label.startswith("forward") else "d"
                mine = [h for h in hints if h.startswith(f"d{c.name} ")]
                detail = f"max abs err {c.max_abs_error:.1e}"
                if not c.passed and c.worst_index is not None:
                    detail += (f" at {tuple(int(i) for i in c.worst_index)}: yours "
                               f"{c.analytic_at_worst:.6g}, expected {c.numeric_at_worst:.6g}")
                self.check(f"{prefix}{c.name} {label}", c.passed, where=where, detail=detail,
                           hint="; ".join(mine) or hint)
        return bool(report)


@contextmanager
def exercise(number: str, title: str):
    """Grade one exercise; prints the table and the status line when the block ends."""
    ex = Exercise(number, title)
    try:
        yield ex
    except Exception as error:  # noqa: BLE001 (student code may raise anything)
        missing = _not_implemented(error)
        if missing is not None:
            ex.result.not_done = missing
        else:
            ex.result.error = _one_line(error)
    RESULTS[number] = ex.result
    print(ex.result.table())


def raise_unless_passed(number: str | None = None) -> None:
    """Raise AssertionError unless the exercise (default: the last graded) passed."""
    if not RESULTS:
        raise AssertionError("no exercise has been graded yet")
    result = RESULTS[number] if number is not None else list(RESULTS.values())[-1]
    if not result.passed:
        raise AssertionError(f"exercise {result.number}: {result.status} (see the table)")


def _not_implemented(error: BaseException) -> str | None:
    """The message for a skeleton still raising NotImplementedError (also when a checker
    wrapped it, e.g. check_backward's CheckUsageError), else None."""
    seen = error
    while seen is not None:
        if isinstance(seen, NotImplementedError):
            where = _student_frame(seen)
            name = f"{where.name}()" if where else "your code"
            return (f"{name} still raises NotImplementedError. Replace the `raise` under "
                    "`# YOUR CODE HERE` with your code, run that cell, then run this one again.")
        seen = seen.__cause__ or seen.__context__
    return None


def _student_frame(error: BaseException):
    frames = [f for f in traceback.extract_tb(error.__traceback__)
              if not any(d in f.filename for d in _LIBRARY_DIRS)
              and Path(f.filename).name != "grading.py"]
    return frames[-1] if frames else None


def _one_line(error: BaseException) -> str:
    message = " ".join(str(error).split()) or "(no message)"
    where = _student_frame(error)
    at = f" (in {where.name}, line {where.lineno}: {where.line})" if where and where.line else ""
    return f"{type(error).__name__}: {message}{at}"


def _short(value, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."
