"""The textbook view of an unrolled network: ``build_textbook(roots) -> Textbook``.

The figure every course draws (Goodfellow et al., Fig. 10.3): one column per timestep, x_t at
the bottom, the state h_t (an LSTM's c_t below it) in the middle, y_t / L_t on top, the shared
weights written on the arrows. It is built from the recorded graph (the op-level ``View``),
not from a template, using the names and scopes the recurrent layers record:

- *anchors* are the tensors that become boxes: inputs ``x_t``, states ``h_t`` / ``c_t`` (their
  row is the scope's layer path, e.g. ``rnn/layer1`` or ``rnn/layer0_reverse``), outputs
  ``y_t``, per-step losses ``L_t`` and the roots (the total loss ``L``);
- every other op joins the earliest anchor of its own timestep scope that it feeds (so a
  cell's gates fold into its state box, an LSTM's gates into ``c_t``), or else the box of
  the op that consumes it (the sum of the L_t joins ``L``); constants are not drawn;
- an arrow A -> B stands for all tensor edges from A's ops to B's ops and carries the summed
  gradient sent back along them; a weight used by a matmul in B whose other operand comes
  from A is written on that arrow, with its contribution at this step (the gradient edges
  from the weight into B's ops, summed): a weight's contributions add up to its gradient;
- a detached state (truncated BPTT) gives a "detached" arrow across the cut.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np

from autograd_rnn.core.tensor import Tensor
from autograd_rnn.viz.view import View, VNode, build_view, layer_path

ANCHOR = re.compile(r"^(x|h|c|y|L)_(\d+)$")
_STEP = re.compile(r"(?:^|/)t=(\d+)$")
GATE_NAMES = ("i", "f", "g", "o", "r", "z", "n")


@dataclass
class TNode:
    """A box: ``kind`` is x, h, c, y, Lt (per-step loss), loss (a root) or cut."""

    kind: str
    row: str  # "x", "<layer path>:c", "<layer path>:h", "y", "Lt", "loss"
    column: int | None  # timestep (0 for h_0 / c_0); None: placed by the layout (roots)
    anchor: Tensor
    layer: str = ""
    name: str = ""  # DOT name, set by build_textbook
    detached_from_earlier: bool = False  # a cut node: an earlier chunk that is not drawn


@dataclass
class WeightUse:
    """A weight written on an arrow: ``contribution`` is this step's share of its gradient
    (None before backward); ``gates`` the gate names of the cell ("i f g o"), if any;
    ``label`` its name (the arrow's row tells layers apart)."""

    param: Tensor
    label: str
    contribution: np.ndarray | None
    gates: str = ""


@dataclass
class TArrow:
    src: TNode
    dst: TNode
    kind: str  # "data" (a gradient flows back), "const" (none needed) or "detached"
    grads: list = field(default_factory=list)  # gradient arrays sent back to src's tensors
    weights: list[WeightUse] = field(default_factory=list)

    @property
    def grad_norm(self) -> float | None:
        grads = [g for g in self.grads if g is not None]
        if not grads:
            return None
        return float(np.sqrt(sum(float(np.sum(np.square(g))) for g in grads)))


@dataclass
class ParamRow:
    """One line of the parameter table: the contributions per box, and their sum."""

    param: Tensor
    label: str
    contributions: list[tuple[TNode, np.ndarray]]
    uses: int = 0  # boxes (timesteps) using it, gradients recorded or not

    @property
    def total(self) -> np.ndarray | None:
        if not self.contributions:
            return None
        return np.sum([c for _, c in self.contributions], axis=0)


@dataclass
class Textbook:
    nodes: list[TNode]
    arrows: list[TArrow]
    params: list[ParamRow]
    rows: list[str]  # bottom to top
    columns: list[int]
    chunks: list[tuple[int, int]]  # (first, last) column of each truncated-BPTT chunk
    has_grads: bool


def _step_of(scope: str) -> int | None:
    m = _STEP.search(scope or "")
    return int(m.group(1)) if m else None


class _Builder:
    def __init__(self, view: View):
        self.view = view
        self.parents: dict[int, list] = {}  # id(VNode) -> incoming data/const edges
        self.children: dict[int, list] = {}
        self.origin: dict[int, VNode] = {}  # a detached copy -> the drawn state it copies
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
        if letter == "x" and t.op is None:
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
            if node.kind == "input" and t.detached_from is None:
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
                op = edge.dst.members[0].op
                if op is None or op.name != "matmul":
                    continue
                for source in self._sources(edge.dst, box, node):
                    arrow = by_pair.get((id(source), id(box)))
                    if arrow is not None and not any(w.param is p for w in arrow.weights):
                        arrow.weights.append(WeightUse(p, p.name or row.label, None,
                                                       _gates(self.view, edge.dst)))
            row.contributions = [(b, g) for b, g in share.values() if g is not None]
            row.uses = len(share)
        return list(rows.values())

    def _sources(self, op_node: VNode, box: TNode, weight: VNode) -> list[TNode]:
        """The boxes outside ``box`` that the other operand of a matmul comes from."""
        found: list[TNode] = []
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
                if owner not in found:
                    found.append(owner)
                continue
            stack.extend(e.src for e in self.parents.get(id(node), []))
        return found


def _gates(view: View, op_node: VNode) -> str:
    """The gate names (i f g o / r z n) recorded in the scope of ``op_node``."""
    scope = op_node.members[0].scope
    names = [n.members[0] for n in view.nodes if n.members[0].scope == scope
             and n.members[0].name in GATE_NAMES]
    return " ".join(t.name for t in sorted(names, key=lambda t: t.id))


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


def build_textbook(roots) -> Textbook:
    """The boxes, arrows and parameter table of the textbook view of ``roots``' graph.

    Raises ``ValueError`` when the graph has no recurrent states named ``h_<t>`` (the
    naming contract of ``ar.nn`` and ``ar.viz.build_example``; ops outside timestep scopes
    join the first named box they feed, so a hand-written loop with names works too).
    """
    view = build_view(roots, "ops")
    builder = _Builder(view)
    builder.assign()
    _merge_scopeless_states(builder)
    nodes = _ordered_nodes(builder)
    if not any(n.kind == "h" for n in nodes):
        raise ValueError(
            "detail='textbook' draws recurrent networks whose states are named h_1, h_2, ... "
            "(ar.nn layers and ar.viz.build_example name them, in timestep scopes); this "
            "graph has none: use detail='ops' or detail='cells'"
        )
    arrows = builder.arrows()
    params = builder.weights(arrows)
    _place(nodes, arrows)
    rows = _rows(nodes)
    columns = sorted({n.column for n in nodes if n.column is not None})
    arrows.sort(key=lambda a: (rows.index(a.dst.row) if a.dst.row in rows else len(rows),
                               a.dst.column if a.dst.column is not None else 10**9,
                               a.src.anchor.id))
    _fill_contributions(arrows, params)
    for k, node in enumerate(nodes):
        node.name = f"n{k}"
    return Textbook(nodes, arrows, params, rows, columns, _chunks(arrows, columns),
                    view.has_grads)


def _fill_contributions(arrows: list[TArrow], params: list[ParamRow]) -> None:
    """Each weight's share in a box goes on the first arrow into that box naming it (a
    matmul fed from two boxes, as after a bidirectional layer, names it on both)."""
    share = {(id(row.param), id(box)): g for row in params for box, g in row.contributions}
    given: set[tuple[int, int]] = set()
    for arrow in arrows:
        for w in arrow.weights:
            key = (id(w.param), id(arrow.dst))
            if key not in given:
                w.contribution = share.get(key)
                given.add(key)


def _merge_scopeless_states(builder: _Builder) -> None:
    """An h_0 made before the loop (empty scope) joins the only layer of its letter."""
    for key in [k for k in builder.slots if k[0] == "state" and k[1] == ""]:
        layers = {k[1] for k in builder.slots if k[0] == "state" and k[2] == key[2] and k[1]}
        if len(layers) != 1:
            continue
        target = (key[0], layers.pop(), key[2], key[3])
        old = builder.slots.pop(key)
        if target in builder.slots:
            new = builder.slots[target]
        else:
            new = builder.slots[target] = TNode(key[2], f"{target[1]}:{key[2]}", key[3],
                                                old.anchor, target[1])
        for k, owner in builder.owner.items():
            if owner is old:
                builder.owner[k] = new


def _ordered_nodes(builder: _Builder) -> list[TNode]:
    nodes = sorted(builder.slots.values(), key=lambda n: n.anchor.id)
    nodes += sorted(builder.cuts.values(), key=lambda n: n.anchor.id)
    seen = {id(n) for n in nodes}
    nodes += [r for r in sorted(builder.roots, key=lambda n: n.anchor.id) if id(r) not in seen]
    used = {id(o) for o in builder.owner.values() if o is not None}
    return [n for n in nodes if id(n) in used]


def _place(nodes: list[TNode], arrows: list[TArrow]) -> None:
    """Columns of cut markers and of a reverse direction's initial state (right edge)."""
    last = max((n.column for n in nodes if n.column is not None), default=0)
    for node in nodes:
        if node.kind in ("h", "c") and node.column == 0 and node.layer.endswith("_reverse"):
            node.column = last + 1
    for arrow in arrows:
        if arrow.src.kind == "cut":
            arrow.src.row = arrow.dst.row
            step = -1 if not arrow.dst.layer.endswith("_reverse") else 1
            arrow.src.column = (arrow.dst.column or 0) + step


def _rows(nodes: list[TNode]) -> list[str]:
    """Rows bottom to top: x, then per layer (in recording order) c and h, then y, L_t, L."""
    layers: list[str] = []
    for node in sorted(nodes, key=lambda n: n.anchor.id):
        if node.kind in ("h", "c") and node.layer not in layers:
            layers.append(node.layer)
    rows = ["x"]
    for layer in layers:
        if layer.endswith("_reverse") and layer == layers[1]:
            rows = [f"{layer}:h", f"{layer}:c"] + rows  # the first reverse row: under x
        else:
            rows += [f"{layer}:c", f"{layer}:h"]
    rows += ["y", "Lt", "loss"]
    present = {n.row for n in nodes}
    return [r for r in rows if r in present]


def _chunks(arrows: list[TArrow], columns: list[int]) -> list[tuple[int, int]]:
    """Truncated-BPTT chunks: column ranges separated by detached arrows."""
    cuts = sorted({a.src.column for a in arrows if a.kind == "detached"
                   and a.src.column is not None and a.src.kind != "cut"})
    if not cuts or not columns:
        return []
    chunks, first = [], columns[0]
    for cut in cuts:
        chunks.append((first, cut))
        first = cut + 1
    chunks.append((first, columns[-1]))
    return chunks
