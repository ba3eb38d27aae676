"""Run each (model, row) of the benchmark in its own Python process.

Why: the C allocator's state depends on everything the process did before. Measured in
one process after the six rows before it, lstm/small read engine 36.7 ms and engine with
recording 71.8 ms; measured alone, 29.1 ms and 34.1 ms, while the hand-written (24.8 vs
24.6 ms) and PyTorch (32.0 vs 31.2 ms) steps hardly moved: glibc's dynamic mmap/trim
thresholds, raised by the large graphs of earlier rows, change how the engine's many
mid-sized arrays are served. A training run repeats one workload for the whole process,
so each row now starts from a fresh interpreter (``python -m bench.run --in-process``
keeps the old single-process protocol). Contenders within a row stay interleaved.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class ChildFailed(RuntimeError):
    """A row's process failed for another reason than a gradient mismatch."""


def row_in_subprocess(kind: str, row: str, repeats: int, use_torch: bool, use_compile: bool,
                      tuned_malloc: bool, mismatch_error: type[Exception]) -> dict:
    """``bench.run.bench_row(kind, row, ...)`` in a fresh interpreter; its result dict.

    Raises ``mismatch_error`` when the child's gradient gate failed (exit code 1 with
    "gradients differ"), ``ChildFailed`` with the child's stderr for anything else."""
    argv = [sys.executable, "-m", "bench.run", "--one-row", f"{kind}:{row}",
            "--repeats", str(repeats)]
    if not use_torch:
        argv.append("--no-torch")
    if not use_compile:
        argv.append("--no-compile")
    if tuned_malloc:
        argv.append("--tuned-malloc")
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (ROOT, env.get("PYTHONPATH")) if p)
    done = subprocess.run(argv, capture_output=True, text=True, cwd=ROOT, env=env)
    if done.returncode == 1 and "gradients differ" in done.stderr:
        raise mismatch_error(done.stderr.strip().splitlines()[-1])
    if done.returncode != 0:
        raise ChildFailed(f"bench row {kind}/{row} failed (exit {done.returncode}):\n"
                          f"{done.stderr.strip()}")
    return json.loads(done.stdout)
