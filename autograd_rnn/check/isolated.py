"""Check someone else's code in a child process: ``check_backward_isolated``.

The student's functions run in a child (``sandbox.py``) with a time limit and a memory limit;
this process alone decides the verdict, from the raw numbers it received (``judge.py``).
Whatever the student's code does is reported as what it is, never as a pass:

| the student's code...        | status        | message (one line)                          |
| ---------------------------- | ------------- | ------------------------------------------- |
| raises (SystemExit too)      | raised        | backward rnn_backward raised SystemExit(0)  |
| never returns                | timed out     | timed out after 60 s while running backward |
| ends the process (os._exit)  | exited        | the check process ended while running ...   |
| crashes (segfault, abort)    | crashed       | ... crashed with SIGSEGV (at file:line)     |
| allocates past the limit     | out of memory | ... raised MemoryError ...                  |
| replaces numpy.* / builtins  | monkeypatch   | your code replaced numpy.abs ...            |
"""

from __future__ import annotations

import os
import tempfile

from autograd_rnn.check.backward_check import prepare
from autograd_rnn.check.backward_report import (
    BackwardCheckReport,
    CheckUsageError,
    StudentCodeError,
)
from autograd_rnn.check.judge import judge
from autograd_rnn.check.sandbox import Outcome, run_many
from autograd_rnn.check.sandbox_child import Job
from autograd_rnn.check.wire import WireError, run_from_message

DEFAULT_TIMEOUT = 60.0  # seconds per check
DEFAULT_MEMORY_MB = 1024  # address space the student's code may add


def check_limits(timeout: float, memory_mb: int | None) -> None:
    if not timeout > 0:
        raise CheckUsageError(f"timeout must be > 0 seconds, got {timeout}")
    if memory_mb is not None and memory_mb < 1:
        raise CheckUsageError(f"memory limit must be >= 1 MB, got {memory_mb}")


def outcome_report(outcome: Outcome, prepared, settings: dict, forward: str,
                   backward: str | None) -> BackwardCheckReport:
    """The report on one child's ``outcome``; ``prepared`` = (reference, names, arrays, wrt)
    and ``settings`` the check's keyword arguments (seed, eps, atol, rtol, ...)."""
    reference, names, arrays, wrt = prepared
    fwd, bwd = forward.rpartition(":")[2], (backward or forward).rpartition(":")[2]
    if outcome.error is not None and outcome.error["status"] == "usage":
        raise CheckUsageError(outcome.error["message"])
    try:
        if outcome.error is not None:
            raise StudentCodeError(outcome.error["message"], outcome.error["status"])
        run = _run(outcome, names, arrays, wrt, settings.get("max_entries"))
        report = judge(run, names, arrays, wrt, reference=reference, forward_name=fwd,
                       backward_name=bwd, layer=reference.name if reference else None,
                       **settings)
    except StudentCodeError as error:
        report = BackwardCheckReport(
            [], settings.get("eps", 1e-6), settings.get("atol", 1e-5),
            settings.get("rtol", 1e-4), layer=reference.name if reference else None,
            forward_name=fwd, backward_name=bwd, seed=settings.get("seed", 0),
            error={"status": error.status, "message": str(error)})
    report.output = outcome.output
    return report


def _run(outcome: Outcome, names, arrays, wrt, max_entries):
    shapes = {n: arrays[names.index(n)].shape for n in wrt}
    sizes = {n: arrays[names.index(n)].size for n in wrt}
    counts = {n: min(size, max_entries) if max_entries else size for n, size in sizes.items()}
    try:
        return run_from_message(outcome.header, outcome.arrays, shapes, counts)
    except WireError as error:
        raise StudentCodeError(f"the check process sent a malformed report ({error})",
                               "crashed") from None


def make_job(forward: str, backward: str | None, prepared, settings: dict, folder: str,
             memory_mb: int | None, tag: str = "check") -> Job:
    """A job for ``sandbox.run_many``; the student's prints go to a file in ``folder``."""
    _, names, arrays, wrt = prepared
    return Job(forward, backward, names, arrays, wrt, settings.get("seed", 0),
               settings.get("eps", 1e-6), settings.get("max_entries"), os.getcwd(),
               os.path.join(folder, f"{tag}.out"), memory_mb, os.getpid())


def check_backward_isolated(
    forward: str, backward: str | None, inputs, *, layer: str | None = None, wrt=None,
    seed: int = 0, eps: float = 1e-6, atol: float = 1e-5, rtol: float = 1e-4,
    max_entries: int | None = None, allow_float32: bool = False,
    timeout: float = DEFAULT_TIMEOUT, memory_mb: int | None = DEFAULT_MEMORY_MB,
) -> BackwardCheckReport:
    """``check_backward`` on functions named by spec (``file.py:fn`` or ``module:fn``; backward
    None for a loss returning (loss, grads)), run in a child process (module docstring).

    Returns a report whose ``status`` is "passed", "mismatch", "wrong dtype" or what the
    student's code did; raises ``CheckUsageError`` for the grader's mistakes (missing file or
    function, bad settings or inputs)."""
    check_limits(timeout, memory_mb)
    prepared = prepare(inputs, None, layer, wrt, eps, atol, rtol)
    settings = dict(seed=seed, eps=eps, atol=atol, rtol=rtol, max_entries=max_entries,
                    allow_float32=allow_float32)
    with tempfile.TemporaryDirectory(prefix="autograd-rnn-check-") as folder:
        job = make_job(forward, backward, prepared, settings, folder, memory_mb)
        (outcome,) = run_many([job], timeout)
    return outcome_report(outcome, prepared, settings, forward, backward)
