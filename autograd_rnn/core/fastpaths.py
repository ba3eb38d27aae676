"""Bulk gradient paths used by backward when nothing observes single contributions as
they are made (training; gradient recording, which keeps the skipped edges as lazy entries
computed on first read: ``core/lazy_edges.py``).

Backward may then produce the same sums more cheaply:

- ``defer_outer``: a weight reused at every timestep receives ``a_t.T @ g_t`` per use
  (``Primitive.defvjp_outer``); the uses are queued and summed as one stacked GEMM per
  chunk of rows, ``[a_1; ...; a_n].T @ [g_1; ...; g_n]`` (``StackedSum``).
- ``StackedSum.add_rows``: a bias broadcast over a leading axis is summed once over all
  its stacked uses instead of once per use.
- ``add_in_place``: a slice's gradient is added straight into the running gradient of the
  sliced tensor (``Primitive.defvjp_inplace``) instead of a zero array per slice.

The results equal the reference backward's to round-off (tests/core/test_core_reference.py,
tests/bench/test_engine_fastpath.py).
"""

from __future__ import annotations

import numpy as np

from autograd_rnn.core.lazy_edges import outer_edge, scatter_edge
from autograd_rnn.core.node import Node


class PendingSums(dict):
    """{leaf node: StackedSum} for one backward sweep, plus ``memo``: the stacks already
    built in this sweep, keyed by the identities of their parts. The weights of one step
    share the gradient they receive (``x_t W_x + h W_h + b``: the same ``g`` reaches W_x,
    W_h and b), so ``[g_1; ...; g_n]`` is built once for all three."""

    def __init__(self) -> None:
        super().__init__()
        self.memo: dict[tuple, np.ndarray] = {}

    def entry(self, key: Node) -> StackedSum:
        found = self.get(key)
        if found is None:
            found = self[key] = StackedSum(self.memo)
        return found


def _stacked(parts: list, memo: dict):
    """``np.concatenate(parts)``, built once per sweep for the same parts."""
    if len(parts) == 1:
        return parts[0]
    key = tuple([id(p) for p in parts])  # the parts stay referenced while the key lives
    found = memo.get(key)
    if found is None:
        found = memo[key] = (np.concatenate(parts), parts)
    return found[0]


class StackedSum:
    """Pending contributions to one leaf, summed in chunks of rows (bounded memory):
    outer products ``left_k.T @ right_k`` as ``[left_1; ...].T @ [right_1; ...]`` (one GEMM)
    and broadcast blocks ``block_k`` (n_k, *shape) as one sum over ``[block_1; ...]``.

    One GEMM over all rows is much faster than several smaller ones (bench/README.md), so
    a chunk holds up to 8,192 rows: at most the size of the gradient buffer a hand-written
    BPTT keeps."""

    CHUNK_ROWS = 8192

    __slots__ = ("lefts", "rights", "blocks", "rows", "acc", "memo")

    def __init__(self, memo: dict | None = None) -> None:
        self.memo = {} if memo is None else memo
        self.lefts: list = []
        self.rights: list = []
        self.blocks: list = []
        self.rows = 0
        self.acc = None

    def add(self, left, right) -> None:
        self.lefts.append(left)
        self.rights.append(right)
        self.rows += left.shape[0]
        if self.rows >= self.CHUNK_ROWS:
            self._flush()

    def add_rows(self, block) -> None:
        self.blocks.append(block)
        self.rows += block.shape[0]
        if self.rows >= self.CHUNK_ROWS:
            self._flush()

    def _flush(self) -> None:
        if self.lefts:
            self._add(_stacked(self.lefts, self.memo).T @ _stacked(self.rights, self.memo))
        if self.blocks:
            self._add(np.add.reduce(_stacked(self.blocks, self.memo), axis=0))
        self.lefts, self.rights, self.blocks, self.rows = [], [], [], 0

    def _add(self, c) -> None:
        if self.acc is None:
            # fresh from matmul / reduce; a 0-d sum comes back as a NumPy scalar
            self.acc = c if type(c) is np.ndarray else np.array(c)
        elif self.acc.dtype == c.dtype:
            np.add(self.acc, c, out=self.acc)
        else:
            self.acc = self.acc + c

    def total(self, g):
        """The summed contributions plus ``g`` (None or an ordinary gradient): a new array."""
        if self.lefts or self.blocks:
            self._flush()
        return self.acc if g is None else self.acc + g


def add_in_place(node: Node, g, grads: dict, owned: set, lazy: dict | None = None) -> list:
    """Add the in-place VJPs of ``node`` (Primitive.defvjp_inplace) straight into the
    parents' running gradients, made our own first; return the indices handled.
    ``lazy``: with gradient recording on, {index: the edge as a ``LazyEdge``}, filled here.
    (``node`` was not freed: the sweep checks ``node.args`` first.)"""
    handled = []
    parents = node.parents
    for index, add_into in node.op.inplace_vjps.items():
        parent = parents[index]
        if parent is None or not parent.requires_grad:
            continue
        acc = grads.get(parent)
        if acc is None or parent not in owned or acc.dtype != g.dtype:
            dtype = g.dtype if acc is None else np.result_type(acc, g)
            fresh = np.zeros(parent.value.shape, dtype=dtype)
            if acc is not None:
                fresh += acc
            acc = grads[parent] = fresh
            owned.add(parent)
        add_into(acc, g, node.value, *node.args, **node.params)
        handled.append(index)
        if lazy is not None:
            lazy[index] = scatter_edge(node, index, g)
    return handled


def defer_outer(node: Node, g, pending: PendingSums, lazy: dict | None = None,
                retain_graph: bool = True) -> list:
    """Queue the outer-product VJPs of ``node`` that go to leaves; return their indices.
    ``lazy``: with gradient recording on, {index: the edge as a ``LazyEdge``}, filled here
    (a use whose lazy edge would hold more memory than its gradient is left to the caller)."""
    deferred = []
    parents = node.parents
    for index, factors in node.op.outer_vjps.items():
        leaf = parents[index]
        if leaf is None or leaf.op is not None or not leaf.requires_grad:
            continue
        pair = factors(g, node.value, *node.args, **node.params)
        if pair is None:
            continue
        left, right = pair
        if left.shape[0] != right.shape[0] or (left.shape[1], right.shape[1]) != leaf.value.shape:
            continue
        if lazy is not None:
            edge = outer_edge(node, left, right, retain_graph)
            if edge is None:
                continue
            lazy[index] = edge
        pending.entry(leaf).add(left, right)
        deferred.append(index)
    return deferred
