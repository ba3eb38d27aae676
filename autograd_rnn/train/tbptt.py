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

Each window is run by ``train.window.engine_window`` (the graph interpreted), or, given
``compiled`` (a ``train.compiled.CompiledSteps``, what ``ar.train.Trainer`` passes by
default), by generated NumPy code; ``train.window.apply_update`` then clips and steps.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

import autograd_rnn as ar
from autograd_rnn.core.tensor import Tensor
from autograd_rnn.train.window import (
    NonFiniteLossError,
    WindowRun,
    apply_update,
    detach_state,
    engine_window,
)

__all__ = ["NonFiniteLossError", "TBPTTResult", "detach_state", "tbptt", "windows"]


def windows(T: int, k1: int, k2: int) -> list[tuple[int, int, int]]:
    """The (start, loss_start, end) of each update: graph over [start, end), losses on
    [loss_start, end). ``end`` runs over k1, 2 k1, ..., T; start = max(0, end - k2)."""
    _check(T, k1, k2)
    out, prev_end = [], 0
    while prev_end < T:
        end = min(prev_end + k1, T)
        start = max(0, end - k2)
        out.append((start, max(start, prev_end), end))
        prev_end = end
    return out


def _check(T: int, k1: Any, k2: Any) -> None:
    if T < 1:
        raise ValueError(f"tbptt needs at least one timestep, got T={T}")
    for name, k in (("k1", k1), ("k2", k2)):
        if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
            raise ValueError(f"tbptt: {name} must be an integer >= 1, got {k!r}")


@functools.lru_cache(maxsize=64)
def _plan(T: int, k1: int, k2: int) -> tuple:
    """Each update's (start, loss_start, end, chunk ends, chunks, steps): ``windows`` with
    every window cut at the other windows' boundaries (chunks relative to its start, so the
    states there can be kept), and the steps' label for messages. Cached: a training run
    asks for the same few plans at every step."""
    plan = windows(T, k1, k2)
    cuts = sorted({p for w in plan for p in w})
    out = []
    for start, loss_start, end in plan:
        bounds = [start] + [c for c in cuts if start < c < end] + [end]
        chunks = tuple((a - start, b - start)
                       for a, b in zip(bounds[:-1], bounds[1:], strict=True))
        out.append((start, loss_start, end, tuple(bounds[1:]), chunks,
                    f"{loss_start}..{end - 1}"))
    return tuple(out)


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


class _States:
    """The detached states at the cut points of one sequence ({step: state}), advanced
    without a graph where a window starts before any known one (k2 < k1)."""

    def __init__(self, model: Callable, x: np.ndarray, state: Any) -> None:
        self.model, self.x = model, x
        self.saved: dict[int, Any] = {0: state}

    def at(self, start: int) -> Any:
        if start not in self.saved:
            known = max(p for p in self.saved if p <= start)
            with ar.no_grad():
                _, s = self.model(self.x[known:start], self.saved[known])
            self.saved[start] = detach_state(s)
        for p in [p for p in self.saved if p < start]:
            del self.saved[p]  # states behind the window are never needed again
        return self.saved[start]

    def keep(self, ends: list[int], states: list) -> None:
        for b, s in zip(ends, states, strict=True):
            self.saved.setdefault(b, s)


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
    compiled: Any = None,
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
        compiled: a ``train.compiled.CompiledSteps`` for this model and loss (needs the
            optimizer): windows run as generated code where it can, updates in place.
    Returns:
        a ``TBPTTResult``. Raises ``NonFiniteLossError`` (before stepping) on NaN/Inf.
    """
    x_data = x.data if isinstance(x, Tensor) else np.asarray(x)
    T = x_data.shape[0]
    k1 = T if k1 is None else k1
    k2 = T if k2 is None else k2
    if params is None and optimizer is not None:
        params = optimizer.params
    if compiled is not None and (optimizer is None or params is not optimizer.params):
        raise ValueError("tbptt: compiled windows need an optimizer (and its parameters)")
    mask_data = None if mask is None else np.asarray(mask, dtype=np.float64)
    states = _States(model, x_data, state)
    losses, norms = [], []
    _check(T, k1, k2)
    for start, loss_start, end, ends, chunks, steps in _plan(T, int(k1), int(k2)):
        m = None if mask_data is None else mask_data[loss_start:end]
        window = (x_data[start:end], target[loss_start:end], m, states.at(start), chunks,
                  loss_start - start)
        run = _run(model, loss_fn, window, m is None or bool(m.any()), steps, optimizer,
                   compiled)
        states.keep(ends, run.states)
        if run.value is None:
            continue
        losses.append(run.value)
        norm = apply_update(run, params, optimizer, clip_norm, clip_value, steps)
        if norm is not None:
            norms.append(norm)
    # (one window, the common case: its loss as it is, which np.mean returns too)
    mean = losses[0] if len(losses) == 1 else float(np.mean(losses)) if losses else float("nan")
    return TBPTTResult(loss=mean, updates=len(losses), grad_norms=norms,
                       state=states.saved[T])


def _run(model, loss_fn, window: tuple, train: bool, steps: str, optimizer,
         compiled) -> WindowRun:
    """The window by compiled code when it can (it falls back by itself), else the engine."""
    if compiled is not None and train:
        run = compiled.run(window, steps)
        return run if run is not None else compiled.engine(window, steps)
    return engine_window(model, loss_fn, *window, train=train, steps=steps,
                         optimizer=optimizer)
