"""``Tensor``'s operators and array methods, each spelled out and bound by ``@tensor_method``.

They live here, beside the ops they call, so the engine core never imports the ops
(imports flow one way: core <- ops). ``x + y`` is ``add(x, y)``, ``x @ W`` is
``matmul(x, W)``, ``x[i]`` is ``getitem(x, index=i)``, ``x.sum(axis)`` is ``sum(x, axis=...)``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from autograd_rnn.core.tensor import Tensor
from autograd_rnn.ops import elementwise as ew
from autograd_rnn.ops import linalg, reduce
from autograd_rnn.ops import shape as shape_ops


def tensor_method(function: Callable) -> Callable:
    """Bind ``function`` to ``Tensor`` under its own name (one explicit line per method)."""
    setattr(Tensor, function.__name__, function)
    return function


# ----- arithmetic operators ---------------------------------------------------------------
@tensor_method
def __add__(self, other):
    return ew.add(self, other)


@tensor_method
def __radd__(self, other):
    return ew.add(other, self)


@tensor_method
def __sub__(self, other):
    return ew.subtract(self, other)


@tensor_method
def __rsub__(self, other):
    return ew.subtract(other, self)


@tensor_method
def __mul__(self, other):
    return ew.multiply(self, other)


@tensor_method
def __rmul__(self, other):
    return ew.multiply(other, self)


@tensor_method
def __truediv__(self, other):
    return ew.divide(self, other)


@tensor_method
def __rtruediv__(self, other):
    return ew.divide(other, self)


@tensor_method
def __pow__(self, exponent):
    if isinstance(exponent, Tensor) or np.ndim(exponent) != 0:
        raise TypeError("only a scalar exponent is supported: x ** p with p a number")
    return ew.power(self, exponent=float(exponent))


@tensor_method
def __neg__(self):
    return ew.negative(self)


@tensor_method
def __matmul__(self, other):
    return linalg.matmul(self, other)


@tensor_method
def __rmatmul__(self, other):
    return linalg.matmul(other, self)


@tensor_method
def __getitem__(self, index):
    return shape_ops.getitem(self, index=_plain_index(index))


# ----- methods ------------------------------------------------------------------------------
@tensor_method
def sum(self, axis=None, keepdims=False):  # noqa: A001 (NumPy's name)
    return reduce.sum(self, axis=_axis(axis), keepdims=keepdims)


@tensor_method
def mean(self, axis=None, keepdims=False):
    return reduce.mean(self, axis=axis, keepdims=keepdims)


@tensor_method
def max(self, axis=None, keepdims=False):  # noqa: A001 (NumPy's name)
    return reduce.max(self, axis=_axis(axis), keepdims=keepdims)


@tensor_method
def exp(self):
    return ew.exp(self)


@tensor_method
def log(self):
    return ew.log(self)


@tensor_method
def tanh(self):
    return ew.tanh(self)


@tensor_method
def sigmoid(self):
    return ew.sigmoid(self)


@tensor_method
def relu(self):
    return ew.relu(self)


@tensor_method
def abs(self):  # noqa: A001 (NumPy's name)
    return ew.abs(self)


@tensor_method
def sqrt(self):
    return ew.power(self, exponent=0.5)


@tensor_method
def reshape(self, *shape):
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    return shape_ops.reshape(self, shape=tuple(int(s) for s in shape))


@tensor_method
def transpose(self, *axes):
    if len(axes) == 1 and isinstance(axes[0], (tuple, list)):
        axes = tuple(axes[0])
    if not axes:
        axes = tuple(reversed(range(self.ndim)))
    return shape_ops.transpose(self, axes=tuple(int(a) for a in axes))


Tensor.T = property(transpose, doc="The transpose (axes reversed), as ``x.transpose()``.")


# ----- index and axis arguments -------------------------------------------------------------
def _axis(axis: Any) -> Any:
    if isinstance(axis, list):
        return tuple(axis)
    return axis


def _plain_index(index: Any) -> Any:
    """Index tuples may hold tensors or lists; turn them into NumPy indices."""
    if isinstance(index, tuple):
        for part in index:  # fast path for the common x[:, a:b] (LSTM gate slices)
            if type(part) is not slice and type(part) is not int:
                return tuple(_plain_index_part(i) for i in index)
        return index
    return _plain_index_part(index)


def _plain_index_part(part: Any) -> Any:
    if isinstance(part, Tensor):
        part = part._data
    if isinstance(part, list):
        part = np.asarray(part)
    if isinstance(part, np.ndarray) and part.dtype.kind == "f":
        raise IndexError(f"tensor indices must be integers or booleans, got dtype {part.dtype}")
    return part
