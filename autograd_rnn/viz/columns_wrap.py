"""The cells view of a long unroll, wrapped into bands like the textbook view.

``wrap_columns(view, plan, wrap)`` cuts the columns into bands of at most ``wrap`` timesteps
(``None``: the width that shows the figure largest on a 16:9 slide; 0: one band), time left
to right in every band, bands top to bottom, and shifts every node's level by its band's
base. The recurrence (and the running sum of the losses) from the last cell of a band to the
first of the next is one arrow, a carriage return under the band; no bus line can follow it
without crossing, so in a wrapped figure the shared weights are drawn once, in a row over
the figure, and reach each cell through a labelled stub ("W_x: 0.3 / W_h: 0.01 / b: 0.2",
this step's shares), as the textbook view writes them on its arrows. Invisible stands at the
left of every band, chained one band apart, stack the bands and align their left edges.
"""

from __future__ import annotations

import math

import graphviz

from autograd_rnn.viz.columns import ColumnPlan
from autograd_rnn.viz.view import View

SLIDE_PT = (960.0, 540.0)  # a 1280 x 720 px slide at 96 dpi
LEVEL_PT = 62.0  # a level of the cells view with the arrow labels under it
CHAR_PT = 6.3  # a character at 11 pt
STUB_PT = 140.0  # beside a cell: its input, the weights' stub label, the recurrence label
MIN_WRAP = 3
GAP = 1  # empty levels between two bands
CHAIN_WEIGHT = "10"
ONE_BAND_BONUS = 0.85  # one band keeps the bus lines: wrap only when that shows it larger


def wrap_columns(view: View, plan: ColumnPlan, wrap: int | None) -> None:
    """Cut ``plan``'s columns into bands (in place)."""
    steps = max(plan.step.values(), default=0)
    if wrap is not None and wrap < 0:
        raise ValueError(f"wrap must be >= 0 (0: one band), got {wrap}")
    width = auto_width(view, plan, steps) if wrap is None else (wrap or None)
    if width is None or width >= steps:
        return
    bands = math.ceil(steps / width)
    span = plan.high - plan.low + 5 + GAP  # two buses, the weights' row, the gap
    plan.width = width
    plan.base = [(bands - 1 - b) * span for b in range(bands)]
    for key, step in plan.step.items():
        plan.level[key] += plan.base[plan.band(step)]
    by_id = {id(n): n for n in view.nodes}
    plan.names = {by_id[k].name: plan.level[k] for k in plan.step if k in by_id}
    plan.bands = {by_id[k].name: plan.band(step) for k, step in plan.step.items()
                  if k in by_id}


def auto_width(view: View, plan: ColumnPlan, steps: int) -> int | None:
    """The band width whose estimated figure shrinks least to fit a 16:9 slide (one band,
    with its bus lines, unless bands show the figure clearly larger)."""
    if steps < 2 * MIN_WRAP:
        return None
    widest = max((len(line) for n in view.nodes if id(n) in plan.step and n.kind == "cell"
                  for line in _lines(n)), default=12)
    pitch = widest * CHAR_PT + 16 + STUB_PT  # the box, its stub's and the recurrence's labels
    levels = plan.high - plan.low + 3
    best, best_score = None, None
    for bands in range(1, steps // MIN_WRAP + 1):
        width = math.ceil(steps / bands)
        if bands > 1 and math.ceil(steps / width) != bands:
            continue
        w = pitch * (width + 1)
        h = LEVEL_PT * (bands * levels + (bands - 1) * (GAP + 2) + 2)
        score = max(w / SLIDE_PT[0], h / SLIDE_PT[1]) * (ONE_BAND_BONUS if bands == 1 else 1)
        if best_score is None or score < best_score - 1e-9:
            best, best_score = (width if width < steps else None), score
    return best


def _lines(node) -> list[str]:
    scope = node.members[0].scope
    named = [m.name for m in node.outputs if m.name]
    return [scope, "-> " + ", ".join(named), "|dL/dh_100| = 0.000123"]


def band_points(view: View, plan: ColumnPlan) -> list[tuple[str, int]]:
    """An invisible stand at the left of every band's bottom row (in a wrapped figure)."""
    if plan.width is None:
        return []
    return [(f"band_stand{b}", base + plan.low - 1) for b, base in enumerate(plan.base)]


def emit_band_chain(dot: graphviz.Digraph, view: View, plan: ColumnPlan,
                    points: list[tuple[str, int]]) -> None:
    """The stands, each tied to the first tap of its band, chained one band apart."""
    if plan.width is None:
        return
    level = dict(points)
    for name in [n for n, lv in points if lv > plan.bus_level("top")]:  # the weights' row,
        dot.edge("band_stand0", name, style="invis", weight="0",  # over band 0
                 minlen=str(level[name] - level["band_stand0"]))
    for b, base in enumerate(plan.base):
        stand = f"band_stand{b}"
        dot.node(stand, label="", shape="point", style="invis", width="0", height="0",
                 group="bands")
        taps = sorted((n for n, lv in points if n.startswith("bus_bottom")
                       and lv == level[stand]), key=lambda n: int(n[len("bus_bottom"):]))
        if taps:
            dot.edge(stand, taps[0], style="invis", weight=CHAIN_WEIGHT)
        if b + 1 < len(plan.base):
            dot.edge(f"band_stand{b + 1}", stand, style="invis", weight=CHAIN_WEIGHT,
                     minlen=str(base - plan.base[b + 1]))
