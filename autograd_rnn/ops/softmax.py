"""Softmax family, composed from primitives (numerically stable by shifting by the max).

Shapes: any input; the normalisation runs along ``axis``; the output has the input shape.
"""

from __future__ import annotations

import numpy as np

from autograd_rnn.core.tensor import value_of
from autograd_rnn.ops.elementwise import exp, log
from autograd_rnn.ops.reduce import check_axis
from autograd_rnn.ops.reduce import sum as _sum


def logsumexp(x, axis=-1, keepdims=False):
    """log(sum(exp(x), axis)) over an int, tuple or ``None`` (all axes); the max is
    subtracted first as a constant so exp never overflows (the shift cancels exactly in
    the gradient). Output shape: x's shape without ``axis`` (kept as 1 with ``keepdims``)."""
    axis = tuple(axis) if isinstance(axis, list) else axis
    check_axis("logsumexp", x, axis)
    shift = np.maximum.reduce(value_of(x), axis=axis, keepdims=True)
    total = _sum(exp(x - shift), axis=axis, keepdims=keepdims)
    return log(total) + (shift if keepdims else np.squeeze(shift, axis=axis))


def log_softmax(x, axis=-1):
    """x - logsumexp(x): log-probabilities along ``axis``."""
    check_axis("log_softmax", x, axis)
    shift = np.maximum.reduce(value_of(x), axis=axis, keepdims=True)
    z = x - shift
    return z - log(_sum(exp(z), axis=axis, keepdims=True))


def softmax(x, axis=-1):
    """exp(x) / sum(exp(x)) along ``axis``, computed as exp(log_softmax(x))."""
    check_axis("softmax", x, axis)
    return exp(log_softmax(x, axis=axis))
