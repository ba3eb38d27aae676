"""Softmax family: ``log_softmax`` is one primitive (its forward and VJP below, as PyTorch's
fused op); ``logsumexp`` and ``softmax`` are composed from primitives. All numerically
stable: the max along ``axis`` is subtracted first, so exp never overflows.

Shapes: any input; the normalisation runs along ``axis``; ``log_softmax`` and ``softmax``
keep the input shape.
"""

from __future__ import annotations

import numpy as np

from autograd_rnn.core.primitive import primitive
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


@primitive(name="log_softmax", saves=("out",))
def _log_softmax(x, *, axis):
    # z - log(sum(exp(z))) with z = x - max(x): the same operations, in the same order, as
    # the source below and as logsumexp
    z = x - np.maximum.reduce(x, axis=axis, keepdims=True)
    return z - np.log(np.add.reduce(np.exp(z), axis=axis, keepdims=True))


_log_softmax.defsource(
    lambda x, *, axis: (x - x.max(axis=axis, keepdims=True)) - np.log(
        np.exp(x - x.max(axis=axis, keepdims=True)).sum(axis=axis, keepdims=True)))


@_log_softmax.defvjp
def _log_softmax_vjp(g, out, x, *, axis):
    # d out_i / d x_j = delta_ij - softmax_j, and softmax = exp(out):
    # g - softmax * sum(g) along axis (written with ops, so it records under create_graph)
    return g - exp(out) * _sum(g, axis=axis, keepdims=True)


def log_softmax(x, axis=-1):
    """x - logsumexp(x, axis): log-probabilities along ``axis`` (an int, a tuple or
    ``None``), one node in the graph (op ``log_softmax``). Same shape as ``x``."""
    axis = tuple(axis) if isinstance(axis, list) else axis
    check_axis("log_softmax", x, axis)
    return _log_softmax(x, axis=axis)


def softmax(x, axis=-1):
    """exp(x) / sum(exp(x)) along ``axis``, computed as exp(log_softmax(x))."""
    check_axis("softmax", x, axis)
    return exp(log_softmax(x, axis=axis))
