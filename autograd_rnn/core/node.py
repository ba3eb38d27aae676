"""The graph node: one vertex of the recorded graph, separate from the tensor the user holds.

A ``Tensor`` is a value plus a link to its ``Node`` (as HIPS autograd's Box and Node, or
tinygrad's Tensor and ctx). A node records how its value was made: the op, the parent
nodes (an ordered tuple, duplicates allowed, ``None`` for a constant input), the input
values its VJPs read (``args``), the op's static parameters, a creation id (ids increase
in topological order: a node is made after its parents) and the ``ar.scope`` path active
when it was made. A leaf node (``op is None``) stands for a tensor the user made.

After backward the node holds the gradient that reached it (``grad``; for leaves this is
``tensor.grad``) and, with gradient recording on, the gradient sent to each parent
(``edge_grads``). Graph readers (diagrams, checks, the compiler) walk nodes only.

Nodes are made in two places only: ``leaf(value)`` for a tensor the user made, and
``Primitive.apply`` for an op (the hot path, inline there). What a node keeps of its own
output and its inputs is decided by the op's ``saves=`` in a lean graph
(``ar.lean_graph()``); a value not kept is the explicit marker ``Dropped`` (its shape and
dtype), never an array.
"""

from __future__ import annotations

import itertools

import numpy as np

from autograd_rnn.core.errors import AutogradError
from autograd_rnn.core.state import STATE

# One clock for node ids (a topological order) and for in-place change times (inplace.py).
clock = itertools.count()
_tick = clock.__next__

# ``node.state`` bits (``core/inplace.py``): a recorded op keeps the value of this node's
# tensor for backward / user code got hold of that array (``Tensor.data``).
SAVED = 1
EXPOSED = 2

# Scalar types of the dtypes values may have (bool, ints, floats, complex): a set lookup is
# the cheapest check of an op's output (``dtype.kind`` builds a string each time).
NUMERIC_TYPES = frozenset(np.dtype(c).type for c in "?bhilqpBHILQPefdgFDG")
FLOAT_TYPES = frozenset(np.dtype(c).type for c in "efdg")


class DroppedValueError(AutogradError):
    """A VJP read a value that its op's ``saves=`` did not declare (dropped in a lean graph)."""


class Dropped:
    """Marker for a value a lean graph did not keep: only its shape and dtype remain.

    Shape-only code works on it (``np.shape(x)``, ``x.ndim``, ``x.dtype``); reading it as
    an array raises ``DroppedValueError``, so a VJP that reads a value its op does not
    declare in ``saves=`` fails loudly instead of computing with a stand-in.
    """

    __slots__ = ("shape", "dtype")

    def __init__(self, shape: tuple[int, ...], dtype) -> None:
        self.shape = shape
        self.dtype = dtype

    @property
    def ndim(self) -> int:
        return len(self.shape)

    @property
    def size(self) -> int:
        return int(np.prod(self.shape))

    def __array__(self, *args, **kwargs):
        raise DroppedValueError(
            f"a VJP read a value of shape {self.shape} that ar.lean_graph() did not keep: "
            "add it to its op's saves= declaration (input positions and/or 'out')"
        )

    def __repr__(self) -> str:
        return f"<value not kept by ar.lean_graph(), shape={self.shape}>"


F64 = np.dtype(np.float64)
# one marker per shape and dtype: keyed by the shape alone for float64 (the common case: a
# shape is cheaper to hash than a dtype), else by (shape, the dtype's identity)
MARKERS: dict[tuple, Dropped] = {}


def dropped(value) -> Dropped | object:
    """The ``Dropped`` marker for an ndarray ``value`` (one per shape and dtype); other
    values (Python numbers, NumPy scalars: they cost nothing) are kept as they are."""
    if type(value) is not np.ndarray:
        return value
    # (a dtype's identity, not the dtype: hashing a dtype costs more than the rest of a
    # lean node; the marker holds its dtype, so the id is not reused while keyed)
    key = value.shape if value.dtype is F64 else (value.shape, id(value.dtype))
    marker = MARKERS.get(key)
    if marker is None:
        if len(MARKERS) >= 4096:
            MARKERS.clear()
        marker = MARKERS[key] = Dropped(value.shape, value.dtype)
    return marker


def is_dropped(value) -> bool:
    """True for a value a lean graph node did not keep."""
    return type(value) is Dropped


def leaf(value, requires_grad: bool = False) -> Node:
    """A leaf node: ``value`` (an array) made by the user. (``Node`` has no ``__init__``:
    ``Node()`` is an empty node, the cheapest object to make; op nodes are filled in by the
    primitive that applies the op, ``Primitive.apply``.)"""
    node = Node()
    node.op = None
    node.parents = node.args = ()
    node.params = None
    node.value = value
    node.requires_grad = requires_grad
    node.scope = STATE.scope
    node.grad = node._edge_grads = None
    node.state = 0
    node.id = _tick()
    return node


def lean_args(parents: tuple, inputs: tuple, drop: tuple) -> tuple:
    """The values a lean node keeps of its ``inputs``: the input itself where its op's VJPs
    read it (``drop`` False), else its parent's own value (a marker, or the array that node
    keeps anyway: no copy), or a marker for a dropped constant (``parent`` None)."""
    if len(inputs) == 1:  # (a recorded one-input op's input is a tensor)
        return (parents[0].value,)
    if len(inputs) == 2 and drop == _BOTH:  # add, subtract
        a, b = parents
        return (dropped(inputs[0]) if a is None else a.value,
                dropped(inputs[1]) if b is None else b.value)
    return tuple([v if not d else dropped(v) if p is None else p.value
                  for p, v, d in zip(parents, inputs, drop, strict=True)])


_BOTH = (True, True)


class FrozenParams(dict):
    """Read-only params shared by many nodes: ``NO_PARAMS`` (every op without parameters; a
    dict per node would cost 64 bytes and, counted by the cyclic collector, make it run more
    often) and getitem's params of a repeated basic index (``ops/methods.py``). Copies
    (pickle, deepcopy) are read-only too; an empty one is ``NO_PARAMS`` itself."""

    __slots__ = ()

    def _read_only(self, *args, **kwargs):
        raise TypeError("a node's params are read-only")

    __setitem__ = __delitem__ = update = setdefault = pop = popitem = clear = _read_only
    __ior__ = _read_only

    def __reduce__(self):
        return (_frozen_params, (dict(self),))


def _frozen_params(items: dict) -> FrozenParams:
    return FrozenParams(items) if items else NO_PARAMS


NO_PARAMS = FrozenParams()


class Node:
    """One recorded op application (or one leaf). See the module docstring. ``Node()`` is an
    empty node (no ``__init__``: the cheapest object to make); ``leaf`` and
    ``Primitive.apply`` fill it in.

    Attributes:
        op: the ``Primitive`` applied, ``None`` for a leaf.
        parents: parent nodes, one per op input (``None`` for a constant input).
        args: the input values the VJPs receive (``Dropped`` where not kept; ``None``
            after ``backward(retain_graph=False)`` freed them).
        params: the op's static keyword parameters, a dict (read-only ``FrozenParams`` when
            shared by many nodes: ``NO_PARAMS`` when none, a repeated gate slice's index).
        value: the op's output (or the leaf's value), or ``Dropped``.
        id, scope, name: creation order, ``ar.scope`` path, optional label.
        requires_grad: whether gradients flow to this node.
        grad, grad_tensor, edge_grads: gradients left by backward (see ``Tensor``).
        detached_from: for ``t.detach()``, a weak reference to the node it was cut from.
        state, watch: in-place change tracking (``core/inplace.py``).
    """

    __slots__ = ("op", "parents", "args", "params", "value", "id", "scope", "requires_grad",
                 "grad", "_edge_grads", "state", "__weakref__", "__dict__")
    # Rarely set: class defaults, kept in the node's own dict (made on first write) once
    # set. A node is made once per op; four stores fewer and 24 bytes less per node.
    name = grad_tensor = detached_from = watch = None

    # ----- read like a tensor (diagrams, checks and the compiler walk nodes) -------------
    @property
    def data(self):
        """The value this node kept (``Dropped`` in a lean graph if no VJP needs it)."""
        return self.value

    @property
    def shape(self) -> tuple[int, ...]:
        return np.shape(self.value)

    @property
    def ndim(self) -> int:
        return len(np.shape(self.value))

    @property
    def size(self) -> int:
        return int(np.prod(self.shape))

    @property
    def dtype(self):
        return self.value.dtype if hasattr(self.value, "dtype") else np.asarray(self.value).dtype

    @property
    def is_leaf(self) -> bool:
        return self.op is None

    @property
    def label(self) -> str:
        """Readable label: the name, or the op name, with the output shape."""
        head = self.name or (self.op.name if self.op is not None else "leaf")
        return f"{head} {self.shape}"

    def __repr__(self) -> str:
        op = f"op={self.op.name}" if self.op is not None else "leaf"
        name = f", name={self.name!r}" if self.name else ""
        where = f", scope={self.scope!r}" if self.scope else ""
        if is_dropped(self.value):
            body = repr(self.value)
        else:
            body = np.array2string(np.asarray(self.value), precision=4, threshold=20,
                                   separator=", ")
        return f"node({body}, {op}{name}{where})"

    # ----- backward ------------------------------------------------------------------------
    @property
    def edge_grads(self) -> tuple | None:
        """The gradient sent to each parent in the last backward with gradient recording on
        (``None`` entries where none flowed), or ``None``. Contributions backward's bulk
        paths skipped are computed here on first read (``core/lazy_edges.py``)."""
        edges = self._edge_grads
        if edges is not None and type(edges) is not tuple:
            edges = self._edge_grads = edges.resolve(self)
        return edges

    @edge_grads.setter
    def edge_grads(self, edges: tuple | None) -> None:
        self._edge_grads = edges

    def free(self) -> None:
        """Drop what backward needs (``backward(retain_graph=False)``): saved inputs and
        parent links; a second backward through this node raises ``GraphFreedError``."""
        self.args = None
        self.parents = (None,) * len(self.parents)
