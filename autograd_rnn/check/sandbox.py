"""Run jobs in isolated child processes, several at a time, each with a time limit.

``run_many`` starts up to ``workers`` children (``sandbox_child.child_main``), watches their
pipes and exit sentinels from this one thread with ``multiprocessing.connection.wait`` and
kills a child's whole process group when its time is up. The parent stays single-threaded,
so children are forked (cheap: NumPy and the checker already imported, the caller's
``__main__`` never re-imported); where fork is unsafe or missing (macOS, Windows) they are
spawned, which needs the ``if __name__ == "__main__":`` guard in scripts.

Each job ends as an ``Outcome``: the result message, or an error saying what happened
(see ``isolated.py`` for the statuses). Ctrl-C kills every child and propagates.
"""

from __future__ import annotations

import multiprocessing
import os
import re
import signal
import sys
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from multiprocessing.connection import wait

from autograd_rnn.check.sandbox_child import Job, child_main
from autograd_rnn.check.wire import MAX_MESSAGE_BYTES, WireError, decode

EXIT_GRACE = 2.0  # seconds a child may take to exit after its report
OUTPUT_SHOWN = 4000  # characters of the student's prints kept
CRASH_DUMP_READ = 2**16  # bytes read back to find where a crash happened


def _context():
    fork = "fork" in multiprocessing.get_all_start_methods() and sys.platform != "darwin"
    return multiprocessing.get_context("fork" if fork else "spawn")


@dataclass
class Outcome:
    """What came back from a child: the result (header, arrays), or an error
    {"status", "message", "stage"}; what the student's code printed; seconds taken."""

    header: dict | None
    arrays: dict
    error: dict | None
    output: str
    seconds: float


@dataclass
class _Child:
    index: int
    job: Job
    process: object
    reader: object
    start: float
    deadline: float
    stage: str = "start"
    final: tuple | None = None
    eof: bool = False
    timed_out: bool = False
    messages: list = field(default_factory=list)


def _start(ctx, index: int, job: Job, timeout: float) -> _Child:
    reader, writer = ctx.Pipe(duplex=False)
    process = ctx.Process(target=child_main, args=(job, writer), daemon=True)
    process.start()
    writer.close()  # the child holds the only write end: its exit closes the pipe
    now = time.monotonic()
    return _Child(index, job, process, reader, now, now + timeout)


def _receive(child: _Child) -> None:
    try:
        header, arrays = decode(child.reader.recv_bytes(MAX_MESSAGE_BYTES))
    except EOFError:
        child.eof = True
        return
    except (OSError, WireError) as error:
        child.eof = True
        child.final = ({"kind": "error", "status": "crashed", "stage": child.stage,
                        "message": f"the check process sent a malformed report ({error})"}, {})
        return
    if header["kind"] == "stage":
        child.stage = str(header.get("stage"))
    elif child.final is None:
        child.final = (header, arrays)
        child.deadline = min(child.deadline, time.monotonic() + EXIT_GRACE)


def _kill(process) -> None:
    try:
        os.killpg(process.pid, signal.SIGKILL)  # the child and anything it started
    except (AttributeError, OSError):
        pass
    if process.is_alive():
        process.kill()
    process.join(5)


def run_many(jobs: Sequence[Job], timeout: float, workers: int = 1,
             on_done: Callable[[int, Outcome], None] | None = None) -> list[Outcome]:
    """Run every job in its own child process, at most ``workers`` at a time; returns the
    outcomes in the order of ``jobs`` (``on_done(index, outcome)`` as each one ends)."""
    ctx = _context()
    pending = deque(enumerate(jobs))
    running: dict[int, _Child] = {}
    results: list[Outcome | None] = [None] * len(jobs)
    try:
        while pending or running:
            while pending and len(running) < max(1, workers):
                index, job = pending.popleft()
                running[index] = _start(ctx, index, job, timeout)
            now = time.monotonic()
            soonest = min(c.deadline for c in running.values())
            handles = [c.reader for c in running.values() if not c.eof] + \
                [c.process.sentinel for c in running.values()]
            ready = set(wait(handles, timeout=max(0.0, soonest - now)))
            for child in list(running.values()):
                while not child.eof and child.reader in ready and child.reader.poll():
                    _receive(child)
                ended = child.eof and child.process.sentinel in ready
                if ended or time.monotonic() >= child.deadline:
                    child.timed_out = not ended and child.final is None
                    del running[child.index]
                    results[child.index] = _finish(child, timeout)
                    if on_done is not None:
                        on_done(child.index, results[child.index])
    except BaseException:
        for child in running.values():
            _kill(child.process)
        raise
    return results


def _finish(child: _Child, timeout: float) -> Outcome:
    seconds = time.monotonic() - child.start
    if child.process.is_alive():
        _kill(child.process)
    else:
        child.process.join()
    child.reader.close()
    output = _read_output(child.job.output_path, CRASH_DUMP_READ)
    shown = output.split("Fatal Python error")[0][-OUTPUT_SHOWN:]
    if child.final is not None and child.final[0]["kind"] == "result":
        return Outcome(child.final[0], child.final[1], None, shown, seconds)
    if child.final is not None:
        error = {k: str(child.final[0].get(k, "")) for k in ("status", "message", "stage")}
    else:
        error = _silent_end(child, timeout, output)
    return Outcome(None, {}, error, shown, seconds)


def _silent_end(child: _Child, timeout: float, output: str) -> dict:
    stage = child.stage
    running = f"while running {stage}" if stage != "start" else "before it started"
    if child.timed_out:
        return {"status": "timed out", "stage": stage,
                "message": f"timed out after {timeout:g} s {running} (an endless loop?)"}
    code = child.process.exitcode
    if code is not None and code < 0:
        name = signal.Signals(-code).name if -code in signal.valid_signals() else str(-code)
        return {"status": "crashed", "stage": stage,
                "message": f"the check process crashed with {name} {running}"
                           f"{_crash_site(output)}"}
    return {"status": "exited", "stage": stage,
            "message": f"the check process ended {running} with exit code {code} before "
                       "reporting: os._exit() or a similar call in your code?"}


def _crash_site(output: str) -> str:
    for file, line, fn in re.findall(r'File "([^"]+)", line (\d+) in (\S+)', output):
        if os.sep + "autograd_rnn" + os.sep not in file and "numpy" not in file:
            return f" (at {file}:{line} in {fn})"
    return ""


def _read_output(path: str, limit: int) -> str:
    try:
        with open(path, "rb") as f:
            f.seek(0, os.SEEK_END)
            f.seek(max(0, f.tell() - limit))
            return f.read().decode("utf-8", errors="replace")
    except OSError:
        return ""
