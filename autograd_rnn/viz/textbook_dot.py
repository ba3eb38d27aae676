"""Graphviz drawing of the textbook view (``to_dot(loss, detail="textbook")``).

Layout (``rankdir=BT``, so rows stack bottom to top): the boxes and rows come from
``textbook_rows.py``, the bands of a wrapped long unroll from ``textbook_bands.py``, the cut
of truncated BPTT from ``textbook_cut.py``, the parameter table (also the legend) from
``textbook_table.py``. Arrows into the past (a reverse direction) are written left to right
with ``dir=back``, so every horizontal edge points the way dot orders it and nothing crosses;
arrows into a lower row (an LSTM's h_{t-1} -> c_t, the continuation from one band to the
next) likewise. Arrows up a column weigh more, so columns stay straight; arrows between
bands weigh nothing (the bands' own chain places them) and span exactly the levels between
their ends.
"""

from __future__ import annotations

import textwrap

import graphviz

from autograd_rnn.viz import style
from autograd_rnn.viz.notebook import Diagram
from autograd_rnn.viz.textbook import TArrow, Textbook, build_textbook
from autograd_rnn.viz.textbook_bands import Grid
from autograd_rnn.viz.textbook_compact import (
    COMPACT_STEPS,
    compact_book,
    compact_caption,
    steps_of,
)
from autograd_rnn.viz.textbook_cut import End, cuts, emit_cut_edges, plain_cut_attrs
from autograd_rnn.viz.textbook_rows import (
    EDGE_PT,
    FONT,
    NODE_PT,
    TITLE_PT,
    emit_nodes,
    emit_rows,
    end_of,
)
from autograd_rnn.viz.textbook_table import INPUT_ARROW, emit_table

CAPTION_CHARS = 80
COLUMN_WEIGHT = "10"


def textbook_to_dot(roots, *, show_grads: bool = True, title: str | None = None,
                    legend: bool = True, book: Textbook | None = None,
                    wrap: int | None = None, compact: bool | None = None) -> Diagram:
    """The textbook view of the graph behind ``roots`` as a ``graphviz.Digraph``.

    ``wrap``: columns per band (None: chosen so the figure is close to 16:9; 0: one band).
    ``compact``: state rows only (None: beyond ``COMPACT_STEPS`` steps).
    """
    book = book or build_textbook(roots)
    full = book
    if compact is None:
        compact = steps_of(book) > COMPACT_STEPS
    if compact:
        book = compact_book(book)
    grid = Grid.plan(book, wrap, "compact" if compact else "full")
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
    caption = _caption(title, show_grads, book, full if compact else None, grads_on)
    if caption:
        dot.attr(label=caption, labelloc="t", fontsize=TITLE_PT)

    emit_nodes(dot, book, grid, grads_on, compact)
    emit_rows(dot, book, grid, _linked(book, grid))
    labels = not compact
    for arrow in book.arrows:
        if arrow.kind != "detached" and grid.junction_of(arrow) is None:
            _emit_arrow(dot, arrow, grid, grads_on, scale, labels)
    _emit_junctions(dot, grid, grads_on, scale)
    _emit_cuts(dot, book, grid, grads_on and labels)
    emit_table(dot, book, grid, grads_on, scale, legend, compact)
    return dot


def _caption(title, show_grads, book: Textbook, full: Textbook | None, grads_on) -> str:
    lines = textwrap.wrap(title, CAPTION_CHARS) if title else []
    if show_grads and not book.has_grads:
        lines.append("gradients not computed yet: call loss.backward() to label the arrows")
    if full is not None:
        lines.append(compact_caption(full, grads_on))
    return "\\n".join(lines)


def _linked(book: Textbook, grid: Grid) -> set[frozenset]:
    """Pairs of DOT names joined by a drawn arrow (no invisible ordering arrow between)."""
    linked = set()
    for a in book.arrows:
        if a.kind == "detached" or grid.continuation_of(a) is not None:
            continue
        j = grid.junction_of(a)
        linked.add(frozenset((a.src.name, (j.name if j else a.dst.name))))
    for cut in cuts(book):
        linked.add(frozenset((cut.arrow.src.name, cut.out_name)))
        linked.add(frozenset((cut.in_name, cut.arrow.dst.name)))
    for c in grid.continuations:
        linked.add(frozenset((c.arrow.src.name, c.name)))
    for j in grid.junctions:
        up = grid.upstream(j)
        linked.add(frozenset((j.name, up.name if up is not None else j.root.name)))
    return linked


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


def _trivial(arrow: TArrow) -> bool:
    """An arrow into a total loss that sends back exactly 1 (a sum of losses)."""
    return arrow.dst.kind == "loss" and all(g.size == 1 and g.ravel()[0] == 1.0
                                            for g in arrow.grads)


def _arrow_label(arrow: TArrow, grads_on: bool) -> str:
    weights = _weights_label(arrow, grads_on)
    lines = [weights] if weights else []
    n = arrow.grad_norm
    if grads_on and n is not None and not _trivial(arrow):
        lines.append(f"|g| = {style.fmt(n)}")
    return "\\n".join(lines)


def _arrow_attrs(arrow: TArrow, grads_on: bool, scale, labels: bool = True) -> dict:
    attrs = {"label": _arrow_label(arrow, grads_on)} if labels else {}
    if not attrs.get("label"):
        attrs.pop("label", None)
    if arrow.kind == "const" or (grads_on and arrow.grad_norm is None):
        attrs.update(color=INPUT_ARROW, penwidth="1")
    elif grads_on:
        n = arrow.grad_norm
        attrs.update(color=scale.colour(n), penwidth=scale.penwidth(n))
    return attrs


def _emit_arrow(dot: graphviz.Digraph, arrow: TArrow, grid: Grid, grads_on: bool, scale,
                labels: bool) -> None:
    attrs = _arrow_attrs(arrow, grads_on, scale, labels)
    src, dst = end_of(arrow.src, grid), end_of(arrow.dst, grid)
    if arrow.src.column is not None and arrow.src.column == arrow.dst.column:
        attrs["weight"] = COLUMN_WEIGHT  # straight up the column
    cont = grid.continuation_of(arrow)
    if cont is not None:  # out of the band to the right, labelled there, then down
        stub = End(cont.name, src.band, src.row, cont.position)
        head = {k: v for k, v in attrs.items() if k != "label"}
        edge(dot, src, stub, grid, dict(attrs, arrowhead="none"))
        edge(dot, stub, dst, grid, head)
        return
    edge(dot, src, dst, grid, attrs)


def edge(dot, src: End, dst: End, grid: Grid, attrs: dict) -> None:
    """An arrow src -> dst. Arrows into a lower level (an LSTM's h_{t-1} -> c_t, the next
    band) or into the past (a reverse direction) are written the way dot ranks and orders
    them, and drawn with ``dir=back``, so dot never has to reverse an edge. Arrows between
    bands span exactly the levels between their ends and do not pull them together."""
    ls, ld = grid.level(src.band, src.row), grid.level(dst.band, dst.row)
    if src.band != dst.band:
        attrs = dict(attrs, minlen=str(abs(ls - ld)), weight="0")
    if ls > ld or (ls == ld and src.position > dst.position):
        attrs = dict(attrs, dir="back")
        if "arrowhead" in attrs:
            attrs["arrowtail"] = attrs.pop("arrowhead")
        dot.edge(dst.name, src.name, **attrs)
    else:
        dot.edge(src.name, dst.name, **attrs)


def _emit_junctions(dot: graphviz.Digraph, grid: Grid, grads_on: bool, scale) -> None:
    """Each band's arrows into a total loss meet in its "+" (right above the last of them),
    which passes the sum up to the "+" of the band above, or to the loss."""
    for j in grid.junctions:
        there = End(j.name, j.band, "loss", j.position)
        last = max(j.arrows, key=lambda a: a.src.column)
        for arrow in j.arrows:
            attrs = _arrow_attrs(arrow, grads_on, scale)
            if arrow is last:
                attrs["weight"] = COLUMN_WEIGHT
            edge(dot, end_of(arrow.src, grid), there, grid, attrs)
        strongest = max(j.arrows, key=lambda a: a.grad_norm or 0.0)
        attrs = _arrow_attrs(strongest, grads_on, scale, labels=False)
        up = grid.upstream(j)
        target = (End(up.name, up.band, "loss", up.position) if up is not None
                  else end_of(j.root, grid))
        edge(dot, there, target, grid, attrs)


def _emit_cuts(dot: graphviz.Digraph, book: Textbook, grid: Grid, grads_on: bool) -> None:
    drawn = {id(c.arrow) for c in cuts(book)}
    for cut in cuts(book):
        emit_cut_edges(dot, cut, grid, edge, lambda n: end_of(n, grid),
                       _weights_label(cut.arrow, grads_on))
    for arrow in book.arrows:
        if arrow.kind == "detached" and id(arrow) not in drawn:
            edge(dot, end_of(arrow.src, grid), end_of(arrow.dst, grid), grid,
                 plain_cut_attrs(_weights_label(arrow, grads_on)))
