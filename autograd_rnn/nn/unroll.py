"""The unrolling engine shared by ``RNN``, ``LSTM`` and ``GRU`` (see ``recurrent.py``).

``RecurrentBase`` builds the cells, turns the initial state into one (B, H) tensor per
(layer, direction), then steps each cell through time under per-timestep scopes, blending
padded steps with ``where`` so they keep the previous state.
"""

from __future__ import annotations

from contextlib import contextmanager

import numpy as np

from autograd_rnn.core.state import scope
from autograd_rnn.core.tensor import Tensor
from autograd_rnn.nn.cells import RNNCell
from autograd_rnn.nn.init import check_size, make_rng
from autograd_rnn.nn.module import Module, ModuleList, Parameter
from autograd_rnn.nn.sequence import sequence_steps, step_masks
from autograd_rnn.ops import broadcast_to, concat, stack, where


class RecurrentBase(Module):
    """Shared unrolling logic; subclasses pick the cell, the state's parts and the default
    name (the scope prefix). Arguments after ``name`` are keyword-only: ``rng``, ``seed``,
    and the cell's own options (``nonlinearity`` for ``RNN``, ``forget_bias`` for ``LSTM``).
    """

    cell_class: type = RNNCell
    state_names: tuple[str, ...] = ("h",)
    default_name = "rnn"

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bidirectional: bool = False,
        dropout: float = 0.0,
        learn_initial_state: bool = False,
        name: str | None = None,
        *,
        rng: np.random.Generator | None = None,
        seed: int | None = None,
        **cell_kwargs,
    ) -> None:
        super().__init__()
        name = self.default_name if name is None else name
        self.input_size = check_size(input_size, "input_size")
        self.hidden_size = check_size(hidden_size, "hidden_size")
        self.num_layers = check_size(num_layers, "num_layers")
        if not 0.0 <= float(dropout) < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {dropout!r}")
        if not isinstance(name, str) or not name or "/" in name:
            raise ValueError(f"name must be a non-empty string without '/', got {name!r}")
        self.bidirectional = bool(bidirectional)
        self.dropout = float(dropout)
        self.learn_initial_state = bool(learn_initial_state)
        self.name = name
        self.dirs = 2 if self.bidirectional else 1
        gen = make_rng(rng, seed)
        forward, backward = [], []
        for layer in range(self.num_layers):  # PyTorch's drawing order: l0, l0_reverse, l1...
            size = self.input_size if layer == 0 else self.hidden_size * self.dirs
            forward.append(self.cell_class(size, self.hidden_size, rng=gen, **cell_kwargs))
            if self.bidirectional:
                backward.append(self.cell_class(size, self.hidden_size, rng=gen, **cell_kwargs))
        self.cells = ModuleList(forward)
        if self.bidirectional:
            self.cells_reverse = ModuleList(backward)
        if self.learn_initial_state:
            shape = (self.num_layers * self.dirs, self.hidden_size)
            for part in self.state_names:
                self.register_parameter(f"{part}_0", Parameter(np.zeros(shape), f"{part}_0"))
        self._dropout_rng = np.random.default_rng(gen.integers(2**63))
        self._given_scales = None  # an iterator of scales while ``given_dropout`` is on

    # ----- public API --------------------------------------------------------------------
    def forward(self, x, state=None, lengths=None, mask=None):
        """Run the layer over a whole sequence.

        Args:
            x: array/Tensor (T, B, D) or a list of T tensors/arrays (B, D).
            state: None (zeros, or the learned h_0), or the initial state (num_layers * dirs,
                B, H) as array/Tensor; a pair (h, c) of those for LSTM. Given beats learned.
            lengths: (B,) valid steps per sequence (padding at the end), or
            mask: (T, B) 0/1 validity. Padded steps keep the previous state and output 0,
                so the final state is each sequence's state after its last valid step.

        Returns:
            (outputs, final_state): outputs (T, B, H * dirs) (forward then backward halves
            along the last axis); final_state (num_layers * dirs, B, H), or (h_n, c_n) for LSTM.
        """
        steps, final = self.unroll(x, state, lengths, mask)
        with scope(self.name):
            outputs = stack(*steps, axis=0)
            outputs.name = "outputs"
        return outputs, final

    def unroll(self, x, state=None, lengths=None, mask=None):
        """Like ``forward`` but returns the outputs as a list of T tensors (B, H * dirs)."""
        where_ = f"{type(self).__name__} {self.name!r}"
        T, B, step = sequence_steps(x, self.input_size, where_)
        masks = step_masks(lengths, mask, T, B, where_)
        initial = self._initial_state(state, B, where_)
        inputs = []
        for t in range(T):
            with scope(f"{self.name}/layer0/t={t + 1}"):
                x_t = step(t)
                if not isinstance(x_t, Tensor):
                    x_t = Tensor(x_t, name=f"x_{t + 1}")
                elif x_t.name is None:
                    x_t.name = f"x_{t + 1}"
            inputs.append(x_t)
        finals = []
        for layer in range(self.num_layers):
            if layer > 0:
                inputs = self._dropout(inputs, layer)
            outs, last = self._run(
                self.cells[layer],
                inputs,
                initial[layer * self.dirs],
                masks,
                f"{self.name}/layer{layer}",
                reverse=False,
            )
            finals.append(last)
            if self.bidirectional:
                outs_r, last_r = self._run(
                    self.cells_reverse[layer],
                    inputs,
                    initial[layer * self.dirs + 1],
                    masks,
                    f"{self.name}/layer{layer}_reverse",
                    reverse=True,
                )
                finals.append(last_r)
                joined = []
                for t in range(T):
                    with scope(f"{self.name}/layer{layer}/t={t + 1}"):
                        joined.append(concat(outs[t], outs_r[t], axis=-1))
                outs = joined
            inputs = outs
        with scope(self.name):
            parts = []
            for i, part in enumerate(self.state_names):
                stacked = stack(*[f[i] for f in finals], axis=0)
                stacked.name = f"{part}_n"
                parts.append(stacked)
        final = parts[0] if len(parts) == 1 else tuple(parts)
        return inputs, final

    # ----- internals ---------------------------------------------------------------------
    def _step(self, cell, x_t, state: tuple) -> tuple:
        return (cell(x_t, state[0]),)

    def _run(self, cell, inputs, state, masks, base: str, reverse: bool):
        T = len(inputs)
        outs = [None] * T
        for t in range(T - 1, -1, -1) if reverse else range(T):
            with scope(f"{base}/t={t + 1}"):
                new = self._step(cell, inputs[t], state)
                m = masks[t]
                if m is not None:  # padded sequences keep their previous state
                    new = tuple(where(m, n, p) for n, p in zip(new, state, strict=True))
                for part, value in zip(self.state_names, new, strict=True):
                    value.name = f"{part}_{t + 1}"
                outs[t] = new[0] if m is None else where(m, new[0], 0.0)
            state = new
        return outs, state

    # ----- dropout: masks drawn per call, or given (compiled training) -------------------
    def dropout_draws(self, T: int, B: int) -> list[np.ndarray]:
        """The masks a training-mode call over T steps of batch B would draw, drawn now from
        the same generator in the same order (layer 1..L-1, then t = 1..T): one (T, B, H *
        dirs) array of scales (0 or 1/keep) per layer above the first; [] when dropout is
        off. ``given_dropout`` feeds them back."""
        if not (self.training and self.dropout > 0.0):
            return []
        keep, dtype = 1.0 - self.dropout, self.cells[0].W_h.dtype
        shape = (B, self.hidden_size * self.dirs)
        return [np.stack([self._draw(shape, keep, dtype) for _ in range(T)])
                for _ in range(1, self.num_layers)]

    @contextmanager
    def given_dropout(self, scales: list):
        """Inside: each call takes its dropout masks from ``scales`` (what ``dropout_draws``
        returned, as arrays or Tensors, the next one per layer) instead of drawing them, so
        a traced call reads them as inputs and an engine run can use the very same masks."""
        previous, self._given_scales = self._given_scales, iter(scales)
        try:
            yield
        finally:
            self._given_scales = previous

    def _draw(self, shape: tuple, keep: float, dtype) -> np.ndarray:
        return ((self._dropout_rng.random(shape) < keep) / keep).astype(dtype)

    def _dropout(self, inputs: list, layer: int) -> list:
        if not (self.training and self.dropout > 0.0):
            return inputs
        keep = 1.0 - self.dropout
        given = None if self._given_scales is None else next(self._given_scales)
        result = []
        for t, x_t in enumerate(inputs):
            with scope(f"{self.name}/layer{layer}/t={t + 1}"):
                scale = self._draw(x_t.shape, keep, x_t.dtype) if given is None else given[t]
                dropped = x_t * scale
                dropped.name = "dropout"
            result.append(dropped)
        return result

    def _initial_state(self, state, B: int, where_: str) -> list[tuple]:
        """One tuple of (B, H) tensors per (layer, direction), index layer * dirs + d."""
        n, H = self.num_layers * self.dirs, self.hidden_size
        parts = self._state_parts(state, where_)
        result = []
        for k in range(n):
            layer, d = divmod(k, self.dirs)
            suffix = "_reverse" if d else ""
            values = []
            with scope(f"{self.name}/layer{layer}{suffix}/t=0"):
                for i, part in enumerate(self.state_names):
                    if parts is not None:
                        value = _pick(parts[i], k, n, B, H, f"{where_} initial {part}")
                    elif self.learn_initial_state:
                        value = broadcast_to(getattr(self, f"{part}_0")[k], shape=(B, H))
                    else:  # zeros in the weights' dtype: a float32 model stays float32
                        cell = (self.cells_reverse if d else self.cells)[layer]
                        value = Tensor(np.zeros((B, H), dtype=cell.W_h.dtype))
                    if value.name is None or parts is None:
                        value.name = f"{part}_0"
                    values.append(value)
            result.append(tuple(values))
        return result

    def _state_parts(self, state, where_: str):
        if state is None:
            return None
        if len(self.state_names) == 1:
            if isinstance(state, (tuple, list)):
                raise TypeError(f"{where_}: state must be one array/Tensor, not a tuple")
            return (state,)
        if not isinstance(state, (tuple, list)) or len(state) != 2:
            raise TypeError(f"{where_}: state must be a pair (h, c) or None")
        return tuple(state)

    def extra_repr(self) -> str:
        text = f"{self.input_size}, {self.hidden_size}, num_layers={self.num_layers}"
        if self.bidirectional:
            text += ", bidirectional=True"
        if self.dropout:
            text += f", dropout={self.dropout}"
        if self.learn_initial_state:
            text += ", learn_initial_state=True"
        return text + f", name={self.name!r}"


def _pick(value, k: int, n: int, B: int, H: int, what: str) -> Tensor:
    """Row k of a given state (n, B, H); a (B, H) state is accepted when n == 1."""
    shape = tuple(np.shape(value))
    if shape == (B, H) and n == 1:
        return value if isinstance(value, Tensor) else Tensor(value)
    if shape != (n, B, H):
        raise ValueError(
            f"{what} must have shape (num_layers*dirs, B, H) = {(n, B, H)}, got {shape}"
        )
    if isinstance(value, Tensor):
        return value[k]
    return Tensor(np.asarray(value)[k])  # Tensor makes ints float64, keeps float32
