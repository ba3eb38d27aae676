"""``ar.compile`` against hand-written NumPy BPTT, optionally against an older compiler.

    python -m bench.compile_compare [--rows tiny,small,large,long] [--repeats 11]
                                    [--before DIR] [--models batched,per_step]

Two models per cell (rnn, lstm), both with the loss of ``bench.handwritten`` (softmax
cross-entropy summed over all T*B positions, so the hand-written step is the reference for
both): ``batched`` applies the output layer once to the stacked hidden states (as
``bench.engine_models`` and ``SequenceModel`` do); ``per_step`` is written the way a student
writes it, the output layer and ``log_softmax`` cross-entropy inside the time loop.

``--before DIR``: DIR holds a package ``codegen_before`` (a copy of an older
``autograd_rnn/codegen`` with its imports renamed); its ``compile`` runs interleaved with
the current one, so before/after ratios come from one run. Each (cell, model, row) runs in
its own process (see ``bench.isolate``); contenders are interleaved (``bench.timing``).
Gradients of every contender are checked against the hand-written ones first (1e-9).
"""

from __future__ import annotations

import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import importlib  # noqa: E402
import json  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402

import numpy as np  # noqa: E402

import autograd_rnn as ar  # noqa: E402
from bench import engine_models as em  # noqa: E402
from bench.run import REFERENCE, ROWS, max_rel_error, problem  # noqa: E402
from bench.timing import interleaved_medians  # noqa: E402

MODELS = em.MODELS
per_step_forward = em.per_step_forward  # (where tests/codegen import it from)


def _forward(model: str):
    return em.forward if model == "batched" else em.per_step_forward


def _compiled(compile_fn, kind, model, params, x, targets):
    leaves = em.make_leaves(kind, params)
    xt = ar.tensor(x)
    forward = _forward(model)
    compiled = compile_fn(lambda xs, tg: forward(kind, leaves, xs, tg), [xt, targets],
                          wrt=list(leaves.values()))

    def run():
        value, grads = compiled(xt, targets)
        return float(np.asarray(value)), grads
    return run


def one_row(kind: str, model: str, row: str, repeats: int, before: str | None) -> dict:
    """Check and time one (cell, model, row) in this process."""
    params, x, targets = problem(kind, ROWS[row])
    reference = REFERENCE[kind][1]
    contenders = {"handwritten": lambda: reference(params, x, targets)}
    contenders["after"] = _compiled(ar.compile, kind, model, params, x, targets)
    if before:
        sys.path.insert(0, before)
        old = importlib.import_module("codegen_before")
        contenders["before"] = _compiled(old.compile, kind, model, params, x, targets)
    ref_loss, ref = reference(params, x, targets)
    errors = {}
    for name, run in list(contenders.items()):
        loss, grads = run()
        errors[name] = max(max_rel_error(grads, ref), abs(loss - ref_loss) / abs(ref_loss))
        if errors[name] > 1e-9:  # a wrong contender is reported, not timed
            del contenders[name]
    times = interleaved_medians(contenders, repeats)
    return {"kind": kind, "model": model, "row": row, "errors": errors,
            "ms": {k: 1e3 * v["median_s"] for k, v in times.items()}}


def _in_subprocess(kind, model, row, repeats, before) -> dict:
    argv = [sys.executable, "-m", "bench.compile_compare", "--one", f"{kind}:{model}:{row}",
            "--repeats", str(repeats)] + (["--before", before] if before else [])
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    done = subprocess.run(argv, capture_output=True, text=True, cwd=root, check=False)
    if done.returncode:
        raise RuntimeError(f"{kind}/{model}/{row} failed:\n{done.stderr}")
    return json.loads(done.stdout)


def _cells(r: dict, name: str) -> list[str]:
    if name not in r["ms"]:
        return [f"wrong gradients (max rel error {r['errors'][name]:.2g})", "-"]
    return [f"{r['ms'][name]:.2f}", f"{r['ms'][name] / r['ms']['handwritten']:.2f}"]


def table(results: list[dict]) -> str:
    has_before = any("before" in r["ms"] for r in results)
    head = "| cell | model | row | hand-written ms | ar.compile ms | ar.compile / hand |"
    line = "|---|---|---|---|---|---|"
    if has_before:
        head += " before ms | before / hand |"
        line += "---|---|"
    out = [head, line]
    for r in results:
        cells = [r["kind"], r["model"], r["row"], f"{r['ms']['handwritten']:.2f}"]
        for name in ("after", "before") if has_before else ("after",):
            cells += _cells(r, name)
        out.append("| " + " | ".join(cells) + " |")
    return "\n".join(out)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.compile_compare",
                                     description=__doc__.split("\n")[0])
    parser.add_argument("--rows", default="tiny,small,large,long")
    parser.add_argument("--kinds", default="rnn,lstm")
    parser.add_argument("--models", default=",".join(MODELS))
    parser.add_argument("--repeats", type=int, default=11)
    parser.add_argument("--before", default=None, help="folder holding package codegen_before")
    parser.add_argument("--one", default=None, help=argparse.SUPPRESS)  # kind:model:row, child
    args = parser.parse_args(argv)
    if args.one:
        kind, model, row = args.one.split(":")
        json.dump(one_row(kind, model, row, args.repeats, args.before), sys.stdout)
        return 0
    results = []
    for kind in args.kinds.split(","):
        for model in args.models.split(","):
            for row in args.rows.split(","):
                results.append(_in_subprocess(kind, model, row, args.repeats, args.before))
                print(table(results[-1:]).splitlines()[-1], flush=True)
    print(table(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
