"""Recurrent cells: one timestep of a vanilla RNN, an LSTM and a GRU.

Each cell is a plain composition of primitive ops (matmul, add, getitem, tanh, sigmoid,
multiply): there is no hand-written backward anywhere; BPTT is the engine's ordinary
backprop through the unrolled graph. Row-vector convention: x_t (B, D), h (B, H).
Initial values: uniform(-k, k) with k = 1/sqrt(H), as in PyTorch, drawn from ``rng``
(or ``default_rng(seed)``) in the order the parameters are listed.
"""

from __future__ import annotations

import math

import numpy as np

from autograd_rnn.core.tensor import Tensor, value_of
from autograd_rnn.nn.init import check_size, make_rng, uniform
from autograd_rnn.nn.module import Module, Parameter
from autograd_rnn.ops import relu, sigmoid, tanh


def _named(t: Tensor, name: str) -> Tensor:
    if isinstance(t, Tensor) and t.name is None and not t.is_leaf:
        t.name = name
    return t


class _Cell(Module):
    """Shared plumbing: sizes, parameter creation, shape checks."""

    gates = 1

    def __init__(self, input_size: int, hidden_size: int, rng, seed) -> None:
        super().__init__()
        self.input_size = check_size(input_size, "input_size")
        self.hidden_size = check_size(hidden_size, "hidden_size")
        self._gen = make_rng(rng, seed)
        self._bound = 1.0 / math.sqrt(self.hidden_size)

    def _param(self, name: str, shape: tuple[int, ...]) -> Parameter:
        p = Parameter(uniform(self._gen, shape, self._bound), name=name)
        self.register_parameter(name, p)
        return p

    def _check(self, x_t, h_prev, what: str = "h_prev") -> Tensor:
        """Validate shapes; return h_prev, or zeros (B, H) when it is None."""
        shape = np.shape(x_t)
        if len(shape) < 1 or shape[-1] != self.input_size:
            raise ValueError(
                f"{type(self).__name__}: x_t must have shape (B, {self.input_size}), got {shape}"
            )
        expected = shape[:-1] + (self.hidden_size,)
        if h_prev is None:
            return Tensor(np.zeros(expected, dtype=self.W_h.dtype), name=what[0] + "_0")
        if np.shape(h_prev) != expected:
            raise ValueError(
                f"{type(self).__name__}: {what} must have shape {expected} for x_t of shape "
                f"{shape}, got {np.shape(h_prev)}"
            )
        return h_prev

    def _split(self, a: Tensor) -> list[Tensor]:
        """Column blocks [k*H:(k+1)*H] of a (B, G*H), one per gate k."""
        H = self.hidden_size
        return [a[..., k * H : (k + 1) * H] for k in range(self.gates)]

    def extra_repr(self) -> str:
        return f"{self.input_size}, {self.hidden_size}"


class RNNCell(_Cell):
    """Vanilla (Elman) cell: h_t = f(x_t @ W_x + h_prev @ W_h + b_h), f = tanh or relu.

    Parameters (in this order): ``W_x`` (D, H), ``W_h`` (H, H), ``b_h`` (H,).
    Call: ``cell(x_t, h_prev)`` with x_t (B, D), h_prev (B, H) or None (zeros) -> h_t (B, H).
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        nonlinearity: str = "tanh",
        *,
        rng: np.random.Generator | None = None,
        seed: int | None = None,
    ) -> None:
        super().__init__(input_size, hidden_size, rng, seed)
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"nonlinearity must be 'tanh' or 'relu', got {nonlinearity!r}")
        self.nonlinearity = nonlinearity
        D, H = self.input_size, self.hidden_size
        self._param("W_x", (D, H))
        self._param("W_h", (H, H))
        self._param("b_h", (H,))

    def forward(self, x_t, h_prev=None) -> Tensor:
        h_prev = self._check(x_t, h_prev)
        a_t = _named(x_t @ self.W_x + h_prev @ self.W_h + self.b_h, "a")
        return tanh(a_t) if self.nonlinearity == "tanh" else relu(a_t)

    def extra_repr(self) -> str:
        return f"{self.input_size}, {self.hidden_size}, nonlinearity={self.nonlinearity!r}"


class LSTMCell(_Cell):
    """Long short-term memory cell, PyTorch's gate order i, f, g, o.

    [i, f, g, o] = x_t @ W_x + h_prev @ W_h + b   (each block H columns wide)
    i, f, o = sigmoid(.), g = tanh(.)
    c_t = f * c_prev + i * g;  h_t = o * tanh(c_t)

    Parameters (in this order): ``W_x`` (D, 4H), ``W_h`` (H, 4H), ``b`` (4H,); column block
    k of each belongs to gate k of (i, f, g, o). ``forget_bias``, when given, sets the
    f block of b to that value (1.0 is a common choice that helps long memories).
    Call: ``cell(x_t, (h_prev, c_prev))`` (or None for zeros) -> (h_t, c_t), each (B, H).
    """

    gates = 4

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        *,
        forget_bias: float | None = None,
        rng: np.random.Generator | None = None,
        seed: int | None = None,
    ) -> None:
        super().__init__(input_size, hidden_size, rng, seed)
        D, H = self.input_size, self.hidden_size
        self._param("W_x", (D, 4 * H))
        self._param("W_h", (H, 4 * H))
        b = self._param("b", (4 * H,))
        if forget_bias is not None:
            value_of(b)[H : 2 * H] = float(forget_bias)  # init: nothing saved it yet

    def forward(self, x_t, state=None) -> tuple[Tensor, Tensor]:
        if state is None:
            h_prev = c_prev = None
        else:
            if not isinstance(state, (tuple, list)) or len(state) != 2:
                raise TypeError("LSTMCell state must be a pair (h_prev, c_prev) or None")
            h_prev, c_prev = state
        h_prev = self._check(x_t, h_prev)
        c_prev = self._check(x_t, c_prev, "c_prev")
        a_t = _named(x_t @ self.W_x + h_prev @ self.W_h + self.b, "a")
        a_i, a_f, a_g, a_o = self._split(a_t)
        i = _named(sigmoid(a_i), "i")
        f = _named(sigmoid(a_f), "f")
        g = _named(tanh(a_g), "g")
        o = _named(sigmoid(a_o), "o")
        c_t = f * c_prev + i * g
        h_t = o * tanh(c_t)
        return h_t, c_t


class GRUCell(_Cell):
    """Gated recurrent unit, PyTorch's variant and gate order r, z, n.

    gx = x_t @ W_x + b_x,  gh = h_prev @ W_h + b_h   (blocks r, z, n of H columns each)
    r = sigmoid(gx_r + gh_r),  z = sigmoid(gx_z + gh_z)
    n = tanh(gx_n + r * gh_n)      (r multiplies the recurrent term including its bias)
    h_t = (1 - z) * n + z * h_prev

    Parameters (in this order): ``W_x`` (D, 3H), ``W_h`` (H, 3H), ``b_x`` (3H,), ``b_h`` (3H,).
    Call: ``cell(x_t, h_prev)`` with h_prev (B, H) or None (zeros) -> h_t (B, H).
    """

    gates = 3

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        *,
        rng: np.random.Generator | None = None,
        seed: int | None = None,
    ) -> None:
        super().__init__(input_size, hidden_size, rng, seed)
        D, H = self.input_size, self.hidden_size
        self._param("W_x", (D, 3 * H))
        self._param("W_h", (H, 3 * H))
        self._param("b_x", (3 * H,))
        self._param("b_h", (3 * H,))

    def forward(self, x_t, h_prev=None) -> Tensor:
        h_prev = self._check(x_t, h_prev)
        gx_r, gx_z, gx_n = self._split(x_t @ self.W_x + self.b_x)
        gh_r, gh_z, gh_n = self._split(h_prev @ self.W_h + self.b_h)
        r = _named(sigmoid(gx_r + gh_r), "r")
        z = _named(sigmoid(gx_z + gh_z), "z")
        n = _named(tanh(gx_n + r * gh_n), "n")
        return (1 - z) * n + z * h_prev


CELLS = {"rnn": RNNCell, "lstm": LSTMCell, "gru": GRUCell}
