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
        (lstm_ifgo: gate order i, f, g, o)
    gru_step(x, prev_h, Wx (D, 3H), Wh (H, 3H), bx (3H,), bh (3H,)) -> next_h
        PyTorch variant, gates r, z, n: n = tanh(x Wxn + bxn + r * (h Whn + bhn)),
        next_h = (1 - z) * n + z * prev_h
    temporal_affine(x (N, T, D), w (D, M), b (M,))    -> out (N, T, M)   (M: output size)
    temporal_softmax_loss(x (N, T, V), y (N, T) int, mask (N, T) bool) -> scalar
        loss = -sum_{n,t} mask * log softmax(x[n, t])[y[n, t]] / N
    word_embedding(x (N, T) int, W (V, D))              -> out (N, T, D) = W[x]

``REFERENCES[name]`` describes each layer (input names, which are differentiable, and
``make_inputs(rng, ...)`` drawing random well-conditioned inputs, see ``inputs.py``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from autograd_rnn.check.inputs import (
    affine_inputs,
    embedding_inputs,
    loss_inputs,
    sequence_inputs,
    step_inputs,
    temporal_affine_inputs,
)
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


def lstm(x, h0, Wx, Wh, b, *, gate_order: str = "ifog") -> Tensor:
    """Unroll ``lstm_step`` over x (N, T, D) from h0 and c0 = 0; returns h (N, T, H)."""
    x, h = _t(x), _t(h0)
    c = Tensor(np.zeros(h.shape, dtype=h.dtype))
    hs = []
    for t in range(x.shape[1]):
        h, c = lstm_step(x[:, t, :], h, c, Wx, Wh, b, gate_order=gate_order)
        hs.append(h)
    return stack(*hs, axis=1)


def lstm_ifgo(x, h0, Wx, Wh, b) -> Tensor:
    """``lstm`` with PyTorch's gate order i, f, g, o."""
    return lstm(x, h0, Wx, Wh, b, gate_order="ifgo")


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
    output names and a generator of random inputs for the given sizes.

    ``functions``: the (forward, backward) names a cs231n-style file defines for it, in order
    of preference (backward None: one function returning (loss, grad)); ``sequence``: inputs
    are batch-major sequences (N, T, ...); ``gate_order``: an LSTM's; ``kinks``: whether the
    layer has non-differentiable points (relu, max), where finite differences can mislead."""

    name: str
    forward: Callable
    inputs: tuple[str, ...]
    differentiable: tuple[str, ...]
    outputs: tuple[str, ...]
    make_inputs: Callable[..., dict]
    functions: tuple[tuple[str, str | None], ...] = ()
    sequence: bool = False
    gate_order: str | None = None
    kinks: bool = False

    @property
    def signature(self) -> str:
        return f"{self.name}({', '.join(self.inputs)}) -> {', '.join(self.outputs)}"


def _fns(stem: str) -> tuple[tuple[str, str | None], ...]:
    return ((f"{stem}_forward", f"{stem}_backward"),)


REFERENCES: dict[str, Reference] = {r.name: r for r in [
    Reference("affine", affine, ("x", "w", "b"), ("x", "w", "b"), ("out",),
              affine_inputs, _fns("affine")),
    Reference("rnn_step", rnn_step, ("x", "prev_h", "Wx", "Wh", "b"),
              ("x", "prev_h", "Wx", "Wh", "b"), ("next_h",), step_inputs(1), _fns("rnn_step")),
    Reference("rnn", rnn, ("x", "h0", "Wx", "Wh", "b"), ("x", "h0", "Wx", "Wh", "b"),
              ("h",), sequence_inputs(1), _fns("rnn"), sequence=True),
    Reference("lstm_step", lstm_step, ("x", "prev_h", "prev_c", "Wx", "Wh", "b"),
              ("x", "prev_h", "prev_c", "Wx", "Wh", "b"), ("next_h", "next_c"),
              step_inputs(4, c=True), _fns("lstm_step"), gate_order="ifog"),
    Reference("lstm_step_ifgo", lstm_step_ifgo, ("x", "prev_h", "prev_c", "Wx", "Wh", "b"),
              ("x", "prev_h", "prev_c", "Wx", "Wh", "b"), ("next_h", "next_c"),
              step_inputs(4, c=True), _fns("lstm_step"), gate_order="ifgo"),
    Reference("lstm", lstm, ("x", "h0", "Wx", "Wh", "b"), ("x", "h0", "Wx", "Wh", "b"),
              ("h",), sequence_inputs(4), _fns("lstm"), sequence=True, gate_order="ifog"),
    Reference("lstm_ifgo", lstm_ifgo, ("x", "h0", "Wx", "Wh", "b"),
              ("x", "h0", "Wx", "Wh", "b"), ("h",), sequence_inputs(4), _fns("lstm"),
              sequence=True, gate_order="ifgo"),
    Reference("gru_step", gru_step, ("x", "prev_h", "Wx", "Wh", "bx", "bh"),
              ("x", "prev_h", "Wx", "Wh", "bx", "bh"), ("next_h",),
              step_inputs(3, two_biases=True), _fns("gru_step")),
    Reference("temporal_affine", temporal_affine, ("x", "w", "b"), ("x", "w", "b"), ("out",),
              temporal_affine_inputs, _fns("temporal_affine"), sequence=True),
    Reference("temporal_softmax_loss", temporal_softmax_loss, ("x", "y", "mask"), ("x",),
              ("loss",), loss_inputs,
              (("temporal_softmax_loss", None),) + _fns("temporal_softmax_loss"), sequence=True),
    Reference("word_embedding", word_embedding, ("x", "W"), ("W",), ("out",),
              embedding_inputs, _fns("word_embedding"), sequence=True),
]}


def get_reference(name: str) -> Reference:
    """The reference named ``name``; a KeyError listing the known names otherwise."""
    try:
        return REFERENCES[name]
    except KeyError:
        raise KeyError(f"no reference layer named {name!r}; known: "
                       f"{', '.join(sorted(REFERENCES))}") from None
