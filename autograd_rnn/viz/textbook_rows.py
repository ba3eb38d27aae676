"""The boxes of the textbook view and the rows that hold them (see ``textbook_dot.py``).

Every (band, row) of the ``Grid`` is one ``rank=same`` subgraph whose boxes are kept in time
order by their own horizontal arrows or by invisible ones; invisible arrows up every column
stack the rows; in a wrapped figure an invisible chain down the first column of every band
stacks the bands and aligns their left edges. Truncated-BPTT chunks are shaded clusters (one
per band a chunk spans).
"""

from __future__ import annotations

import graphviz

from autograd_rnn.viz import style
from autograd_rnn.viz.textbook_bands import Grid
from autograd_rnn.viz.textbook_cut import End, cuts, in_attrs, in_chunk, out_attrs
from autograd_rnn.viz.textbook_model import Textbook, TNode

FONT = "Helvetica"
NODE_PT, EDGE_PT, TITLE_PT, SMALL_PT = "12", "10", "14", "10"
FILL = {"x": style.FILL_INPUT, "h": style.FILL_HIDDEN, "c": "#e2f0d9", "y": "#fdf1d8",
        "Lt": style.FILL_LOSS, "loss": style.FILL_LOSS, "cut": "white"}
CHUNK_FILLS = ("#f3f7fb", "#fbf6ee")
CHAIN_WEIGHT = "10"
POINT = dict(label="", shape="point", style="invis", width="0", height="0")


# ----- boxes -------------------------------------------------------------------------------
def node_label(node: TNode, grads_on: bool, layers: int, compact: bool = False,
               narrow: bool = False) -> str:
    """A box's name first; a state's or output's ``|dL/dh_t|`` after backward (its value
    alone in the compact view, on a line of its own when ``narrow``)."""
    t = node.anchor
    if node.kind == "cut":
        return "earlier steps\\n(graph not drawn)"
    if node.kind == "loss":
        value = (f" = {style.fmt(float(t.data.ravel()[0]))}"
                 if t.size == 1 and style.kept(t.data) else "")
        return "L" + value + (f"\\n({t.name})" if t.name not in (None, "loss", "L") else "")
    head = t.name
    if node.kind in ("h", "c") and layers > 1:
        head += f"  ({node.layer.rsplit('/', 1)[-1]})"
    if node.kind == "Lt" and t.size == 1:
        return f"{head} = {style.fmt(float(t.data.ravel()[0]))}" if style.kept(t.data) else head
    if grads_on and node.kind in ("h", "c", "y") and t.grad is not None:
        norm = style.fmt(style.norm(t.grad))
        if compact:
            return f"{head}\\n{norm}"
        return f"{head}\\n|dL/d{t.name}|" + ("\\n= " if narrow else " = ") + norm
    return head


def node_attrs(node: TNode, grads_on: bool, layers: int, compact: bool,
               grid: Grid) -> dict:
    attrs = {"label": node_label(node, grads_on, layers, compact, grid.wrapped),
             "fillcolor": FILL[node.kind]}
    if node.column is not None:
        attrs["group"] = group(node.column, grid)
    if node.kind == "cut":
        attrs.update(style="dashed,rounded", color=style.DETACHED, fontcolor=style.DETACHED)
    elif node.kind in ("loss", "Lt"):
        attrs["penwidth"] = "1.5" if node.kind == "loss" else "1"
    return attrs


def emit_nodes(dot: graphviz.Digraph, book: Textbook, grid: Grid, grads_on: bool,
               compact: bool) -> None:
    """Every box, the cut markers, stands and junctions; a chunk's boxes in its clusters."""
    layers = len({n.layer for n in book.nodes if n.kind == "h"})
    items = [(n.name, node_attrs(n, grads_on, layers, compact, grid),
              _column_of(n, book), grid.band(n)) for n in book.nodes]
    if grid.wrapped:  # no chunk boxes: each chunk's loss says which steps it sums
        for name, attrs, column, _ in items:
            k = next((k for k, (a, b) in enumerate(book.chunks) if column is not None
                      and a <= column <= b), None)
            if k is not None and any(n.name == name and n.kind == "loss" for n in book.nodes):
                first, last = book.chunks[k]
                attrs["label"] += f"\\nchunk {k + 1}: t = {max(first, 1)}..{last}"
    for cut in cuts(book):
        out, inn = cut.out_end(grid), cut.in_end(grid)
        items.append((cut.out_name, out_attrs(cut, FONT), cut.out_column, out.band))
        items.append((cut.in_name, in_attrs(cut), cut.in_column, inn.band))
    for column in stands(book):
        items.append((stand(column), stand_attrs(column, grid), column,
                      grid.band_of_column(column)))
    for band in band_stands(grid):
        items.append((band_stand(band), dict(stand_attrs(0, grid), group="band"), None,
                      band))
    for j in grid.junctions:
        items.append((j.name, junction_attrs(), _column_of(j.root, book), j.band))
    for c in grid.continuations:
        items.append((c.name, POINT, c.arrow.src.column, grid.band(c.arrow.src)))
    _emit_chunks(dot, book, items, boxes=not grid.wrapped)


def _emit_chunks(graph: graphviz.Digraph, book: Textbook, items: list[tuple],
                 boxes: bool = True) -> None:
    """``items`` (name, attrs, column, band), a chunk's in its shaded box (one per band)."""
    placed: set[str] = set()
    for k, (first, last) in enumerate(book.chunks if boxes else []):
        bands = sorted({b for _, _, col, b in items if col is not None
                        and in_chunk(col, first, last)})
        for band in bands:
            name = f"cluster_chunk{k + 1}" + (f"_{band}" if len(bands) > 1 else "")
            sub = graphviz.Digraph(name=name)
            label = (f"chunk {k + 1} (t = {max(first, 1)}..{last}): its own backward"
                     if in_chunk(first + 0.5, first, last) and band == min(bands)
                     else f"chunk {k + 1} (continued)")
            sub.attr(label=label, style="filled,rounded", fillcolor=CHUNK_FILLS[k % 2],
                     color="#bbbbbb", fontsize=SMALL_PT, labeljust="l", labelloc="b")
            for name_, attrs, col, b in items:
                if b == band and col is not None and in_chunk(col, first, last) \
                        and name_ not in placed:
                    sub.node(name_, **attrs)
                    placed.add(name_)
            graph.subgraph(sub)
    for name_, attrs, _, _ in items:
        if name_ not in placed:
            graph.node(name_, **attrs)


def _column_of(node: TNode, book: Textbook) -> float | None:
    """The column a box belongs to for its chunk: a root goes with its last feeding box."""
    if node.column is not None:
        return node.column
    cols = [a.src.column for a in book.arrows if a.dst is node and a.src.column is not None]
    return max(cols) if cols else None


def junction_attrs() -> dict:
    return dict(label="+", shape="circle", style="filled", fillcolor=FILL["loss"],
                width="0.3", height="0.3", fixedsize="true", fontsize=NODE_PT, margin="0")


# ----- rows --------------------------------------------------------------------------------
def row_members(book: Textbook, grid: Grid) -> dict[tuple[int, str], list[tuple]]:
    """(band, row) -> [(DOT name, position, tie-break)], for every box, marker, stand and
    junction."""
    members: dict[tuple[int, str], list[tuple]] = {}

    def add(band, row, name, position, tie):
        members.setdefault((band, row), []).append((name, position, tie))

    for n in book.nodes:
        add(grid.band(n), n.row, n.name, grid.position(n), n.anchor.id)
    for cut in cuts(book):
        for end in (cut.out_end(grid), cut.in_end(grid)):
            add(end.band, end.row, end.name, end.position, cut.arrow.src.anchor.id)
    for column in stands(book):
        add(grid.band_of_column(column), "x", stand(column), column, -1)
    for band in band_stands(grid):
        add(band, book.rows[0], band_stand(band), grid.first_column(band) - 1.5, -1)
    for j in grid.junctions:
        add(j.band, "loss", j.name, j.position, 10**9)
    for c in grid.continuations:
        add(grid.band(c.arrow.src), c.arrow.src.row, c.name, c.position, 10**9)
    return members


def emit_rows(dot: graphviz.Digraph, book: Textbook, grid: Grid, linked: set) -> None:
    """One rank per (band, row); invisible arrows keep a row's boxes in time order where the
    row has no arrow of its own between two neighbours. ``linked``: frozensets of the DOT
    names joined by a drawn arrow."""
    members = row_members(book, grid)
    keys = sorted(members, key=lambda k: grid.level(*k))
    for k, key in enumerate(keys):
        names = [m[0] for m in sorted(members[key], key=lambda m: (m[1], m[2]))]
        sub = graphviz.Digraph(name=f"row{k}")
        sub.attr(rank="same")
        for name in names:
            sub.node(name)
        dot.subgraph(sub)
        for a, b in zip(names, names[1:], strict=False):
            if frozenset((a, b)) not in linked:  # dot 2.43 fails on parallel flat edges
                heavy = a.startswith("band_stand")  # a band's first column next to its stand
                dot.edge(a, b, style="invis", weight=CHAIN_WEIGHT if heavy else "1")
    _stack_columns(dot, book, grid)
    _chain_bands(dot, book, grid)


def _stack_columns(dot: graphviz.Digraph, book: Textbook, grid: Grid) -> None:
    """Invisible arrows up every column between boxes no arrow joins, so rows that nothing
    orders (the directions of a bidirectional layer) stack, and h_0 / c_0 stay left of h_1
    (dot 2.43 may move a box tied to its row by one labelled arrow only). A column without
    an input (h_0's) gets an invisible point in the bottom row to stand on."""
    index = {row: k for k, row in enumerate(book.rows)}
    joined = {frozenset((a.src.name, a.dst.name)) for a in book.arrows}
    columns: dict[int, list[tuple[int, str]]] = {}
    for node in book.nodes:
        if node.column is not None and node.row in index:
            columns.setdefault(node.column, []).append((index[node.row], node.name))
    for column in sorted(columns):
        stack = sorted(columns[column])
        if column in stands(book):
            stack = sorted(stack + [(index["x"], stand(column))])
        for (_, a), (_, b) in zip(stack, stack[1:], strict=False):
            if frozenset((a, b)) not in joined:
                dot.edge(a, b, style="invis")


def _chain_bands(dot: graphviz.Digraph, book: Textbook, grid: Grid) -> None:
    """A wrapped figure: bands stack top to bottom, exactly one band apart. Without chunk
    boxes, invisible arrows from the stand at the left of each band's bottom row to the
    next band's also align their left edges (the continuation arrows enter a band at its
    left from above and pass right of them without crossing). Dot 2.43 scrambles chunk
    boxes tied that way, so a truncated run's bands are tied by their cuts instead: the
    copy starting a band to the bar ending the band above, an invisible carriage return."""
    if not grid.wrapped:
        return
    bottom = book.rows[0]
    for band in range(grid.bands - 1):
        span = grid.level(band, bottom) - grid.level(band + 1, bottom)
        dot.edge(band_stand(band + 1), band_stand(band), style="invis", minlen=str(span),
                 weight=CHAIN_WEIGHT)


def stands(book: Textbook) -> list[int]:
    """Columns with boxes but no input x_t (h_0's): an invisible point holds their place."""
    if "x" not in book.rows:
        return []
    have = {n.column for n in book.nodes if n.row == "x"}
    return sorted({n.column for n in book.nodes if n.column is not None} - have)


def band_stands(grid: Grid) -> list[int]:
    """Every band of a wrapped figure without chunk boxes: an invisible point at the left
    of its bottom row, where the chain aligning the bands runs."""
    return list(range(grid.bands)) if grid.wrapped else []


def band_stand(band: int) -> str:
    return f"band_stand{band}"


def stand(column: int) -> str:
    return f"x_stand{column}"


def stand_attrs(column: int, grid: Grid) -> dict:
    return dict(POINT, group=group(column, grid))


def group(column: int, grid: Grid) -> str:
    """The Graphviz group of a column (its boxes are kept in a straight line)."""
    return f"col{column}"


def end_of(node: TNode, grid: Grid) -> End:
    return End(node.name, grid.band(node), node.row, grid.position(node))
