"""Instructions per training step, counted by valgrind: a noise-free companion to timings.

``python -m bench.instructions --tree before=/old/tree --tree after=. [--kinds lstm]
[--rows tiny] [--variants step,record]``

On a shared machine CPU times of the same step move by 10% between runs; the number of
instructions a step executes does not (it depends on the code, not on the load). Each
(tree, model, row, variant) runs under ``valgrind --tool=callgrind`` twice, with 1 and with
1 + ``--extra-steps`` (default 3) steps after the setup, and the difference / extra steps
is the count of one step (imports and setup cancel out, up to about 1 M instructions of
setup that differs between runs: for a step of a few million, use ``--extra-steps 100``).
Variants: ``step`` (the training step of ``bench.engine_models.step``: lean graph, recording
off), ``record`` (the full recorded graph), ``per_step`` and ``per_step-record`` (the same
on the per-step-output model, ``bench.interp_compare``), and for the in-place change
detection of this tree (``bench.inplace_cost``): ``off``, ``checking``, ``params-read``; for
the training step with Adam of ``bench.train_compare`` (issue 14): ``train-step``
(``Trainer.train_step``, compiled) and ``hand-step`` (the hand-written step it is compared
with). Needs valgrind (Debian: ``apt-get install
valgrind``); slow (about a minute per count); two counts run at a time.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import os
import re
import subprocess
import sys
from pathlib import Path

WORKER = r"""
import sys
from bench import engine_models as em
from bench.run import ROWS, problem
kind, row, steps, variant = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
params, x, targets = problem(kind, ROWS[row])
leaves = em.make_leaves(kind, params)
if variant in ("train-step", "hand-step"):
    from bench.train_compare import step_contenders
    contenders, _ = step_contenders(kind, row)
    run = contenders["compiled step" if variant == "train-step" else "hand-written"]
    run()  # (the compiled step traces and checks itself on its first call)
elif variant in ("off", "checking", "params-read"):
    from bench.inplace_cost import _variant
    name = {"off": "detection off", "params-read": "params read"}.get(variant, variant)
    run = _variant(name, kind, leaves, x, targets)
else:
    model = "per_step" if variant.startswith("per_step") else "batched"
    run = lambda: em.step(kind, leaves, x, targets, variant.endswith("record"), model=model)
run()
for _ in range(steps):
    run()
"""


def count(tree: Path, kind: str, row: str, steps: int, variant: str) -> int:
    """Instructions executed by the worker (setup plus ``steps`` steps) under callgrind."""
    env = dict(os.environ, PYTHONPATH=str(tree), PYTHONHASHSEED="0", OPENBLAS_NUM_THREADS="1",
               OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
    out = subprocess.run(
        ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", sys.executable,
         "-c", WORKER, kind, row, str(steps), variant],
        cwd=str(tree), env=env, capture_output=True, text=True, check=True)
    found = re.search(r"Collected : (\d+)", out.stderr)
    if found is None:
        raise RuntimeError(f"no instruction count from valgrind:\n{out.stderr[-2000:]}")
    return int(found.group(1))


def per_step(tree: Path, kind: str, row: str, variant: str, extra: int = 3) -> float:
    """Instructions of one step: (count with 1 + extra steps - count with 1) / extra."""
    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        one, more = pool.map(lambda n: count(tree, kind, row, n, variant), (1, 1 + extra))
    return (more - one) / extra


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tree", action="append", required=True,
                        help="name=path of a source tree (repeat)")
    parser.add_argument("--kinds", default="rnn,lstm")
    parser.add_argument("--rows", default="tiny")
    parser.add_argument("--extra-steps", type=int, default=3,
                        help="steps the longer run adds (more: less setup noise per step)")
    parser.add_argument("--variants", default="step")
    args = parser.parse_args(argv)
    trees = [(t.split("=", 1)[0], Path(t.split("=", 1)[1]).resolve()) for t in args.tree]
    columns = [f"{n} instr./step" for n, _ in trees] + [f"{n} / {trees[0][0]}"
                                                         for n, _ in trees[1:]]
    print("| model | row | variant | " + " | ".join(columns) + " |")
    print("|---|---|---|" + "---|" * len(columns))
    for kind in args.kinds.split(","):
        for row in args.rows.split(","):
            for variant in args.variants.split(","):
                counts = [per_step(path, kind, row, variant, args.extra_steps)
                          for _, path in trees]
                cells = [f"{c / 1e6:.2f} M" for c in counts]
                cells += [f"{c / counts[0]:.3f}" for c in counts[1:]]
                print(f"| {kind} | {row} | {variant} | {' | '.join(cells)} |", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
