"""Memory of an unrolled graph against sequence length: ``python -m bench.memory_scaling``.

For T in 1000, 2000, 4000, 8000 it builds a vanilla tanh RNN (or ``--cell lstm|gru``;
H=16, B=1, D=1, one output per step, MSE over all steps), runs forward + backward under
``tracemalloc`` and prints the peak bytes, bytes per timestep and the ratio of each peak
to the previous one. A graph that grows linearly in T gives per-step bytes that stay flat
and ratios near 2 as T doubles; anything quadratic (e.g. a per-node list of all ancestors)
shows up as ratios near 4. Two figures per T: with gradient recording on (every node keeps
its gradient and per-edge gradients, as needed for drawing) and off (training mode, as
``ar.train.Trainer`` runs it: a lean graph, ``ar.lean_graph()``).

Memory is measured, not timed, and nothing is asserted: this is a report.
"""

from __future__ import annotations

import argparse
import gc
import tracemalloc

import numpy as np

import autograd_rnn as ar
from autograd_rnn.train import mse_loss

DEFAULT_TS = (1000, 2000, 4000, 8000)
HIDDEN = 16


def peak_bytes(T: int, record: bool, hidden: int = HIDDEN, seed: int = 0, cell: str = "rnn") -> int:
    """tracemalloc peak (bytes) of building the T-step graph and backpropagating through it.

    The model and the input are made before tracing starts, so the figure is the graph:
    node values, saved inputs, gradients and the bookkeeping of the backward pass.
    """
    model = ar.nn.SequenceModel(cell, 1, hidden, 1, seed=seed)
    x = np.random.default_rng(seed).standard_normal((T, 1, 1))
    target = np.zeros((T, 1, 1))
    gc.collect()
    tracemalloc.start()
    try:
        with ar.record_gradients(record), ar.lean_graph(not record):
            y, _ = model(x)
            loss = mse_loss(y, target)
            loss.backward()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    del loss, y
    gc.collect()
    return peak


def table(ts: tuple[int, ...] = DEFAULT_TS, hidden: int = HIDDEN, cell: str = "rnn") -> list[dict]:
    """One row per (recording, T): {"record", "T", "peak_bytes", "bytes_per_step", "ratio"}."""
    rows = []
    for record in (True, False):
        previous = None
        for T in ts:
            peak = peak_bytes(T, record, hidden, cell=cell)
            rows.append(
                {
                    "record": record,
                    "T": T,
                    "peak_bytes": peak,
                    "bytes_per_step": peak / T,
                    "ratio": None if previous is None else peak / previous,
                }
            )
            previous = peak
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--steps",
        type=int,
        nargs="+",
        default=list(DEFAULT_TS),
        metavar="T",
        help="sequence lengths (default 1000 2000 4000 8000)",
    )
    parser.add_argument("--hidden", type=int, default=HIDDEN, help="hidden size (default 16)")
    parser.add_argument(
        "--cell",
        choices=["rnn", "lstm", "gru"],
        default="rnn",
        help="recurrent cell (default rnn: the vanilla tanh RNN)",
    )
    args = parser.parse_args(argv)
    if any(t < 1 for t in args.steps) or args.hidden < 1:
        parser.error("--steps and --hidden must be >= 1")
    print(f"peak memory of forward + backward, {args.cell} H={args.hidden}, B=1 (tracemalloc)")
    print(f"{'recording':>9} {'T':>6} {'peak MB':>9} {'bytes/step':>11} {'x prev':>7}")
    for row in table(tuple(args.steps), args.hidden, args.cell):
        ratio = "" if row["ratio"] is None else f"{row['ratio']:.2f}"
        print(
            f"{'on' if row['record'] else 'off':>9} {row['T']:>6} "
            f"{row['peak_bytes'] / 1e6:>9.2f} {row['bytes_per_step']:>11.0f} {ratio:>7}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
