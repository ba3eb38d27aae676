"""Graphviz drawing of the textbook view (``to_dot(loss, detail="textbook")``).

Layout (``rankdir=BT``, so rows stack bottom to top): every row of ``Textbook.rows`` is one
``rank=same`` subgraph; nodes of one timestep share a ``group`` so the arrows up a column are
straight; a row's boxes are kept in time order by its own horizontal arrows (the recurrence)
or by invisible ones. Arrows into the past (a reverse direction) are written left to right
with ``dir=back``, so every horizontal edge points the way dot orders it and nothing crosses;
arrows into a lower row (an LSTM's h_{t-1} -> c_t) likewise. Arrows up a column weigh more,
so columns stay straight. Truncated-BPTT chunks are shaded clusters; the cut between them is
drawn by ``textbook_cut.py``, the parameter table (also the legend) by ``textbook_table.py``.
"""

from __future__ import annotations

import textwrap

import graphviz

from autograd_rnn.viz import style
from autograd_rnn.viz.notebook import Diagram
from autograd_rnn.viz.textbook import TArrow, Textbook, TNode, build_textbook
from autograd_rnn.viz.textbook_cut import (
    cuts,
    emit_cut_edges,
    in_attrs,
    in_chunk,
    out_attrs,
    plain_cut_attrs,
)
from autograd_rnn.viz.textbook_table import INPUT_ARROW, TABLE_PT, emit_table

FONT = "Helvetica"
NODE_PT, EDGE_PT, TITLE_PT = "12", "10", "14"
FILL = {"x": style.FILL_INPUT, "h": style.FILL_HIDDEN, "c": "#e2f0d9", "y": "#fdf1d8",
        "Lt": style.FILL_LOSS, "loss": style.FILL_LOSS, "cut": "white"}
CHUNK_FILLS = ("#f3f7fb", "#fbf6ee")
CAPTION_CHARS = 80
COLUMN_WEIGHT = "10"


def textbook_to_dot(roots, *, show_grads: bool = True, title: str | None = None,
                    legend: bool = True, book: Textbook | None = None) -> Diagram:
    """The textbook view of the graph behind ``roots`` as a ``graphviz.Digraph``."""
    book = book or build_textbook(roots)
    grads_on = show_grads and book.has_grads
    norms = [n for a in book.arrows for n in [a.grad_norm] if n is not None]
    scale = style.LogScale(norms) if grads_on else None

    dot = Diagram("autograd_rnn", strict=False)
    dot.attr(rankdir="BT", newrank="true", fontname=FONT, nodesep="0.25", ranksep="0.3",
             outputorder="edgesfirst")
    dot.attr("node", fontname=FONT, fontsize=NODE_PT, shape="box", style="rounded,filled",
             margin="0.1,0.05", height="0.3", penwidth="1")
    dot.attr("edge", fontname=FONT, fontsize=EDGE_PT, arrowsize="0.7")
    if any(n.layer.endswith("_reverse") for n in book.nodes):
        # two directions cannot be drawn without crossings; without this dot 2.43 trades
        # them for a row out of time order
        dot.attr(ordering="out")
    caption = _caption(title, show_grads, book)
    if caption:
        dot.attr(label=caption, labelloc="t", fontsize=TITLE_PT)

    _emit_nodes(dot, book, grads_on)
    _emit_rows(dot, book)
    for arrow in book.arrows:
        if arrow.kind != "detached":
            _emit_arrow(dot, arrow, grads_on, scale, book.rows)
    _emit_cuts(dot, book, grads_on)
    emit_table(dot, book, grads_on, scale, legend)
    return dot


def _caption(title, show_grads, book: Textbook) -> str:
    lines = textwrap.wrap(title, CAPTION_CHARS) if title else []
    if show_grads and not book.has_grads:
        lines.append("gradients not computed yet: call loss.backward() to label the arrows")
    return "\\n".join(lines)


# ----- boxes -------------------------------------------------------------------------------
def _node_label(node: TNode, grads_on: bool, layers: int) -> str:
    t = node.anchor
    if node.kind == "cut":
        return "earlier steps\\n(graph not drawn)"
    if node.kind == "loss":
        head = "L"
        value = f" = {style.fmt(float(t.data.ravel()[0]))}" if t.size == 1 else ""
        return head + value + (f"\\n({t.name})" if t.name not in (None, "loss", "L") else "")
    head = t.name
    if node.kind in ("h", "c") and layers > 1:
        head += f"  ({node.layer.rsplit('/', 1)[-1]})"
    if node.kind == "Lt" and t.size == 1:
        return f"{head} = {style.fmt(float(t.data.ravel()[0]))}"
    if grads_on and node.kind in ("h", "c", "y") and t.grad is not None:
        return f"{head}\\n|dL/d{t.name}| = {style.fmt(style.norm(t.grad))}"
    return head


def _emit_nodes(dot: graphviz.Digraph, book: Textbook, grads_on: bool) -> None:
    layers = len({n.layer for n in book.nodes if n.kind == "h"})
    placed: set[str] = set()
    for k, (first, last) in enumerate(book.chunks):
        sub = graphviz.Digraph(name=f"cluster_chunk{k + 1}")
        steps = f"t = {max(first, 1)}..{last}"
        sub.attr(label=f"chunk {k + 1} ({steps}): its own backward", style="filled,rounded",
                 fillcolor=CHUNK_FILLS[k % 2], color="#bbbbbb", fontsize=TABLE_PT,
                 labeljust="l", labelloc="b")
        for node in book.nodes:
            if node.name not in placed and _in_chunk(node, book, first, last):
                sub.node(node.name, **_node_attrs(node, grads_on, layers))
                placed.add(node.name)
        for cut in cuts(book):  # the two pieces of a cut sit at their chunks' edges
            if cut.out_name not in placed and in_chunk(cut.out_column, first, last):
                sub.node(cut.out_name, **out_attrs(cut, FONT))
                placed.add(cut.out_name)
            if cut.in_name not in placed and in_chunk(cut.in_column, first, last):
                sub.node(cut.in_name, **in_attrs(cut))
                placed.add(cut.in_name)
        for column in _stands(book):
            if first <= column <= last:
                sub.node(_stand(column), **_stand_attrs(column))
                placed.add(_stand(column))
        dot.subgraph(sub)
    for node in book.nodes:
        if node.name not in placed:
            dot.node(node.name, **_node_attrs(node, grads_on, layers))
    for column in _stands(book):
        if _stand(column) not in placed:
            dot.node(_stand(column), **_stand_attrs(column))
    for cut in cuts(book):
        if cut.out_name not in placed:
            dot.node(cut.out_name, **out_attrs(cut, FONT))
        if cut.in_name not in placed:
            dot.node(cut.in_name, **in_attrs(cut))


def _in_chunk(node: TNode, book: Textbook, first: int, last: int) -> bool:
    if node.column is not None:
        return first <= node.column <= last
    cols = [a.src.column for a in book.arrows if a.dst is node and a.src.column is not None]
    return bool(cols) and first <= max(cols) <= last


def _node_attrs(node: TNode, grads_on: bool, layers: int) -> dict:
    attrs = {"label": _node_label(node, grads_on, layers), "fillcolor": FILL[node.kind]}
    if node.column is not None:
        attrs["group"] = f"col{node.column}"
    if node.kind == "cut":
        attrs.update(style="dashed,rounded", color=style.DETACHED, fontcolor=style.DETACHED)
    elif node.kind in ("loss", "Lt"):
        attrs["penwidth"] = "1.5" if node.kind == "loss" else "1"
    return attrs


def _emit_rows(dot: graphviz.Digraph, book: Textbook) -> None:
    """One rank per row; invisible arrows keep a row's boxes in time order where the row
    has no arrow of its own between two neighbours."""
    linked = {frozenset((a.src.name, a.dst.name)) for a in book.arrows
              if a.kind != "detached"}
    for cut in cuts(book):
        linked.add(frozenset((cut.arrow.src.name, cut.out_name)))
        linked.add(frozenset((cut.in_name, cut.arrow.dst.name)))
    for k, row in enumerate(book.rows):
        members = [(n.name, n.column if n.column is not None else book.position(n),
                    n.anchor.id) for n in book.nodes if n.row == row]
        for cut in cuts(book):
            if cut.row == row:
                members += [(cut.out_name, cut.out_column, cut.arrow.src.anchor.id),
                            (cut.in_name, cut.in_column, cut.arrow.src.anchor.id)]
        if row == "x":
            members += [(_stand(c), c, -1) for c in _stands(book)]
        names = [m[0] for m in sorted(members, key=lambda m: (m[1], m[2]))]
        sub = graphviz.Digraph(name=f"row{k}")
        sub.attr(rank="same")
        for name in names:
            sub.node(name)
        dot.subgraph(sub)
        for a, b in zip(names, names[1:], strict=False):
            if frozenset((a, b)) not in linked:  # dot 2.43 fails on parallel flat edges
                dot.edge(a, b, style="invis", weight="1")
    _stack_rows(dot, book)


def _stack_rows(dot: graphviz.Digraph, book: Textbook) -> None:
    """Invisible arrows up every column between boxes no arrow joins, so rows that nothing
    orders (the directions of a bidirectional layer) stack, and h_0 / c_0 stay left of h_1
    (dot 2.43 may move a box tied to its row by one labelled arrow only). A column without
    an input (h_0's) gets an invisible point in the x row to stand on."""
    index = {row: k for k, row in enumerate(book.rows)}
    joined = {frozenset((a.src.name, a.dst.name)) for a in book.arrows}
    columns: dict[int, list[tuple[int, str]]] = {}
    for node in book.nodes:
        if node.column is not None and node.row in index:
            columns.setdefault(node.column, []).append((index[node.row], node.name))
    for column in sorted(columns):
        stack = sorted(columns[column])
        if column in _stands(book):
            stack = sorted(stack + [(index["x"], _stand(column))])
        for (_, a), (_, b) in zip(stack, stack[1:], strict=False):
            if frozenset((a, b)) not in joined:
                dot.edge(a, b, style="invis")


def _stands(book: Textbook) -> list[int]:
    """Columns with boxes but no input x_t (h_0's): an invisible point holds their place."""
    if "x" not in book.rows:
        return []
    have = {n.column for n in book.nodes if n.row == "x"}
    return sorted({n.column for n in book.nodes if n.column is not None} - have)


def _stand(column: int) -> str:
    return f"x_stand{column}"


def _stand_attrs(column: int) -> dict:
    return dict(label="", shape="point", style="invis", width="0", height="0",
                group=f"col{column}")


# ----- arrows ------------------------------------------------------------------------------
def _weights_label(arrow: TArrow, grads_on: bool) -> str:
    """The weights used on an arrow, each with its contribution at this step."""
    lines = []
    for w in arrow.weights:
        text = w.label + (f" [{w.gates}]" if w.gates else "")
        if grads_on and w.contribution is not None:
            text += f": {style.fmt(style.norm(w.contribution))}"
        lines.append(text)
    return "\\n".join(lines)


def _arrow_label(arrow: TArrow, grads_on: bool) -> str:
    weights = _weights_label(arrow, grads_on)
    lines = [weights] if weights else []
    n = arrow.grad_norm
    trivial = arrow.dst.kind == "loss" and all(g.size == 1 and g.ravel()[0] == 1.0
                                               for g in arrow.grads)
    if grads_on and n is not None and not trivial:
        lines.append(f"|g| = {style.fmt(n)}")
    return "\\n".join(lines)


def _arrow_attrs(arrow: TArrow, grads_on: bool, scale) -> dict:
    attrs = {"label": _arrow_label(arrow, grads_on)}
    if not attrs["label"]:
        del attrs["label"]
    if arrow.kind == "const" or (grads_on and arrow.grad_norm is None):
        attrs.update(color=INPUT_ARROW, penwidth="1")
    elif grads_on:
        n = arrow.grad_norm
        attrs.update(color=scale.colour(n), penwidth=scale.penwidth(n))
    return attrs


def _emit_arrow(dot: graphviz.Digraph, arrow: TArrow, grads_on: bool, scale,
                rows: list[str]) -> None:
    attrs = _arrow_attrs(arrow, grads_on, scale)
    if arrow.src.column is not None and arrow.src.column == arrow.dst.column:
        attrs["weight"] = COLUMN_WEIGHT  # straight up the column
    _edge(dot, _end(arrow.src), _end(arrow.dst), rows, attrs)


def _end(node: TNode) -> tuple[str, str, float | None]:
    return node.name, node.row, node.column


def _edge(dot, src: tuple, dst: tuple, rows: list[str], attrs: dict) -> None:
    """An arrow src -> dst (each (name, row, column)). Arrows into a lower row (an LSTM's
    h_{t-1} -> c_t) or into the past (a reverse direction) are written the way dot ranks
    and orders them, and drawn with ``dir=back``, so dot never has to reverse an edge."""
    down = src[1] in rows and dst[1] in rows and rows.index(src[1]) > rows.index(dst[1])
    back = (src[1] == dst[1] and src[2] is not None and dst[2] is not None
            and src[2] > dst[2])
    if down or back:
        attrs = dict(attrs, dir="back")
        if "arrowhead" in attrs:
            attrs["arrowtail"] = attrs.pop("arrowhead")
        dot.edge(dst[0], src[0], **attrs)
    else:
        dot.edge(src[0], dst[0], **attrs)


def _emit_cuts(dot: graphviz.Digraph, book: Textbook, grads_on: bool) -> None:
    drawn = {id(c.arrow) for c in cuts(book)}
    for cut in cuts(book):
        emit_cut_edges(dot, cut, book.rows, _edge, _end, _weights_label(cut.arrow, grads_on))
    for arrow in book.arrows:
        if arrow.kind == "detached" and id(arrow) not in drawn:
            _edge(dot, _end(arrow.src), _end(arrow.dst), book.rows,
                  plain_cut_attrs(_weights_label(arrow, grads_on)))
