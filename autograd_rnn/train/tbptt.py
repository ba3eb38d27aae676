"""Truncated backpropagation through time, TBPTT(k1, k2).

Every ``k1`` steps an update happens: the losses of the ``k1`` new steps are
backpropagated through the last ``k2`` steps only. The hidden state keeps its *value*
across the cut but is detached there (``Tensor.detach()``, which remembers the cut so a
diagram can draw it), so no gradient crosses it. With k2 >= k1 the overlap is recomputed
from the stored state at t - k2; with k2 < k1 the steps before the window run without a
graph and their losses are not trained on. With k2 >= T (and summed losses) the gradients
equal full BPTT's.

The model is anything callable as ``model(x, state) -> (y, final_state)`` with x of shape
(T, B, D), y a Tensor (T, B, V) and state None / a Tensor / a tuple of Tensors (the
``ar.nn.SequenceModel`` contract).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

import autograd_rnn as ar
from autograd_rnn.core.tensor import Tensor
from autograd_rnn.optim.clip import clip_grad_norm, clip_grad_value, grad_norm


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


def windows(T: int, k1: int, k2: int) -> list[tuple[int, int, int]]:
    """The (start, loss_start, end) of each update: graph over [start, end), losses on
    [loss_start, end). ``end`` runs over k1, 2 k1, ..., T; start = max(0, end - k2)."""
    if T < 1:
        raise ValueError(f"tbptt needs at least one timestep, got T={T}")
    for name, k in (("k1", k1), ("k2", k2)):
        if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
            raise ValueError(f"tbptt: {name} must be an integer >= 1, got {k!r}")
    out, prev_end = [], 0
    while prev_end < T:
        end = min(prev_end + k1, T)
        start = max(0, end - k2)
        out.append((start, max(start, prev_end), end))
        prev_end = end
    return out


@dataclass
class TBPTTResult:
    """What one pass over a sequence did.

    loss: mean over updates of each window's loss value (the plain loss when k1 >= T).
    updates: number of backward passes (windows with something to train on).
    grad_norms: pre-clip global gradient norm of each update.
    state: the final recurrent state, detached.
    """

    loss: float
    updates: int
    grad_norms: list[float] = field(default_factory=list)
    state: Any = None


def tbptt(
    model: Callable,
    x: Any,
    target: Any,
    loss_fn: Callable[[Tensor, Any, Any], Tensor],
    *,
    k1: int | None = None,
    k2: int | None = None,
    mask: Any = None,
    state: Any = None,
    optimizer: Any = None,
    params: list[Tensor] | None = None,
    clip_norm: float | None = None,
    clip_value: float | None = None,
) -> TBPTTResult:
    """Run TBPTT(k1, k2) over one batch of sequences.

    Args:
        model: ``model(x_chunk, state) -> (y_chunk, state)``.
        x: (T, B, D) inputs. target: (T, B, ...) targets. mask: optional (T, B) weights.
        loss_fn: ``loss_fn(y_window, target_window, mask_window) -> scalar Tensor``; a
            window whose mask is all zero is skipped.
        k1, k2: steps between updates and steps backpropagated (both default to T).
        state: initial state (None: the model's own initial state, trainable if learned).
        optimizer: if given, ``zero_grad()`` before and ``step()`` after each window's
            backward; if None, gradients accumulate in ``.grad`` over all windows.
        params: the parameters to clip/measure (default ``optimizer.params``).
        clip_norm / clip_value: clip by global norm / by value before each step.
    Returns:
        a ``TBPTTResult``. Raises ``NonFiniteLossError`` (before stepping) on NaN/Inf.
    """
    x_data = x.data if isinstance(x, Tensor) else np.asarray(x)
    T = x_data.shape[0]
    k1 = T if k1 is None else k1
    k2 = T if k2 is None else k2
    if params is None and optimizer is not None:
        params = optimizer.params
    mask_data = None if mask is None else np.asarray(mask, dtype=np.float64)
    cuts = sorted({p for w in windows(T, k1, k2) for p in w})
    saved: dict[int, Any] = {0: state}  # detached states at cut points
    losses: list[float] = []
    norms: list[float] = []
    final = state
    for start, loss_start, end in windows(T, k1, k2):
        if start not in saved:  # k2 < k1: advance without a graph up to the window
            known = max(p for p in saved if p <= start)
            with ar.no_grad():
                _, s = model(x_data[known:start], saved[known])
            saved[start] = detach_state(s)
        s = saved[start]
        outputs = []
        bounds = [start] + [c for c in cuts if start < c < end] + [end]
        for a, b in zip(bounds[:-1], bounds[1:], strict=True):
            y, s = model(x_data[a:b], s)
            outputs.append(y)
            if b not in saved:
                saved[b] = detach_state(s)
        final = saved[end]
        for p in [p for p in saved if p < start]:
            del saved[p]  # states behind the window are never needed again
        m = None if mask_data is None else mask_data[loss_start:end]
        if m is not None and not m.any():
            continue
        y = outputs[0] if len(outputs) == 1 else ar.concat(outputs, axis=0)
        y = y[loss_start - start :] if loss_start > start else y
        loss = loss_fn(y, target[loss_start:end], m)
        value = float(loss.data)
        if optimizer is not None:
            optimizer.zero_grad()
        if not np.isfinite(value):
            raise NonFiniteLossError(f"loss is {value} on steps {loss_start}..{end - 1}")
        loss.backward()
        losses.append(value)
        if params is not None:
            if clip_value is not None:  # the norm logged is always the pre-clip one
                norm = clip_grad_value(params, clip_value)
                if clip_norm is not None:
                    clip_grad_norm(params, clip_norm)
            elif clip_norm is not None:
                norm = clip_grad_norm(params, clip_norm)
            else:
                norm = grad_norm(params)
            if not np.isfinite(norm):
                raise NonFiniteLossError(
                    f"gradient norm is {norm} on steps {loss_start}..{end - 1}"
                )
            norms.append(norm)
        if optimizer is not None:
            optimizer.step()
            for i, p in enumerate(optimizer.params):  # an update can overflow finite inputs
                if not np.all(np.isfinite(p.data)):
                    raise NonFiniteLossError(
                        f"the update on steps {loss_start}..{end - 1} made parameter "
                        f"{p.name or i!r} non-finite"
                    )
    mean = float(np.mean(losses)) if losses else float("nan")
    return TBPTTResult(loss=mean, updates=len(losses), grad_norms=norms, state=final)
