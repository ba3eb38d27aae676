"""Time the engine's training step of two source trees against each other, interleaved.

``python -m bench.versions --before /path/to/old/tree [--after .] [--rows tiny,small]
[--kinds rnn,lstm] [--repeats 21] [--record]``

Each tree runs in its own worker process (``PYTHONPATH=<tree>``: its own ``autograd_rnn``
and ``bench``), started once per (model, row) with the same problem (``bench.run.problem``).
The parent asks the two workers for one step at a time, alternating which goes first
(A B, B A, ...), so both see the same machine load; each worker reports the CPU time of
its step (``time.process_time``, one BLAS thread, a full garbage collection before each
step). The step is ``bench.engine_models.step``: forward + backward as ``ar.train.Trainer``
runs it (lean graph, gradient recording off, graph freed), or with ``--record`` the full
recorded graph; ``--tuned-malloc`` makes both workers keep freed memory (the allocator's
state otherwise moves small/large rows by 10-20% between processes, bench/README.md).
Medians and the after / before ratio are printed as a Markdown table.
Used to show that an engine change does not slow the training step (bench/README.md).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

WORKER = r"""
import gc, json, sys, time
import numpy as np
from bench import engine_models as em
from bench.run import ROWS, problem
kind, row, record, tuned = sys.argv[1], sys.argv[2], sys.argv[3] == "1", sys.argv[4] == "1"
if tuned:
    from autograd_rnn.train.allocator import keep_freed_memory
    keep_freed_memory()
params, x, targets = problem(kind, ROWS[row])
leaves = em.make_leaves(kind, params)
em.step(kind, leaves, x, targets, record)  # warm-up
print("ready", flush=True)
for line in sys.stdin:
    gc.collect()
    start = time.process_time()
    em.step(kind, leaves, x, targets, record)
    print(json.dumps(time.process_time() - start), flush=True)
"""


def _worker(tree: Path, kind: str, row: str, record: bool, tuned: bool) -> subprocess.Popen:
    env = dict(os.environ, PYTHONPATH=str(tree))
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        env[var] = "1"
    flags = ["1" if record else "0", "1" if tuned else "0"]
    proc = subprocess.Popen([sys.executable, "-c", WORKER, kind, row, *flags],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                            cwd=str(tree), env=env)
    if proc.stdout.readline().strip() != "ready":
        raise RuntimeError(f"the worker for {tree} did not start")
    return proc


def _step(proc: subprocess.Popen) -> float:
    proc.stdin.write("step\n")
    proc.stdin.flush()
    return float(json.loads(proc.stdout.readline()))


def compare(before: Path, after: Path, kind: str, row: str, repeats: int,
            record: bool, tuned: bool = False) -> dict:
    """{"before_ms", "after_ms", "ratio"}: medians of ``repeats`` interleaved steps."""
    workers = {"before": _worker(before, kind, row, record, tuned),
               "after": _worker(after, kind, row, record, tuned)}
    times: dict[str, list[float]] = {"before": [], "after": []}
    try:
        for r in range(repeats):
            order = ("before", "after") if r % 2 == 0 else ("after", "before")
            for name in order:
                times[name].append(_step(workers[name]))
    finally:
        for proc in workers.values():
            proc.stdin.close()
            proc.wait()
    before_ms = 1e3 * statistics.median(times["before"])
    after_ms = 1e3 * statistics.median(times["after"])
    return {"before_ms": before_ms, "after_ms": after_ms, "ratio": after_ms / before_ms}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--before", type=Path, required=True, help="the old source tree")
    parser.add_argument("--after", type=Path, default=Path(__file__).resolve().parent.parent)
    parser.add_argument("--rows", default="tiny,small,large,long")
    parser.add_argument("--kinds", default="rnn,lstm")
    parser.add_argument("--repeats", type=int, default=21)
    parser.add_argument("--record", action="store_true",
                        help="time the recorded full graph instead of the training step")
    parser.add_argument("--tuned-malloc", action="store_true",
                        help="workers keep freed memory (ar.train.keep_freed_memory): steadier")
    args = parser.parse_args(argv)
    print("| model | row | before ms | after ms | after / before |")
    print("|---|---|---|---|---|")
    for kind in args.kinds.split(","):
        for row in args.rows.split(","):
            r = compare(args.before.resolve(), args.after.resolve(), kind, row, args.repeats,
                        args.record, args.tuned_malloc)
            print(f"| {kind} | {row} | {r['before_ms']:.2f} | {r['after_ms']:.2f} | "
                  f"{r['ratio']:.3f} |", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
