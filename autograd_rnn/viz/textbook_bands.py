"""Where the boxes of the textbook view go when a long unroll is wrapped into bands.

``Grid.plan(book, wrap)`` cuts the columns (timesteps) into bands of at most ``wrap`` columns:
time reads left to right in every band, bands top to bottom, like lines of text. A band has
the rows of the figure (``Textbook.rows``, bottom to top) that hold a box in it; its boxes
get the *level* ``level(band, row)``, the Graphviz rank they must sit on (band 0 highest; one
empty level between two bands). An arrow from one band to the next (the recurrence
h_N -> h_{N+1}, the continuation) runs from the right end of one band to the left start of
the next, so nothing crosses it. The arrows into a total loss ``L`` from a later band meet in
a junction ("+") at the top right of that band; the junctions pass their sums up from band
to band to ``L``, one short line up the right edge per band.

``wrap=None`` picks the band width that shows the figure largest on a 16:9 slide
(``textbook_fit.py``); ``wrap=0`` never wraps; a bidirectional network is never wrapped (its
reverse direction would run against the bands' reading order).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from autograd_rnn.viz.textbook_cut import cuts
from autograd_rnn.viz.textbook_model import TArrow, Textbook, TNode

GAP = 1  # empty levels between two bands


@dataclass
class Junction:
    """A "+" where the arrows from one band into a total loss meet."""

    name: str
    root: TNode
    band: int
    arrows: list[TArrow] = field(default_factory=list)

    @property
    def position(self) -> float:
        """Right of the last box feeding it."""
        cols = [a.src.column for a in self.arrows if a.src.column is not None]
        return max(cols, default=0) + 0.5


@dataclass
class Continuation:
    """An arrow from one band into the next: it leaves its band to the right, through an
    invisible point where its label sits like every recurrent arrow's, then sweeps down to
    the start of the next band."""

    name: str
    arrow: TArrow

    @property
    def position(self) -> float:
        return (self.arrow.src.column or 0) + 0.5


@dataclass
class Grid:
    """Bands of columns. ``width`` columns per band (``None``: one band)."""

    book: Textbook
    width: int | None
    steps: int
    junctions: list[Junction] = field(default_factory=list)
    continuations: list[Continuation] = field(default_factory=list)
    mode: str = "full"
    band_rows: list[list[str]] = field(default_factory=list)  # rows present, bottom to top
    base: list[int] = field(default_factory=list)  # level of each band's bottom row

    @classmethod
    def plan(cls, book: Textbook, wrap: int | None, mode: str = "full") -> Grid:
        steps = max((c for c in book.columns if c >= 1), default=0)
        steps = max([steps] + [n.column for n in book.nodes
                               if n.kind == "x" and n.column is not None])
        reverse = any(n.layer.endswith("_reverse") for n in book.nodes)
        if wrap is not None and wrap < 0:
            raise ValueError(f"wrap must be >= 0 (0: one band), got {wrap}")
        if reverse and wrap:
            raise ValueError("wrap needs a forward-only network: a bidirectional layer's "
                             "reverse direction runs against the reading order of the bands "
                             "(pass wrap=0, or None, which keeps it in one band)")
        if wrap is None and not reverse:
            from autograd_rnn.viz.textbook_fit import auto_wrap

            width = auto_wrap(book, steps, mode)
        else:
            width = wrap if wrap and wrap < steps else None
        grid = cls(book, width, steps, mode=mode)
        grid._join()
        grid.continuations = [
            Continuation(f"cont{k}", a) for k, a in enumerate(
                a for a in book.arrows if a.kind != "detached" and a.dst.kind != "loss"
                and a.src.column is not None and a.dst.column is not None
                and grid.band_of_column(a.src.column) < grid.band_of_column(a.dst.column))]
        grid._stack()
        return grid

    # ----- bands --------------------------------------------------------------------------
    @property
    def bands(self) -> int:
        return 1 if self.width is None else math.ceil(self.steps / self.width)

    @property
    def wrapped(self) -> bool:
        return self.bands > 1

    def band_of_column(self, column: float) -> int:
        """Band of a column: h_0's column 0 goes with band 0, a reverse direction's initial
        state (right of the last step) with the last band."""
        if self.width is None or column < 1:
            return 0
        return min(int((math.ceil(column) - 1) // self.width), self.bands - 1)

    def band(self, node: TNode) -> int:
        if node.column is not None:
            return self.band_of_column(node.column)
        cols = [a.src.column for a in self.book.arrows
                if a.dst is node and a.src.column is not None]
        return self.band_of_column(min(cols)) if cols else 0

    def level(self, band: int, row: str) -> int:
        """The rank (0 at the bottom) of ``row`` in ``band``."""
        return self.base[band] + self.band_rows[band].index(row)

    def _stack(self) -> None:
        """The rows each band has (a band without outputs is lower), stacked with gaps."""
        present: list[set[str]] = [set() for _ in range(self.bands)]
        for node in self.book.nodes:
            present[self.band(node)].add(node.row)
        for cut in cuts(self.book):
            for end in (cut.out_end(self), cut.in_end(self)):
                present[end.band].add(end.row)
        for j in self.junctions:
            present[j.band].add("loss")
        if not self.wrapped:
            present = [set(self.book.rows)]
        self.band_rows = [[r for r in self.book.rows if r in rows] for rows in present]
        self.base = [0] * self.bands
        for band in range(self.bands - 2, -1, -1):
            self.base[band] = self.base[band + 1] + len(self.band_rows[band + 1]) + GAP

    def node_level(self, node: TNode) -> int | None:
        return self.level(self.band(node), node.row) if node.row in self.book.rows else None

    def first_column(self, band: int) -> int:
        return 1 if self.width is None else band * self.width + 1

    def position(self, node: TNode) -> float:
        """Left to right inside its band: the column, or for a box without one (a total
        loss) the mean column of the boxes of its own band feeding it."""
        if node.column is not None:
            return float(node.column)
        band = self.band(node)
        cols = [a.src.column for a in self.book.arrows if a.dst is node
                and a.src.column is not None and self.band_of_column(a.src.column) == band]
        return sum(cols) / len(cols) if cols else 0.0

    # ----- junctions ----------------------------------------------------------------------
    def _join(self) -> None:
        """A junction per (total loss, later band) it gathers arrows from."""
        if not self.wrapped or "loss" not in self.book.rows:
            return
        groups: dict[tuple[int, int], Junction] = {}
        for arrow in self.book.arrows:
            root = arrow.dst
            if root.kind != "loss" or arrow.kind == "detached" or arrow.src.column is None:
                continue
            band = self.band_of_column(arrow.src.column)
            if band == self.band(root):
                continue
            key = (id(root), band)
            if key not in groups:
                groups[key] = Junction(f"join{len(groups)}", root, band)
            groups[key].arrows.append(arrow)
        self.junctions = list(groups.values())

    def continuation_of(self, arrow: TArrow) -> Continuation | None:
        return next((c for c in self.continuations if c.arrow is arrow), None)

    def junction_of(self, arrow: TArrow) -> Junction | None:
        return next((j for j in self.junctions if any(a is arrow for a in j.arrows)), None)

    def upstream(self, junction: Junction) -> Junction | None:
        """Where a junction passes its sum: the junction of the same loss one band up (None:
        straight into the loss)."""
        above = [j for j in self.junctions if j.root is junction.root and j.band < junction.band]
        return max(above, key=lambda j: j.band, default=None)
