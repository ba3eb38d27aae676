"""One TBPTT window: its forward and backward with the engine, and the update after it.

A window runs the model over chunks ``[a, b)`` of its steps (the state passed on, not cut,
between chunks: the chunk ends are where later windows start), computes the loss on its
last steps and backpropagates. ``engine_window`` does that by interpreting the graph
(``train.compiled`` runs the same window as generated code); ``apply_update`` then checks,
clips and steps the optimizer, the same way for both.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, field
from typing import Any

import numpy as np

import autograd_rnn as ar
from autograd_rnn.core.tensor import Tensor, value_of
from autograd_rnn.optim.clip import clip_norm_, clip_value_, global_norm


class NonFiniteLossError(ArithmeticError):
    """The loss or the gradient norm became NaN/Inf; no update was applied for it."""


def detach_state(state: Any) -> Any:
    """Detach a recurrent state: None, a Tensor, or a (nested) tuple/list of Tensors."""
    if state is None:
        return None
    if isinstance(state, Tensor):
        return state.detach()
    if isinstance(state, (tuple, list)):
        return type(state)(detach_state(s) for s in state)
    raise TypeError(f"cannot detach a recurrent state of type {type(state).__name__}")


@dataclass
class WindowRun:
    """What one window gave.

    value: the loss (None: the window was only run forward, nothing to train on).
    grads: one gradient array (or None) per parameter; None when they are in ``p.grad``
        (the engine put them there).
    states: the detached state at the end of each chunk.
    """

    value: float | None
    grads: list | None = None
    states: list = field(default_factory=list)


def run_chunks(model: Callable, x: Any, chunks: list[tuple[int, int]], state: Any):
    """``model`` over ``x[a:b]`` for each chunk in turn, passing the state on (not cut).
    Returns (the outputs joined along time, the state after each chunk)."""
    outputs, states = [], []
    for a, b in chunks:
        y, state = model(x[a:b], state)
        outputs.append(y)
        states.append(state)
    y = outputs[0] if len(outputs) == 1 else ar.concat(outputs, axis=0)
    return y, states


def engine_window(model: Callable, loss_fn: Callable, x: np.ndarray, target: Any, mask: Any,
                  state: Any, chunks: list[tuple[int, int]], offset: int, *, train: bool,
                  steps: str = "", optimizer: Any = None, dropout: tuple = ()) -> WindowRun:
    """Interpret one window: forward over ``chunks`` of ``x`` (T_w, B, D) from ``state``,
    then, when ``train``, the loss ``loss_fn(y[offset:], target, mask)`` and its backward
    (``optimizer.zero_grad()`` first). ``dropout``: (layer, scales) pairs whose masks are
    given (``RecurrentBase.given_dropout``) instead of drawn; ``steps`` names the window's
    steps in messages.

    Raises ``NonFiniteLossError`` (before the backward) when the loss is NaN/Inf."""
    with ExitStack() as given:
        for layer, scales in dropout:
            given.enter_context(layer.given_dropout(scales))
        if not train:
            with ar.no_grad():
                _, states = run_chunks(model, x, chunks, state)
            return WindowRun(None, None, [detach_state(s) for s in states])
        y, states = run_chunks(model, x, chunks, state)
    states = [detach_state(s) for s in states]
    loss = loss_fn(y[offset:] if offset else y, target, mask)
    value = float(loss.data)
    if optimizer is not None:
        optimizer.zero_grad()
    if not math.isfinite(value):
        raise NonFiniteLossError(f"loss is {value} on steps {steps}")
    loss.backward()
    return WindowRun(value, None, states)


def apply_update(run: WindowRun, params: list | None, optimizer: Any, clip_norm: float | None,
                 clip_value: float | None, steps: str) -> float | None:
    """Clip the window's gradients, measure their norm, step the optimizer; returns the
    pre-clip global norm (None without ``params``).

    Gradients in ``p.grad`` (the engine's) are clipped into new arrays and ``optimizer.step()``
    rebinds the parameters; gradients in ``run.grads`` (compiled code's own arrays) are
    clipped and applied in place (``optimizer.step_inplace``), allocating nothing. Both give
    the same numbers. Raises ``NonFiniteLossError`` on a NaN/Inf norm (before stepping) or
    parameter (after)."""
    if params is None:
        return None
    inplace = run.grads is not None
    grads = run.grads if inplace else [None if p.grad is None else p.grad.copy()
                                       if (clip_norm or clip_value) else p.grad for p in params]
    norm = clip_gradients(grads, clip_norm, clip_value)
    for p, g in zip(params, grads, strict=True):
        p.grad = g
    if not math.isfinite(norm):
        raise NonFiniteLossError(f"gradient norm is {norm} on steps {steps}")
    if optimizer is None:
        return norm
    if inplace:
        optimizer.step_inplace(grads)
    else:
        optimizer.step()
    bad = _first_non_finite([value_of(p) for p in optimizer.params])
    if bad is not None:  # an update can overflow finite inputs
        p = optimizer.params[bad]
        raise NonFiniteLossError(f"the update on steps {steps} made parameter "
                                 f"{p.name or bad!r} non-finite")
    return norm


def clip_gradients(grads: list, clip_norm: float | None, clip_value: float | None) -> float:
    """Clip ``grads`` in place, by value then by global norm; returns the norm before any
    clipping (the number logged)."""
    if clip_value is not None:
        norm = clip_value_(grads, clip_value)
        if clip_norm is not None:
            clip_norm_(grads, clip_norm)
        return norm
    if clip_norm is not None:
        return clip_norm_(grads, clip_norm)
    return global_norm(grads)


def _first_non_finite(arrays: list[np.ndarray]) -> int | None:
    """The index of the first array with a NaN/Inf entry (None: all finite), without
    allocating for contiguous arrays. The sum of the entries' squares is finite exactly when
    they all are, unless entries above ~1e154 overflow it: only then is each array's
    extremes read (NaN propagates through them). One BLAS pass per array instead of two
    reductions, summed before one test: this runs after every update (a fixed cost that
    matters for tiny compiled steps)."""
    with np.errstate(over="ignore", invalid="ignore"):  # (an overflow is not an error here)
        total = 0.0
        for array in arrays:
            flat = array.reshape(-1)
            total += flat.dot(flat)
        if math.isfinite(total):
            return None
        for i, array in enumerate(arrays):
            flat = array.reshape(-1)
            if flat.size and not (math.isfinite(np.minimum.reduce(flat))
                                  and math.isfinite(np.maximum.reduce(flat))):
                return i
    return None
