"""Small unrolled recurrent networks built op by op, for the gallery, the CLI and tests.

They follow the naming contract of ``ar.nn`` (scopes ``"{cell}/layer0/t={t}"``, tensors
``x_t``, ``h_t``, ``c_t``, parameters ``W_x``, ``W_h``, ``b_h``/``b``/``b_x``, ``W_y``, ``b_y``)
but are written out here with plain ops, so the golden diagrams in ``graphs/`` depend only on
the engine, and the equations are those of REFERENCE.md:

- RNN:  h_t = tanh(x_t W_x + h_{t-1} W_h + b_h)
- LSTM: [i, f, g, o] = x_t W_x + h_{t-1} W_h + b; c_t = f c_{t-1} + i g; h_t = o tanh(c_t)
- GRU:  r, z = sigmoid(...); n = tanh(x W_xn + b_xn + r (h W_hn + b_hn)); h_t = (1-z) n + z h
- output y_t = h_t W_y + b_y, loss L = sum_t sum((y_t - target_t)^2) (or only the last step).

Each output and step loss (and the running sum) is recorded under the scope ``"loss/t={t}"``.
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
    layers: int = 1,
    bidirectional: bool = False,
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
        layers: stacked layers (layer l > 0 reads layer l-1's h_t); their parameters are
            ``params["layer1.W_x"]`` etc. (tensor names W_x, ... as in ``ar.nn``).
        bidirectional: add a reverse direction per layer (scope ``layer0_reverse``, run
            from t=T down to 1, parameters ``params["layer0_reverse.W_x"]``); the next layer
            and the output read [h_t forward, h_t reverse].

    Outputs y_t = h_t W_y + b_y and step losses L_t = sum((y_t - target_t)^2) are named
    ``y_t`` and ``L_t``; ``Example.hidden`` / ``cells`` / ``inputs`` are the last layer's
    forward states and the inputs x_t.
    """
    _check_example(steps, loss_at, truncate, layers, bidirectional)
    rng = np.random.default_rng(seed)
    dirs = 2 if bidirectional else 1
    per_layer = _layer_params(cell, layers, dirs, input_size, hidden_size, output_size, rng,
                              weight_scale, forget_bias)
    p = per_layer["layer0"]
    xs = input_scale * rng.normal(size=(steps, batch, input_size))
    targets = rng.normal(size=(steps, batch, output_size))
    cuts = {t for t in range(2, steps + 1) if truncate is not None and (t - 1) % truncate == 0}
    inputs = []
    for t in range(1, steps + 1):
        with ar.scope(f"{cell}/layer0/t={t}"):
            inputs.append(ar.tensor(xs[t - 1], name=f"x_{t}"))
    outs = inputs
    for layer in range(layers):
        run = _run_layer(cell, per_layer[f"layer{layer}"], outs, f"{cell}/layer{layer}",
                         batch, hidden_size, cuts, reverse=False)
        if dirs == 2:
            back = _run_layer(cell, per_layer[f"layer{layer}_reverse"], outs,
                              f"{cell}/layer{layer}_reverse", batch, hidden_size, cuts,
                              reverse=True)
            outs = _join_directions(f"{cell}/layer{layer}", run[0], back[0])
        else:
            outs = run[0][1:]
    hidden, cells = run
    losses = _losses(p, outs, targets, loss_at, cuts)
    _name_and_backpropagate(losses, backward)
    params = dict(p)
    for key, values in per_layer.items():
        if key != "layer0":
            params.update({f"{key}.{name}": v for name, v in values.items()})
    return Example(losses, params, hidden, inputs, cells if cell == "lstm" else [])


def _check_example(steps: int, loss_at: str, truncate: int | None, layers: int,
                   bidirectional: bool) -> None:
    """Refuse ``build_example`` arguments it cannot unroll, naming the value."""
    if steps < 1:
        raise ValueError(f"steps must be >= 1, got {steps}")
    if loss_at not in ("all", "last"):
        raise ValueError(f"loss_at must be 'all' or 'last', got {loss_at!r}")
    if truncate is not None and truncate < 1:
        raise ValueError(f"truncate must be >= 1 steps, got {truncate}")
    if layers < 1:
        raise ValueError(f"layers must be >= 1, got {layers}")
    if bidirectional and truncate is not None:
        raise ValueError("truncate needs a forward-only network: the reverse direction of a "
                         "bidirectional layer reads the whole sequence")


def _layer_params(cell: str, layers: int, dirs: int, input_size: int, hidden_size: int,
                  output_size: int, rng, weight_scale, forget_bias: float
                  ) -> dict[str, dict[str, Tensor]]:
    """{"layer0": first layer's parameters with the output's W_y, b_y; "layer0_reverse",
    "layer1", ...: the other directions' and layers' cell parameters}. W_y reads
    ``dirs * hidden_size`` features."""
    p = make_params(cell, input_size, hidden_size, output_size, rng, weight_scale,
                    forget_bias)
    if dirs == 2:
        p["W_y"] = ar.tensor(rng.uniform(-1, 1, (dirs * hidden_size, output_size))
                             / np.sqrt(hidden_size), requires_grad=True, name="W_y")
    per_layer = {"layer0": p}
    for layer in range(layers):
        for d in range(dirs):
            key = f"layer{layer}" + ("_reverse" if d else "")
            if key not in per_layer:
                size = input_size if layer == 0 else dirs * hidden_size
                extra = make_params(cell, size, hidden_size, 1, rng, weight_scale, forget_bias)
                per_layer[key] = {k: v for k, v in extra.items() if k not in ("W_y", "b_y")}
    return per_layer


def _join_directions(base: str, forward: list, reverse: list) -> list[Tensor]:
    """[h_t forward, h_t reverse] (B, 2H) for t = 1..T, each in the scope ``base/t=<t>``."""
    joined = []
    for t in range(1, len(forward)):
        with ar.scope(f"{base}/t={t}"):
            joined.append(ar.concat([forward[t], reverse[t]], axis=-1))
    return joined


def _name_and_backpropagate(losses: list, backward: bool) -> None:
    """Name the losses ("loss", or "loss_1", ... per TBPTT chunk) and run their backward."""
    for i, loss in enumerate(losses):
        if loss is None:
            raise ValueError("a truncated chunk has no loss term; use loss_at='all'")
        loss.name = "loss" if len(losses) == 1 else f"loss_{i + 1}"
        if backward:
            loss.backward()


def _run_layer(cell, p, inputs, base: str, batch: int, hidden_size: int, cuts: set,
               reverse: bool) -> tuple[list, list]:
    """One direction of one layer over time; returns states h_0..h_T and c_0..c_T (index t:
    the state after step t; for the reverse direction the state after reading x_t..x_T).
    The state is detached before every step in ``cuts`` (truncated BPTT)."""
    T = len(inputs)
    with ar.scope(f"{base}/t=0"):
        h = ar.tensor(np.zeros((batch, hidden_size)), name="h_0")
        c = ar.tensor(np.zeros((batch, hidden_size)), name="c_0")
    hidden, cells = [h] + [None] * T, [c] + [None] * T
    for t in range(T, 0, -1) if reverse else range(1, T + 1):
        if t in cuts:
            h = h.detach()
            c = c.detach()
        with ar.scope(f"{base}/t={t}"):
            if cell == "rnn":
                h = rnn_step(p, inputs[t - 1], h)
            elif cell == "lstm":
                h, c = lstm_step(p, inputs[t - 1], h, c)
                c.name = f"c_{t}"
            else:
                h = gru_step(p, inputs[t - 1], h)
            h.name = f"h_{t}"
        hidden[t], cells[t] = h, c
    return hidden, cells


def _losses(p, outs, targets, loss_at: str, cuts: set) -> list:
    """One loss per truncated chunk: the sum of the step losses L_t in it."""
    losses, loss = [], None
    for t, out in enumerate(outs, start=1):
        if t in cuts:
            losses.append(loss)
            loss = None
        if loss_at == "all" or t == len(outs):
            with ar.scope(f"loss/t={t}"):
                y = out @ p["W_y"] + p["b_y"]
                y.name = f"y_{t}"
                term = ((y - targets[t - 1]) ** 2).sum()
                term.name = f"L_{t}"
                loss = term if loss is None else loss + term
    losses.append(loss)
    return losses
