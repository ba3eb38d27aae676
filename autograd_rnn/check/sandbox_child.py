"""The isolated check process: runs the student's code and sends back raw results.

Forked (or spawned) by ``sandbox.run_many``. It starts in its own process group (the grader
kills the whole group on a timeout; the terminal's Ctrl-C reaches the grader only), dies
with the grader (Linux), ignores SIGINT, limits its address space and the
size of files it writes, sends the student's prints to a file (so they never mix with the
grader's output) and dumps a traceback there if it crashes. Messages go to the grader
through ``wire`` (no pickle): one per stage ("import", "forward", "backward",
"finite differences"), then the result or an error. The process always ends with
``os._exit``, so the student's atexit handlers and threads cannot delay it.
"""

from __future__ import annotations

import faulthandler
import os
import signal
import sys
from dataclasses import dataclass

import numpy as np

from autograd_rnn.check.backward_report import CheckUsageError, StudentCodeError
from autograd_rnn.check.loader import load_function
from autograd_rnn.check.patch_guard import PatchGuard
from autograd_rnn.check.student_run import describe, run_student
from autograd_rnn.check.wire import encode, run_message

OUTPUT_LIMIT_BYTES = 4 * 2**20  # what the student's prints may write
PR_SET_PDEATHSIG = 1  # prctl option (linux/prctl.h)


@dataclass
class Job:
    """What to check: function specs (``file.py:fn`` or ``module:fn``; backward None for a
    loss returning (loss, grads)), the inputs, and the process's limits."""

    forward: str
    backward: str | None
    names: list[str]
    arrays: list[np.ndarray]
    wrt: list[str]
    seed: int
    eps: float
    max_entries: int | None
    cwd: str
    output_path: str
    memory_mb: int | None
    parent: int = 0  # the grader's pid


def _limit(memory_mb: int | None) -> None:
    try:
        import resource
    except ImportError:  # not POSIX: no limits, the timeout still applies
        return
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a too-long print fails instead of killing
    resource.setrlimit(resource.RLIMIT_FSIZE, (OUTPUT_LIMIT_BYTES, OUTPUT_LIMIT_BYTES))
    if memory_mb is None:
        return
    try:
        with open("/proc/self/statm") as f:
            used = int(f.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError):
        used = 0
    limit = used + memory_mb * 2**20  # on top of NumPy and the checker, already mapped
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    resource.setrlimit(resource.RLIMIT_AS, (limit, hard))


def _die_with_parent(parent: int) -> None:
    """On Linux, get SIGKILL when the grader dies (even by SIGKILL), so a student's endless
    loop never outlives it."""
    if not sys.platform.startswith("linux"):
        return
    import ctypes

    try:
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):
        return
    if os.getppid() != parent:  # the grader died before prctl took effect
        os._exit(1)


def _isolate(job: Job) -> None:
    _die_with_parent(job.parent)
    if hasattr(os, "setpgid"):
        os.setpgid(0, 0)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    out = os.open(job.output_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    os.dup2(out, 1)
    os.dup2(out, 2)
    os.close(out)
    # new streams on fds 1 and 2: the inherited ones may not be files (Jupyter's, pytest's)
    sys.stdout = open(1, "w", buffering=1, closefd=False, errors="replace")  # noqa: SIM115
    sys.stderr = open(2, "w", buffering=1, closefd=False, errors="replace")  # noqa: SIM115
    faulthandler.enable(file=sys.stderr)
    os.chdir(job.cwd)
    _limit(job.memory_mb)


def child_main(job: Job, conn) -> None:
    """Entry point of the isolated process (``sandbox.run_isolated`` starts it)."""
    stage = ["start"]

    def send(data: bytes) -> None:
        try:
            conn.send_bytes(data)
        except OSError:
            pass  # the grader went away: nothing left to tell

    try:
        _isolate(job)
        guard = PatchGuard()

        def on_stage(name: str) -> None:
            if stage[0] == "import":
                guard.check("import")
            stage[0] = name
            send(encode({"kind": "stage", "stage": name}))

        on_stage("import")
        forward = load_function(job.forward)
        backward = load_function(job.backward) if job.backward else None
        run = run_student(forward, backward, job.names, job.arrays, job.wrt, seed=job.seed,
                          eps=job.eps, max_entries=job.max_entries, on_stage=on_stage)
        guard.check(stage[0])
        send(run_message(run))
    except StudentCodeError as error:
        send(encode({"kind": "error", "status": error.status, "message": str(error),
                     "stage": stage[0]}))
    except CheckUsageError as error:
        send(encode({"kind": "error", "status": "usage", "message": str(error),
                     "stage": stage[0]}))
    except BaseException as error:  # noqa: BLE001 (SystemExit at import, KeyboardInterrupt...)
        status = "out of memory" if isinstance(error, MemoryError) else "raised"
        send(encode({"kind": "error", "status": status, "stage": stage[0],
                     "message": f"{stage[0]} raised {describe(error)}"}))
    finally:
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except Exception:  # noqa: BLE001, S110 (closed or full: the output is best effort)
                pass
        os._exit(0)
