"""Gradient clipping over a list of parameters; both functions return the pre-clip
global L2 norm sqrt(sum_p |grad_p|^2), the number worth logging.

``clip_grad_norm`` / ``clip_grad_value`` work on parameters (``p.grad`` gets a new array);
``clip_norm_`` / ``clip_value_`` do the same to a list of gradient arrays in place,
allocating nothing (compiled training), with bit-identical results."""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np

from autograd_rnn.core.tensor import Tensor


def global_norm(grads: Iterable[np.ndarray | None]) -> float:
    """sqrt(sum_g |g|^2) over gradient arrays (None entries are skipped)."""
    total = 0.0
    for g in grads:
        if g is not None:
            if type(g) is not np.ndarray or g.dtype != np.float64:
                g = np.asarray(g, dtype=np.float64)
            flat = g.reshape(-1)  # (a view for the contiguous arrays backward makes)
            total += float(flat.dot(flat))  # (the method: no dispatch, per step per array)
    return math.sqrt(total)


def grad_norm(params: Iterable[Tensor]) -> float:
    """Global L2 norm of the gradients of ``params`` (parameters without grad are skipped)."""
    return global_norm(p.grad for p in params)


def clip_norm_(grads: list, max_norm: float) -> float:
    """``clip_grad_norm`` on gradient arrays, in place (g *= max_norm / norm); returns the
    norm before clipping (nothing changes when it is not finite)."""
    norm = global_norm(grads)
    if np.isfinite(norm) and norm > max_norm:
        scale = max_norm / norm
        for g in grads:
            if g is not None:
                g *= scale
    return norm


def clip_value_(grads: list, clip: float) -> float:
    """``clip_grad_value`` on gradient arrays, in place; returns the norm before clipping."""
    norm = global_norm(grads)
    for g in grads:
        if g is not None:
            np.clip(g, -clip, clip, out=g)
    return norm


def clip_grad_norm(params: Iterable[Tensor], max_norm: float) -> float:
    """Rescale all gradients together so their global norm is at most ``max_norm``.

    g <- g * max_norm / norm  when norm > max_norm (the direction is kept).
    Returns the norm before clipping (inf/nan when a gradient is not finite; then nothing
    is changed, so the caller can detect it).
    """
    if not max_norm > 0:
        raise ValueError(f"clip_grad_norm: max_norm must be > 0, got {max_norm!r}")
    params = list(params)
    norm = grad_norm(params)
    if np.isfinite(norm) and norm > max_norm:
        scale = max_norm / norm
        for p in params:
            if p.grad is not None:
                p.grad = p.grad * scale
    return norm


def clip_grad_value(params: Iterable[Tensor], clip: float) -> float:
    """Clip every gradient entry to [-clip, clip] (min-char-rnn uses clip=5).

    Returns the global norm before clipping.
    """
    if not clip > 0:
        raise ValueError(f"clip_grad_value: clip must be > 0, got {clip!r}")
    params = list(params)
    norm = grad_norm(params)
    for p in params:
        if p.grad is not None:
            p.grad = np.clip(p.grad, -clip, clip)
    return norm
