"""``SequenceModel`` (recurrent layer + output layer) and ``generate`` (one-to-many sampling).

Task shapes from the textbook, with ``y, h_n = model(x)`` and y (T, B, V):

- many-to-many: a loss at every step, e.g. ``loss = sum_t L(y[t], target[t])``.
- many-to-one: a loss at the last step only: ``y[-1]`` (B, V); with variable ``lengths``
  use ``last_valid(y, lengths)`` (the output at step lengths[b] - 1 for each b).
- one-to-many: ``generate(model, first_input, steps)`` feeds each output back as the next
  input (a sampled one-hot vector for classification, the value itself for regression).
"""

from __future__ import annotations

import math

import numpy as np

from autograd_rnn.core.state import no_grad, scope
from autograd_rnn.core.tensor import Tensor, value_of
from autograd_rnn.nn.embedding import one_hot
from autograd_rnn.nn.init import check_size, make_rng, uniform
from autograd_rnn.nn.module import Module, Parameter
from autograd_rnn.nn.recurrent import LAYERS
from autograd_rnn.ops import softmax, stack


class SequenceModel(Module):
    """A recurrent layer followed by an output layer at every step: y_t = h_t @ W_y + b_y.

    Args:
        cell: "rnn", "lstm" or "gru".
        input_size (D), hidden_size (H), output_size (V).
        num_layers, bidirectional, dropout, learn_initial_state: passed to the layer.
        nonlinearity: "tanh"|"relu" (cell="rnn" only); forget_bias: cell="lstm" only.
        rng, seed: initial values (the layer draws first, then W_y, b_y).

    Parameters: ``rnn.*`` (the layer's, e.g. ``rnn.cells.0.W_h``), then ``W_y`` (H * dirs, V)
    and ``b_y`` (V,). Each y_t is computed under scope ``f"output/t={t}"`` and named y_{t}.
    Call: ``model(x, state=None, lengths=None, mask=None) -> (y (T, B, V), final_state)``.
    """

    def __init__(
        self,
        cell: str,
        input_size: int,
        hidden_size: int,
        output_size: int,
        num_layers: int = 1,
        bidirectional: bool = False,
        dropout: float = 0.0,
        learn_initial_state: bool = False,
        *,
        nonlinearity: str | None = None,
        forget_bias: float | None = None,
        rng: np.random.Generator | None = None,
        seed: int | None = None,
    ) -> None:
        super().__init__()
        if cell not in LAYERS:
            raise ValueError(f"cell must be one of {sorted(LAYERS)}, got {cell!r}")
        self.cell = cell
        self.output_size = check_size(output_size, "output_size")
        gen = make_rng(rng, seed)
        extra = {}
        if nonlinearity is not None:
            if cell != "rnn":
                raise ValueError(f"nonlinearity applies to cell='rnn' only, not {cell!r}")
            extra["nonlinearity"] = nonlinearity
        if forget_bias is not None:
            if cell != "lstm":
                raise ValueError(f"forget_bias applies to cell='lstm' only, not {cell!r}")
            extra["forget_bias"] = forget_bias
        self.rnn = LAYERS[cell](
            input_size,
            hidden_size,
            num_layers,
            bidirectional,
            dropout,
            learn_initial_state,
            name=cell,
            rng=gen,
            **extra,
        )
        width = self.rnn.hidden_size * self.rnn.dirs
        k = 1.0 / math.sqrt(width)
        self.W_y = Parameter(uniform(gen, (width, self.output_size), k), "W_y")
        self.b_y = Parameter(uniform(gen, (self.output_size,), k), "b_y")

    @property
    def input_size(self) -> int:
        return self.rnn.input_size

    @property
    def hidden_size(self) -> int:
        return self.rnn.hidden_size

    def forward(self, x, state=None, lengths=None, mask=None):
        """x (T, B, D) or list of T (B, D) -> (y (T, B, V), final_state of the layer)."""
        hs, final = self.rnn.unroll(x, state, lengths, mask)
        ys = []
        for t, h_t in enumerate(hs):
            with scope(f"output/t={t + 1}"):
                y_t = h_t @ self.W_y + self.b_y
                y_t.name = f"y_{t + 1}"
            ys.append(y_t)
        with scope("output"):
            y = stack(*ys, axis=0)
            y.name = "y"
        return y, final

    def extra_repr(self) -> str:
        return f"cell={self.cell!r}, output_size={self.output_size}"


def last_valid(y: Tensor, lengths=None) -> Tensor:
    """Many-to-one readout: y[-1] (B, V), or y[lengths[b] - 1, b] per sequence when given."""
    if lengths is None:
        return y[-1]
    lengths = np.asarray(lengths, dtype=np.int64)
    T, B = y.shape[0], y.shape[1]
    if lengths.shape != (B,) or np.any(lengths < 1) or np.any(lengths > T):
        raise ValueError(
            f"last_valid: lengths must be (B,) = ({B},) with 1 <= lengths <= {T}, "
            f"got {lengths.tolist()}"
        )
    return y[lengths - 1, np.arange(B)]


def generate(
    model: SequenceModel,
    first_input,
    steps: int,
    temperature: float = 1.0,
    rng: np.random.Generator | None = None,
    feed_back: str = "sample",
    state=None,
) -> np.ndarray:
    """One-to-many: run ``model`` for ``steps`` steps, feeding each output back as input.

    Args:
        first_input: (B, D) or (D,) array, or an int / (B,) ints meaning one-hot token ids.
        steps: how many outputs to produce (>= 1).
        temperature: > 0; sampling uses softmax(y_t / temperature) (low = greedier).
        rng: generator for sampling (default ``default_rng(0)``: reproducible).
        feed_back: "sample" (draw a token from the softmax, feed its one-hot; needs V == D),
            "argmax" (greedy token), or "value" (feed y_t itself; regression, needs V == D).
        state: initial state (e.g. the final state after priming on a prefix).
        The model runs in eval mode (no dropout); its modes are restored afterwards.

    Returns:
        token ids (steps, B) for "sample"/"argmax", values (steps, B, V) for "value";
        without the B axis when ``first_input`` had none. Runs under ``no_grad``.
    """
    steps = check_size(steps, "steps")
    if feed_back not in ("sample", "argmax", "value"):
        raise ValueError(f"feed_back must be 'sample', 'argmax' or 'value', got {feed_back!r}")
    if not temperature > 0:
        raise ValueError(f"temperature must be > 0, got {temperature!r}")
    D, V = model.input_size, model.output_size
    if V != D:
        raise ValueError(
            f"generate feeds outputs back as inputs, so output_size ({V}) must "
            f"equal input_size ({D})"
        )
    rng = make_rng(rng, 0 if rng is None else None)
    x = np.asarray(value_of(first_input) if isinstance(first_input, Tensor) else first_input)
    if x.dtype.kind in "iu":
        x = one_hot(x, D)
    batched = x.ndim == 2
    x = x.reshape(-1, D) if x.ndim in (1, 2) and x.shape[-1] == D else None
    if x is None:
        raise ValueError(
            f"generate: first_input must have shape (B, {D}) or ({D},) or be "
            f"integer ids, got {np.shape(first_input)}"
        )
    modes = [(m, m.training) for m in model.modules()]
    model.eval()  # generation is inference: no dropout; each module's mode is restored below
    try:
        results = _generate_steps(model, x, steps, temperature, rng, feed_back, state)
    finally:
        for module, mode in modes:
            object.__setattr__(module, "training", mode)
    out = np.stack(results, axis=0)
    return out if batched else out[:, 0]


def _generate_steps(model, x, steps, temperature, rng, feed_back, state) -> list:
    D, V = model.input_size, model.output_size
    results = []
    with no_grad():
        for _ in range(steps):
            y, state = model(x[None], state)
            y_t = value_of(y)[0]
            if feed_back == "value":
                results.append(y_t)
                x = y_t
                continue
            if feed_back == "argmax":
                ids = np.argmax(y_t, axis=-1)
            else:
                # shifted before dividing: a tiny temperature sends the others to -inf
                # (probability 0) instead of overflowing to inf - inf = NaN
                with np.errstate(over="ignore"):
                    z = (y_t - y_t.max(axis=-1, keepdims=True)) / temperature
                p = softmax(z, axis=-1)
                cumulative = np.cumsum(p, axis=-1)
                u = rng.random((p.shape[0], 1)) * cumulative[:, -1:]
                ids = np.minimum((cumulative < u).sum(axis=-1), V - 1)
            results.append(ids)
            x = one_hot(ids, D)
    return results
