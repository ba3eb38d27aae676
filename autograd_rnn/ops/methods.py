"""``Tensor``'s operators and array methods, each spelled out and bound by ``@tensor_method``.

They live here, beside the ops they call, so the engine core never imports the ops
(imports flow one way: core <- ops). ``x + y`` is ``add(x, y)``, ``x @ W`` is
``matmul(x, W)``, ``x[i]`` is ``getitem(x, index=i)``, ``x.sum(axis)`` is ``sum(x, axis=...)``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from autograd_rnn.core.node import FrozenParams
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
    return ew.add.apply((self, other))


@tensor_method
def __radd__(self, other):
    return ew.add.apply((other, self))


@tensor_method
def __sub__(self, other):
    return ew.subtract.apply((self, other))


@tensor_method
def __rsub__(self, other):
    return ew.subtract.apply((other, self))


@tensor_method
def __mul__(self, other):
    return ew.multiply.apply((self, other))


@tensor_method
def __rmul__(self, other):
    return ew.multiply.apply((other, self))


@tensor_method
def __truediv__(self, other):
    return ew.divide.apply((self, other))


@tensor_method
def __rtruediv__(self, other):
    return ew.divide.apply((other, self))


@tensor_method
def __pow__(self, exponent):
    if isinstance(exponent, Tensor) or np.ndim(exponent) != 0:
        raise TypeError("only a scalar exponent is supported: x ** p with p a number")
    return ew.power(self, exponent=float(exponent))


@tensor_method
def __neg__(self):
    return ew.negative.apply((self,))


@tensor_method
def __matmul__(self, other):
    return linalg.matmul.apply((self, other))


@tensor_method
def __rmatmul__(self, other):
    return linalg.matmul.apply((other, self))


@tensor_method
def __getitem__(self, index):
    return shape_ops.getitem.apply((self,), _index_params(index))


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
    return ew.exp.apply((self,))


@tensor_method
def log(self):
    return ew.log.apply((self,))


@tensor_method
def tanh(self):
    return ew.tanh.apply((self,))


@tensor_method
def sigmoid(self):
    return ew.sigmoid.apply((self,))


@tensor_method
def relu(self):
    return ew.relu.apply((self,))


@tensor_method
def abs(self):  # noqa: A001 (NumPy's name)
    return ew.abs.apply((self,))


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


# getitem's params per basic index seen (a gate slice x[:, a:b] is taken every timestep)
_INDEX_PARAMS: dict = {}


def _index_params(index: Any) -> dict:
    """getitem's params ``{"index": ...}`` for ``index``. A basic index (a slice, int, None
    or ``...``, or a tuple of them, with int or None slice bounds) gets one shared
    read-only dict per distinct index: a recorded graph then holds no index objects of its
    own per getitem node (a tuple of slices is four objects per node for the cyclic
    garbage collector to scan again and again while the graph grows)."""
    parts = index if type(index) is tuple else (index,)
    key = []
    for part in parts:
        kind = type(part)
        if kind is slice:
            start, stop, step = part.start, part.stop, part.step
            if not ((start is None or type(start) is int) and (stop is None or type(stop) is int)
                    and (step is None or type(step) is int)):
                return {"index": _plain_index(index)}
            key.append((start, stop, step))
        elif kind is int or part is None or part is Ellipsis:
            key.append(part)
        else:  # arrays, lists, tensors, NumPy ints: an index of its own
            return {"index": _plain_index(index)}
    key = (type(index) is tuple, *key)
    params = _INDEX_PARAMS.get(key)
    if params is None:
        if len(_INDEX_PARAMS) >= 4096:
            _INDEX_PARAMS.clear()
        params = _INDEX_PARAMS[key] = FrozenParams(index=index)
    return params


def _plain_index(index: Any) -> Any:
    """Index tuples may hold tensors or lists; turn them into NumPy indices (basic indices
    never get here: ``_index_params`` shares theirs)."""
    if isinstance(index, tuple):
        return tuple(_plain_index_part(i) for i in index)
    return _plain_index_part(index)


def _plain_index_part(part: Any) -> Any:
    if isinstance(part, Tensor):
        part = part._data
    if isinstance(part, list):
        part = np.asarray(part)
    if isinstance(part, np.ndarray) and part.dtype.kind == "f":
        raise IndexError(f"tensor indices must be integers or booleans, got dtype {part.dtype}")
    return part
