"""The ``Optimizer`` base class: a list of parameters, per-parameter state slots, and a
state dict made of plain NumPy arrays (so it can be saved with ``allow_pickle=False``).

Subclasses name their hyperparameters and slots and implement ``_rule``:

    new_param = param - lr * direction(grad, slots)

``_rule`` computes the amount to subtract, elementwise, in place (the slots are changed in
place, the amount is written into a buffer), so one update rule serves two paths:

- ``step()`` (the interpreter's): reads ``p.grad`` and rebinds ``param.data`` to a new array
  instead of writing in place, so any graph still holding the old values (for a diagram,
  say) stays correct, and a backward through it gives the gradient at the values it was
  recorded with (``core/inplace.py``);
- ``step_inplace(grads)`` (compiled training): subtracts from the parameter arrays in place
  and allocates nothing after its first call, as a hand-written loop does (a parameter some
  recorded op saved is rebound to a copy first, once, so no graph sees the change); the
  rule runs once on all parameters laid end to end (``optim/flat.py``).

Both give bit-identical parameters for the same gradients (same operations, same order).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import numpy as np

from autograd_rnn.core.inplace import rebind
from autograd_rnn.core.tensor import Tensor, value_of
from autograd_rnn.optim.flat import FlatLayout, layout_for


class Optimizer:
    """Base class. ``hyper`` holds float hyperparameters (``lr`` first); ``slots`` names the
    per-parameter state arrays (each of the parameter's shape, initially zero).

    Attributes:
        params: the parameters, in the order given (the order of ``model.parameters()``).
        hyper: {name: float}, e.g. ``{"lr": 0.01, "momentum": 0.9}``; editable.
        state: {slot name: [array per parameter]}.
        step_count: number of ``step()`` calls so far.
    """

    slots: tuple[str, ...] = ()

    def __init__(self, params: Iterable[Tensor], **hyper: float) -> None:
        self.params = list(params)
        if not self.params:
            raise ValueError(f"{type(self).__name__} got an empty parameter list")
        for i, p in enumerate(self.params):
            if not isinstance(p, Tensor) or not p.requires_grad:
                raise TypeError(
                    f"{type(self).__name__}: parameter {i} must be a Tensor with "
                    f"requires_grad=True, got {type(p).__name__}"
                )
        for name, value in hyper.items():
            if not np.isfinite(value) or value < 0:
                raise ValueError(f"{type(self).__name__}: {name} must be >= 0, got {value!r}")
        if hyper.get("lr", 1.0) <= 0:
            raise ValueError(f"{type(self).__name__}: lr must be > 0, got {hyper['lr']!r}")
        self.hyper = {k: float(v) for k, v in hyper.items()}
        self.state = {s: [np.zeros_like(p.data) for p in self.params] for s in self.slots}
        self.step_count = 0
        self._buffers: dict[tuple[int, int], np.ndarray] = {}  # (param, k) -> scratch array
        self._flat: FlatLayout | None = None  # step_inplace's flat state (optim/flat.py)

    @property
    def lr(self) -> float:
        return self.hyper["lr"]

    @lr.setter
    def lr(self, value: float) -> None:
        self.hyper["lr"] = float(value)

    def zero_grad(self) -> None:
        """Clear every parameter's ``.grad`` (set to None)."""
        for p in self.params:
            p.zero_grad()

    def step(self) -> None:
        """Apply one update to every parameter that has a gradient (``p.grad``); each
        parameter gets a new array (``p.data`` is rebound, the old array is unchanged)."""
        self.step_count += 1
        for i, p in enumerate(self.params):
            if p.grad is None:
                continue
            value = value_of(p)  # (not `p.data`: this code never keeps or writes the array)
            g = self._decayed(i, np.asarray(p.grad, dtype=value.dtype), value)
            rebind(p, (value - self._update(i, g)).astype(value.dtype, copy=False))

    def step_inplace(self, grads: list) -> None:
        """Apply one update with ``grads`` (one array per parameter, in ``params`` order;
        None skips that parameter), subtracting from the parameter arrays in place.

        Allocates nothing after the first call (the buffers are kept); the parameters end
        up bit-identical to what ``step()`` with the same gradients gives. A parameter whose
        array a recorded op saved (or user code got through ``.data``) is first rebound to
        a copy, so no graph and no held array sees the change (``core/inplace.py``). When
        every parameter has a gradient (no weight decay, one dtype) the rule runs once on
        all of them laid end to end (``optim/flat.py``): the same elementwise numbers."""
        if len(grads) != len(self.params):
            raise ValueError(f"{type(self).__name__}.step_inplace: got {len(grads)} gradients "
                             f"for {len(self.params)} parameters")
        self.step_count += 1
        values = []
        for i, (p, g) in enumerate(zip(self.params, grads, strict=True)):
            value = value_of(p)
            if g is not None:
                if p.node.state:  # a recorded op saved it or user code holds it: a copy, once
                    value = value.copy()
                    rebind(p, value)
                if g.shape != value.shape:
                    raise ValueError(f"{type(self).__name__}.step_inplace: gradient {i} has "
                                     f"shape {g.shape} but parameter {i} has shape "
                                     f"{value.shape}")
            values.append(value)
        decay = self.hyper.get("weight_decay", 0.0)
        flat = None if decay else layout_for(self, self._flat, grads, values)
        if flat is not None:
            self._flat = flat  # (kept when not usable too: large parameters ask once)
        if flat is None or not flat.usable:
            for i, (g, value) in enumerate(zip(grads, values, strict=True)):
                if g is not None:
                    amount = self._update(i, self._decayed(i, g, value) if decay else g)
                    np.subtract(value, amount, out=value)
            return
        for piece, g in zip(flat.grads, grads, strict=True):
            piece[...] = g
        self._rule(flat.grad, flat.slots, flat.out)
        for value, piece in zip(values, flat.outs, strict=True):
            np.subtract(value, piece, out=value)

    def _decayed(self, i: int, g: np.ndarray, value: np.ndarray) -> np.ndarray:
        """g + wd * value (the L2 penalty wd/2 * |p|^2 folded into the gradient), in a
        buffer; ``g`` itself when there is no weight decay."""
        wd = self.hyper.get("weight_decay", 0.0)
        if not wd:
            return g
        out = np.multiply(value, wd, out=self._buffer(i, 1, value))
        out += g
        return out

    def _buffer(self, i: int, k: int, like: np.ndarray) -> np.ndarray:
        """Scratch array ``k`` of parameter ``i`` (shape and dtype of ``like``), made once."""
        buf = self._buffers.get((i, k))
        if buf is None or buf.shape != like.shape or buf.dtype != like.dtype:
            buf = self._buffers[(i, k)] = np.empty_like(like)
        return buf

    def _update(self, i: int, g: np.ndarray) -> np.ndarray:
        """The amount to subtract from parameter ``i`` given its gradient ``g``, written into
        ``self._buffer(i, 0, g)`` (slots change in place; ``g`` is not changed)."""
        return self._rule(g, [self.state[name][i] for name in self.slots],
                          self._buffer(i, 0, g))

    def _rule(self, g: np.ndarray, slots: list, out: np.ndarray) -> np.ndarray:
        """The update rule on arrays: the amount to subtract given the gradient ``g`` and
        the state arrays ``slots`` (in ``self.slots`` order, changed in place), written
        into ``out`` and returned. Elementwise: the same numbers on one parameter's arrays
        or on all parameters' laid end to end."""
        raise NotImplementedError

    # ----- state -------------------------------------------------------------------------
    def state_dict(self) -> dict[str, np.ndarray]:
        """{"type", "step_count", "hyper.<name>", "<slot>.<index>"} -> NumPy arrays."""
        out: dict[str, np.ndarray] = {
            "type": np.array(type(self).__name__),
            "step_count": np.array(self.step_count, dtype=np.int64),
        }
        for name, value in self.hyper.items():
            out[f"hyper.{name}"] = np.array(value, dtype=np.float64)
        for slot, arrays in self.state.items():
            for i, a in enumerate(arrays):
                out[f"{slot}.{i}"] = a.copy()
        return out

    def load_state_dict(self, state: Mapping[str, np.ndarray]) -> None:
        """Restore from ``state_dict()`` output; checks the type, the keys and every shape
        before changing anything (ValueError naming the key and both shapes)."""
        name = type(self).__name__
        kind = str(np.asarray(state.get("type", "")))
        if kind != name:
            what = kind or "an unknown optimizer"
            raise ValueError(f"optimizer state is for {what!r}, not {name}")
        expected = {f"{slot}.{i}" for slot in self.slots for i in range(len(self.params))}
        present = {k for k in state if k not in ("type", "step_count")
                   and not k.startswith("hyper.")}
        if present != expected:
            raise ValueError(
                f"{name} state does not fit {len(self.params)} parameters: missing "
                f"{sorted(expected - present)}, unexpected {sorted(present - expected)}"
            )
        staged = {}
        for slot in self.slots:
            for i, p in enumerate(self.params):
                key = f"{slot}.{i}"
                value = np.asarray(state[key])
                if value.shape != p.data.shape:
                    raise ValueError(
                        f"{name} state {key!r} has shape {value.shape} but parameter {i} "
                        f"has shape {p.data.shape}"
                    )
                staged[(slot, i)] = value.astype(p.data.dtype, copy=True)
        for (slot, i), value in staged.items():
            self.state[slot][i] = value
        for key, value in state.items():
            if key.startswith("hyper."):
                self.hyper[key[len("hyper."):]] = float(np.asarray(value))
        self.step_count = int(np.asarray(state["step_count"]))

    def __repr__(self) -> str:
        hyper = ", ".join(f"{k}={v:g}" for k, v in self.hyper.items())
        return f"{type(self).__name__}({len(self.params)} params, {hyper})"
