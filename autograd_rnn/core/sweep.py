"""The engine's backward sweep: the reference loop (``core/backward.py``) plus what training
and inspection need, proven equal to it (``tests/core/test_core_reference.py``).

Same order, same dict of pending gradients dropped once used, same VJPs. On top:

- training (no listeners, anomaly checks or ``create_graph``): VJPs are called
  straight from the loop; weight gradients are summed as one stacked matmul per chunk
  (``defer_outer``) and broadcast bias gradients as one reduction; slices add straight into
  the sliced tensor's gradient (``add_in_place``); sums already made by this sweep are
  added into in place (``owned``) instead of allocating a new array per fan-in;
- gradient recording (``node.grad``, ``node.edge_grads``; see below), listeners
  (step-through traces), anomaly checks (NaN/Inf in a gradient);
- ``targets``: collect the gradients reaching some nodes instead of filling ``.grad``
  (``ar.grad``).

Gradient recording takes the training paths too: every node keeps its gradient, and the
edge contributions the bulk paths never form are kept as lazy entries computed on first
read of ``node.edge_grads`` (``core/lazy_edges.py``). Listeners, anomaly checks and
``create_graph`` observe every contribution as it is made: those sweeps call each VJP
eagerly (``_visit``).
"""

from __future__ import annotations

import numpy as np

from autograd_rnn.core.backward import add_to_leaf, reachable
from autograd_rnn.core.errors import AnomalyError
from autograd_rnn.core.fastpaths import PendingSums, add_in_place, defer_outer
from autograd_rnn.core.inplace import check_saved
from autograd_rnn.core.lazy_edges import keep_edges, rows_edge
from autograd_rnn.core.node import FLOAT_TYPES, DroppedValueError, Node
from autograd_rnn.core.state import STATE, collector_paused
from autograd_rnn.core.tensor import Tensor
from autograd_rnn.core.vjp import fit_gradient, input_gradients


class Sweep:
    """One backward pass. ``run(roots, seeds)`` returns {target node: its gradient}."""

    __slots__ = ("create_graph", "retain_graph", "targets", "record", "listeners", "anomaly",
                 "plain", "batch", "grads", "owned", "pending", "found", "checked")

    def __init__(self, create_graph: bool, retain_graph: bool, targets: set | None) -> None:
        self.create_graph = create_graph
        self.retain_graph = retain_graph
        self.targets = targets
        self.record = STATE.record_gradients
        self.listeners = STATE.listeners
        self.anomaly = STATE.anomaly
        # nothing observes single contributions as they are made: call VJPs inline, sum in
        # bulk (recorded edges the bulk paths skip are computed on first read)
        self.plain = not (create_graph or self.listeners or self.anomaly)
        self.batch = self.plain and targets is None
        self.grads: dict[Node, object] = {}  # gradient waiting at each node
        self.owned: set[Node] = set()  # nodes whose waiting gradient this sweep allocated
        self.pending = PendingSums()  # leaf gradients summed lazily (fastpaths.py)
        self.found: dict[Node, object] = {}
        self.checked: set = set()  # snapshots of saved values found unchanged

    def run(self, roots: list[Node], seeds: list) -> dict:
        """Python's cyclic garbage collector is paused meanwhile (and resumed after, if it
        was on): the sweep makes no cycles, but its automatic passes rescan every live
        node of the graph (bench/README.md, "The interpreter (issue 14)")."""
        with collector_paused():
            return self._sweep(roots, seeds)

    def _sweep(self, roots: list[Node], seeds: list) -> dict:
        for root, seed in zip(roots, seeds, strict=True):
            self._accumulate(root, seed)
        pop, pending, targets = self.grads.pop, self.pending, self.targets
        visit = self._visit_plain if self.plain else self._visit
        watching = STATE.watching
        order = reachable(roots)
        while order:
            node = order.pop()  # dropping our reference lets retain_graph=False free as we go
            g = pop(node, None)
            if pending and node in pending:
                g = self._take_pending(node, g)
            if g is None:
                continue
            if targets is not None and node in targets:
                self.found[node] = g
            if node.op is None:
                if targets is None:
                    add_to_leaf(node, g, self.create_graph, node in self.owned)
                continue
            if watching:
                check_saved(node, self.checked)
            visit(node, g)
            if not self.retain_graph:  # node.free(), inline: once per node
                node.args = None
                node.parents = (None,) * len(node.parents)
        return self.found

    def _take_pending(self, node: Node, g):
        g = self.pending.pop(node).total(g)
        if g.dtype == node.value.dtype:
            self.owned.add(node)
        return g

    def _accumulate(self, node: Node, c) -> None:
        grads = self.grads
        previous = grads.get(node)
        if previous is None:
            grads[node] = c  # not ours: a VJP may return a view of g
        elif self.create_graph:
            grads[node] = previous + c
        elif node in self.owned and previous.dtype == c.dtype:
            np.add(previous, c, out=previous)
        else:
            grads[node] = previous + c
            if previous.ndim:  # a 0-d sum is a NumPy scalar: never add into it in place
                self.owned.add(node)

    # ----- training and recording: nothing observes single contributions as they are made
    def _visit_plain(self, node: Node, g) -> None:
        op, args = node.op, node.args
        skip = lazy = edges = None
        if self.record:  # keep g and every edge; the bulk paths' edges as lazy entries
            node.grad, lazy, edges = g, {}, [None] * len(node.parents)
        if self.batch and args is not None:  # leave contributions to the bulk paths
            if op.outer_vjps:
                skip = defer_outer(node, g, self.pending, lazy, self.retain_graph)
            elif op.inplace_vjps:
                skip = add_in_place(node, g, self.grads, self.owned, lazy)
        vjps = op.vjps
        if vjps is None or args is None:  # a variadic op, or a freed graph (raises)
            edges = self._visit_variadic(node, g, skip)
        else:
            out, params, count, parents = node.value, node.params, len(vjps), node.parents
            grads = self.grads
            try:
                for index in range(len(parents)):
                    parent = parents[index]
                    if (parent is None or not parent.requires_grad or index >= count
                            or vjps[index] is None or (skip and index in skip)):
                        continue
                    c = (vjps[index](g, out, *args, **params) if params
                         else vjps[index](g, out, *args))
                    if (type(c) is not np.ndarray or c.shape != parent.value.shape
                            or c.dtype.type not in FLOAT_TYPES):
                        if self.batch and self._add_rows(parent, c, g, index, lazy):
                            continue
                        c = fit_gradient(node, index, c)
                    if edges is not None:
                        edges[index] = c
                    if parent in grads:  # (most nodes have one consumer: nothing to add to)
                        self._accumulate(parent, c)
                    else:
                        grads[parent] = c
            except DroppedValueError as error:
                raise DroppedValueError(f"op {op.name!r}: {error}") from None
        if lazy:
            keep_edges(node, edges, lazy)
        elif lazy is not None:
            node._edge_grads = tuple(edges)

    def _visit_variadic(self, node: Node, g, skip: list | None) -> list:
        gradients = input_gradients(node, g, False, skip or ())
        for parent, c in zip(node.parents, gradients, strict=True):
            if c is not None:
                self._accumulate(parent, c)
        return gradients

    def _add_rows(self, leaf: Node, c, g, index: int, lazy: dict | None) -> bool:
        """Queue ``c`` if it is a bias's gradient broadcast over a leading axis (one sum
        over all its uses, ``StackedSum.add_rows``); with recording on only when ``c`` is
        ``g`` itself (its lazy edge then holds nothing the node does not)."""
        if (leaf.op is not None or type(c) is not np.ndarray or c.shape[1:] != leaf.value.shape
                or c.dtype.type not in FLOAT_TYPES or not (lazy is None or c is g)):
            return False
        self.pending.entry(leaf).add_rows(c)
        if lazy is not None:
            lazy[index] = rows_edge(c)
        return True

    # ----- everything else: recording, listeners, anomaly checks, create_graph ----------
    def _visit(self, node: Node, g) -> None:
        create_graph = self.create_graph
        if self.record:
            node.grad = g._data if create_graph else g
        for listener in self.listeners:
            listener("backward", node, g)
        gradients = input_gradients(node, g, create_graph)
        parents = node.parents
        for index in range(len(parents)):
            c = gradients[index]
            if c is None:
                continue
            if self.anomaly:
                _check_finite(node, parents[index], c)
            self._accumulate(parents[index], c)
            for listener in self.listeners:
                listener("edge", node, index, c)
        if self.record:
            node.edge_grads = tuple(gradients if not create_graph else
                                    [c if c is None else c._data for c in gradients])


def _check_finite(node: Node, parent: Node, c) -> None:
    value = c._data if isinstance(c, Tensor) else c
    if not np.all(np.isfinite(value)):
        scope = node.scope or "<top level>"
        raise AnomalyError(
            f"op {node.op.name!r} in scope {scope!r} produced NaN/Inf in backward, in the "
            f"gradient for its input {parent.label!r}"
        )
