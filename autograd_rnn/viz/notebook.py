"""How diagrams show themselves in Jupyter: at a readable size, scrolling when wider.

A ``graphviz.Digraph`` displays as an SVG that notebook front ends shrink to the column's
width (about 900 px): a 4,000 pt graph then has 3 px text. ``Diagram`` (what ``to_dot``
returns) also offers an HTML rendering, which front ends prefer: the SVG at its natural
size when it fits the column, otherwise scaled down no further than ``MIN_SCALE`` (10 pt
labels stay at least 10 px high) inside a box that scrolls sideways.
"""

from __future__ import annotations

import base64
import re

import graphviz

COLUMN_PX = 900  # a notebook column
MIN_SCALE = 0.75  # 10 pt text (13.3 px at 100 %) stays >= 10 px
PX_PER_PT = 96 / 72
_SIZE = re.compile(r'<svg[^>]*?width="([\d.]+)pt"[^>]*?height="([\d.]+)pt"')


def notebook_html(svg: str, column_px: int = COLUMN_PX) -> str:
    """HTML showing ``svg`` (Graphviz output, sized in pt) readable in a notebook column."""
    match = _SIZE.search(svg)
    if match is None:
        width_px = float(column_px)
    else:
        natural = float(match.group(1)) * PX_PER_PT
        width_px = natural if natural <= column_px else max(column_px, natural * MIN_SCALE)
    data = base64.b64encode(svg.encode("utf-8")).decode("ascii")
    return (f'<div style="max-width:100%;overflow-x:auto">'
            f'<img src="data:image/svg+xml;base64,{data}" '
            f'style="width:{width_px:.0f}px;max-width:none" alt="autograd-rnn graph"/></div>')


class Diagram(graphviz.Digraph):
    """A ``graphviz.Digraph`` that Jupyter shows at a readable size (``notebook_html``)."""

    def _repr_mimebundle_(self, include=None, exclude=None, **_):
        from autograd_rnn.viz.render import layout_robust

        wanted = set(include) if include is not None else {"text/html", "image/svg+xml"}
        wanted -= set(exclude or ())
        if not wanted:
            return {}
        svg = layout_robust(self.source, "svg")[0].decode("utf-8")
        bundle = {"image/svg+xml": svg, "text/html": notebook_html(svg)}
        return {k: v for k, v in bundle.items() if k in wanted}
