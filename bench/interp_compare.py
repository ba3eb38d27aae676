"""The interpreter on the per-step-output model against PyTorch eager (issue 14).

    python -m bench.interp_compare [--rows tiny,small,large,long] [--kinds rnn,lstm]
                                   [--repeats 11] [--tree before=DIR --tree after=.]

The model is written the way a student writes it (``bench.engine_models.per_step_forward``:
output layer and ``log_softmax`` cross-entropy inside the time loop). Contenders, one
training step each (forward + backward, no optimizer):

- engine: training mode (``ar.lean_graph()``, ``ar.record_gradients(False)``, graph freed
  by backward), as ``ar.train.Trainer`` runs the interpreter;
- rec on: every node keeps its value and every node and edge its gradient (drawing);
- torch prim: PyTorch eager from the same primitive ops (``torch_reference``; optional);
- hand-written: ``bench.handwritten``'s BPTT (the same loss), for scale.

Same protocol as ``bench.run``: one process per (model, row), contenders interleaved
(``bench.timing``), CPU-time medians, one BLAS / torch thread; every contender's loss and
gradients are checked against the hand-written ones (1e-9) first, a wrong one is reported
and not timed. Targets: engine / torch prim <= 1.0, rec on / engine <= 1.5 on every row.
"""

from __future__ import annotations

import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import json  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402

from bench import engine_models as em  # noqa: E402
from bench import torch_reference as tr  # noqa: E402
from bench.run import REFERENCE, ROWS, max_rel_error, problem  # noqa: E402
from bench.timing import interleaved_medians  # noqa: E402


def contenders(kind: str, params, x, targets, use_torch: bool) -> dict:
    """{name: zero-argument callable returning (loss, grads)} for one row."""
    leaves = em.make_leaves(kind, params)
    reference = REFERENCE[kind][1]
    runs = {
        "hand-written": lambda: reference(params, x, targets),
        "engine": lambda: em.step(kind, leaves, x, targets, False, model="per_step"),
        "rec on": lambda: em.step(kind, leaves, x, targets, True, model="per_step"),
    }
    if use_torch and tr.torch_available():
        import torch

        torch.set_num_threads(1)
        runs["torch prim"] = lambda: tr.torch_per_step_step(kind, params, x, targets)
    return runs


def one_row(kind: str, row: str, repeats: int, use_torch: bool = True) -> dict:
    """Check and time one (model, row) in this process."""
    params, x, targets = problem(kind, ROWS[row])
    runs = contenders(kind, params, x, targets, use_torch)
    ref_loss, ref = runs["hand-written"]()
    errors = {}
    for name, run in list(runs.items()):
        loss, grads = run()
        errors[name] = max(max_rel_error(grads, ref), abs(loss - ref_loss) / abs(ref_loss))
        if errors[name] > 1e-9:
            del runs[name]
    times = interleaved_medians(runs, repeats)
    return {"kind": kind, "row": row, "errors": errors,
            "ms": {k: 1e3 * v["median_s"] for k, v in times.items()}}


HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _in_subprocess(kind: str, row: str, repeats: int, use_torch: bool,
                   root: str = HERE) -> dict:
    """One row in a fresh process running the source tree ``root``."""
    argv = [sys.executable, "-m", "bench.interp_compare", "--one", f"{kind}:{row}",
            "--repeats", str(repeats)] + ([] if use_torch else ["--no-torch"])
    env = dict(os.environ, PYTHONPATH=root)
    done = subprocess.run(argv, capture_output=True, text=True, cwd=root, env=env,
                          check=False)
    if done.returncode:
        raise RuntimeError(f"{kind}/{row} failed:\n{done.stderr}")
    return json.loads(done.stdout)


COLUMNS = ("hand-written", "engine", "rec on", "torch prim")


def _ratio(ms: dict, a: str, b: str) -> str:
    return f"{ms[a] / ms[b]:.2f}" if a in ms and b in ms else "-"


def line(r: dict, tree: str | None = None) -> str:
    """One table row: times, engine / torch prim, rec on / engine, engine / hand-written."""
    ms = r["ms"]
    cells = [r["kind"], r["row"]] + ([tree] if tree is not None else [])
    for name in COLUMNS:
        if name in ms:
            cells.append(f"{ms[name]:.2f}")
        elif name in r["errors"]:
            cells.append(f"wrong (max rel error {r['errors'][name]:.2g})")
        else:
            cells.append("-")
    cells += [_ratio(ms, "engine", "torch prim"), _ratio(ms, "rec on", "engine"),
              _ratio(ms, "engine", "hand-written")]
    return "| " + " | ".join(cells) + " |"


HEADER = ("| model | row | hand-written ms | engine ms | rec on ms | torch prim ms "
          "| engine / torch prim | rec on / engine | engine / hand |\n"
          "|---|---|---|---|---|---|---|---|---|")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.interp_compare",
                                     description=__doc__.split("\n")[0])
    parser.add_argument("--rows", default="tiny,small,large,long")
    parser.add_argument("--kinds", default="rnn,lstm")
    parser.add_argument("--repeats", type=int, default=11)
    parser.add_argument("--no-torch", action="store_true")
    parser.add_argument("--tree", action="append", default=[], metavar="NAME=DIR",
                        help="compare source trees (repeat): each row runs in each tree in "
                             "turn, e.g. --tree before=/old/checkout --tree after=.")
    parser.add_argument("--one", default=None, help=argparse.SUPPRESS)  # kind:row, child
    args = parser.parse_args(argv)
    if args.one:
        kind, row = args.one.split(":")
        json.dump(one_row(kind, row, args.repeats, not args.no_torch), sys.stdout)
        return 0
    trees = [(t.split("=", 1)[0], os.path.abspath(t.split("=", 1)[1])) for t in args.tree]
    header = HEADER if not trees else HEADER.replace("| row |", "| row | tree |", 1).replace(
        "|---|---|", "|---|---|---|", 1)
    print(header, flush=True)
    for kind in args.kinds.split(","):
        for row in args.rows.split(","):
            for name, root in trees or [(None, HERE)]:  # interleaved: tree after tree
                result = _in_subprocess(kind, row, args.repeats, not args.no_torch, root)
                print(line(result, name), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
