"""The ``Tensor``: a NumPy array plus the graph node that produced it.

A tensor created by the user is a *leaf* (``op is None``). A tensor produced by a primitive
op while grad mode is on and some input requires grad is a *node*: it remembers its op, its
parents (an ordered tuple, duplicates allowed, ``None`` where the input was a constant), the
raw input values its VJP needs, the op's static parameters, a creation id (ids increase in
topological order) and the scope path active when it was made.
"""

from __future__ import annotations

import itertools
import weakref
from typing import Any

import numpy as np

from autograd_rnn.core.state import STATE

_ids = itertools.count()

DEFAULT_DTYPE = np.float64


def _as_array(data: Any, dtype: Any) -> np.ndarray:
    if isinstance(data, Tensor):
        data = data.data
    if dtype is not None:
        return np.array(data, dtype=dtype)
    array = np.array(data)
    if array.dtype.kind == "f":
        return array  # keep float32/float16 as given
    if array.dtype.kind in "iub":
        return array.astype(DEFAULT_DTYPE)
    if array.dtype.kind not in "fc":
        raise TypeError(
            f"cannot make a tensor from data of dtype {array.dtype} "
            f"(a {type(data).__name__}); pass numbers or a numeric array"
        )
    return array


class Tensor:
    """An n-dimensional float array that records the ops applied to it.

    Attributes:
        data: the value, a ``numpy.ndarray``.
        grad: ``numpy.ndarray`` of ``data.shape`` after backward, else ``None``. Leaves
            accumulate across backward calls; intermediate nodes hold the gradient that
            reached them in the last backward (when gradient recording is on).
        requires_grad: whether gradients flow to this tensor.
        name: optional label used in reports and diagrams.
        op: the ``Primitive`` that produced this tensor, ``None`` for leaves.
        parents: input tensors of ``op`` (``None`` for constant inputs).
        scope: the ``ar.scope`` path active when the node was created.
        id: creation counter; larger ids were created later (a topological order).
        edge_grads: after backward with recording on, the gradient sent to each parent.
        node: ``None``, except for an op's output made under ``ar.lean_graph()``: then the
            graph node that stands for this tensor in the graph (it keeps only what the
            VJPs need, so the value is freed with this tensor; see ``core/lean.py``).
    """

    __slots__ = (
        "data",
        "grad",
        "grad_tensor",
        "requires_grad",
        "_name",
        "op",
        "parents",
        "args",
        "params",
        "id",
        "scope",
        "edge_grads",
        "detached_from",
        "node",
        "__weakref__",
    )
    __array_priority__ = 1000
    __array_ufunc__ = None  # make NumPy defer to Tensor's reflected operators

    def __init__(
        self, data: Any, requires_grad: bool = False, name: str | None = None, dtype: Any = None
    ) -> None:
        given = np.dtype(dtype) if dtype is not None else (
            data.dtype if isinstance(data, (np.ndarray, np.generic, Tensor)) else None
        )
        if requires_grad and given is not None and given.kind != "f":
            # an explicitly integer/bool/object array (Python numbers are made float64)
            raise TypeError(
                f"only floating-point tensors can require grad, got dtype {given}"
                + (f" for {name!r}" if name else "")
                + "; pass floats or dtype=float"
            )
        array = _as_array(data, dtype)
        self.data = array
        self.grad = None
        self.grad_tensor = None
        self.requires_grad = bool(requires_grad)
        self._name = name
        self.op = None
        self.parents = ()
        self.args = ()
        self.params = None
        self.id = next(_ids)
        self.scope = STATE.scope
        self.edge_grads = None
        self.detached_from = None
        self.node = None

    @classmethod
    def _node(cls, data, op, parents, args, params, requires_grad) -> Tensor:
        """Build an op's output without the checks of ``__init__`` (hot path)."""
        out = object.__new__(cls)
        out.data = data
        out.grad = None
        out.grad_tensor = None
        out.requires_grad = requires_grad
        out._name = None
        out.op = op
        out.parents = parents
        out.args = args
        out.params = params
        out.id = next(_ids)
        out.scope = STATE.scope
        out.edge_grads = None
        out.detached_from = None
        out.node = None
        return out

    @property
    def name(self) -> str | None:
        return self._name

    @name.setter
    def name(self, name: str | None) -> None:
        self._name = name
        if self.node is not None:  # a lean output: its graph node carries the label too
            self.node._name = name

    # ----- array-like properties -------------------------------------------------------
    @property
    def shape(self) -> tuple[int, ...]:
        return self.data.shape

    @property
    def ndim(self) -> int:
        return self.data.ndim

    @property
    def size(self) -> int:
        return self.data.size

    @property
    def dtype(self) -> np.dtype:
        return self.data.dtype

    @property
    def is_leaf(self) -> bool:
        return self.op is None

    @property
    def label(self) -> str:
        """Readable node label: the name, or the op name, with the output shape."""
        head = self.name or (self.op.name if self.op is not None else "leaf")
        return f"{head} {self.data.shape}"

    def __len__(self) -> int:
        return len(self.data)

    def __repr__(self) -> str:
        origin = f", op={self.op.name}" if self.op is not None else ""
        grad = ", requires_grad=True" if self.requires_grad else ""
        name = f", name={self.name!r}" if self.name else ""
        from autograd_rnn.core.lean import is_placeholder

        if is_placeholder(self.data):  # a lean graph node that kept no value
            body = f"<value not kept by ar.lean_graph()>, shape={self.data.shape}"
        else:
            body = np.array2string(self.data, precision=4, threshold=20, separator=", ")
        return f"tensor({body}{grad}{origin}{name})"

    def numpy(self) -> np.ndarray:
        """The value as a NumPy array (shared, not copied)."""
        return self.data

    def item(self) -> float:
        return self.data.item()

    def __bool__(self) -> bool:
        raise TypeError("the truth value of a Tensor is ambiguous; compare .data or use .item()")

    __hash__ = object.__hash__

    # ----- graph helpers ---------------------------------------------------------------
    def detach(self) -> Tensor:
        """A new leaf sharing this value, cut from the graph (the cut is remembered weakly
        so diagrams can draw it as a dashed edge)."""
        out = Tensor._node(self.data, None, (), (), None, False)
        out.name = self.name
        out.detached_from = weakref.ref(self if self.node is None else self.node)
        return out

    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        if requires_grad and self.data.dtype.kind != "f":
            raise TypeError(f"only floating-point tensors can require grad, got {self.dtype}")
        self.requires_grad = requires_grad
        return self

    def zero_grad(self) -> None:
        self.grad = None
        self.grad_tensor = None

    def backward(self, grad: Any = None, create_graph: bool = False, retain_graph: bool = True):
        """Backpropagate from this tensor; see ``autograd_rnn.core.backward.backward``."""
        from autograd_rnn.core.backward import backward

        backward(self, grad, create_graph=create_graph, retain_graph=retain_graph)

    # ----- operators (each spelled out) --------------------------------------------------
    def __add__(self, other):
        return _ops.add(self, other)

    def __radd__(self, other):
        return _ops.add(other, self)

    def __sub__(self, other):
        return _ops.subtract(self, other)

    def __rsub__(self, other):
        return _ops.subtract(other, self)

    def __mul__(self, other):
        return _ops.multiply(self, other)

    def __rmul__(self, other):
        return _ops.multiply(other, self)

    def __truediv__(self, other):
        return _ops.divide(self, other)

    def __rtruediv__(self, other):
        return _ops.divide(other, self)

    def __pow__(self, exponent):
        if isinstance(exponent, Tensor) or np.ndim(exponent) != 0:
            raise TypeError("only a scalar exponent is supported: x ** p with p a number")
        return _ops.power(self, exponent=float(exponent))

    def __neg__(self):
        return _ops.negative(self)

    def __matmul__(self, other):
        return _ops.matmul(self, other)

    def __rmatmul__(self, other):
        return _ops.matmul(other, self)

    def __getitem__(self, index):
        return _ops.getitem(self, index=_plain_index(index))

    # comparisons give plain boolean arrays: they are not differentiable
    def __lt__(self, other):
        return self.data < _value(other)

    def __le__(self, other):
        return self.data <= _value(other)

    def __gt__(self, other):
        return self.data > _value(other)

    def __ge__(self, other):
        return self.data >= _value(other)

    def __eq__(self, other):
        return self.data == _value(other)

    def __ne__(self, other):
        return self.data != _value(other)

    # ----- methods -----------------------------------------------------------------------
    def sum(self, axis=None, keepdims=False):
        return _ops.sum(self, axis=_axis(axis), keepdims=keepdims)

    def mean(self, axis=None, keepdims=False):
        return _ops.mean(self, axis=axis, keepdims=keepdims)

    def max(self, axis=None, keepdims=False):
        return _ops.max(self, axis=_axis(axis), keepdims=keepdims)

    def exp(self):
        return _ops.exp(self)

    def log(self):
        return _ops.log(self)

    def tanh(self):
        return _ops.tanh(self)

    def sigmoid(self):
        return _ops.sigmoid(self)

    def relu(self):
        return _ops.relu(self)

    def abs(self):
        return _ops.abs(self)

    def sqrt(self):
        return _ops.power(self, exponent=0.5)

    def reshape(self, *shape):
        if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
            shape = tuple(shape[0])
        return _ops.reshape(self, shape=tuple(int(s) for s in shape))

    def transpose(self, *axes):
        if len(axes) == 1 and isinstance(axes[0], (tuple, list)):
            axes = tuple(axes[0])
        if not axes:
            axes = tuple(reversed(range(self.ndim)))
        return _ops.transpose(self, axes=tuple(int(a) for a in axes))

    @property
    def T(self):
        return self.transpose()


def _value(x: Any) -> Any:
    return x.data if isinstance(x, Tensor) else x


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
        part = part.data
    if isinstance(part, list):
        part = np.asarray(part)
    if isinstance(part, np.ndarray) and part.dtype.kind == "f":
        raise IndexError(f"tensor indices must be integers or booleans, got dtype {part.dtype}")
    return part


def tensor(data: Any, requires_grad: bool = False, name: str | None = None, dtype: Any = None):
    """Make a leaf tensor; float64 unless ``data`` is already floating point or ``dtype`` says.

    >>> x = tensor([[1.0, 2.0]], requires_grad=True, name="x")   # shape (1, 2)
    """
    return Tensor(data, requires_grad=requires_grad, name=name, dtype=dtype)


from autograd_rnn import ops as _ops  # noqa: E402  (ops import Tensor from this module)
