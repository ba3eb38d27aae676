"""Losses built from engine ops only (their gradients come from generic backprop).

Both losses take an optional ``mask`` over the leading (time, batch) axes: 0/False drops a
position, a float weights it. ``reduction="sum"`` adds the per-position losses (the
textbook L = sum_t L_t); ``"mean"`` divides by the number of counted entries (the mask's
total weight, times the feature size for MSE).
"""

from __future__ import annotations

from typing import Any

import numpy as np

import autograd_rnn as ar
from autograd_rnn.core.tensor import Tensor

_REDUCTIONS = ("sum", "mean")


def _values(x: Any) -> np.ndarray:
    return x.data if isinstance(x, Tensor) else np.asarray(x)


def _float_dtype(x: Any) -> np.dtype:
    dtype = _values(x).dtype
    return dtype if dtype.kind == "f" else np.dtype(np.float64)


def _check_reduction(reduction: str) -> None:
    if reduction not in _REDUCTIONS:
        raise ValueError(f"reduction must be 'sum' or 'mean', got {reduction!r}")


def _mask_array(mask: Any, lead_shape: tuple[int, ...], what: str, dtype=np.float64):
    m = np.asarray(_values(mask), dtype=dtype)  # the loss's dtype: float32 stays float32
    if m.shape != lead_shape[: m.ndim] or m.ndim == 0:
        raise ValueError(
            f"{what}: mask of shape {m.shape} does not match the leading axes of the "
            f"per-position loss, shape {lead_shape}"
        )
    return m


def mse_loss(pred: Tensor, target: Any, mask: Any = None, reduction: str = "mean") -> Tensor:
    """Mean-squared error: sum or mean of (pred - target)^2 over unmasked entries.

    Args:
        pred: Tensor of any shape, e.g. (T, B, 1) or (B, 1).
        target: array (or Tensor, treated as a constant) of ``pred``'s shape.
        mask: optional array of shape pred.shape[:k] (e.g. (T, B)); broadcast over the
            remaining axes.
        reduction: "mean" (default) or "sum".
    Returns:
        a scalar Tensor.
    """
    _check_reduction(reduction)
    target = _values(target)
    if target.dtype.kind not in "biuf":
        raise TypeError(f"mse_loss: target must be numeric, got dtype {target.dtype}")
    if target.shape != pred.shape:
        raise ValueError(f"mse_loss: pred has shape {pred.shape} but target has {target.shape}")
    diff = pred - target
    sq = diff * diff
    if mask is None:
        return sq.sum() if reduction == "sum" else sq.sum() / max(sq.size, 1)  # B=0: 0
    m = _mask_array(mask, pred.shape, "mse_loss", _float_dtype(sq))
    m = m.reshape(m.shape + (1,) * (pred.ndim - m.ndim))
    total = (sq * m).sum()
    if reduction == "sum":
        return total
    count = float(np.broadcast_to(m, pred.shape).sum())
    return total / max(count, 1.0)


def cross_entropy(logits: Tensor, targets: Any, mask: Any = None, reduction: str = "mean"):
    """Softmax cross-entropy -log softmax(logits)[target], stable via ``ar.log_softmax``.

    Args:
        logits: Tensor (T, B, V) or (B, V) of unnormalised scores.
        targets: integer array of shape logits.shape[:-1] with values in [0, V).
        mask: optional array over the leading axes (shape ``targets.shape``).
        reduction: "mean" (default: per counted position) or "sum".
    Returns:
        a scalar Tensor (nats).
    """
    _check_reduction(reduction)
    targets = _values(targets)
    if logits.ndim < 1:
        raise ValueError("cross_entropy: logits must have shape (..., V), got a scalar")
    lead, vocab = logits.shape[:-1], logits.shape[-1]
    if targets.shape != lead:
        raise ValueError(
            f"cross_entropy: logits of shape {logits.shape} need targets of shape {lead}, "
            f"got {targets.shape}"
        )
    if targets.dtype.kind not in "iu":
        raise ValueError(f"cross_entropy: targets must be integers, got dtype {targets.dtype}")
    if targets.size and (targets.min() < 0 or targets.max() >= vocab):
        raise ValueError(
            f"cross_entropy: targets must lie in [0, {vocab}), got values in "
            f"[{targets.min()}, {targets.max()}]"
        )
    # (N, V) log-probabilities, the targets' ones picked, summed, negated: the order that
    # compiled code fuses into the textbook softmax-minus-one-hot gradient (codegen.xent)
    log_probs = ar.log_softmax(logits.reshape(-1, vocab), axis=-1)
    flat = targets.reshape(-1)
    picked = log_probs[np.arange(flat.size), flat]  # (N,)
    if mask is None:
        total = -picked.sum()
        return total if reduction == "sum" else total / max(flat.size, 1)
    nll = -picked
    m = _mask_array(mask, lead, "cross_entropy", _float_dtype(nll))
    if m.shape != lead:
        raise ValueError(f"cross_entropy: mask shape {m.shape} must equal targets shape {lead}")
    total = (nll * m.reshape(-1)).sum()
    return total if reduction == "sum" else total / max(float(m.sum()), 1.0)
