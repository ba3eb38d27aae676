"""Reductions: sum and max (primitives) and mean (composite).

Shapes: ``axis=None`` reduces everything to shape (); an int or tuple reduces those axes;
``keepdims`` keeps them with size 1.
"""

from __future__ import annotations

import numpy as np

from autograd_rnn.core.primitive import primitive
from autograd_rnn.core.tensor import Tensor, value_of
from autograd_rnn.ops.elementwise import equal
from autograd_rnn.ops.shape import broadcast_to, reshape


def keepdims_shape(shape: tuple[int, ...], axis) -> tuple[int, ...]:
    """The shape a reduction over ``axis`` (None, an int or a tuple) of an array of
    ``shape`` has with ``keepdims=True``: (2, 3, 4), axis=1 -> (2, 1, 4)."""
    if axis is None:
        return (1,) * len(shape)
    axes = axis if isinstance(axis, tuple) else (axis,)
    axes = {a % len(shape) for a in axes} if shape else set()
    return tuple(1 if i in axes else n for i, n in enumerate(shape))


def _expand(g, shape, axis):
    """Broadcast a reduced gradient back to the input ``shape``."""
    g = g.reshape(keepdims_shape(shape, axis))
    return g if g.shape == shape else broadcast_to(g, shape=shape)


@primitive
def sum(x, *, axis=None, keepdims=False):  # noqa: A001 (NumPy's name)
    """Sum over ``axis``."""
    return np.add.reduce(x, axis=axis, keepdims=keepdims)  # = np.sum, without its wrapper


sum.defsource(lambda x, *, axis, keepdims: x.sum(axis=axis, keepdims=keepdims))
sum.defvjp(
    lambda g, out, x, *, axis, keepdims: _expand(g, np.shape(x), axis),  # d sum/dx_i = 1
    saves=(),
)


@primitive
def max(x, *, axis=None, keepdims=False):  # noqa: A001 (NumPy's name)
    """Maximum over ``axis``; ties share the gradient equally."""
    return np.max(x, axis=axis, keepdims=keepdims)


max.defsource(lambda x, *, axis, keepdims: x.max(axis=axis, keepdims=keepdims))


def _max_vjp(g, out, x, *, axis, keepdims):
    # d max/dx_i = 1/k for the k entries equal to the maximum, 0 elsewhere
    shape = np.shape(x)
    mask = equal(x, reshape(out, shape=keepdims_shape(shape, axis)))
    share = mask / sum(mask, axis=axis, keepdims=True)
    return _expand(g, shape, axis) * share


max.defvjp(_max_vjp, saves=(0, "out"))


def check_axis(op: str, x, axis) -> None:
    """Raise ``IndexError`` naming ``op``, the operand and its shape when ``axis`` (None, an
    int or a tuple/list) is out of bounds (composites check before touching NumPy)."""
    shape = np.shape(value_of(x))
    axes = () if axis is None else tuple(axis) if isinstance(axis, (tuple, list)) else (axis,)
    for a in axes:
        if not -len(shape) <= a < len(shape):
            label = repr(x.label) if isinstance(x, Tensor) else "a constant"
            raise IndexError(
                f"{op}: axis {a} is out of bounds for {label} of shape {shape} "
                f"({len(shape)} dimensions)"
            )


def mean(x, axis=None, keepdims=False):
    """Mean over ``axis`` = sum / count (composite: its graph shows sum then divide)."""
    check_axis("mean", x, axis)
    shape = np.shape(value_of(x))
    if axis is None:
        count = int(np.prod(shape))
    else:
        axes = axis if isinstance(axis, (tuple, list)) else (axis,)
        count = int(np.prod([shape[a] for a in axes]))
        axis = tuple(axes) if isinstance(axis, (tuple, list)) else axis
    return sum(x, axis=axis, keepdims=keepdims) / count
