"""Colours, pen widths and number formatting shared by every diagram.

Gradient magnitudes are drawn on a log scale: an edge carrying ``|g|`` gets
``t = (log10|g| - lo) / (hi - lo)`` in [0, 1] (lo, hi: the smallest and largest nonzero
norms in the picture), then a colour from a colour-blind-safe palette (viridis, dark purple
for the largest gradients to yellow-green for the smallest, so luminance falls monotonically
as the magnitude grows) and a pen width from 0.6 (smallest) to 4 (largest). Categorical
colours (parameters, loss, failures, highlights) come from the Okabe-Ito palette.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np

from autograd_rnn.core.node import is_dropped

# viridis sampled at 0.0, 0.1, ..., 0.8 (the lightest tail is too pale on white paper)
VIRIDIS = (
    "#440154", "#482878", "#3e4989", "#31688e", "#26828e",
    "#1f9e89", "#35b779", "#6dcd59", "#b4de2c",
)
# Okabe & Ito (2008), "Color Universal Design"
ORANGE, SKY_BLUE, GREEN, YELLOW = "#E69F00", "#56B4E9", "#009E73", "#F0E442"
BLUE, VERMILLION, PURPLE, GREY = "#0072B2", "#D55E00", "#CC79A7", "#999999"

FILL_PARAM = "#cfe8f7"  # light sky blue
FILL_INPUT = "#eeeeee"
FILL_HIDDEN = "#c9ebdf"  # light bluish green
FILL_LOSS = "#f7dfb0"  # light orange
FILL_FAIL = "#f4c2a1"  # light vermillion
ZERO_COLOUR = "#bbbbbb"
HIGHLIGHT = ORANGE
FAIL = VERMILLION
DETACHED = VERMILLION

PEN_MIN, PEN_MAX = 0.6, 4.0


def fmt(x: float) -> str:
    """A number in 3 significant digits: 0.00123, 1.2e-07, 45.6, nan."""
    if x != x:  # NaN
        return "nan"
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    if x == 0:
        return "0"
    return f"{x:.3g}"


def fmt_shape(shape: tuple[int, ...]) -> str:
    """(2, 3) -> "(2, 3)"; () -> "()"."""
    return "(" + ", ".join(str(n) for n in shape) + ("," if len(shape) == 1 else "") + ")"


def fmt_values(a: np.ndarray) -> str:
    """The values of a tiny array, flattened: "[0.1, -2]"."""
    return "[" + ", ".join(fmt(float(v)) for v in np.ravel(a)) + "]"


def kept(value) -> bool:
    """False for a value a lean graph did not keep (``ar.lean_graph()``): nothing to show."""
    return not is_dropped(value)


def norm(a) -> float:
    """Frobenius norm of an array (0-d arrays too), as a Python float."""
    return float(np.sqrt(np.sum(np.square(np.asarray(a, dtype=np.float64)))))


class LogScale:
    """Maps gradient norms to colour and pen width on a log scale over [lo, hi]."""

    def __init__(self, norms: Iterable[float]):
        logs = [math.log10(n) for n in norms if n > 0 and math.isfinite(n)]
        self.empty = not logs
        self.lo = min(logs) if logs else 0.0
        self.hi = max(logs) if logs else 0.0

    def position(self, n: float) -> float:
        """Where ``n`` sits in [0, 1] (1 = the largest norm drawn)."""
        if self.hi <= self.lo:
            return 1.0
        return min(1.0, max(0.0, (math.log10(n) - self.lo) / (self.hi - self.lo)))

    def colour(self, n: float) -> str:
        if not math.isfinite(n):
            return FAIL
        if n <= 0:
            return ZERO_COLOUR
        index = round((1.0 - self.position(n)) * (len(VIRIDIS) - 1))
        return VIRIDIS[index]

    def penwidth(self, n: float) -> str:
        if not math.isfinite(n):
            return fmt(PEN_MAX)
        if n <= 0:
            return fmt(PEN_MIN)
        return f"{PEN_MIN + (PEN_MAX - PEN_MIN) * self.position(n):.2f}"

    def ramp_html(self, title: str) -> str:
        """A one-line colour ramp (smallest to largest norm) as an HTML-like table."""
        cells = "".join(f'<td bgcolor="{c}" width="12"> </td>' for c in reversed(VIRIDIS))
        return ('<table border="0" cellborder="0" cellspacing="0" cellpadding="1">'
                f'<tr><td colspan="{len(VIRIDIS) + 2}" align="left">{title}</td></tr>'
                f'<tr><td>{fmt(10 ** self.lo)} </td>{cells}<td> {fmt(10 ** self.hi)}</td></tr>'
                "</table>")

    def legend_label(self, zero: bool = False, const: bool = False,
                     detached: bool = False) -> str:
        """A small HTML-like legend: the colour ramp with its range, and only the keys the
        figure uses (exact zeros, constant inputs, detached states)."""
        rows = ['<<table border="0" cellborder="0" cellspacing="0" cellpadding="2">',
                "<tr><td>" + self.ramp_html("gradient |g| on arrows (log scale)") + "</td></tr>"]
        if zero:
            rows.append(f'<tr><td align="left"><font color="{ZERO_COLOUR}">grey arrow: '
                        "gradient exactly 0</font></td></tr>")
        if const:
            rows.append('<tr><td align="left"><font color="#777777">dotted: constant input, '
                        "no gradient</font></td></tr>")
        if detached:
            rows.append(f'<tr><td align="left"><font color="{DETACHED}">dashed: detached '
                        "(truncated BPTT)</font></td></tr>")
        rows.append("</table>>")
        return "".join(rows)
