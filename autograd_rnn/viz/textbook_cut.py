"""The truncated-BPTT cut in the textbook view, drawn as the figure's most visible element.

A detached arrow h_k -> h_{k+1} (the state carried into the next chunk without its graph)
is drawn broken, in two pieces that never cross a chunk's box:

    h_k --(thick dashed)--| detached: no gradient flows back      [h_k (detached)] --> h_{k+1}
    \\_________ chunk 1 ________________________________/  \\________ chunk 2 ___________/

The left piece ends in a bar next to the explanation; the right piece starts from a dashed box
standing for the copy of h_k that chunk 2 starts from, and carries the weight (W_h) used on it.
In a wrapped figure a cut at the end of a band ends that band, and the copy starts the next.
(One dashed edge across two clusters is drawn twice by Graphviz 2.43.)
"""

from __future__ import annotations

from dataclasses import dataclass

from autograd_rnn.viz import style
from autograd_rnn.viz.textbook import TArrow, Textbook

CUT_TEXT = "detached:\\nno gradient\\nflows back"
CUT_PT = "12"
LINE = {"style": "dashed", "color": style.DETACHED}


@dataclass(frozen=True)
class End:
    """One end of an arrow as the layout sees it: DOT name, band, row, left-to-right place."""

    name: str
    band: int
    row: str
    position: float


@dataclass
class Cut:
    arrow: TArrow
    out_name: str  # the text marker ending the source's chunk
    in_name: str  # the detached copy starting the next chunk
    text: str

    @property
    def row(self) -> str:
        return self.arrow.src.row

    @property
    def out_column(self) -> float:
        return (self.arrow.src.column or 0) + 0.3

    @property
    def in_column(self) -> float:
        dst = self.arrow.dst.column
        return dst - 0.3 if dst is not None else (self.arrow.src.column or 0) + 0.7

    def out_end(self, grid) -> End:
        return End(self.out_name, grid.band_of_column(self.arrow.src.column or 0), self.row,
                   self.out_column)

    def in_end(self, grid) -> End:
        column = self.arrow.dst.column
        band = grid.band_of_column(column if column is not None else self.in_column)
        return End(self.in_name, band, self.row, self.in_column)


def cuts(book: Textbook) -> list[Cut]:
    """One ``Cut`` per detached arrow between drawn chunks (a cut from an earlier chunk that
    is not drawn is a plain dashed arrow). The first cut across each gap between two columns
    carries the full explanation, the others just "detached"."""
    found, explained = [], set()
    detached = [a for a in book.arrows if a.kind == "detached" and a.src.kind != "cut"
                and a.src.column is not None]
    for k, arrow in enumerate(detached):
        gap = (arrow.src.column, arrow.dst.column)
        found.append(Cut(arrow, f"cut{k}", f"cut{k}_in",
                         "detached" if gap in explained else CUT_TEXT))
        explained.add(gap)
    return found


def out_attrs(cut: Cut, font: str) -> dict:
    return dict(label=cut.text, shape="plaintext", style="", fontcolor=style.DETACHED,
                fontsize=CUT_PT, fontname=font + " Bold", margin="0.15,0.02")


def in_attrs(cut: Cut) -> dict:
    name = cut.arrow.src.anchor.name or "state"
    return dict(label=f"{name} (detached)", style="dashed,rounded", fillcolor="white",
                color=style.DETACHED, fontcolor=style.DETACHED, penwidth="1.5")


def in_chunk(column: float, first: int, last: int) -> bool:
    return first - 0.5 < column <= last + 0.5


def emit_cut_edges(dot, cut: Cut, grid, edge, end, weights_label: str) -> None:
    """The two pieces: src --| marker (bar) and copy --> dst (with the weight used)."""
    src, dst = cut.arrow.src, cut.arrow.dst
    edge(dot, end(src), cut.out_end(grid), grid,
         dict(LINE, penwidth="3", arrowhead="tee", arrowsize="1.3"))
    attrs = dict(LINE, penwidth="2", arrowsize="0.9", fontcolor=style.DETACHED)
    if weights_label:
        attrs["label"] = weights_label
    edge(dot, cut.in_end(grid), end(dst), grid, attrs)


def plain_cut_attrs(weights_label: str) -> dict:
    """A cut from an earlier chunk that is not drawn: one dashed arrow."""
    attrs = dict(LINE, penwidth="3", arrowsize="1", fontcolor=style.DETACHED,
                 label="\\n".join(p for p in ("detached", weights_label) if p))
    return attrs
