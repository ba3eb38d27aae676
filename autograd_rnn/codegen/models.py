"""Unrolled recurrent models, to compile (CLI, benchmark, tests): the ``nn`` cells per step.

Every model is ``loss(x, targets, *params)``: x (T, B, D) time-major, targets (T*B,) ints
in [0, V), loss = softmax cross-entropy summed over all T*B positions, h0 = c0 = 0.
Each timestep runs the ``ar.nn`` cell (``RNNCell``, ``LSTMCell``, ``GRUCell``) on the given
parameter tensors under ``ar.scope(f"{cell}/layer0/t={t}")`` (t from 1); values are named
like a textbook: ``x_t``, ``a`` (pre-activation), gates, ``h_t``, ``c_t``. Parameter names
and gate orders are the cells' (/work/shared/REFERENCE.md: LSTM i, f, g, o; GRU r, z, n with
r multiplying ``h W_hn + b_hn``); the output layer is W_y (H, V), b_y (V,).

``rnn_loss_and_grads`` / ``lstm_loss_and_grads`` have the signature of
``bench/handwritten.py`` and run the compiled code (one compile per shape).
"""

from __future__ import annotations

import numpy as np

from autograd_rnn.codegen.compiler import compile as compile_graph
from autograd_rnn.core.state import scope
from autograd_rnn.core.tensor import Tensor, tensor
from autograd_rnn.nn.cells import CELLS
from autograd_rnn.ops import log_softmax, matmul, stack

PARAMS = {
    "rnn": ("W_x", "W_h", "b_h", "W_y", "b_y"),
    "lstm": ("W_x", "W_h", "b", "W_y", "b_y"),
    "gru": ("W_x", "W_h", "b_x", "b_h", "W_y", "b_y"),
}
GATES = {"rnn": 1, "lstm": 4, "gru": 3}


def param_shapes(cell: str, D: int, H: int, V: int) -> dict[str, tuple[int, ...]]:
    """Parameter shapes of ``cell`` ('rnn' | 'lstm' | 'gru')."""
    if cell not in PARAMS:
        raise ValueError(f"cell must be one of {sorted(PARAMS)}, got {cell!r}")
    G = GATES[cell]
    shapes = {"W_x": (D, G * H), "W_h": (H, G * H), "W_y": (H, V), "b_y": (V,)}
    shapes.update({"b_h": (G * H,)} if cell == "rnn" else
                  {"b": (4 * H,)} if cell == "lstm" else {"b_x": (3 * H,), "b_h": (3 * H,)})
    return {k: shapes[k] for k in PARAMS[cell]}


def init_params(cell: str, D: int, H: int, V: int, seed: int = 0) -> dict[str, np.ndarray]:
    """N(0, 0.1^2) float64 parameters, like ``bench.handwritten``."""
    rng = np.random.default_rng(seed)
    return {k: 0.1 * rng.standard_normal(s) for k, s in param_shapes(cell, D, H, V).items()}


def _named(t: Tensor, name: str) -> Tensor:
    t.name = name
    return t


def _cell(cell: str, P: dict):
    """The ``nn`` cell computing with the given parameter tensors (the tensors themselves,
    so the graph reads them)."""
    H = P["W_h"].shape[0]
    module = CELLS[cell](P["W_x"].shape[0], H, seed=0)
    for name, value in P.items():
        if not name.endswith("_y"):
            setattr(module, name, value)  # a plain tensor attribute shadows the parameter
    return module


def _step(cell: str, module, x_t, h, c, t: int):
    """One timestep of the ``nn`` cell, its outputs named like a textbook (``h_3``)."""
    if cell == "lstm":
        h, c = module(x_t, (h, c))
        return _named(h, f"h_{t}"), _named(c, f"c_{t}")
    return _named(module(x_t, h), f"h_{t}"), None


def make_loss(cell: str):
    """``loss(x, targets, *params) -> scalar Tensor`` for ``cell``; params in
    ``PARAMS[cell]`` order; x a Tensor (T, B, D), targets (T*B,) ints."""
    if cell not in PARAMS:
        raise ValueError(f"cell must be one of {sorted(PARAMS)}, got {cell!r}")

    def loss(x, targets, *params):
        P = dict(zip(PARAMS[cell], params, strict=True))
        T, B, _ = x.shape
        H = P["W_h"].shape[0]
        module = _cell(cell, P)
        h = tensor(np.zeros((B, H)), name="h_0")
        c = tensor(np.zeros((B, H)), name="c_0") if cell == "lstm" else None
        hs = []
        for t in range(1, T + 1):
            with scope(f"{cell}/layer0/t={t}"):
                x_t = _named(x[t - 1], f"x_{t}")
                h, c = _step(cell, module, x_t, h, c, t)
            hs.append(h)
        with scope("output"):
            # logits for all steps at once: (T*B, H) @ (H, V) + b_y, then cross-entropy
            y = _named(matmul(stack(*hs, axis=0).reshape((T * B, H)), P["W_y"]) + P["b_y"],
                       "y")
            logp = log_softmax(y, axis=1)
            return _named(-logp[np.arange(T * B), targets].sum(), "loss")

    return loss


def example_inputs(cell: str, steps: int, input_size: int, hidden: int, batch: int,
                   output_size: int | None = None, seed: int = 0) -> list:
    """Random x, targets and named parameter tensors (requiring grad) for ``make_loss``."""
    V = output_size or input_size
    rng = np.random.default_rng(seed)
    x = tensor(rng.standard_normal((steps, batch, input_size)), name="x")
    targets = rng.integers(0, V, size=steps * batch)
    params = [tensor(v, requires_grad=True, name=k)
              for k, v in init_params(cell, input_size, hidden, V, seed).items()]
    return [x, targets, *params]


_COMPILED: dict[str, object] = {}


def compiled_loss_and_grads(cell: str, params: dict, x: np.ndarray, targets: np.ndarray):
    """One training step (forward + backward) of ``cell`` run by compiled code.

    Same signature and results as ``bench.handwritten.rnn_loss_and_grads``: params dict,
    x (T, B, D) float64, targets (T, B) ints. Returns (loss: float, {name: gradient}).
    The first call per cell compiles; calls with new shapes re-trace (cached).
    """
    inputs = [x, np.asarray(targets).reshape(-1), *[params[k] for k in PARAMS[cell]]]
    if cell not in _COMPILED:
        example = [tensor(x, name="x"), inputs[1]] + [
            tensor(params[k], requires_grad=True, name=k) for k in PARAMS[cell]]
        _COMPILED[cell] = compile_graph(make_loss(cell), example,
                                        title=f"{cell.upper()} training step")
    value, grads = _COMPILED[cell](*inputs)
    return float(value), grads


def rnn_loss_and_grads(params: dict, x: np.ndarray, targets: np.ndarray):
    """Compiled version of ``bench.handwritten.rnn_loss_and_grads`` (h0 = 0)."""
    return compiled_loss_and_grads("rnn", params, x, targets)


def lstm_loss_and_grads(params: dict, x: np.ndarray, targets: np.ndarray):
    """Compiled version of ``bench.handwritten.lstm_loss_and_grads`` (h0 = c0 = 0)."""
    return compiled_loss_and_grads("lstm", params, x, targets)
