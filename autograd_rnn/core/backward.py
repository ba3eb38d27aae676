"""The backward pass, as a specification: reverse-mode differentiation in one short loop.

``backward_pass`` is the reference: read it to learn what backward does. Visit the nodes
behind the root children-first (decreasing creation id is a reverse topological order:
a node is always made after its parents), keep the gradient waiting at each node in a
dict and take it out once the node is reached (all its children have contributed by then),
call the op's VJP once for each parent that needs a gradient, and add the results up per
parent. Leaves accumulate what reaches them into ``.grad``. It is HIPS autograd's
``backward_pass``, with ``create_graph`` (record the VJPs' ops: gradients of gradients)
and ``retain_graph`` (free saved values as the sweep passes).

``ar.backward``, ``Tensor.backward`` and ``ar.grad`` run the engine's sweep
(``core/sweep.py``): the same algorithm plus training fast paths (weight gradients summed
as one stacked matmul, slices added in place, owned buffers reused) and gradient
recording, listeners and anomaly checks. ``tests/core/test_core_reference.py`` proves the
two equal on every op, model and mode.
"""

from __future__ import annotations

import operator
from collections.abc import Sequence

import numpy as np

from autograd_rnn.core.errors import AutogradError, ShapeError
from autograd_rnn.core.inplace import check_saved
from autograd_rnn.core.node import Node
from autograd_rnn.core.state import enable_grad
from autograd_rnn.core.tensor import Tensor
from autograd_rnn.core.vjp import input_gradients


def backward_pass(root: Tensor, grad=None, *, create_graph: bool = False,
                  retain_graph: bool = True) -> None:
    """Reference backward: accumulate d(root)/d(leaf) into ``leaf.grad`` for every leaf
    that requires grad (and into ``leaf.grad_tensor`` under ``create_graph``).

    ``grad``: the gradient at ``root`` (default 1 for a size-1 root), of ``root.shape``.
    """
    pending = {root.node: seed_gradient(root, grad, create_graph)}
    checked: set = set()  # snapshots of saved values already found unchanged
    with enable_grad():  # under create_graph the VJPs' own ops are recorded
        for node in reversed(reachable([root])):  # every node after all its children
            g = pending.pop(node, None)  # complete now; dropped from the dict once used
            if g is None:
                continue  # no path from the root reaches this node
            if node.op is None:
                add_to_leaf(node, g, create_graph)
                continue
            check_saved(node, checked)  # InPlaceError if a saved value changed since
            for parent, c in zip(node.parents, input_gradients(node, g, create_graph),
                                 strict=True):  # one VJP call per parent needing it
                if c is not None:
                    pending[parent] = pending[parent] + c if parent in pending else c
            if not retain_graph:
                node.free()  # saved values go as the sweep passes


def reachable(roots: Sequence, only_requires_grad: bool = True) -> list[Node]:
    """Every node reachable from ``roots`` (tensors or nodes) through parents, in
    increasing creation id (a topological order: parents before children). Iterative."""
    stack = [r.node if isinstance(r, Tensor) else r for r in roots]
    stack = [n for n in stack if n.requires_grad or not only_requires_grad]
    seen: set[Node] = set()  # nodes hash by identity
    push, visit = stack.append, seen.add
    while stack:
        node = stack.pop()
        if node in seen:
            continue
        visit(node)
        for parent in node.parents:
            if parent is not None and parent not in seen and (
                    parent.requires_grad or not only_requires_grad):
                push(parent)
    return sorted(seen, key=_creation_id)


_creation_id = operator.attrgetter("id")


def seed_gradient(root: Tensor, grad, create_graph: bool):
    """The gradient backward starts from at ``root``: ``grad`` checked (ones for a size-1
    root when ``None``), as an array, or a tensor under ``create_graph``."""
    if not isinstance(root, Tensor):
        raise TypeError(f"backward needs a Tensor, got {type(root).__name__}")
    if not root.requires_grad:
        raise AutogradError(
            f"{root.label!r} does not require grad and has no graph: create leaves with "
            "requires_grad=True (and do not compute it inside ar.no_grad())"
        )
    if grad is None:
        if root.size != 1:
            raise AutogradError(
                f"backward() on {root.label!r} of shape {root.shape} needs grad=: pass an "
                "upstream gradient of that shape, or reduce the output with .sum() first"
            )
        seed = np.ones_like(root._data)
    else:
        value = grad._data if isinstance(grad, Tensor) else grad
        seed = np.asarray(value, dtype=root.dtype)
        if seed.shape != root.shape:
            raise ShapeError(
                f"backward(grad=...) for {root.label!r}: grad has shape {seed.shape} but the "
                f"output has shape {root.shape}"
            )
        if create_graph and isinstance(grad, Tensor):
            return grad
    return Tensor(seed) if create_graph else seed


def add_to_leaf(leaf: Node, g, create_graph: bool = False, owned: bool = False) -> None:
    """Accumulate ``g`` into ``leaf.grad`` in the leaf's dtype (float32 leaves keep float32
    gradients in mixed graphs); under ``create_graph`` also into ``leaf.grad_tensor``.
    ``owned``: ``g`` is a fresh array nobody else holds, usable as ``.grad`` itself."""
    if create_graph:
        leaf.grad_tensor = g if leaf.grad_tensor is None else leaf.grad_tensor + g
        g, owned = g._data, False
    dtype = leaf.value.dtype
    if leaf.grad is None:
        leaf.grad = g if owned and g.dtype == dtype else np.array(g, dtype=dtype)
    else:
        leaf.grad = leaf.grad + np.asarray(g, dtype=dtype)
