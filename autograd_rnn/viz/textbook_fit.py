"""How wide the bands of a wrapped textbook view are, and where its parameter table goes.

``auto_wrap`` (``wrap=None``) tries 1, 2, 3, ... bands of balanced width (and, for a
truncated run with short chunks, bands of whole chunks, which end at cuts) and keeps the one
that shows the figure largest on a 16:9 slide, from its estimated size: the width of a
column from the text of its widest box and arrow label, ``LEVEL_PT`` per row of boxes, and
the parameter table where ``table_place`` puts it.
"""

from __future__ import annotations

import math

from autograd_rnn.viz.textbook_bands import GAP, Grid
from autograd_rnn.viz.textbook_model import Textbook

SLIDE_PT = (960.0, 540.0)  # a 1280 x 720 px slide at 96 dpi
CHAR_PT = (6.3, 5.3)  # average width of a character at 12 pt (boxes) and 10 pt (arrows)
LEVEL_PT = 58.0  # height of one level (a row of boxes and the labels above it)
TABLE_PT = (470.0, 150.0)  # the parameter table laid out wide (width, height)
MIN_WRAP = 3
CHUNK_BAND = 10  # truncated runs with chunks up to this long: whole chunks in every band
ALIGNED_BONUS = 0.85  # ... unless bands that split chunks show the figure larger
WIDE_COLUMNS = 5  # more columns (h_0 included) than this: the table goes under the figure


def auto_wrap(book: Textbook, steps: int, mode: str = "full") -> int | None:
    """The band width that shows the figure largest on a 16:9 slide (None: one band).

    Each candidate (1, 2, 3, ... bands of balanced width; for a truncated run with chunks
    of at most ``CHUNK_BAND`` steps, also bands of whole chunks, which end at cuts and are
    preferred by ``ALIGNED_BONUS``) is scored by how much its estimated size
    (``estimate``) must shrink to fit ``SLIDE_PT``.
    """
    if steps < 2 * MIN_WRAP:
        return None
    chunk = _chunk_length(book)
    pitch = column_pitch(book, mode)
    candidates = {math.ceil(steps / bands) for bands in range(1, steps // MIN_WRAP + 1)}
    if chunk and chunk <= CHUNK_BAND:  # bands of whole chunks, so bands end at cuts
        candidates |= {chunk * k for k in range(1, steps // chunk + 1)}
    best, best_score = None, None
    for width in sorted(candidates, reverse=True):
        grid = Grid(book, width if width < steps else None, steps, mode=mode)
        grid._join()
        grid._stack()
        w, h = estimate(grid, pitch, mode)
        score = max(w / SLIDE_PT[0], h / SLIDE_PT[1])
        if chunk and width % chunk:
            score /= ALIGNED_BONUS
        if best_score is None or score < best_score - 1e-9:
            best, best_score = grid.width, score
    return best


def estimate(grid: Grid, pitch: float, mode: str) -> tuple[float, float]:
    """Rough size in points: ``pitch`` per column (plus h_0 and the stub out of each band),
    ``LEVEL_PT`` per level, and the parameter table where ``table_place`` puts it."""
    columns = grid.width or grid.steps
    w = pitch * (columns + 1)
    levels = sum(len(rows) for rows in grid.band_rows) + GAP * (grid.bands - 1)
    h = LEVEL_PT * levels
    place = table_place(grid, pitch, mode)
    if place == "beside":  # one band, a few steps: beside the total loss, over the columns
        return max(w, w / 2 + TABLE_PT[0]), h + TABLE_PT[1]
    if place in ("under", "below", "above"):
        return w, h + (2 * TABLE_PT[1] if place == "under" else TABLE_PT[1])
    if place == "top":  # beside the total loss above the middle of band 0
        return max(w, w / 2 + TABLE_PT[0] + 40), h + TABLE_PT[1] / 2
    return w, h + TABLE_PT[1]  # "last": in the room the last band leaves


def table_place(grid: Grid, pitch: float | None = None, mode: str | None = None) -> str:
    """Where the parameter table goes: "beside" the losses (one band of at most
    ``WIDE_COLUMNS`` columns), "under" the middle column (one longer band), in the room the
    "last" band leaves at its right, at the "top" beside the total loss (a full figure),
    "above" the first band (whose top row is not the loss), or "below" the last band (a
    compact figure)."""
    mode = mode or grid.mode
    pitch = pitch or column_pitch(grid.book, mode)
    if not grid.wrapped:
        return "beside" if len(grid.book.columns) <= WIDE_COLUMNS and not grid.book.chunks \
            else "under"
    room = (grid.width - (grid.steps - (grid.bands - 1) * grid.width)) * pitch
    if room >= TABLE_PT[0]:
        return "last"
    if mode == "compact":
        return "below"
    return "top" if "loss" in grid.band_rows[0] else "above"


def column_pitch(book: Textbook, mode: str) -> float:
    """The width of a column: the widest state box and the widest label of an arrow
    between columns (which sits between two boxes), from their text."""
    boxes = [n for n in book.nodes if n.kind in ("h", "c")]
    box = max((len(n.anchor.name or "") + (8 if n.layer.count("/") else 0) for n in boxes),
              default=4)
    if mode == "compact":
        return max(box, 7) * CHAR_PT[0] + 40
    box = max(box, 10)  # "|dL/dh_13|"
    label = max((len(w.label) + (len(w.gates) + 3 if w.gates else 0) + 8
                 for a in book.arrows if a.src.column != a.dst.column for w in a.weights),
                default=11)
    return box * CHAR_PT[0] + 14 + max(label, 11) * CHAR_PT[1] + 8


def _chunk_length(book: Textbook) -> int | None:
    if len(book.chunks) < 2:
        return None
    first, last = book.chunks[0]
    return last - max(first, 1) + 1
