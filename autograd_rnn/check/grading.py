"""``grade``: check every student's backward passes for every layer, each in its own process.

    result = ar.check.grade("submissions/", ["rnn_step", "rnn", "lstm_step"], workers=4)
    print(result)                                  # students x layers: ok or what went wrong
    result.write("grades.csv")                     # one row per student and layer
    result.write("results.json", fmt="gradescope")  # Gradescope's autograder format

Every layer is checked on the same inputs for every student (drawn once from ``seed``, with
the sizes that reveal batch, time, 1/N and repeated-index bugs), in a child process with a
time and memory limit (``sandbox.py``); the verdict is made here (``judge.py``). A student
whose file lacks a layer's functions gets a "missing function" row, not an error.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Mapping, Sequence

from autograd_rnn.check.backward_check import prepare
from autograd_rnn.check.backward_report import CheckUsageError
from autograd_rnn.check.grade_report import GradeResult, GradeRow
from autograd_rnn.check.isolated import (
    DEFAULT_MEMORY_MB,
    DEFAULT_TIMEOUT,
    check_limits,
    make_job,
    outcome_report,
)
from autograd_rnn.check.loader import layer_inputs
from autograd_rnn.check.references import REFERENCES, get_reference
from autograd_rnn.check.sandbox import run_many
from autograd_rnn.check.submissions import find_submissions


def default_workers() -> int:
    return max(1, min(4, os.cpu_count() or 1))


def _layers(layers: Sequence[str] | str) -> list[str]:
    names = [n.strip() for n in (layers.split(",") if isinstance(layers, str) else layers)]
    names = [n for n in names if n]
    if not names:
        raise CheckUsageError(f"no layers to grade; known: {', '.join(sorted(REFERENCES))}")
    for name in names:
        try:
            get_reference(name)
        except KeyError as error:
            raise CheckUsageError(error.args[0]) from None
    return names


def grade(submissions, layers: Sequence[str] | str, *, workers: int | None = None,
          timeout: float = DEFAULT_TIMEOUT, memory_mb: int | None = DEFAULT_MEMORY_MB,
          seed: int = 0, eps: float = 1e-6, atol: float = 1e-5, rtol: float = 1e-4,
          max_entries: int | None = None, allow_float32: bool = False,
          sizes: Mapping[str, int] | None = None, mask_density: float | None = None,
          repeats: int | None = None, points: Mapping[str, float] | None = None,
          layout: str = "auto",
          progress: Callable[[int, int], None] | None = None) -> GradeResult:
    """Grade a folder of submissions (layouts: ``submissions.py``) on ``layers`` (names in
    ``REFERENCES`` or one comma-separated string).

    Args:
        workers: checks run at once (default min(4, CPUs)); timeout (s) and memory_mb: per
            check. seed, eps, atol, rtol, max_entries, allow_float32: as ``check_backward``.
        sizes: N, T, D, H, V, M overrides; mask_density, repeats: see ``inputs.py``.
        points: max score per layer (default 1 each); progress(done, total) after each check.

    Raises ``CheckUsageError`` for the grader's mistakes (unknown layer, no submissions...).
    """
    names = _layers(layers)
    check_limits(timeout, memory_mb)
    workers = default_workers() if workers is None else workers
    if workers < 1:
        raise CheckUsageError(f"workers must be >= 1, got {workers}")
    points = dict(points or {})
    unknown = sorted(set(points) - set(names))
    if unknown or any(not p >= 0 for p in points.values()):
        raise CheckUsageError(f"points must be >= 0 and name graded layers ({', '.join(names)})"
                              f"; got {points}")
    settings = dict(seed=seed, eps=eps, atol=atol, rtol=rtol, max_entries=max_entries,
                    allow_float32=allow_float32)
    prepared = {layer: prepare(layer_inputs(layer, seed, mask_density=mask_density,
                                            repeats=repeats, **dict(sizes or {})),
                               None, layer, None, eps, atol, rtol) for layer in names}
    fn_names = {f for layer in names for pair in get_reference(layer).functions for f in pair
                if f}
    subs, single = find_submissions(submissions, layout, fn_names)
    rows: list[GradeRow | None] = []
    jobs, slots = [], []
    with tempfile.TemporaryDirectory(prefix="autograd-rnn-grade-") as folder:
        for sub in subs:
            for layer in names:
                best = points.get(layer, 1.0)
                specs = sub.locate(get_reference(layer))
                if specs is None:
                    rows.append(_missing(sub, layer, best))
                    continue
                slots.append((len(rows), sub.student, layer, specs, best))
                rows.append(None)
                jobs.append(make_job(*specs, prepared[layer], settings, folder, memory_mb,
                                     tag=f"job{len(jobs)}"))
        done = [0]

        def on_done(_index, _outcome) -> None:
            done[0] += 1
            if progress is not None:
                progress(done[0], len(jobs))

        outcomes = run_many(jobs, timeout, workers, on_done)
    for (at, student, layer, specs, best), outcome in zip(slots, outcomes, strict=True):
        rows[at] = _row(student, layer, specs, best, outcome, prepared[layer], settings)
    return GradeResult(rows, [s.student for s in subs], names, single)


def _missing(sub, layer: str, best: float) -> GradeRow:
    wanted = " or ".join(f"{f}/{b}" if b else f for f, b in get_reference(layer).functions)
    problems = "; ".join(f"{p.name}: {why}" for p, why in sub.unreadable.items())
    if problems:
        return GradeRow(sub.student, layer, "raised", 0.0, best,
                        f"cannot read {problems} (looking for {wanted})")
    files = ", ".join(p.name for p in sub.files)
    return GradeRow(sub.student, layer, "missing function", 0.0, best,
                    f"no {wanted} in {files}")


def _row(student, layer, specs, best, outcome, prepared, settings) -> GradeRow:
    try:
        report = outcome_report(outcome, prepared, settings, *specs)
    except CheckUsageError as error:  # e.g. a function defined only under an if
        return GradeRow(student, layer, "missing function", 0.0, best, str(error),
                        file=specs[0].rpartition(":")[0], seconds=outcome.seconds)
    return GradeRow(student, layer, report.status, best if report else 0.0, best,
                    report.summary, list(report.hints), list(report.warnings),
                    report.failed_inputs, specs[0].rpartition(":")[0], outcome.seconds,
                    str(report))
