"""Edge gradients recorded lazily: what backward's bulk paths skipped, computed when read.

With gradient recording on and nothing observing single contributions as they happen (no
listeners, anomaly checks or ``create_graph``), backward takes the training bulk paths
(``core/fastpaths.py``): a weight's uses summed as one stacked matmul, slices added in place
into the sliced tensor's gradient, a broadcast bias summed once over all its uses. Those
paths never form the contribution of one use, which ``node.edge_grads`` must show. Each
such edge gets a ``LazyEdge`` holding what computes it, and the node's ``edge_grads``
resolves on first read (``Node.edge_grads``) to exactly the array the eager VJP call gives
(``tests/core/test_core_lazy_edges.py``): every reader sees plain arrays.

What a lazy edge holds: the gradient at the node's output ``g`` (which the node keeps as
``node.grad`` anyway) and, for a weight's use ``a @ W``, the input ``a``: the node's own
saved value when the graph is kept (read-time in-place checks cover it as they cover a
second backward), else a private copy when that is no larger than the eager gradient would
have been; otherwise the edge is computed eagerly. Costs: a matmul ``a.T @ g`` per weight use
on first read instead of during backward (most recorded graphs are never read edge by edge).
"""

from __future__ import annotations

import numpy as np

from autograd_rnn.core.errors import InPlaceError
from autograd_rnn.core.node import Node


class LazyEdge:
    """One edge contribution not computed yet: ``compute(*inputs)`` on first read.
    ``reads``: the position of the node's input held by reference (checked for in-place
    changes before use), or ``None`` when every value held is the node's gradient or a
    private copy."""

    __slots__ = ("compute", "inputs", "reads")

    def __init__(self, compute, *inputs, reads: int | None = None) -> None:
        self.compute = compute
        self.inputs = inputs
        self.reads = reads


class LazyEdges(list):
    """A node's edge gradients while some are ``LazyEdge``s (one entry per parent);
    ``Node.edge_grads`` replaces it with the resolved tuple on first read."""

    __slots__ = ()

    def resolve(self, node: Node) -> tuple:
        """The tuple of arrays (``None`` where no gradient flowed). A value held by
        reference is first checked as backward checks it before a VJP reads it: changed
        in place since it was saved raises ``InPlaceError``, never a wrong gradient."""
        for entry in self:
            if type(entry) is LazyEdge and entry.reads is not None:
                _check_input(node, entry.reads)
        return tuple([e.compute(*e.inputs) if type(e) is LazyEdge else e for e in self])


def _check_input(node: Node, position: int) -> None:
    from autograd_rnn.core import inplace  # (imports node.py: not at module level)

    parent, args = node.parents[position], node.args
    if args is None or parent is None or parent.watch is None:
        return  # nothing user code could have written through (see core/inplace.py)
    try:
        inplace._verify(node, parent, args[position], position, set())
    except InPlaceError as error:
        raise InPlaceError(f"reading edge_grads (computed on first read): {error}") from None


def keep_edges(node: Node, edges: list, lazy: dict) -> None:
    """Record ``edges`` (the computed contributions, one per parent) with the ``lazy``
    ones ({index: LazyEdge}) in place as ``node.edge_grads``."""
    edges = LazyEdges(edges)
    for index, edge in lazy.items():
        edges[index] = edge
    node._edge_grads = edges  # resolved on first read (Node.edge_grads)


def _outer(left, right):
    # the eager VJP of ``a @ W`` for W, on 2-D arrays: ``a.T @ g`` (ops/linalg.py)
    return left.T @ right


def _rows(block):
    # a bias broadcast over a leading axis: what ``unbroadcast`` sums back (core/vjp.py)
    return np.add.reduce(block, axis=0)


def _scatter(add_into, shape, g, out, args, params):
    # a slice's gradient as the eager VJP makes it: zeros of the input's shape, g added
    acc = np.zeros(shape, dtype=g.dtype)
    add_into(acc, g, out, *args, **params)
    return acc


def outer_edge(node: Node, left, right, retain_graph: bool) -> LazyEdge | None:
    """The lazy ``left.T @ right`` for a weight's use (``Primitive.defvjp_outer``), or
    ``None`` when holding ``left`` would cost more than the eager gradient (compute it)."""
    if retain_graph and node.parents[0] is not None and left is node.args[0]:
        # the node keeps it anyway; checked for in-place changes when read
        return LazyEdge(_outer, left, right, reads=0)
    flags = left.flags
    if left.size > left.shape[1] * right.shape[1] or not (flags.c_contiguous
                                                          or flags.f_contiguous):
        return None
    return LazyEdge(_outer, left.copy(order="K"), right)  # same layout: same matmul


def rows_edge(block) -> LazyEdge:
    """The lazy sum of a broadcast bias's block of rows (the node's ``g`` itself)."""
    return LazyEdge(_rows, block)


def scatter_edge(node: Node, index: int, g) -> LazyEdge:
    """The lazy gradient of a slice's input (``Primitive.defvjp_inplace``)."""
    return LazyEdge(_scatter, node.op.inplace_vjps[index], node.parents[index].value.shape, g,
                    node.value, node.args, node.params)
