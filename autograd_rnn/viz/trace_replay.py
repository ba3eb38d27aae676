"""Replaying a step-through recording: the graph and the gradients known at each step.

``Replay`` consumes the tape's events in order and can produce, at any point, the DOT of the
graph as it was then: ``ar.viz.to_dot`` is called with every visible tensor's ``grad`` and
``edge_grads`` temporarily set to what was known at that moment (restored afterwards).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from autograd_rnn.core.tensor import Tensor


@dataclass
class TraceEvent:
    """One engine event as the tape stored it."""

    kind: str  # "node" | "grad" | "edge"
    node: Tensor
    value: np.ndarray | None = None  # gradient (grad) or contribution (edge)
    parent_index: int = -1
    pass_index: int = 0


class Replay:
    """The graph and the gradients known at one point of the recording."""

    def __init__(self) -> None:
        self.nodes: list[Tensor] = []
        self.visible: dict[int, Tensor] = {}
        self.new_leaves: list[Tensor] = []
        self.pass_index = -1
        self.node_grads: dict[int, np.ndarray] = {}
        self.edge_grads: dict[int, list] = {}
        self.leaf_grads: dict[int, np.ndarray] = {}
        self.received: dict[int, int] = {}

    def apply(self, event: TraceEvent) -> None:
        node = event.node
        if event.kind == "node":
            self.new_leaves = []
            for p in node.parents:
                if p is not None and p.id not in self.visible:
                    self.visible[p.id] = p
                    self.new_leaves.append(p)
            self.nodes.append(node)
            self.visible[node.id] = node
            return
        if event.pass_index != self.pass_index:  # gradients restart with each backward pass
            self.pass_index = event.pass_index
            self.node_grads, self.edge_grads, self.leaf_grads, self.received = {}, {}, {}, {}
        if event.kind == "grad":
            if node.id not in self.visible:  # graph built before recording started
                self._reveal(node)
            self.node_grads[node.id] = event.value
            return
        parent = node.parents[event.parent_index]
        known = self.edge_grads.setdefault(node.id, [None] * len(node.parents))
        known[event.parent_index] = event.value
        self.received[parent.id] = self.received.get(parent.id, 0) + 1
        if parent.op is None:
            previous = self.leaf_grads.get(parent.id)
            self.leaf_grads[parent.id] = event.value if previous is None else previous + event.value

    def _reveal(self, root: Tensor) -> None:
        from autograd_rnn.core.backward import reachable

        for t in reachable([root], only_requires_grad=False):
            if t.id not in self.visible:
                self.visible[t.id] = t
                if t.op is not None:
                    self.nodes.append(t)
        self.nodes.sort(key=lambda t: t.id)

    def dot(self, options: dict, lit: Sequence[int], edges: Sequence[tuple[int, int]]) -> str:
        """DOT source from ``ar.viz.to_dot`` with each visible tensor's gradient fields set
        to what was known at this point, restored afterwards."""
        import autograd_rnn.viz as viz

        saved = [(t, t.grad, t.edge_grads, t.grad_tensor) for t in self.visible.values()]
        try:
            for t in self.visible.values():
                t.grad = self.node_grads.get(t.id, self.leaf_grads.get(t.id))
                known = self.edge_grads.get(t.id)
                t.edge_grads = tuple(known) if known is not None else None
                t.grad_tensor = None
            graph = viz.to_dot(
                list(self.nodes),
                **options,
                highlight_nodes=tuple(lit),
                highlight_edges=tuple(edges),
                visible_nodes=set(self.visible),
            )
            return graph.source
        finally:
            for t, grad, edge_grads, grad_tensor in saved:
                t.grad, t.edge_grads, t.grad_tensor = grad, edge_grads, grad_tensor
