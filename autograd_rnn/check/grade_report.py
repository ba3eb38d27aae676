"""The result of grading a class: one row per student and layer, as a table, CSV, JSON, or
the ``results.json`` of Gradescope's autograder.

Gradescope's format (https://gradescope-autograders.readthedocs.io/en/latest/specs/): an
object with ``score``, ``execution_time`` (s), ``output`` and ``tests``, each test a dict
with ``name``, ``score``, ``max_score``, ``status`` ("passed" / "failed"), ``output`` and
``visibility``. A folder holding one submission gives that object; several give a list of
them, one per student, each with a ``student`` key.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
from dataclasses import asdict, dataclass, field

from autograd_rnn.check.backward_report import CheckUsageError
from autograd_rnn.check.report import finite_or_null, text_table
from autograd_rnn.files import atomic_write_text

FORMATS = {".csv": "csv", ".json": "json"}
CSV_COLUMNS = ("student", "layer", "status", "score", "max_score", "message", "hints", "file",
               "seconds")


@dataclass
class GradeRow:
    """One student's result on one layer. ``report`` is the full text shown to the student."""

    student: str
    layer: str
    status: str
    score: float
    max_score: float
    message: str
    hints: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    failed_inputs: list[str] = field(default_factory=list)
    file: str = ""
    seconds: float = 0.0
    report: str = ""

    @property
    def passed(self) -> bool:
        return self.status == "passed"


@dataclass
class GradeResult:
    """All rows, in the order students x layers; truthy when every row passed."""

    rows: list[GradeRow]
    students: list[str]
    layers: list[str]
    single: bool = False

    def __bool__(self) -> bool:
        return all(r.passed for r in self.rows)

    @property
    def passed(self) -> bool:
        return bool(self)

    def row(self, student: str, layer: str) -> GradeRow:
        for r in self.rows:
            if r.student == student and r.layer == layer:
                return r
        raise KeyError(f"no row for student {student!r} and layer {layer!r}")

    def scores(self) -> dict[str, float]:
        """Total score per student."""
        return {s: sum(r.score for r in self.rows if r.student == s) for s in self.students}

    def to_rows(self) -> list[dict]:
        return [{k: v for k, v in asdict(r).items() if k != "report"} for r in self.rows]

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(finite_or_null(self.to_rows()), indent=indent)

    def to_csv(self) -> str:
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(CSV_COLUMNS)
        for r in self.rows:
            writer.writerow([r.student, r.layer, r.status, f"{r.score:g}", f"{r.max_score:g}",
                             r.message, " | ".join(r.hints), r.file, f"{r.seconds:.2f}"])
        return buffer.getvalue()

    def to_gradescope(self) -> dict | list:
        """Gradescope's results.json (see the module docstring)."""
        per_student = []
        for student in self.students:
            rows = [r for r in self.rows if r.student == student]
            passed = sum(r.passed for r in rows)
            result = {
                "score": sum(r.score for r in rows),
                "execution_time": int(math.ceil(sum(r.seconds for r in rows))),
                "output": f"{passed} of {len(rows)} layers passed the gradient check",
                "tests": [{"name": r.layer, "score": r.score, "max_score": r.max_score,
                           "status": "passed" if r.passed else "failed",
                           "output": r.report or r.message, "visibility": "visible"}
                          for r in rows],
            }
            per_student.append(result if self.single else {"student": student, **result})
        return per_student[0] if self.single else per_student

    def render(self, fmt: str) -> str:
        """The text of format "csv", "json" or "gradescope"."""
        if fmt == "csv":
            return self.to_csv()
        if fmt == "gradescope":
            return json.dumps(finite_or_null(self.to_gradescope()), indent=2) + "\n"
        if fmt == "json":
            return self.to_json() + "\n"
        raise ValueError(f"format must be csv, json or gradescope, got {fmt!r}")

    def write(self, path, fmt: str | None = None, overwrite: bool = False):
        """Write to ``path`` atomically (``files.atomic_write_text``) as "csv", "json" (rows)
        or "gradescope" (default: from the suffix, .csv or .json); an existing file is only
        replaced with ``overwrite``."""
        fmt = fmt or FORMATS.get(os.path.splitext(str(path))[1].lower())
        if fmt is None:
            raise CheckUsageError(f"cannot tell the format of {path}: name it .csv or .json, "
                                  "or give fmt='csv' | 'json' | 'gradescope'")
        return atomic_write_text(path, self.render(fmt), overwrite=overwrite)

    def __str__(self) -> str:
        head = ["student", *self.layers, "score"]
        table = [head]
        totals = self.scores()
        best = sum(r.max_score for r in self.rows if r.student == self.students[0]) \
            if self.students else 0
        for student in self.students:
            cells = [("ok" if (r := self.row(student, layer)).passed else r.status)
                     for layer in self.layers]
            table.append([student, *cells, f"{totals[student]:g}/{best:g}"])
        lines = text_table(table)
        failed = [r for r in self.rows if not r.passed]
        lines.append(f"{len(self.rows) - len(failed)} of {len(self.rows)} checks passed")
        lines.extend(f"{r.student} {r.layer}: {r.status}: {r.message}" for r in failed)
        return "\n".join(lines)

    __repr__ = __str__
