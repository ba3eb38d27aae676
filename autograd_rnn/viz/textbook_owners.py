"""Which box of the textbook view each recorded op belongs to (see ``textbook.py``).

``Owners(view)`` walks the op-level ``View`` once, newest op first, so that every op's
consumers are decided before it: named tensors (x_t, h_t, c_t, y_t, L_t) and roots get boxes,
other ops join the earliest box of their own timestep scope that they feed, or else the box of
their consumer; constants get none. ``arrows()`` then merges the tensor edges between boxes,
``weights()`` sums each parameter's gradient edges per box and names the weights on the
arrows that feed their matmuls.
"""

from __future__ import annotations

import re

import numpy as np

from autograd_rnn.core.tensor import Tensor
from autograd_rnn.viz.textbook_model import ParamRow, TArrow, TNode, WeightUse
from autograd_rnn.viz.view import View, VNode, layer_path

ANCHOR = re.compile(r"^(x|h|c|y|L)_(\d+)$")
_STEP = re.compile(r"(?:^|/)t=(\d+)$")
GATE_NAMES = ("i", "f", "g", "o", "r", "z", "n")


def _step_of(scope: str) -> int | None:
    m = _STEP.search(scope or "")
    return int(m.group(1)) if m else None


class Owners:
    """Which box every op of the graph belongs to, and the arrows between boxes."""

    def __init__(self, view: View):
        self.view = view
        self.parents: dict[int, list] = {}  # id(VNode) -> incoming data/const edges
        self.children: dict[int, list] = {}
        self.origin: dict[int, VNode] = {}  # a detached copy -> the drawn state it copies
        self.copies = {id(e.dst) for e in view.edges if e.kind == "detached"}
        for edge in view.edges:
            if edge.kind != "detached":
                self.parents.setdefault(id(edge.dst), []).append(edge)
                self.children.setdefault(id(edge.src), []).append(edge)
            elif edge.src.kind != "cut":
                self.origin[id(edge.dst)] = edge.src
        self.owner: dict[int, TNode | None] = {}
        self.slots: dict[tuple, TNode] = {}
        self.roots: list[TNode] = []
        self.cuts: dict[int, TNode] = {}  # id(VNode cut) -> cut TNode

    # ----- which box each op belongs to --------------------------------------------------
    def anchor_key(self, node: VNode) -> tuple | None:
        if id(node) in self.origin:  # a detached h_k is drawn in h_k's own box
            return self.anchor_key(self.origin[id(node)])
        t = node.members[0]
        m = ANCHOR.match(t.name or "")
        if node.kind in ("param", "cut") or m is None:
            return None
        letter, k = m.group(1), int(m.group(2))
        if letter == "x" and node.kind == "input":
            return ("x", k)
        if letter in ("h", "c"):
            return ("state", layer_path(t.scope), letter, k)
        if letter == "y":
            return ("y", k)
        if letter == "L":
            return ("Lt", k)
        return None

    def slot(self, key: tuple, anchor: Tensor) -> TNode:
        if key not in self.slots:
            if key[0] == "state":
                _, layer, letter, k = key
                self.slots[key] = TNode(letter, f"{layer}:{letter}", k, anchor, layer)
            else:
                self.slots[key] = TNode(key[0], key[0], key[1], anchor)
        return self.slots[key]

    def assign(self) -> None:
        """Owners in reverse creation order, so every consumer is decided first."""
        scope_owner: dict[int, TNode] = {}
        for node in reversed(self.view.nodes):
            t = node.members[0]
            key = self.anchor_key(node)
            if node.kind == "param":
                self.owner[id(node)] = None
                continue
            if node.kind == "cut":
                cut = TNode("cut", "", None, t, detached_from_earlier=True)
                self.cuts[id(node)] = cut
                self.owner[id(node)] = cut
                continue
            if key is not None:
                source = self.origin.get(id(node), node)  # a copy's box shows the original
                box = self.slot(key, source.members[0])
                if node.is_root and key[0] in ("Lt", "y"):
                    self.roots.append(box)
                self.owner[id(node)] = scope_owner[id(node)] = box
                continue
            if node.is_root:
                box = TNode("loss", "loss", None, t)
                self.roots.append(box)
                self.owner[id(node)] = box
                continue
            kids = self.children.get(id(node), [])
            inside = [scope_owner[id(e.dst)] for e in kids if id(e.dst) in scope_owner
                      and e.dst.members[0].scope == t.scope and _step_of(t.scope) is not None]
            if inside:
                box = min(inside, key=lambda b: b.anchor.id)
                self.owner[id(node)] = scope_owner[id(node)] = box
                continue
            if node.kind == "input" and id(node) not in self.copies:
                self.owner[id(node)] = None  # a constant (targets, masks, 1.0): not drawn
                continue
            owners = [self.owner.get(id(e.dst)) for e in kids]
            owners = [o for o in owners if o is not None]
            self.owner[id(node)] = owners[0] if owners else None

    # ----- arrows ------------------------------------------------------------------------
    def arrows(self) -> list[TArrow]:
        merged: dict[tuple[int, int], TArrow] = {}
        joined: set[int] = set()  # detached copies drawn in their origin's box (h_k' in h_k)
        for edge in self.view.edges:
            if edge.kind != "detached":
                continue
            src, dst = self.owner.get(id(edge.src)), self.owner.get(id(edge.dst))
            if src is None or dst is None:
                continue
            if src is dst:  # the arrows leaving the copy are the cut
                joined.add(id(edge.dst))
                continue
            merged[(id(src), id(dst))] = TArrow(src, dst, "detached")
        for edge in self.view.edges:
            src, dst = self.owner.get(id(edge.src)), self.owner.get(id(edge.dst))
            if edge.kind == "detached" or src is None or dst is None or src is dst:
                continue
            kind = "detached" if id(edge.src) in joined else edge.kind
            arrow = merged.get((id(src), id(dst)))
            if arrow is None:
                arrow = merged[(id(src), id(dst))] = TArrow(src, dst, kind)
            elif kind != arrow.kind and arrow.kind != "detached":
                arrow.kind = kind if kind in ("detached", "data") else arrow.kind
            if edge.grads[0] is not None:
                arrow.grads.append(np.asarray(edge.grads[0], dtype=np.float64))
        return list(merged.values())

    def weights(self, arrows: list[TArrow]) -> list[ParamRow]:
        """Contributions of every parameter per box; weights written on their arrows."""
        by_pair = {(id(a.src), id(a.dst)): a for a in arrows}
        rows: dict[int, ParamRow] = {}
        labels = _param_labels(self.view)
        gates = _gates_by_scope(self.view)
        for node in self.view.nodes:
            if node.kind != "param":
                continue
            p = node.members[0]
            row = rows[id(node)] = ParamRow(p, labels[id(node)], [])
            share: dict[int, tuple[TNode, np.ndarray | None]] = {}
            for edge in self.view.uses(node):
                box = self.owner.get(id(edge.dst))
                if box is None:
                    continue
                g = edge.grads[0]
                old = share.get(id(box), (box, None))[1]
                if g is not None:
                    g = np.asarray(g, dtype=np.float64)
                    share[id(box)] = (box, g if old is None else old + g)
                else:
                    share.setdefault(id(box), (box, None))
                if edge.dst.op_name != "matmul":
                    continue
                gate_names = gates.get(edge.dst.members[0].scope, "")
                for source in self._sources(edge.dst, box, node):
                    arrow = by_pair.get((id(source), id(box)))
                    if arrow is not None and not any(w.param is p for w in arrow.weights):
                        arrow.weights.append(WeightUse(p, p.name or row.label, None,
                                                       gate_names))
            row.contributions = [(b, g) for b, g in share.values() if g is not None]
            row.uses = len(share)
        return list(rows.values())

    def _sources(self, op_node: VNode, box: TNode, weight: VNode) -> list[TNode]:
        """The boxes outside ``box`` that the other operand of a matmul comes from."""
        found: list[TNode] = []
        found_ids: set[int] = set()
        stack = [e.src for e in self.parents.get(id(op_node), []) if e.src is not weight]
        seen: set[int] = set()
        while stack:
            node = stack.pop()
            if id(node) in seen:
                continue
            seen.add(id(node))
            owner = self.owner.get(id(node))
            if owner is None:
                continue
            if owner is not box:
                if id(owner) not in found_ids:  # (by identity: == compares fields)
                    found_ids.add(id(owner))
                    found.append(owner)
                continue
            stack.extend(e.src for e in self.parents.get(id(node), []))
        return found


def _gates_by_scope(view: View) -> dict[str, str]:
    """{scope: the gate names (i f g o / r z n) recorded in it, in creation order}: one
    pass over the view (looked up per weight use; a scan per use was quadratic in T)."""
    found: dict[str, list] = {}
    for n in view.nodes:
        t = n.members[0]
        if t.name in GATE_NAMES:
            found.setdefault(t.scope, []).append(t)
    return {scope: " ".join(t.name for t in sorted(ts, key=lambda t: t.id))
            for scope, ts in found.items()}


def _param_labels(view: View) -> dict[int, str]:
    """Parameter names; shared names (W_x of layer0 and layer1) get their layer appended."""
    params = [n for n in view.nodes if n.kind == "param"]
    count: dict[str, int] = {}
    for n in params:
        name = n.members[0].name or "param"
        count[name] = count.get(name, 0) + 1
    labels = {}
    for n in params:
        name = n.members[0].name or "param"
        if count[name] > 1:
            scopes = [e.dst.members[0].scope for e in view.uses(n) if e.dst.members[0].scope]
            where = layer_path(scopes[0]).rsplit("/", 1)[-1] if scopes else ""
            name = f"{name} ({where})" if where else name
        labels[id(n)] = name
    return labels
