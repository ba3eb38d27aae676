"""``to_networkx(roots) -> networkx.DiGraph``: the recorded graph for analysis.

Nodes are keyed by tensor id (``tensor.id``, a topological order) with attributes ``op``
(op name, or "leaf"), ``kind`` ("param" | "input" | "op"), ``shape``, ``scope``, ``name``,
``requires_grad``, ``value_norm`` (None for a value a lean graph did not keep),
``grad_norm`` (None before backward) and ``tensor`` (the graph node). An edge parent ->
child (data-flow direction) has ``grad_norm``: the norm of
the gradient sent back along it in the last backward (summed when the child uses the same
parent twice, as in ``a * a``; None when none was recorded), and ``multiplicity``.
"""

from __future__ import annotations

import numpy as np

from autograd_rnn.core.backward import reachable
from autograd_rnn.viz.style import kept, norm
from autograd_rnn.viz.view import as_roots, is_param


def to_networkx(roots) -> networkx.DiGraph:  # noqa: F821 (imported lazily: slow import)
    """The graph behind ``roots`` (a Tensor or list) as a ``networkx.DiGraph``."""
    import networkx as nx

    tensors = reachable(as_roots(roots), only_requires_grad=False)
    graph = nx.DiGraph()
    for t in tensors:
        graph.add_node(
            t.id,
            op=t.op.name if t.op is not None else "leaf",
            kind="param" if is_param(t) else ("input" if t.op is None else "op"),
            shape=tuple(t.shape),
            requires_grad=t.requires_grad,
            scope=t.scope,
            name=t.name,
            value_norm=norm(t.data) if kept(t.data) else None,
            grad_norm=None if t.grad is None else norm(t.grad),
            tensor=t,
        )
    for child in tensors:
        recorded = child.edge_grads
        for index, parent in enumerate(child.parents):
            if parent is None:
                continue
            grad = recorded[index] if recorded is not None else None
            if graph.has_edge(parent.id, child.id):
                data = graph.edges[parent.id, child.id]
                data["multiplicity"] += 1
                if grad is not None:
                    data["_sum"] = grad if data["_sum"] is None else data["_sum"] + grad
            else:
                graph.add_edge(parent.id, child.id, multiplicity=1,
                               _sum=None if grad is None else np.asarray(grad))
    for _, _, data in graph.edges(data=True):
        total = data.pop("_sum")
        data["grad_norm"] = None if total is None else norm(total)
    return graph
