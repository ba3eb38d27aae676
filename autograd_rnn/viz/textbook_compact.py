"""The compact textbook view of very long unrolls (more than ``COMPACT_STEPS`` steps).

A band of full columns per 10 steps would make a 100-step figure ten bands tall. The compact
view keeps only the recurrent state rows (h_t, an LSTM's c_t, every layer), each box showing
its name and ``||dL/dh_t||``, the recurrent arrows coloured and thickened by the gradient
they carry back (no labels), wrapped into bands like the full view: the gradient fading or
growing reads box by box, band by band. The inputs, outputs and losses are not drawn; the
caption gives the total loss, and the parameter table still sums each weight's T shares.
"""

from __future__ import annotations

from autograd_rnn.viz import style
from autograd_rnn.viz.textbook_model import Textbook

COMPACT_STEPS = 40  # detail="textbook" draws only the state rows beyond this many steps
STATE_KINDS = ("h", "c", "cut")


def steps_of(book: Textbook) -> int:
    return max((n.column for n in book.nodes if n.kind in ("x", "h") and n.column), default=0)


def compact_book(book: Textbook) -> Textbook:
    """``book`` without the input, output and loss boxes and their arrows."""
    nodes = [n for n in book.nodes if n.kind in STATE_KINDS]
    keep = {id(n) for n in nodes}
    arrows = [a for a in book.arrows if id(a.src) in keep and id(a.dst) in keep]
    rows = [r for r in book.rows if any(n.row == r for n in nodes)]
    columns = sorted({n.column for n in nodes if n.column is not None})
    return Textbook(nodes, arrows, book.params, rows, columns, book.chunks, book.has_grads)


def compact_caption(book: Textbook, grads_on: bool) -> str:
    """What the compact view leaves out, and the total loss it does not draw."""
    losses = [n.anchor for n in book.nodes if n.kind == "loss" and n.anchor.size == 1]
    total = " + ".join(style.fmt(float(t.data.ravel()[0])) for t in losses)
    what = "each box: the state and ||dL/dh_t||" if grads_on else "the states only"
    text = f"{steps_of(book)} steps, compact: {what}; inputs, outputs and losses not drawn"
    return text + (f"; L = {total}" if total else "")
