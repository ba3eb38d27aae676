"""The report of ``check_backward``: a ``GradcheckReport`` (the user's backward vs finite
differences of the user's forward, one row per input) plus, when a reference layer was
named, the user's forward outputs vs the reference's and the user's gradients vs the
engine's gradients of the reference.

``status`` says what the verdict rests on, in this order: an ``error`` of the student's code
(it raised, returned the wrong structure or shape, timed out, crashed, ended the process,
patched NumPy: see ``STUDENT_STATUSES``), then ``problems`` (gradients or outputs in a dtype
other than float64), then the comparisons ("mismatch"); "passed" when none applies."""

from __future__ import annotations

from dataclasses import dataclass, field

from autograd_rnn.check.report import GradcheckReport, GradientComparison

STUDENT_STATUSES = ("mismatch", "wrong shape", "wrong dtype", "wrong return", "raised",
                    "timed out", "crashed", "exited", "out of memory", "monkeypatch",
                    "missing function")


class CheckUsageError(ValueError):
    """The check cannot run as asked: unknown layer, bad settings or inputs, a missing file
    or function (the grader's mistake, exit code 2). The message is one line."""


class StudentCodeError(CheckUsageError):
    """The code under check is wrong before any number can be compared: it raised, returned
    the wrong structure or a gradient of the wrong shape, has the wrong signature (the
    student's mistake, exit code 1). ``status`` is one of ``STUDENT_STATUSES``. A subclass of
    ``CheckUsageError`` so code written against earlier versions still catches it."""

    def __init__(self, message: str, status: str = "raised"):
        super().__init__(message)
        self.status = status


@dataclass
class BackwardCheckReport(GradcheckReport):
    """Truthy when every input passed every comparison. ``failed_inputs`` names them."""

    forward_comparisons: list[GradientComparison] = field(default_factory=list)
    reference_comparisons: list[GradientComparison] = field(default_factory=list)
    layer: str | None = None
    forward_name: str = "forward"
    backward_name: str = "backward"
    seed: int = 0
    hints: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    error: dict | None = None  # {"status", "message"} when the student's code failed to run
    output: str = ""  # what the student's code printed (isolated runs)

    def __bool__(self) -> bool:
        return self.error is None and not self.problems and all(c.passed for c in self._all())

    @property
    def status(self) -> str:
        """"passed" or one of ``STUDENT_STATUSES`` (see the module docstring)."""
        if self.error is not None:
            return self.error["status"]
        if self.problems:
            return "wrong dtype"
        return "passed" if all(c.passed for c in self._all()) else "mismatch"

    @property
    def summary(self) -> str:
        """One line: the status and what failed (for tables and CSV rows)."""
        if self.error is not None:
            return self.error["message"]
        if self.problems:
            return self.problems[0]
        if self.failed_inputs:
            return f"wrong gradients: {', '.join(self.failed_inputs)}"
        wrong = [c.name for c in self.forward_comparisons if not c.passed]
        return f"wrong forward outputs: {', '.join(wrong)}" if wrong else "passed"

    def _all(self) -> list[GradientComparison]:
        return self.comparisons + self.forward_comparisons + self.reference_comparisons

    @property
    def failures(self) -> list[GradientComparison]:
        return [c for c in self._all() if not c.passed]

    @property
    def failed_inputs(self) -> list[str]:
        """Names of inputs whose gradient failed against finite differences or the engine."""
        names = []
        for c in self.comparisons + self.reference_comparisons:
            if not c.passed and c.name not in names:
                names.append(c.name)
        return names

    def _section(self, comparisons, title) -> GradcheckReport:
        return GradcheckReport(comparisons, self.eps, self.atol, self.rtol, [], title)

    def to_dict(self) -> dict:
        d = super().to_dict()
        d["passed"] = self.passed
        d["status"] = self.status
        d["error"] = None if self.error is None else dict(self.error)
        d["problems"] = list(self.problems)
        d["failed_inputs"] = self.failed_inputs
        d["forward_function"] = self.forward_name
        d["backward_function"] = self.backward_name
        d["seed"] = self.seed
        d["hints"] = list(self.hints)
        d["output"] = self.output
        d["reference"] = None
        if self.layer is not None:
            d["reference"] = {
                "layer": self.layer,
                "forward": self._section(self.forward_comparisons, "").to_dict()["inputs"],
                "gradients": self._section(self.reference_comparisons, "").to_dict()["inputs"],
            }
        return d

    def __str__(self) -> str:
        head = (f"check_backward {self.backward_name} (forward {self.forward_name}"
                f"{', layer ' + self.layer if self.layer else ''}, seed {self.seed}): "
                f"{'PASSED' if self else 'FAILED (' + self.status + ')'}")
        if self.error is not None:
            return "\n".join([head, f"error: {self.error['message']}", *self._notes()])
        parts = [head, str(self._section(self.comparisons, "backward vs finite differences"))]
        if self.layer is not None:
            forward = str(self._section(
                self.forward_comparisons, f"forward outputs vs reference {self.layer}"))
            forward = forward.replace("\ninput ", "\noutput", 1).replace(": analytic ", ": yours ")
            parts.append(forward.replace(" vs numeric ", " vs reference "))
            exact = str(self._section(
                self.reference_comparisons, f"backward vs engine gradients of {self.layer}"))
            exact = exact.replace(": analytic ", ": yours ")
            parts.append(exact.replace(" vs numeric ", " vs engine "))
        if self.failed_inputs:
            parts.append(f"wrong gradients: {', '.join(self.failed_inputs)}")
        parts.extend(f"wrong dtype: {p}" for p in self.problems)
        return "\n".join(parts + self._notes())

    def _notes(self) -> list[str]:
        notes = [f"hint: {h}" for h in self.hints] + [f"warning: {w}" for w in self.warnings]
        if self.output.strip():
            shown = self.output.rstrip().splitlines()[-5:]
            notes.append("your code printed:" + "".join(f"\n  | {line}" for line in shown))
        return notes

    __repr__ = __str__
