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

from autograd_rnn.viz.textbook_model import ParamRow, TArrow, Textbook, TNode, WeightUse
from autograd_rnn.viz.textbook_owners import Owners
from autograd_rnn.viz.view import build_view

__all__ = ["ParamRow", "TArrow", "TNode", "Textbook", "WeightUse", "build_textbook"]


def build_textbook(roots) -> Textbook:
    """The boxes, arrows and parameter table of the textbook view of ``roots``' graph.

    Raises ``ValueError`` when the graph has no recurrent states named ``h_<t>`` (the
    naming contract of ``ar.nn`` and ``ar.viz.build_example``; ops outside timestep scopes
    join the first named box they feed, so a hand-written loop with names works too).
    """
    view = build_view(roots, "ops")
    builder = Owners(view)
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


def _merge_scopeless_states(builder: Owners) -> None:
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


def _ordered_nodes(builder: Owners) -> list[TNode]:
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
