"""The drawing model: which boxes and arrows a diagram of a graph has, independent of DOT.

``build_view(roots, detail)`` walks the graph once (iteratively, via ``ar.reachable``) and
returns ``View``: nodes and edges where

- detail="ops": one node per tensor (leaves and op outputs), one edge per (parent, child,
  argument position), carrying ``child.edge_grads[position]``: the gradient that flowed
  along it in the last backward pass;
- detail="cells": every non-parameter tensor with a non-empty scope is folded into one node
  per scope (one node per cell per timestep); the edges between two such nodes carry, per
  crossing tensor, the sum of its contributions (for a shared weight: that step's share).

Parameters (leaves requiring grad) are never folded and never placed in a scope cluster, so
each is drawn once and visibly shared. Node names come from the sorted position of their
smallest tensor id among all nodes of the graph (never ``id()``), so the same program gives
the same names, and names stay stable when ``visible_nodes`` hides part of the graph.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np

from autograd_rnn.core.backward import reachable
from autograd_rnn.core.node import Node
from autograd_rnn.core.tensor import Tensor

HIDDEN_NAME = re.compile(r"^([hc])_(\d+)$")
_TIME_PART = re.compile(r"^t=\d+$")


@dataclass
class VNode:
    """A box: ``members`` are the tensors it stands for (one in ops mode)."""

    sort_key: tuple[int, int]
    kind: str  # "param" | "input" | "op" | "cell" | "cut"
    members: list[Tensor]
    cluster: str  # scope path of the enclosing cluster ("" for none)
    is_root: bool = False
    name: str = ""  # DOT name "n<k>", set by build_view
    outputs: list[Tensor] = field(default_factory=list)  # cells: tensors used outside

    @property
    def op_name(self) -> str | None:
        """The op that made the (first) tensor, None for a leaf."""
        op = self.members[0].op
        return None if op is None else op.name


@dataclass
class VEdge:
    """An arrow src -> dst (data-flow direction); ``parents[i]`` sent ``grads[i]`` back."""

    src: VNode
    dst: VNode
    kind: str  # "data" | "const" | "detached"
    parents: list[Tensor]
    grads: list  # per parent: summed gradient array, or None when none was recorded
    pairs: set[tuple[int, int]]  # (parent id, child id) of the tensor edges it stands for
    order: tuple[int, int, int] = (0, 0, 0)


@dataclass
class View:
    nodes: list[VNode]
    edges: list[VEdge]
    chains: dict[str, list[VNode]]  # hidden-state chains (h_0 -> h_1 -> ...) per layer
    has_grads: bool  # some backward recorded per-edge gradients into this graph
    by_tensor: dict[int, VNode]  # id(tensor) -> node
    out: dict[int, list[VEdge]] = field(default_factory=dict)  # id(node) -> edges from it

    def __post_init__(self) -> None:
        for edge in self.edges:
            self.out.setdefault(id(edge.src), []).append(edge)

    def uses(self, node: VNode) -> list[VEdge]:
        """The data edges leaving ``node`` (for a parameter: one per use)."""
        return [e for e in self.out.get(id(node), ()) if e.kind == "data"]


def as_roots(roots) -> list[Node]:
    """A tensor (or graph node) or an iterable of them -> their graph nodes (clear error
    otherwise)."""
    if isinstance(roots, (Tensor, Node)):
        roots = [roots]
    try:
        items = list(roots)
    except TypeError:
        raise TypeError(
            f"roots must be a Tensor or a list of Tensors, got {type(roots).__name__}"
        ) from None
    if not items:
        raise ValueError("roots is empty: pass the loss (or the tensors) to draw")
    for r in items:
        if not isinstance(r, (Tensor, Node)):
            raise TypeError(f"roots must contain Tensors, got {type(r).__name__}")
    return [r.node if isinstance(r, Tensor) else r for r in items]


def is_param(t: Tensor) -> bool:
    return t.op is None and t.requires_grad


def step_of(scope: str) -> int | None:
    """The timestep of a scope: "rnn/layer0/t=3" -> 3; None outside timestep scopes."""
    last = (scope or "").rsplit("/", 1)[-1]
    return int(last[2:]) if _TIME_PART.match(last) else None


def layer_path(scope: str) -> str:
    """The scope without its ``t=<k>`` parts: "rnn/layer0/t=3" -> "rnn/layer0"."""
    return "/".join(p for p in scope.split("/") if p and not _TIME_PART.match(p))


def _group_key(t: Tensor, detail: str) -> str | None:
    """The cell a tensor folds into (detail="cells"): its scope, unless it is a leaf (an
    input x_t, an initial state h_0, a parameter), which keeps a box of its own."""
    if detail == "ops" or t.op is None or not t.scope:
        return None
    return t.scope


def timesteps(roots) -> int:
    """How many timesteps the graph unrolls: the largest t of a state named h_t / c_t
    (0 when there is none)."""
    steps = 0
    for t in reachable(as_roots(roots), only_requires_grad=False):
        match = HIDDEN_NAME.match(t.name or "")
        if match is not None:
            steps = max(steps, int(match.group(2)))
    return steps


def count_nodes(roots, detail: str = "ops") -> int:
    """How many boxes ``build_view`` would draw (cheap: no labels, no edges)."""
    if detail not in ("ops", "cells"):
        raise ValueError(f"detail must be 'ops' or 'cells', got {detail!r}")
    tensors = reachable(as_roots(roots), only_requires_grad=False)
    keys = [_group_key(t, detail) for t in tensors]
    drawn = {id(t) for t in tensors}
    cuts = sum(1 for t in tensors if t.detached_from is not None
               and id(t.detached_from()) not in drawn)
    return sum(k is None for k in keys) + len({k for k in keys if k is not None}) + cuts


def build_view(roots, detail: str = "ops") -> View:
    """The nodes, edges and hidden-state chains to draw for the graph behind ``roots``."""
    if detail not in ("ops", "cells"):
        raise ValueError(f"detail must be 'ops' or 'cells', got {detail!r}")
    roots = as_roots(roots)
    tensors = reachable(roots, only_requires_grad=False)
    root_ids = {id(r) for r in roots}
    nodes: list[VNode] = []
    by_tensor: dict[int, VNode] = {}
    groups: dict[str, VNode] = {}
    for t in tensors:
        key = _group_key(t, detail)
        if key is None:
            kind = "param" if is_param(t) else ("input" if t.op is None else "op")
            cluster = "" if kind == "param" else t.scope
            if detail == "cells" and _TIME_PART.match(cluster.rsplit("/", 1)[-1]):
                cluster = cluster.rsplit("/", 1)[0] if "/" in cluster else ""  # beside its cell
            node = VNode((t.id, 1), kind, [t], cluster, id(t) in root_ids)
            nodes.append(node)
        elif key in groups:
            node = groups[key]
            node.members.append(t)
            node.is_root = node.is_root or id(t) in root_ids
        else:
            cluster = key.rsplit("/", 1)[0] if "/" in key else ""
            node = VNode((t.id, 1), "cell", [t], cluster, id(t) in root_ids)
            groups[key] = node
            nodes.append(node)
        by_tensor[id(t)] = node
    edges = _data_edges(tensors, by_tensor, detail)
    edges += _detached_edges(tensors, by_tensor, nodes)
    nodes.sort(key=lambda n: n.sort_key)
    for k, node in enumerate(nodes):
        node.name = f"n{k}"
    edges.sort(key=lambda e: e.order)
    has_grads = any(t.edge_grads is not None for t in tensors)
    return View(nodes, edges, _chains(tensors, by_tensor), has_grads, by_tensor)


def _data_edges(tensors, by_tensor, detail) -> list[VEdge]:
    merged: dict[tuple[int, int], VEdge] = {}
    edges: list[VEdge] = []
    for child in tensors:
        dst = by_tensor[id(child)]
        recorded = child.edge_grads
        for index, parent in enumerate(child.parents):
            if parent is None:
                continue
            src = by_tensor[id(parent)]
            grad = recorded[index] if recorded is not None else None
            pair = (parent.id, child.id)
            kind = "data" if parent.requires_grad else "const"
            if detail == "ops":
                edges.append(VEdge(src, dst, kind, [parent], [grad], {pair},
                                   (child.id, index, 0)))
                continue
            if src is dst:
                continue
            edge = merged.get((id(src), id(dst)))
            if edge is None:
                edge = VEdge(src, dst, kind, [], [], set(), (child.id, index, 0))
                merged[(id(src), id(dst))] = edge
                edges.append(edge)
            edge.pairs.add(pair)
            if kind == "data":
                edge.kind = "data"
            i = next((k for k, p in enumerate(edge.parents) if p is parent), None)
            if i is None:
                edge.parents.append(parent)
                edge.grads.append(None if grad is None else np.array(grad))
            elif grad is not None:
                old = edge.grads[i]
                edge.grads[i] = np.array(grad) if old is None else old + grad
            if src.kind == "cell" and not any(o is parent for o in src.outputs):
                src.outputs.append(parent)
    return edges


def _detached_edges(tensors, by_tensor, nodes) -> list[VEdge]:
    """Dashed "truncated" arrows from a detached hidden state's origin (or a marker)."""
    edges = []
    for t in tensors:
        ref = t.detached_from
        if ref is None:
            continue
        dst = by_tensor[id(t)]
        origin = ref()
        if origin is not None and id(origin) in by_tensor:
            src = by_tensor[id(origin)]
            parents = [origin]
        else:
            src = VNode((t.id, 0), "cut", [t], dst.cluster)
            nodes.append(src)
            parents = []
        pair = (origin.id if origin is not None else -1, t.id)
        edges.append(VEdge(src, dst, "detached", parents, [None] * len(parents), {pair},
                           (t.id, -1, 0)))
    return edges


def _chains(tensors, by_tensor) -> dict[str, list[VNode]]:
    """Hidden states named h_<t> / c_<t>, per (layer, letter), ordered by t."""
    found: dict[str, dict[int, VNode]] = {}
    for t in tensors:
        match = HIDDEN_NAME.match(t.name or "")
        if match is None or is_param(t):
            continue
        letter, step = match.group(1), int(match.group(2))
        key = f"{letter}:{layer_path(t.scope)}"
        found.setdefault(key, {})[step] = by_tensor[id(t)]
    # a scope-less h_0 (made before the loop) joins the only chain of its letter
    for key in [k for k in found if k.endswith(":")]:
        letter = key[0]
        others = [k for k in found if k[0] == letter and k != key]
        if len(others) == 1:
            for step, node in found.pop(key).items():
                found[others[0]].setdefault(step, node)
    chains = {}
    for key in sorted(found, key=lambda k: (not k.startswith("h:"), k)):  # h before c
        ordered = [found[key][s] for s in sorted(found[key])]
        unique = []
        for node in ordered:
            if not unique or unique[-1] is not node:
                unique.append(node)
        if len(unique) > 1 and not any(_same(unique, c) for c in chains.values()):
            chains[key] = unique
    return chains


def _same(a: list, b: list) -> bool:
    return len(a) == len(b) and all(x is y for x, y in zip(a, b, strict=False))


def filter_view(view: View, visible: Iterable[int] | None) -> View:
    """Keep only nodes with a member whose ``.id`` is in ``visible`` (None keeps all)."""
    if visible is None:
        return view
    keep_ids = set(visible)
    kept = [n for n in view.nodes if any(m.id in keep_ids for m in n.members)]
    kept_set = {id(n) for n in kept}
    edges = [e for e in view.edges if id(e.src) in kept_set and id(e.dst) in kept_set]
    chains = {k: [n for n in c if id(n) in kept_set] for k, c in view.chains.items()}
    return View(kept, edges, {k: c for k, c in chains.items() if len(c) > 1}, view.has_grads,
                view.by_tensor)
