"""The op-level and cells views laid out like the textbook: one column per timestep.

``plan_columns(view)`` gives every node of a timestep scope (``.../t=<k>``) its column ``k``
and a *level*: its depth inside its own column (longest path from the column's inputs over
edges of that column; an op fed only from another column, like ``h_{t-1} @ W_h``, sits just
under the op that uses it; an initial or detached state sits at the level of the state it
stands for). Levels are shared by all columns, so with ``rankdir=BT`` the inputs ``x_t`` are
at the bottom, the states ``h_t`` in one row in the middle, outputs and losses on top, time
runs left to right, and ``h_{t-1}`` -> step t is the link between two columns.

Shared parameters are not wired to every use: those used under the top state row ride one
"bus" under the inputs, those used above it (``W_y``, ``b_y``) one bus over the losses, with
one tap per column and a labelled branch from the tap to each use (``bus_lines``).
``rankdir="TB"`` draws the same columns upside down: ops flow top to bottom (inputs on top,
the loss at the bottom). Graphs without timestep scopes keep the plain layout (``dot.py``).
"""

from __future__ import annotations

import heapq
from collections.abc import Callable
from dataclasses import dataclass, field

import graphviz

from autograd_rnn.viz import style
from autograd_rnn.viz.view import View, VNode, layer_path, step_of

DOT_RANKDIR = {"LR": "BT", "TB": "TB"}  # time left to right; ops upwards / downwards
BUS_SIDES = ("bottom", "top")


@dataclass
class ColumnPlan:
    """Column (timestep) and level of every node of a timestep scope."""

    step: dict[int, int]  # id(VNode) -> timestep
    level: dict[int, int]  # id(VNode) -> level (0: the inputs; plus its band's base)
    state_level: int  # the highest level of a recurrent state (h_t)
    side: dict[int, str] = field(default_factory=dict)  # id(param VNode) -> "bottom"/"top"
    names: dict[str, int] = field(default_factory=dict)  # DOT name -> level
    low: int = 0  # the lowest and highest level inside a column
    high: int = 0
    width: int | None = None  # wrapped (cells view): steps per band
    base: list[int] = field(default_factory=lambda: [0])  # level offset of each band
    bands: dict[str, int] = field(default_factory=dict)  # DOT name -> band (wrapped)

    def band(self, step: int) -> int:
        if self.width is None or step < 1:
            return 0
        return min((step - 1) // self.width, len(self.base) - 1)

    def bus_level(self, side: str, step: int = 0) -> int:
        base = self.base[self.band(step)]
        return base + (self.low - 1 if side == "bottom" else self.high + 1)

    def cluster(self, node: VNode, boxes: bool = True) -> str:
        """The box a node is drawn in: its timestep's column ("t=3", one box per step holding
        the step's cell and output ops; the first step's holds h_0), else its own scope
        without timestep parts. Without ``boxes`` (the cells view, whose cells are boxes
        named by their timestep) a column is not boxed."""
        step = self.step.get(id(node))
        if step is not None and not boxes:
            return ""
        if step == 0:  # h_0, c_0: in the first step's box (dot 2.43 misplaces a box of its
            step = min((k for k in self.step.values() if k > 0), default=0)  # own)
        if step is not None:
            return f"t={step}"
        return layer_path(node.cluster)

    def heights(self, points: list[tuple[str, int]]) -> dict[str, int]:
        """{DOT name: level} of the columns' nodes and the bus points."""
        return {**{name: level for name, level in points}, **self.names}

    def point_bands(self, points: list[tuple[str, int]]) -> dict[str, int]:
        """{DOT name: band} of the columns' nodes, taps and stands (wrapped figures)."""
        if self.width is None:
            return {}
        found = dict(self.bands)
        for name, _ in points:
            digits = name.rsplit("_bottom", 1)[-1].rsplit("_top", 1)[-1]
            if name.startswith("bus_") and digits.isdigit():
                found[name] = self.band(int(digits))
            elif name.startswith("band_stand"):
                found[name] = int(name[len("band_stand"):])
        return found


def plan_columns(view: View) -> ColumnPlan | None:
    """Columns and levels of ``view``'s nodes; None when it has no timestep scopes."""
    step = {}
    for node in view.nodes:
        k = step_of(node.members[0].scope) if node.kind != "param" else None
        if k is not None:
            step[id(node)] = k
    if not step:
        return None
    stepped = [n for n in view.nodes if id(n) in step]  # creation order: parents first
    level = _column_levels(view, step, stepped)
    stepped += _place_detached_copies(view, step, level)
    states = []
    for chain in view.chains.values():
        for a, b in zip(chain, chain[1:], strict=False):
            if a.kind == "input" and id(a) in level and id(b) in level:
                level[id(a)] = level[id(b)]  # h_0, a detached copy: in the state's row
        states += [level[id(n)] for n in chain if id(n) in level and n.kind != "input"]
    plan = ColumnPlan(step, level, max(states, default=max(level.values())),
                      names={n.name: level[id(n)] for n in stepped},
                      low=min(level.values()), high=max(level.values()))
    for node in view.nodes:
        if node.kind == "param":
            uses = [level[id(e.dst)] for e in view.uses(node) if id(e.dst) in level]
            if uses:
                plan.side[id(node)] = "top" if min(uses) > plan.state_level else "bottom"
    return plan


def _column_levels(view: View, step: dict[int, int], stepped: list[VNode]) -> dict[int, int]:
    """{id(node): level} of the ``stepped`` nodes: the longest path from their column's
    inputs over edges inside the column; a node fed only from another column sits just
    under its first user."""
    parents: dict[int, list[VNode]] = {}
    children: dict[int, list[VNode]] = {}
    for e in view.edges:
        if e.kind != "detached" and step.get(id(e.src)) is not None \
                and step.get(id(e.src)) == step.get(id(e.dst)):
            parents.setdefault(id(e.dst), []).append(e.src)
            children.setdefault(id(e.src), []).append(e.dst)
    order = _parents_first(stepped, parents)
    level: dict[int, int] = {}
    for node in order:
        level[id(node)] = max((level[id(p)] + 1 for p in parents.get(id(node), ())), default=0)
    for node in reversed(order):  # fed from another column only: just under its user
        kids = children.get(id(node), ())
        if node.kind != "input" and not parents.get(id(node)) and kids:
            level[id(node)] = min(level[id(c)] for c in kids) - 1
    return level


def _parents_first(nodes: list[VNode], parents: dict[int, list[VNode]]) -> list[VNode]:
    """``nodes`` with every node after its ``parents``, otherwise in the given (creation)
    order. Creation order usually is such an order; a cells view of a bidirectional layer is
    not (step t's forward cell, made first, holds the concat that reads the reverse cell)."""
    index = {id(n): k for k, n in enumerate(nodes)}
    waiting = {id(n): len(parents.get(id(n), ())) for n in nodes}
    children: dict[int, list[int]] = {}
    for n in nodes:
        for p in parents.get(id(n), ()):
            children.setdefault(id(p), []).append(index[id(n)])
    ready = [k for k, n in enumerate(nodes) if waiting[id(n)] == 0]
    heapq.heapify(ready)
    order = []
    while ready:
        node = nodes[heapq.heappop(ready)]
        order.append(node)
        for k in children.get(id(node), ()):
            waiting[id(nodes[k])] -= 1
            if waiting[id(nodes[k])] == 0:
                heapq.heappush(ready, k)
    if len(order) < len(nodes):
        raise ValueError("the timestep columns hold a cycle of cells; draw detail='ops'")
    return order


def _place_detached_copies(view: View, step: dict[int, int],
                           level: dict[int, int]) -> list[VNode]:
    """Put each detached copy starting a truncated-BPTT chunk in the row of the state it
    copies, in the column of its first user (``step`` and ``level`` updated); returns the
    copies placed."""
    placed = []
    for node in view.nodes:
        origin = node.members[0].detached_from
        kids = [e.dst for e in view.out.get(id(node), ()) if id(e.dst) in step]
        if node.kind == "input" and id(node) not in step and origin is not None and kids:
            source = view.by_tensor.get(id(origin()))
            if source is not None and id(source) in level:
                step[id(node)] = min(step[id(k)] for k in kids)
                level[id(node)] = level[id(source)]
                placed.append(node)
    return placed


def emit_levels(dot: graphviz.Digraph, view: View, plan: ColumnPlan,
                bus_points: list[tuple[str, int]]) -> None:
    """One rank per level (and per bus); invisible arrows from each state and input to the
    next column's keep the columns in time order."""
    rows: dict[int, list[str]] = {}
    for node in view.nodes:
        if id(node) in plan.level:
            rows.setdefault(plan.level[id(node)], []).append(node.name)
    for name, level in bus_points:
        rows.setdefault(level, []).append(name)
    for level in sorted(rows):
        sub = graphviz.Digraph(name=f"level{level - min(rows)}")
        sub.attr(rank="same")
        for name in rows[level]:
            sub.node(name)
        dot.subgraph(sub)
    linked = {(e.src.name, e.dst.name) for e in view.edges}
    for a, b in _neighbours(view, plan):
        if (a.name, b.name) not in linked:
            dot.edge(a.name, b.name, style="invis", weight="5")


def _neighbours(view: View, plan: ColumnPlan) -> list[tuple[VNode, VNode]]:
    """(state of step t, state of step t+1) per chain, and (x_t, x_{t+1}) per layer."""
    pairs = []
    for chain in view.chains.values():
        kept = [n for n in chain if id(n) in plan.level]
        pairs += [(a, b) for a, b in zip(kept, kept[1:], strict=False)
                  if plan.level[id(a)] == plan.level[id(b)]]  # (never across bands)
    inputs: dict[tuple, list[VNode]] = {}
    for node in view.nodes:
        step = plan.step.get(id(node))
        if node.kind == "input" and step is not None \
                and plan.level[id(node)] == plan.base[plan.band(step)]:
            inputs.setdefault((node.cluster.rsplit("/", 1)[0],), []).append(node)
    for row in inputs.values():
        row.sort(key=lambda n: (plan.step[id(n)], n.sort_key))
        pairs += [(a, b) for a, b in zip(row, row[1:], strict=False)
                  if plan.step[id(a)] < plan.step[id(b)]
                  and plan.band(plan.step[id(a)]) == plan.band(plan.step[id(b)])]
    return pairs


def bus_lines(view: View, plan: ColumnPlan, bus: bool = True) -> tuple[dict, list, list,
                                                                        list]:
    """The buses: {id(param edge): its tap}, the bus points and parameters [(name, level)],
    the grey segments [(lower, upper)] (each side's parameters, outside the bus, feed its
    first tap; the taps, one per column, are joined left to right) and [(tap, the node of
    its column it hangs under or over)]. Without ``bus`` (or for one column) only the
    parameters' places: under the inputs or over the losses, wired to every use."""
    taps: dict[int, str] = {}
    points: list[tuple[str, int]] = []
    segments: list[tuple[str, str]] = []
    anchors: list[tuple[str, str]] = []
    for side in BUS_SIDES:
        params = [n for n in view.nodes if plan.side.get(id(n)) == side]
        uses = [e for p in params for e in view.uses(p) if id(e.dst) in plan.step]
        steps = sorted({plan.step[id(e.dst)] for e in uses})
        level = plan.bus_level(side)
        if plan.width is not None:  # wrapped: the parameters in a row over the figure and a
            points += [(p.name, plan.bus_level("top") + 1) for p in params]  # labelled
            name = {k: f"bus_{side}{k}" for k in steps}  # stub into each cell, no lines
            taps.update({id(e): name[plan.step[id(e.dst)]] for e in uses})
            points += [(name[k], plan.bus_level(side, k)) for k in steps]
            edge_node = _edge_nodes(view, plan, side)
            anchors += [(name[k], edge_node(k)) for k in steps]
            continue
        if not bus or len(steps) < 2:
            points += [(p.name, level) for p in params]
            continue
        name = {k: f"bus_{side}{k}" for k in steps}
        for e in uses:
            taps[id(e)] = name[plan.step[id(e.dst)]]
        outside = level + (-1 if side == "bottom" else 1)
        points += [(name[k], level) for k in steps] + [(p.name, outside) for p in params]
        first = name[steps[0]]
        segments += [(p.name, first) if side == "bottom" else (first, p.name) for p in params]
        segments += [(name[a], name[b]) for a, b in zip(steps, steps[1:], strict=False)]
        edge_node = _edge_nodes(view, plan, side)
        anchors += [(name[k], edge_node(k)) for k in steps]
    return taps, points, segments, anchors


def _edge_nodes(view: View, plan: ColumnPlan, side: str) -> Callable[[int], str]:
    """``edge_node(step)``: the lowest (bottom) or highest (top) node of that column, which
    its bus tap hangs on (any column's when it has none). Columns are grouped once: a
    10,000-step graph has 20,000 taps."""
    columns: dict[int, list] = {}
    for n in view.nodes:
        if id(n) in plan.step:
            columns.setdefault(plan.step[id(n)], []).append(n)
    every = [n for column in columns.values() for n in column]
    pick = min if side == "bottom" else max

    def edge_node(step: int) -> str:
        return pick(columns.get(step) or every, key=lambda n: (
            plan.level[id(n)], -n.sort_key[0] if side == "top" else n.sort_key[0])).name

    return edge_node


def emit_bus_lines(dot: graphviz.Digraph, points: list[tuple[str, int]],
                   segments: list[tuple[str, str]], anchors: list[tuple[str, str]],
                   heights: dict[str, int], stubs: bool = False) -> None:
    """The taps (small grey points; invisible ``stubs`` without a bus line), the bus
    segments, and invisible heavy arrows that keep each tap under (over) its column."""
    for name in sorted(n for n, _ in points if n.startswith("bus_")):
        if stubs:
            dot.node(name, shape="point", width="0", height="0", style="invis")
        else:
            dot.node(name, shape="point", width="0.05", color=style.GREY)
    for a, b in segments:
        dot.edge(a, b, arrowhead="none", color=style.GREY, penwidth="1.5", weight="1")
    for tap, node in anchors:
        emit_edge(dot, tap, node, {"style": "invis", "weight": "10"}, heights)


def emit_edge(dot: graphviz.Digraph, src: str, dst: str, attrs: dict,
              heights: dict[str, int], bands: dict[str, int] | None = None) -> None:
    """An arrow src -> dst; one into a lower level (``h_{t-1}`` into step t, a branch down
    from the top bus) is written the way dot ranks it and drawn with ``dir=back``."""
    if bands and bands.get(src, 0) != bands.get(dst, 0) and src in heights \
            and dst in heights:  # from one band to another: exactly the levels between
        attrs = dict(attrs, minlen=str(abs(heights[src] - heights[dst])), weight="0")
    if src in heights and dst in heights and heights[src] > heights[dst]:
        attrs = dict(attrs, dir="back")
        if "arrowhead" in attrs:
            attrs["arrowtail"] = attrs.pop("arrowhead")
        dot.edge(dst, src, **attrs)
    else:
        dot.edge(src, dst, **attrs)


def merged_branches(view: View, taps: dict[int, str]) -> dict[int, list]:
    """Cells view: the branches from one tap into one cell (W_x, W_h and b into an LSTM
    cell) are drawn as one arrow. {id(first edge): [its edges]} and {id(other): []}."""
    groups: dict[tuple[str, int], list] = {}
    for edge in view.edges:
        if id(edge) in taps:
            groups.setdefault((taps[id(edge)], id(edge.dst)), []).append(edge)
    merged: dict[int, list] = {}
    for edges in groups.values():
        if len(edges) > 1:
            merged[id(edges[0])] = edges
            merged.update({id(e): [] for e in edges[1:]})
    return merged
