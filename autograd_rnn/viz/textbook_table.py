"""The parameter table of the textbook view, which is also its legend.

One row per parameter: name and shape, ||dL/dW|| and "= sum of T contributions" (BPTT: the
gradient is the sum of one share per timestep, the shares written on the arrows); then the
colour ramp of the arrows and only the keys the figure uses. It sits beside the losses for a
few steps, under the middle column for longer or truncated runs.
"""

from __future__ import annotations

import graphviz

from autograd_rnn.viz import style
from autograd_rnn.viz.textbook_model import Textbook

TABLE_PT = "10"
WIDE_COLUMNS = 5  # more columns (h_0 included) than this: the table goes under the figure
INPUT_ARROW = "#777777"


def emit_table(dot: graphviz.Digraph, book: Textbook, grads_on: bool, scale,
                legend: bool) -> None:
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
    if legend:
        rows += _legend_rows(book, grads_on, scale)
    label = ('<<table border="0" cellborder="1" cellspacing="0" cellpadding="3">'
             + "".join(rows) + "</table>>")
    dot.node("params", label=label, shape="plaintext", style="", fontsize=TABLE_PT)
    _place_table(dot, book)


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
        sub = graphviz.Digraph(name="row_table")
        sub.attr(rank="min")
        sub.node("params")
        dot.subgraph(sub)
        dot.edge("params", members[len(members) // 2].name, style="invis")
        return
    last = members[-1]
    sub = graphviz.Digraph(name="row_table")
    sub.attr(rank="same")
    sub.node(last.name)
    sub.node("params")
    dot.subgraph(sub)
    dot.edge(last.name, "params", style="invis")


def _legend_rows(book: Textbook, grads_on: bool, scale) -> list[str]:
    rows = []
    if grads_on and scale is not None and not scale.empty:
        rows.append('<tr><td colspan="3" align="left">'
                    + scale.ramp_html("arrows: |g| = gradient sent back (log scale)")
                    + "</td></tr>")
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
