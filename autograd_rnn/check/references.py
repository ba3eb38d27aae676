"""Reference forwards of the textbook coursework layers, written with ``ar`` ops, so the
engine's exact gradients are the oracle for hand-written backward passes.

Signatures follow the classic coursework (cs231n style), which is **batch-major**:
sequences are (N, T, D) here, unlike the rest of autograd_rnn (time-major (T, B, D)).
Row-vector convention (x @ W). Every forward takes arrays or tensors and returns a Tensor
(or a tuple of Tensors for several outputs):

    affine(x (N, d1..dk), w (D, M), b (M,))            -> out (N, M),  D = d1*...*dk
    rnn_step(x (N, D), prev_h (N, H), Wx (D, H), Wh (H, H), b (H,)) -> next_h (N, H)
        next_h = tanh(x Wx + prev_h Wh + b)
    rnn(x (N, T, D), h0 (N, H), Wx, Wh, b)             -> h (N, T, H)
    lstm_step(x, prev_h, prev_c, Wx (D, 4H), Wh (H, 4H), b (4H,)) -> (next_h, next_c)
        gate order i, f, o, g (cs231n); lstm_step_ifgo uses PyTorch's i, f, g, o
    lstm(x (N, T, D), h0 (N, H), Wx, Wh, b)            -> h (N, T, H), c0 = 0
    gru_step(x, prev_h, Wx (D, 3H), Wh (H, 3H), bx (3H,), bh (3H,)) -> next_h
        PyTorch variant, gates r, z, n: n = tanh(x Wxn + bxn + r * (h Whn + bhn)),
        next_h = (1 - z) * n + z * prev_h
    temporal_affine(x (N, T, D), w (D, M), b (M,))    -> out (N, T, M)
    temporal_softmax_loss(x (N, T, V), y (N, T) int, mask (N, T) bool) -> scalar
        loss = -sum_{n,t} mask * log softmax(x[n, t])[y[n, t]] / N
    word_embedding(x (N, T) int, W (V, D))              -> out (N, T, D) = W[x]

``REFERENCES[name]`` describes each layer (input names, which are differentiable, and
``make_inputs(rng, ...)`` drawing random well-conditioned inputs).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from autograd_rnn.core.tensor import Tensor
from autograd_rnn.ops import log_softmax, sigmoid, stack, tanh


def _t(x) -> Tensor:
    return x if isinstance(x, Tensor) else Tensor(x)


def affine(x, w, b) -> Tensor:
    """out = x.reshape(N, D) @ w + b."""
    x = _t(x)
    return x.reshape(x.shape[0], -1) @ w + b


def rnn_step(x, prev_h, Wx, Wh, b) -> Tensor:
    """next_h = tanh(x @ Wx + prev_h @ Wh + b)."""
    return tanh(_t(x) @ Wx + _t(prev_h) @ Wh + b)


def rnn(x, h0, Wx, Wh, b) -> Tensor:
    """Unroll ``rnn_step`` over x (N, T, D) from h0; returns every hidden state (N, T, H)."""
    x, h = _t(x), _t(h0)
    hs = []
    for t in range(x.shape[1]):
        h = rnn_step(x[:, t, :], h, Wx, Wh, b)
        hs.append(h)
    return stack(*hs, axis=1)


def _lstm_gates(x, prev_h, Wx, Wh, b, order: str):
    a = _t(x) @ Wx + _t(prev_h) @ Wh + b
    H = a.shape[1] // 4
    parts = {name: a[:, k * H:(k + 1) * H] for k, name in enumerate(order)}
    return (sigmoid(parts["i"]), sigmoid(parts["f"]), sigmoid(parts["o"]),
            tanh(parts["g"]))


def lstm_step(x, prev_h, prev_c, Wx, Wh, b, *, gate_order: str = "ifog"):
    """c = f * prev_c + i * g; h = o * tanh(c); a = x Wx + prev_h Wh + b split in
    ``gate_order`` (default i, f, o, g as in cs231n). Returns (next_h, next_c)."""
    i, f, o, g = _lstm_gates(x, prev_h, Wx, Wh, b, gate_order)
    next_c = f * prev_c + i * g
    return o * tanh(next_c), next_c


def lstm_step_ifgo(x, prev_h, prev_c, Wx, Wh, b):
    """``lstm_step`` with PyTorch's gate order i, f, g, o."""
    return lstm_step(x, prev_h, prev_c, Wx, Wh, b, gate_order="ifgo")


def lstm(x, h0, Wx, Wh, b) -> Tensor:
    """Unroll ``lstm_step`` over x (N, T, D) from h0 and c0 = 0; returns h (N, T, H)."""
    x, h = _t(x), _t(h0)
    c = Tensor(np.zeros(h.shape, dtype=h.dtype))
    hs = []
    for t in range(x.shape[1]):
        h, c = lstm_step(x[:, t, :], h, c, Wx, Wh, b)
        hs.append(h)
    return stack(*hs, axis=1)


def gru_step(x, prev_h, Wx, Wh, bx, bh) -> Tensor:
    """PyTorch-variant GRU step (gates r, z, n), see the module docstring."""
    gx = _t(x) @ Wx + bx
    gh = _t(prev_h) @ Wh + bh
    H = gh.shape[1] // 3
    r = sigmoid(gx[:, :H] + gh[:, :H])
    z = sigmoid(gx[:, H:2 * H] + gh[:, H:2 * H])
    n = tanh(gx[:, 2 * H:] + r * gh[:, 2 * H:])
    return (1.0 - z) * n + z * prev_h


def temporal_affine(x, w, b) -> Tensor:
    """out[n, t] = x[n, t] @ w + b."""
    x = _t(x)
    N, T, D = x.shape
    return (x.reshape(N * T, D) @ w + b).reshape(N, T, -1)


def temporal_softmax_loss(x, y, mask) -> Tensor:
    """Softmax cross-entropy summed over masked timesteps, divided by the batch size N."""
    x = _t(x)
    N, T, V = x.shape
    y = np.asarray(y.data if isinstance(y, Tensor) else y).reshape(N * T)
    mask = np.asarray(mask.data if isinstance(mask, Tensor) else mask).reshape(N * T)
    logp = log_softmax(x.reshape(N * T, V), axis=1)
    picked = logp[np.arange(N * T), y]
    return -(picked * mask.astype(x.dtype)).sum() / N


def word_embedding(x, W) -> Tensor:
    """out[n, t] = W[x[n, t]] (x integer indices)."""
    idx = np.asarray(x.data if isinstance(x, Tensor) else x)
    return _t(W)[idx]


@dataclass(frozen=True)
class Reference:
    """A reference layer: forward (ar ops), input names in order, the differentiable ones,
    output names and a generator of random inputs for the given sizes."""

    name: str
    forward: Callable
    inputs: tuple[str, ...]
    differentiable: tuple[str, ...]
    outputs: tuple[str, ...]
    make_inputs: Callable[..., dict]

    @property
    def signature(self) -> str:
        return f"{self.name}({', '.join(self.inputs)}) -> {', '.join(self.outputs)}"


def _w(rng, *shape, scale=0.4):
    return scale * rng.standard_normal(shape)


def _step_inputs(gates: int, c: bool = False, two_biases: bool = False):
    def make(rng, N=3, T=4, D=5, H=6, V=7):
        d = {"x": _w(rng, N, D, scale=1.0), "prev_h": _w(rng, N, H, scale=1.0)}
        if c:
            d["prev_c"] = _w(rng, N, H, scale=1.0)
        d["Wx"] = _w(rng, D, gates * H)
        d["Wh"] = _w(rng, H, gates * H)
        if two_biases:
            d["bx"], d["bh"] = _w(rng, gates * H), _w(rng, gates * H)
        else:
            d["b"] = _w(rng, gates * H)
        return d
    return make


def _seq_inputs(gates: int):
    def make(rng, N=3, T=4, D=5, H=6, V=7):
        return {"x": _w(rng, N, T, D, scale=1.0), "h0": _w(rng, N, H, scale=1.0),
                "Wx": _w(rng, D, gates * H), "Wh": _w(rng, H, gates * H), "b": _w(rng, gates * H)}
    return make


def _affine_inputs(rng, N=3, T=4, D=5, H=6, V=7):
    return {"x": _w(rng, N, D, scale=1.0), "w": _w(rng, D, H), "b": _w(rng, H)}


def _temporal_affine_inputs(rng, N=3, T=4, D=5, H=6, V=7):
    return {"x": _w(rng, N, T, D, scale=1.0), "w": _w(rng, D, V), "b": _w(rng, V)}


def _loss_inputs(rng, N=3, T=4, D=5, H=6, V=7):
    return {"x": _w(rng, N, T, V, scale=1.0), "y": rng.integers(0, V, size=(N, T)),
            "mask": rng.random((N, T)) > 0.3}


def _embedding_inputs(rng, N=3, T=4, D=5, H=6, V=7):
    return {"x": rng.integers(0, V, size=(N, T)), "W": _w(rng, V, D, scale=1.0)}


REFERENCES: dict[str, Reference] = {r.name: r for r in [
    Reference("affine", affine, ("x", "w", "b"), ("x", "w", "b"), ("out",), _affine_inputs),
    Reference("rnn_step", rnn_step, ("x", "prev_h", "Wx", "Wh", "b"),
              ("x", "prev_h", "Wx", "Wh", "b"), ("next_h",), _step_inputs(1)),
    Reference("rnn", rnn, ("x", "h0", "Wx", "Wh", "b"), ("x", "h0", "Wx", "Wh", "b"),
              ("h",), _seq_inputs(1)),
    Reference("lstm_step", lstm_step, ("x", "prev_h", "prev_c", "Wx", "Wh", "b"),
              ("x", "prev_h", "prev_c", "Wx", "Wh", "b"), ("next_h", "next_c"),
              _step_inputs(4, c=True)),
    Reference("lstm_step_ifgo", lstm_step_ifgo, ("x", "prev_h", "prev_c", "Wx", "Wh", "b"),
              ("x", "prev_h", "prev_c", "Wx", "Wh", "b"), ("next_h", "next_c"),
              _step_inputs(4, c=True)),
    Reference("lstm", lstm, ("x", "h0", "Wx", "Wh", "b"), ("x", "h0", "Wx", "Wh", "b"),
              ("h",), _seq_inputs(4)),
    Reference("gru_step", gru_step, ("x", "prev_h", "Wx", "Wh", "bx", "bh"),
              ("x", "prev_h", "Wx", "Wh", "bx", "bh"), ("next_h",),
              _step_inputs(3, two_biases=True)),
    Reference("temporal_affine", temporal_affine, ("x", "w", "b"), ("x", "w", "b"), ("out",),
              _temporal_affine_inputs),
    Reference("temporal_softmax_loss", temporal_softmax_loss, ("x", "y", "mask"), ("x",),
              ("loss",), _loss_inputs),
    Reference("word_embedding", word_embedding, ("x", "W"), ("W",), ("out",),
              _embedding_inputs),
]}


def get_reference(name: str) -> Reference:
    """The reference named ``name``; a KeyError listing the known names otherwise."""
    try:
        return REFERENCES[name]
    except KeyError:
        raise KeyError(f"no reference layer named {name!r}; known: "
                       f"{', '.join(sorted(REFERENCES))}") from None
