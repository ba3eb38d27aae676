"""Graph analysis: the vanishing-gradient curve, depths from the loss, BPTT's path count.

- ``hidden_state_grad_norms``: ||dL/dh_t|| for every hidden state h_t (the curve that shows
  gradients vanishing or exploding with distance from the loss).
- ``depth_from_loss``: for every node, the number of edges on the shortest (or longest)
  path to the loss.
- ``count_paths(weight, loss)``: the number of distinct paths from a shared weight to the
  loss; BPTT's gradient is the sum over exactly these paths of the product of the local
  Jacobians along each. Dynamic programming over the topological order (ids), no recursion,
  no enumeration: paths(v) = sum over the (ordered, duplicate-keeping) parents p of v of
  paths(p), with paths(weight) = 1.
"""

from __future__ import annotations

import re
from collections import deque

import numpy as np

from autograd_rnn.core.backward import reachable
from autograd_rnn.core.engine import grad
from autograd_rnn.core.state import record_gradients
from autograd_rnn.core.tensor import Tensor
from autograd_rnn.viz.style import norm


def _matching(candidates, pattern: str, scope: str | None):
    """(t, item) for names fully matching ``pattern`` (group 1 = the step) under ``scope``."""
    regex = re.compile(pattern)
    found: dict[int, list] = {}
    for name, item_scope, item in candidates:
        match = regex.fullmatch(name or "")
        if match is None or (scope is not None and not item_scope.startswith(scope)):
            continue
        found.setdefault(int(match.group(1)), []).append((item_scope, item))
    for step, items in found.items():
        if len(items) > 1:
            scopes = sorted(s or "<top level>" for s, _ in items)
            raise ValueError(
                f"{len(items)} tensors match {pattern!r} for step {step} (scopes {scopes}); "
                "pass scope= (e.g. 'lstm/layer1') to pick one layer"
            )
    return {step: items[0][1] for step, items in sorted(found.items())}


def hidden_state_grad_norms(
    source, pattern: str = r"h_(\d+)", scope: str | None = None
) -> dict[int, float]:
    """||dL/dh_t|| per step t, as {t: norm} in increasing t.

    Args:
        source: the loss Tensor (the gradients are computed now with ``ar.grad``, without
            touching any ``.grad``), or a ``networkx.DiGraph`` from ``to_networkx`` after
            backward (its recorded ``grad_norm`` attributes are used).
        pattern: a regular expression matching the hidden states' names in full; its first
            group is the step (default ``h_(\\d+)``; use ``c_(\\d+)`` for LSTM cell states).
        scope: keep only tensors whose scope starts with this (e.g. "lstm/layer1").
    """
    if not isinstance(source, Tensor) and hasattr(source, "nodes"):  # a networkx graph
        nodes = source.nodes
        chosen = _matching(((d["name"], d["scope"], k) for k, d in nodes(data=True)
                            if d["requires_grad"]), pattern, scope)
        missing = [t for t, k in chosen.items() if nodes[k]["grad_norm"] is None]
        if missing:
            raise ValueError(f"no gradient recorded for steps {missing}: run loss.backward() "
                             "(with ar.record_gradients on) before to_networkx")
        return {t: nodes[k]["grad_norm"] for t, k in chosen.items()}
    if not isinstance(source, Tensor):
        raise TypeError(f"source must be the loss Tensor or a networkx.DiGraph, got "
                        f"{type(source).__name__}")
    tensors = reachable([source])
    chosen = _matching(((t.name, t.scope, t) for t in tensors), pattern, scope)
    if not chosen:
        raise ValueError(f"no tensor named like {pattern!r} reaches {source.label!r}")
    with record_gradients(False):
        grads = grad(source, list(chosen.values()))
    return {t: norm(g.data) for t, g in zip(chosen, grads, strict=True)}


def depth_from_loss(loss: Tensor, longest: bool = False) -> dict[int, int]:
    """{tensor id: number of edges to ``loss``} along the shortest (or longest) path, for
    every node ``loss`` depends on (the loss itself has depth 0)."""
    tensors = reachable([loss], only_requires_grad=False)
    if not longest:
        depth = {loss.id: 0}
        queue = deque([loss])
        while queue:
            node = queue.popleft()
            for parent in node.parents:
                if parent is not None and parent.id not in depth:
                    depth[parent.id] = depth[node.id] + 1
                    queue.append(parent)
        return dict(sorted(depth.items()))
    depth = {loss.id: 0}
    for node in reversed(tensors):  # children before parents
        if node.id not in depth:
            continue
        for parent in node.parents:
            if parent is not None:
                depth[parent.id] = max(depth.get(parent.id, 0), depth[node.id] + 1)
    return dict(sorted(depth.items()))


def count_paths(weight: Tensor, loss: Tensor) -> int:
    """The number of distinct directed paths from ``weight`` to ``loss`` (an exact int).

    An op using the same input twice (``a * a``) counts as two edges, as in the chain rule.
    """
    paths = {weight.id: 1}
    for node in reachable([loss], only_requires_grad=False):
        if node is weight:
            continue
        total = sum(paths.get(p.id, 0) for p in node.parents if p is not None)
        if total:
            paths[node.id] = total
    return paths.get(loss.id, 0)


def vanishing_curves(
    steps: int = 30, cells=("rnn", "lstm", "gru"), seed: int = 0, hidden_size: int = 8,
    weight_scale: float | None = None, forget_bias: float = 1.0,
) -> dict[str, dict[int, float]]:
    """||dL/dh_t|| for each cell kind on the same random inputs, with the loss on the last
    step only, so the curve is the product of per-step Jacobians from t to T. The LSTM's
    forget-gate bias starts at ``forget_bias`` (labelled in the key when nonzero)."""
    from autograd_rnn.viz.examples import build_example

    curves = {}
    for cell in cells:
        ex = build_example(cell, steps, seed=seed, hidden_size=hidden_size, loss_at="last",
                           weight_scale=weight_scale, backward=False,
                           forget_bias=forget_bias if cell == "lstm" else 0.0)
        curve = hidden_state_grad_norms(ex.loss)
        label = f"lstm (forget bias {forget_bias:g})" if cell == "lstm" and forget_bias else cell
        curves[label] = {t: v for t, v in curve.items() if t >= 1}
    return curves


def sum_of_edge_contributions(weight: Tensor, roots) -> np.ndarray:
    """The sum, over every edge out of ``weight`` in the graph of ``roots``, of the gradient
    recorded on it: equals ``weight.grad`` after a single backward (BPTT's sum)."""
    from autograd_rnn.viz.view import as_roots

    total = np.zeros_like(weight.data, dtype=np.float64)
    weight = weight.node if isinstance(weight, Tensor) else weight  # graphs hold nodes
    for node in reachable(as_roots(roots), only_requires_grad=False):
        if node.edge_grads is None:
            continue
        for parent, g in zip(node.parents, node.edge_grads, strict=True):
            if parent is weight and g is not None:
                total = total + g
    return total
