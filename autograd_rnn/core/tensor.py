"""The ``Tensor``: a NumPy array the user holds, plus the graph node behind it.

A tensor created by the user stands for a *leaf* node (``op is None``). A primitive op
applied while grad mode is on and some input requires grad returns a tensor whose node
records the op (``core/node.py``): its parents, the values its VJPs need, its parameters,
its creation id and scope. The tensor's graph attributes (``op``, ``parents``, ``grad``,
``name``, ...) read and write its node; the value lives in the tensor (``data``), and the
node keeps it too unless a lean graph drops it.

Operators and array methods (``x + y``, ``x @ W``, ``x.sum()``, ``x.tanh()``, ``x[i]``...) are
spelled out in ``autograd_rnn/ops/methods.py``, next to the ops they call.
"""

from __future__ import annotations

import weakref
from operator import attrgetter
from typing import Any

import numpy as np

from autograd_rnn.core import inplace
from autograd_rnn.core.node import Node, leaf

DEFAULT_DTYPE = np.float64


def _as_array(data: Any, dtype: Any) -> np.ndarray:
    if isinstance(data, Tensor):
        data = data._data
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


def _node_attribute(name: str, doc: str, writable: bool = False) -> property:
    """A ``Tensor`` property reading (and, if ``writable``, setting) attribute ``name`` of the
    tensor's node; the getter is ``operator.attrgetter``, as fast as the attribute itself."""

    def set_value(tensor: Tensor, value: Any) -> None:
        setattr(tensor.node, name, value)

    return property(attrgetter(f"node.{name}"), set_value if writable else None, doc=doc)


def _check_float(requires_grad: bool, dtype: np.dtype | None, name: str | None) -> None:
    if requires_grad and dtype is not None and dtype.kind != "f":
        raise TypeError(
            f"only floating-point tensors can require grad, got dtype {dtype}"
            + (f" for {name!r}" if name else "")
            + "; pass floats or dtype=float"
        )


class Tensor:
    """An n-dimensional float array that records the ops applied to it.

    Attributes:
        data: the value, a ``numpy.ndarray``. Assigning (``t.data = new``) rebinds it;
            writing into it (``t.data[...] = v``) while a recorded op still needs the old
            value makes the next backward through that op raise ``InPlaceError``.
        node: the graph ``Node`` standing for this tensor.
        grad: ``numpy.ndarray`` of ``data.shape`` after backward, else ``None``. Leaves
            accumulate across backward calls; intermediate nodes hold the gradient that
            reached them in the last backward (when gradient recording is on).
        grad_tensor: after ``backward(create_graph=True)``, the gradient as a tensor with
            the graph of the backward pass.
        requires_grad: whether gradients flow to this tensor.
        name: optional label used in reports and diagrams.
        op, parents, args, params, scope, id, edge_grads, detached_from: the node's
            (see ``core/node.py``); ``parents`` are nodes.
    """

    __slots__ = ("_data", "node", "__weakref__")
    __array_priority__ = 1000
    __array_ufunc__ = None  # make NumPy defer to Tensor's reflected operators

    def __init__(
        self, data: Any, requires_grad: bool = False, name: str | None = None, dtype: Any = None
    ) -> None:
        given = np.dtype(dtype) if dtype is not None else (
            data.dtype if isinstance(data, (np.ndarray, np.generic, Tensor)) else None
        )
        _check_float(requires_grad, given, name)  # explicitly integer/bool/object data
        array = _as_array(data, dtype)
        self._data = array
        self.node = leaf(array, bool(requires_grad))
        self.node.name = name

    # ----- the value ---------------------------------------------------------------------
    @property
    def data(self) -> np.ndarray:
        node = self.node
        if not node.state & inplace.EXPOSED:
            inplace.expose(node, self._data)
        return self._data

    @data.setter
    def data(self, value: Any) -> None:
        inplace.assign(self, value if type(value) is np.ndarray else np.asarray(value))

    def numpy(self) -> np.ndarray:
        """The value as a NumPy array (shared, not copied)."""
        return self.data

    def item(self) -> float:
        return self._data.item()

    # ----- the node's attributes -----------------------------------------------------------
    grad = _node_attribute("grad", "numpy.ndarray of data.shape after backward, else None",
                           writable=True)
    grad_tensor = _node_attribute(
        "grad_tensor", "after backward(create_graph=True): the gradient as a Tensor",
        writable=True)

    @property
    def requires_grad(self) -> bool:
        return self.node.requires_grad

    @requires_grad.setter
    def requires_grad(self, value: bool) -> None:
        self.node.requires_grad = bool(value)

    name = _node_attribute("name", "str | None: the label in reports and diagrams",
                           writable=True)
    op = _node_attribute("op", "the Primitive that made this tensor (None for a leaf)")
    parents = _node_attribute("parents", "tuple of the parent nodes, in argument order")
    args = _node_attribute("args", "tuple | None: the values the op's VJPs need")
    params = _node_attribute("params", "dict | None: the op's keyword parameters")
    scope = _node_attribute("scope", "str: the scope the op ran in ('rnn/layer0/t=3')")
    id = _node_attribute("id", "int: creation order, the node's id in exports")
    edge_grads = _node_attribute("edge_grads",
                                 "tuple | None: the gradient sent to each parent")
    detached_from = _node_attribute(
        "detached_from", "for t.detach(): a weak reference to the node it was cut from")

    @property
    def is_leaf(self) -> bool:
        return self.node.op is None

    # ----- array-like properties -------------------------------------------------------
    shape = property(attrgetter("_data.shape"), doc="tuple[int, ...]: the value's shape")
    ndim = property(attrgetter("_data.ndim"), doc="int: the value's number of axes")
    size = property(attrgetter("_data.size"), doc="int: the value's number of entries")
    dtype = property(attrgetter("_data.dtype"), doc="numpy.dtype: the value's dtype")

    @property
    def label(self) -> str:
        """Readable node label: the name, or the op name, with the output shape."""
        node = self.node
        head = node.name or (node.op.name if node.op is not None else "leaf")
        return f"{head} {self._data.shape}"

    def __len__(self) -> int:
        return len(self._data)

    def __repr__(self) -> str:
        node = self.node
        origin = f", op={node.op.name}" if node.op is not None else ""
        grad = ", requires_grad=True" if node.requires_grad else ""
        name = f", name={node.name!r}" if node.name else ""
        body = np.array2string(self._data, precision=4, threshold=20, separator=", ")
        return f"tensor({body}{grad}{origin}{name})"

    def __bool__(self) -> bool:
        raise TypeError("the truth value of a Tensor is ambiguous; compare .data or use .item()")

    __hash__ = object.__hash__

    # comparisons give plain boolean arrays: they are not differentiable
    def __lt__(self, other):
        return self._data < value_of(other)

    def __le__(self, other):
        return self._data <= value_of(other)

    def __gt__(self, other):
        return self._data > value_of(other)

    def __ge__(self, other):
        return self._data >= value_of(other)

    def __eq__(self, other):
        return self._data == value_of(other)

    def __ne__(self, other):
        return self._data != value_of(other)

    # ----- graph helpers ---------------------------------------------------------------
    def detach(self) -> Tensor:
        """A new leaf sharing this value, cut from the graph (the cut is remembered weakly
        so diagrams can draw it as a dashed edge)."""
        node = leaf(self._data)
        node.name = self.node.name
        node.detached_from = weakref.ref(self.node)
        return wrap(self._data, node)

    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        if requires_grad and self._data.dtype.kind != "f":
            raise TypeError(f"only floating-point tensors can require grad, got {self.dtype}")
        self.node.requires_grad = requires_grad
        return self

    def zero_grad(self) -> None:
        self.node.grad = None
        self.node.grad_tensor = None

    def backward(self, grad: Any = None, create_graph: bool = False, retain_graph: bool = True):
        """Backpropagate from this tensor; see ``autograd_rnn.core.engine.backward``."""
        from autograd_rnn.core.engine import backward

        backward(self, grad, create_graph=create_graph, retain_graph=retain_graph)


_new = object.__new__


def wrap(data: Any, node: Node) -> Tensor:
    """The tensor holding ``data`` for ``node`` (no copy, no checks: the engine's hot path)."""
    out = _new(Tensor)
    out._data = data
    out.node = node
    return out


def value_of(x: Any) -> Any:
    """The array behind ``x`` if it is a tensor, else ``x`` itself (engine-internal read:
    it does not count as user code holding the array, see ``core/inplace.py``)."""
    return x._data if isinstance(x, Tensor) else x


def tensor(data: Any, requires_grad: bool = False, name: str | None = None, dtype: Any = None):
    """Make a leaf tensor; float64 unless ``data`` is already floating point or ``dtype`` says.

    >>> x = tensor([[1.0, 2.0]], requires_grad=True, name="x")   # shape (1, 2)
    """
    return Tensor(data, requires_grad=requires_grad, name=name, dtype=dtype)
