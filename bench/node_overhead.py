"""Per-node bookkeeping: what one engine op costs beyond NumPy's own work, on (4, 64) arrays.

``python -m bench.node_overhead [--nodes 400] [--repeats 15]``

``bench.graph_costs`` measures graph construction per node inside the benchmark models
(NumPy work included); this isolates the engine's own cost per op. For each op a chain
of ``nodes`` applications ``y <- op(y, c)`` (``c`` a constant (4, 64) array, or (64, 64)
for matmul; a (4, 64) leaf ``y_0`` requiring grad) is run

- forward: with the engine in training mode (``ar.lean_graph()``) against the same chain
  in plain NumPy (the same calls a hand-written loop makes);
- backward: the engine's ``backward(retain_graph=False)`` with gradient recording off
  (what ``ar.train.Trainer`` runs) against the hand-written VJP chain in NumPy
  (``g <- g * (1 - out * out)`` for tanh, ...), seeded with ones at the last node.

Overhead per node = (engine - NumPy) / nodes, CPU-time minima of interleaved repetitions
(forward and backward timed separately), one BLAS thread. Targets (issue 14): <= 1 us
forward, <= 2 us backward.
"""

from __future__ import annotations

import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import gc  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

import autograd_rnn as ar  # noqa: E402

SHAPE = (4, 64)


def _sigmoid(x):
    return 0.5 + 0.5 * np.tanh(0.5 * x)


# name: (engine op on (y, c), NumPy forward, NumPy VJP for y: (g, out, y, c) -> g_y, c shape)
OPS = {
    "add": (lambda y, c: y + c, lambda y, c: y + c, lambda g, out, y, c: g, SHAPE),
    "mul": (lambda y, c: y * c, lambda y, c: y * c, lambda g, out, y, c: g * c, SHAPE),
    "matmul": (lambda y, c: y @ c, lambda y, c: y @ c, lambda g, out, y, c: g @ c.T,
               (SHAPE[1], SHAPE[1])),
    "tanh": (lambda y, c: ar.tanh(y), lambda y, c: np.tanh(y),
             lambda g, out, y, c: g * (1 - out * out), None),
    "sigmoid": (lambda y, c: ar.sigmoid(y), lambda y, c: _sigmoid(y),
                lambda g, out, y, c: g * out * (1 - out), None),
}


def _constant(op: str, shape) -> np.ndarray | None:
    """The constant operand: small values so a long chain stays finite and normal (add:
    noise around 0, mul: around 1, matmul: spectral radius below one)."""
    if shape is None:
        return None
    noise = np.random.default_rng(1).standard_normal(shape)
    return {"add": 0.01 * noise, "mul": 1 + 0.001 * noise}.get(op, 0.1 * noise)


def contenders(op: str, nodes: int) -> tuple[dict, dict]:
    """({name: zero-argument callable}, state) for one op: engine and NumPy, forward and
    backward; state = {"leaf": the engine's leaf y_0, "graph": [what the last forward
    made: the engine's output tensor, or the NumPy chain's list of values]}."""
    engine_op, numpy_op, numpy_vjp, c_shape = OPS[op]
    c = _constant(op, c_shape)
    y0 = np.random.default_rng(0).standard_normal(SHAPE) * 0.5
    leaf = ar.tensor(y0, requires_grad=True)
    graph: list = []

    def engine_forward():
        with ar.lean_graph():
            y = leaf
            for _ in range(nodes):
                y = engine_op(y, c)
        graph[:] = [y]

    def engine_backward():
        leaf.grad = None
        with ar.record_gradients(False):
            graph.pop().backward(np.ones(SHAPE), retain_graph=False)

    def numpy_forward():
        ys = [y0]
        for _ in range(nodes):
            ys.append(numpy_op(ys[-1], c))
        graph[:] = [ys]

    def numpy_backward():
        ys = graph.pop()
        g = np.ones(SHAPE)
        for k in range(nodes, 0, -1):
            g = numpy_vjp(g, ys[k], ys[k - 1], c)
        ys.clear()

    return ({"engine_forward": engine_forward, "engine_backward": engine_backward,
             "numpy_forward": numpy_forward, "numpy_backward": numpy_backward},
            {"leaf": leaf, "graph": graph})


def measure(op: str, nodes: int, repeats: int) -> dict:
    """Minimum CPU microseconds per node of each phase and the engine's overheads.

    Each round runs engine and NumPy (rotated order, a full collection before each), timing
    the forward and then the backward that consumes it separately."""
    run, _ = contenders(op, nodes)
    names = ("engine", "numpy")
    for name in names:  # warm-up
        run[f"{name}_forward"]()
        run[f"{name}_backward"]()
    times: dict = {f"{n}_{p}": [] for n in names for p in ("forward", "backward")}
    for r in range(repeats):
        for name in (names if r % 2 == 0 else names[::-1]):
            gc.collect()
            start = time.process_time()
            run[f"{name}_forward"]()
            middle = time.process_time()
            run[f"{name}_backward"]()
            times[f"{name}_forward"].append(middle - start)
            times[f"{name}_backward"].append(time.process_time() - middle)
    # the least disturbed of the repetitions: on a shared machine a 0.5 ms chain's median
    # still moves by +-30% between runs, its minimum by a few percent
    us = {k: min(v) / nodes * 1e6 for k, v in times.items()}
    return {"op": op, "forward_us": us["engine_forward"] - us["numpy_forward"],
            "backward_us": us["engine_backward"] - us["numpy_backward"],
            "numpy_forward_us": us["numpy_forward"], "numpy_backward_us": us["numpy_backward"]}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.node_overhead",
                                     description=__doc__.split("\n")[0])
    parser.add_argument("--ops", default=",".join(OPS))
    parser.add_argument("--nodes", type=int, default=400)
    parser.add_argument("--repeats", type=int, default=15)
    args = parser.parse_args(argv)
    print("| op | NumPy forward us/op | engine extra forward us/op | NumPy backward us/op "
          "| engine extra backward us/op |")
    print("|---|---|---|---|---|")
    for op in args.ops.split(","):
        r = measure(op, args.nodes, args.repeats)
        print(f"| {op} | {r['numpy_forward_us']:.2f} | {r['forward_us']:.2f} | "
              f"{r['numpy_backward_us']:.2f} | {r['backward_us']:.2f} |", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
