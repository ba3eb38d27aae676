"""The parameter table of the textbook view, which is also its legend.

One row per parameter: name and shape, ||dL/dW|| and "= sum of T contributions" (BPTT: the
gradient is the sum of one share per timestep, the shares written on the arrows); then the
colour ramp of the arrows and only the keys the figure uses. It sits beside the losses for a
few steps, under the middle column for longer or truncated runs; a wrapped figure gets it
laid out wide (parameters and legend side by side) beside the total loss at the top, a
compact one under its last band.
"""

from __future__ import annotations

import graphviz

from autograd_rnn.viz import style
from autograd_rnn.viz.textbook_fit import WIDE_COLUMNS, table_place
from autograd_rnn.viz.textbook_model import Textbook

TABLE_PT = "10"
INPUT_ARROW = "#777777"


def emit_table(dot: graphviz.Digraph, book: Textbook, grid, grads_on: bool, scale,
               legend: bool, compact: bool = False) -> None:
    rows = []
    if grads_on:
        rows.append("<tr><td colspan=\"3\"><b>parameters: gradient = sum over steps"
                    "</b></td></tr>")
    else:
        rows.append("<tr><td colspan=\"3\"><b>parameters (shared by all steps)</b></td></tr>")
    for row in book.params:
        p = row.param
        name = _html(row.label)
        shape = style.fmt_shape(p.shape)
        if grads_on and row.total is not None:
            steps = len(row.contributions)
            rows.append(f"<tr><td align=\"left\">{name} {shape}</td>"
                        f"<td align=\"left\">|dL/d{_html(p.name or 'W')}| = "
                        f"{style.fmt(style.norm(row.total))}"
                        f"</td><td align=\"left\">= sum of {steps} contribution"
                        f"{'s' if steps != 1 else ''}</td></tr>")
        else:
            rows.append(f"<tr><td align=\"left\">{name} {shape}</td>"
                        f"<td colspan=\"2\" align=\"left\">used at {row.uses} step"
                        f"{'s' if row.uses != 1 else ''}</td></tr>")
    keys = _legend_rows(book, grads_on, scale, compact) if legend else []
    if grid.wrapped and keys:  # side by side: a wide, low table
        label = (f'<<table border="0" cellborder="0" cellspacing="6"><tr><td valign="top">'
                 f"{_table(rows)}</td><td valign=\"top\">{_table(keys)}</td></tr></table>>")
    else:
        label = f"<{_table(rows + keys)}>"
    dot.node("params", label=label, shape="plaintext", style="", fontsize=TABLE_PT)
    if grid.wrapped:
        _place_wrapped(dot, book, grid)
    else:
        _place_table(dot, book)


def _table(rows: list[str]) -> str:
    return ('<table border="0" cellborder="1" cellspacing="0" cellpadding="3">'
            + "".join(rows) + "</table>")


def _place_wrapped(dot: graphviz.Digraph, book: Textbook, grid) -> None:
    """In the room the last band leaves at its right (beside its top row), else beside the
    total loss at the top of band 0, else in a row of its own above band 0 (on the right)
    or, for a compact figure, under the last band (on the left)."""
    place = table_place(grid)
    if place in ("below", "above"):
        band = grid.bands - 1 if place == "below" else 0
        row = book.rows[0] if place == "below" else grid.band_rows[0][-1]
        members = [n for n in book.nodes if n.row == row and grid.band(n) == band]
        if not members:
            return
        if place == "below":
            _own_row(dot, "min", "params", min(members, key=grid.position).name)
        else:
            _own_row(dot, "max", max(members, key=grid.position).name, "params")
        return
    band = grid.bands - 1 if place == "last" else 0
    row = grid.band_rows[band][-1]
    top = [n for n in book.nodes if n.row == row and grid.band(n) == band]
    top += [j for j in grid.junctions if j.band == band and row == "loss"]
    if not top:
        return
    last = max(top, key=lambda n: grid.position(n) if hasattr(n, "anchor") else n.position)
    _beside(dot, last.name)
    rows = grid.band_rows[band]
    if place == "last" and len(rows) > 1:  # over the right end of the band, in its room
        below = [n for n in book.nodes if n.row == rows[-2] and grid.band(n) == band]
        if below:
            dot.edge(max(below, key=grid.position).name, "params", style="invis", weight="5")


def _place_table(dot: graphviz.Digraph, book: Textbook) -> None:
    """Beside the losses on the top row for a few steps; under the middle column (a row of
    its own) for longer or truncated runs, which would otherwise grow too wide."""
    wide = len(book.columns) > WIDE_COLUMNS or book.chunks
    row = book.rows[0] if wide else book.rows[-1]
    members = [n for n in book.nodes if n.row == row]
    if not members:
        return
    members.sort(key=lambda n: (n.column if n.column is not None else book.position(n),
                                n.anchor.id))
    if wide:  # under the middle column, so it does not widen the figure
        _own_row(dot, "min", "params", members[len(members) // 2].name)
        return
    _beside(dot, members[-1].name)


def _beside(dot: graphviz.Digraph, name: str) -> None:
    """The table in the rank of box ``name``, right of it."""
    sub = graphviz.Digraph(name="row_table")
    sub.attr(rank="same")
    sub.node(name)
    sub.node("params")
    dot.subgraph(sub)
    dot.edge(name, "params", style="invis")


def _own_row(dot: graphviz.Digraph, rank: str, lower: str, upper: str) -> None:
    """The table in a rank of its own (``min``: the bottom, ``max``: the top), tied by an
    invisible arrow ``lower -> upper`` to the box it goes under or over."""
    sub = graphviz.Digraph(name="row_table")
    sub.attr(rank=rank)
    sub.node("params")
    dot.subgraph(sub)
    dot.edge(lower, upper, style="invis")


def _legend_rows(book: Textbook, grads_on: bool, scale, compact: bool = False) -> list[str]:
    rows = []
    if grads_on and scale is not None and not scale.empty:
        rows.append('<tr><td colspan="3" align="left">'
                    + scale.ramp_html("arrows: |g| = gradient sent back (log scale)")
                    + "</td></tr>")
        if not compact:
            rows.append('<tr><td colspan="3" align="left">W_x: 0.1 on an arrow = |this '
                        "step's share of dL/dW_x|</td></tr>")
    if any(a.kind == "const" for a in book.arrows):
        rows.append(f'<tr><td colspan="3" align="left"><font color="{INPUT_ARROW}">grey arrow: '
                    "no gradient needed (input data)</font></td></tr>")
    if any(a.kind == "detached" for a in book.arrows):
        rows.append(f'<tr><td colspan="3" align="left"><font color="{style.DETACHED}">dashed '
                    "bar: truncated BPTT cut (state detached)</font></td></tr>")
    return rows


def _html(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
