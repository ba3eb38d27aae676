"""What in-place change detection (``autograd_rnn/core/inplace.py``) costs a training step.

``python -m bench.inplace_cost [--rows tiny,small] [--kinds rnn,lstm] [--repeats 21]``

The engine's training step (``bench.engine_models.step``: lean graph, gradient recording
off) in four variants, timed interleaved in one process (``bench.timing``):

- ``detection off``: the forward marks no saved value (every primitive's list of saved
  input positions emptied): what the step costs without the feature;
- ``default``: what a training loop pays (a flag test and at most one flag write per
  saved input; no copy, since nothing reads ``.data`` between forward and backward);
- ``checking``: as after any ``.data`` read in the process: backward also checks every
  node's saved values (``STATE.watching``), finding nothing to compare;
- ``params read``: every parameter's ``.data`` is read before each step (user code
  printing weights), so each saved parameter is copied once and compared at every use.

Prints a Markdown table of medians and the ratio of each variant to ``detection off``.
"""

from __future__ import annotations

import argparse
import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import autograd_rnn as ar  # noqa: E402
from autograd_rnn.core.state import STATE  # noqa: E402
from bench import engine_models as em  # noqa: E402
from bench.run import ROWS, problem  # noqa: E402
from bench.timing import interleaved_medians  # noqa: E402

VARIANTS = ("detection off", "default", "checking", "params read")


def _layouts(saving: bool) -> list[tuple]:
    """[(primitive, {input count: (saved positions, drop flags)})], with the saved positions
    emptied unless ``saving`` (built once: swapping them in costs a few microseconds)."""
    found = []
    for prim in ar.REGISTRY.values():
        for n in range(1, 9):
            prim._layouts[n]  # (made on first use)
        found.append((prim, {n: (positions if saving else (), drop)
                             for n, (positions, drop) in prim._layouts.items()}))
    return found


ON, OFF = _layouts(True), _layouts(False)


def _variant(name: str, kind: str, leaves: dict, x, targets):
    def run():
        for prim, layout in OFF if name == "detection off" else ON:
            prim._layouts = layout
        STATE.watching = name in ("checking", "params read")
        if name == "params read":
            for p in leaves.values():
                _ = p.data
        em.step(kind, leaves, x, targets, False)
    return run


def measure(kind: str, row: str, repeats: int) -> dict[str, float]:
    """{variant: median CPU ms} for one model and row."""
    params, x, targets = problem(kind, ROWS[row])
    contenders = {}
    for name in VARIANTS:
        leaves = em.make_leaves(kind, params)
        contenders[name] = _variant(name, kind, leaves, x, targets)
    result = interleaved_medians(contenders, repeats)
    return {name: 1e3 * r["median_s"] for name, r in result.items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", default="tiny,small,large,long")
    parser.add_argument("--kinds", default="rnn,lstm")
    parser.add_argument("--repeats", type=int, default=21)
    args = parser.parse_args(argv)
    head = " | ".join(f"{v} ms" for v in VARIANTS)
    ratios = " | ".join(f"{v} / off" for v in VARIANTS[1:])
    print(f"| model | row | {head} | {ratios} |")
    print("|---|---|" + "---|" * (2 * len(VARIANTS) - 1))
    for kind in args.kinds.split(","):
        for row in args.rows.split(","):
            ms = measure(kind, row, args.repeats)
            off = ms["detection off"]
            cells = " | ".join(f"{ms[v]:.2f}" for v in VARIANTS)
            rel = " | ".join(f"{ms[v] / off:.3f}" for v in VARIANTS[1:])
            print(f"| {kind} | {row} | {cells} | {rel} |", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
