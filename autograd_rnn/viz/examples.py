"""Small unrolled recurrent networks built op by op, for the gallery, the CLI and tests.

They follow the naming contract of ``ar.nn`` (scopes ``"{cell}/layer0/t={t}"``, tensors
``x_t``, ``h_t``, ``c_t``, parameters ``W_x``, ``W_h``, ``b_h``/``b``/``b_x``, ``W_y``, ``b_y``)
but are written out here with plain ops, so the golden diagrams in ``graphs/`` depend only on
the engine, and the equations are those of REFERENCE.md:

- RNN:  h_t = tanh(x_t W_x + h_{t-1} W_h + b_h)
- LSTM: [i, f, g, o] = x_t W_x + h_{t-1} W_h + b; c_t = f c_{t-1} + i g; h_t = o tanh(c_t)
- GRU:  r, z = sigmoid(...); n = tanh(x W_xn + b_xn + r (h W_hn + b_hn)); h_t = (1-z) n + z h
- output y_t = h_t W_y + b_y, loss L = sum_t sum((y_t - target_t)^2) (or only the last step).

Each output/loss term is recorded under the scope ``"loss/t={t}"``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

import autograd_rnn as ar
from autograd_rnn.core.tensor import Tensor

CELLS = ("rnn", "lstm", "gru")
_GATES = {"rnn": 1, "lstm": 4, "gru": 3}


@dataclass
class Example:
    """An unrolled network: ``losses`` (one per TBPTT chunk, usually one), parameters by
    name, hidden states ``hidden[t]`` (t = 0..T) and the inputs ``inputs[t-1]`` = x_t."""

    losses: list[Tensor]
    params: dict[str, Tensor]
    hidden: list[Tensor]
    inputs: list[Tensor]
    cells: list[Tensor] = field(default_factory=list)  # LSTM c_t, t = 0..T

    @property
    def loss(self) -> Tensor:
        """The last (or only) loss."""
        return self.losses[-1]


def make_params(
    cell: str, input_size: int, hidden_size: int, output_size: int, rng, weight_scale=None,
    forget_bias: float = 0.0,
) -> dict[str, Tensor]:
    """Parameters for ``cell`` with the contract's names and shapes (row-vector convention).

    ``weight_scale`` sets W_h to ``weight_scale`` times a random orthogonal matrix (its
    spectral norm), which makes gradients vanish (< 1) or explode (> 1) over time.
    ``forget_bias`` initialises the LSTM forget-gate slice of ``b`` (1.0 is a common choice
    that keeps c_t's gradient path open).
    """
    if cell not in CELLS:
        raise ValueError(f"cell must be one of {CELLS}, got {cell!r}")
    D, H, V, k = input_size, hidden_size, output_size, _GATES[cell]
    s = 1.0 / np.sqrt(H)
    W_h = rng.uniform(-s, s, (H, k * H))
    if weight_scale is not None:
        q, _ = np.linalg.qr(rng.normal(size=(H, H)))
        W_h = np.concatenate([weight_scale * q] * k, axis=1)
    values = {"W_x": rng.uniform(-s, s, (D, k * H)), "W_h": W_h}
    if cell == "rnn":
        values["b_h"] = np.zeros(H)
    elif cell == "lstm":
        values["b"] = np.zeros(4 * H)
        values["b"][H : 2 * H] = forget_bias
    else:
        values["b_x"] = np.zeros(3 * H)
        values["b_h"] = np.zeros(3 * H)
    values["W_y"] = rng.uniform(-s, s, (H, V))
    values["b_y"] = np.zeros(V)
    return {name: ar.tensor(v, requires_grad=True, name=name) for name, v in values.items()}


def rnn_step(p: dict[str, Tensor], x_t, h_prev):
    """h_t = tanh(x_t W_x + h_prev W_h + b_h)."""
    return (x_t @ p["W_x"] + h_prev @ p["W_h"] + p["b_h"]).tanh()


def lstm_step(p: dict[str, Tensor], x_t, h_prev, c_prev):
    """One LSTM step, gate order i, f, g, o; returns (h_t, c_t)."""
    H = h_prev.shape[-1]
    gates = x_t @ p["W_x"] + h_prev @ p["W_h"] + p["b"]
    i = gates[:, 0:H].sigmoid()
    f = gates[:, H : 2 * H].sigmoid()
    g = gates[:, 2 * H : 3 * H].tanh()
    o = gates[:, 3 * H : 4 * H].sigmoid()
    i.name, f.name, g.name, o.name = "i", "f", "g", "o"
    c = f * c_prev + i * g
    return o * c.tanh(), c


def gru_step(p: dict[str, Tensor], x_t, h_prev):
    """One GRU step (PyTorch variant, gate order r, z, n); returns h_t."""
    H = h_prev.shape[-1]
    gx = x_t @ p["W_x"] + p["b_x"]
    gh = h_prev @ p["W_h"] + p["b_h"]
    r = (gx[:, 0:H] + gh[:, 0:H]).sigmoid()
    z = (gx[:, H : 2 * H] + gh[:, H : 2 * H]).sigmoid()
    r.name, z.name = "r", "z"
    n = (gx[:, 2 * H :] + r * gh[:, 2 * H :]).tanh()
    n.name = "n"
    return (1.0 - z) * n + z * h_prev


def build_example(
    cell: str = "rnn",
    steps: int = 3,
    *,
    batch: int = 1,
    input_size: int = 2,
    hidden_size: int = 3,
    output_size: int = 1,
    seed: int = 0,
    weight_scale: float | None = None,
    loss_at: str = "all",
    truncate: int | None = None,
    backward: bool = True,
    forget_bias: float = 0.0,
    input_scale: float = 1.0,
) -> Example:
    """Unroll ``cell`` over ``steps`` random inputs and (optionally) backpropagate.

    Args:
        loss_at: "all" sums the squared error of every step; "last" uses only step T, which
            makes the gradient reaching h_t the pure product of Jacobians (vanishing curve).
        truncate: truncated BPTT with chunks of this many steps: the hidden state is
            detached between chunks and each chunk has its own loss (``Example.losses``).
        backward: run ``backward()`` on every loss.
        forget_bias: LSTM forget-gate bias at initialisation.
        input_scale: standard deviation of the random inputs (small inputs keep tanh in
            its linear range, where W_h alone decides vanishing vs exploding).
    """
    if steps < 1:
        raise ValueError(f"steps must be >= 1, got {steps}")
    if loss_at not in ("all", "last"):
        raise ValueError(f"loss_at must be 'all' or 'last', got {loss_at!r}")
    if truncate is not None and truncate < 1:
        raise ValueError(f"truncate must be >= 1 steps, got {truncate}")
    rng = np.random.default_rng(seed)
    p = make_params(cell, input_size, hidden_size, output_size, rng, weight_scale,
                    forget_bias)
    xs = input_scale * rng.normal(size=(steps, batch, input_size))
    targets = rng.normal(size=(steps, batch, output_size))
    h = ar.tensor(np.zeros((batch, hidden_size)), name="h_0")
    c = ar.tensor(np.zeros((batch, hidden_size)), name="c_0")
    hidden, cells, inputs, losses = [h], [c], [], []
    loss = None
    for t in range(1, steps + 1):
        if truncate is not None and t > 1 and (t - 1) % truncate == 0:
            losses.append(loss)
            loss = None
            h = h.detach()
            c = c.detach()
        with ar.scope(f"{cell}/layer0/t={t}"):
            x_t = ar.tensor(xs[t - 1], name=f"x_{t}")
            if cell == "rnn":
                h = rnn_step(p, x_t, h)
            elif cell == "lstm":
                h, c = lstm_step(p, x_t, h, c)
                c.name = f"c_{t}"
            else:
                h = gru_step(p, x_t, h)
            h.name = f"h_{t}"
        inputs.append(x_t)
        hidden.append(h)
        cells.append(c)
        if loss_at == "all" or t == steps:
            with ar.scope(f"loss/t={t}"):
                y = h @ p["W_y"] + p["b_y"]
                term = ((y - targets[t - 1]) ** 2).sum()
                loss = term if loss is None else loss + term
    losses.append(loss)
    for i, loss in enumerate(losses):
        if loss is None:
            raise ValueError("a truncated chunk has no loss term; use loss_at='all'")
        loss.name = "loss" if len(losses) == 1 else f"loss_{i + 1}"
        if backward:
            loss.backward()
    return Example(losses, p, hidden, inputs, cells if cell == "lstm" else [])
