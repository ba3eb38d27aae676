"""Layout hints for the op-level and cells views: how time order is imposed on ``dot``.

- hidden states h_0 -> h_1 -> ... are tied by heavy invisible edges at least one timestep's
  box apart (``_step_span``), and every input x_t is ranked after h_{t-1}: timestep boxes,
  inputs and losses then follow each other in t order instead of forming a staircase;
- edges reading a hidden state, and edges inside one timestep's box, weigh more, so a step's
  ops stay together and y_t stays next to its h_t;
- a parameter used more than once feeds a "bus": one line along time with a tap per use
  (``buses``), instead of a fan of long arrows that cross everything.
"""

from __future__ import annotations

import re

import graphviz

from autograd_rnn.viz import style
from autograd_rnn.viz.view import HIDDEN_NAME, View, VNode, layer_path, step_of

_TIMESTEP = re.compile(r"(?:^|/)t=\d+$")


def emit_time_order(dot: graphviz.Digraph, view: View, detail: str) -> None:
    """Invisible heavy edges along each hidden-state chain (h_0 -> h_1 -> ...), at least one
    timestep's box apart, and from h_{t-1} to the inputs of step t: time runs along the
    ranks, so boxes, inputs and losses come in t order."""
    period = str(_step_span(view)) if detail == "ops" else "1"
    for chain in view.chains.values():
        for a, b in zip(chain, chain[1:], strict=False):
            dot.edge(a.name, b.name, style="invis", weight="10", minlen=period)
    if detail == "ops":  # (a cell's input may share its predecessor's rank: no extra width)
        for a, b in _after_previous_step(view):
            dot.edge(a.name, b.name, style="invis")


def edge_weight(view: View, edge, states: set[int]) -> str | None:
    """Heavier edges out of hidden states (what reads h_t stays next to it) and inside one
    timestep's box (the box stays compact)."""
    if id(edge.src) in states:
        return "3"
    if edge.src.cluster and edge.src.cluster == edge.dst.cluster:
        return "5"
    return None


def emit_buses(dot: graphviz.Digraph, segments: list[tuple[str, str]]) -> None:
    """The bus lines: grey segments through small points, pulling on nothing."""
    for a, b in segments:
        dot.node(b, shape="point", width="0.04", color=style.GREY)
        dot.edge(a, b, arrowhead="none", color=style.GREY, penwidth="1.2", weight="0")


def _step_span(view: View) -> int:
    """The most ranks one timestep's box needs (its longest chain of ops, + 1). Consecutive
    hidden states are kept at least that far apart, so the boxes of one row (the outputs'
    and losses' too) follow each other in time instead of being stacked as a staircase."""
    depth: dict[int, int] = {}
    span = 1
    for edge in sorted(view.edges, key=lambda e: e.dst.sort_key):
        src, dst = edge.src, edge.dst
        if src.cluster and src.cluster == dst.cluster and _TIMESTEP.search(dst.cluster):
            depth[id(dst)] = max(depth.get(id(dst), 0), depth.get(id(src), 0) + 1)
            span = max(span, depth[id(dst)] + 1)
    return span


def _after_previous_step(view: View) -> list[tuple[VNode, VNode]]:
    """Invisible (state of step t-1, input of step t) pairs of one layer: an input x_t is
    ranked after h_{t-1}, so timestep boxes follow each other instead of overlapping."""
    states: dict[tuple[str, int], VNode] = {}
    for key, chain in view.chains.items():
        if key.startswith("h:"):
            for node in chain:
                for m in node.members:
                    match = HIDDEN_NAME.match(m.name or "")
                    step = int(match.group(2)) if match else -1
                    if step == 0 or (step > 0 and node.kind != "input"):  # not a copy
                        states.setdefault((key[2:], step), node)
    pairs = []
    for node in view.nodes:
        t = node.members[0]
        step = step_of(t.scope)
        if node.kind != "input" or not step:
            continue
        previous = states.get((layer_path(t.scope), step - 1))
        if previous is not None and previous is not node:
            pairs.append((previous, node))
    return pairs


def buses(view: View) -> tuple[dict[int, str], list[tuple[str, str]]]:
    """Bus lines for parameters used more than once.

    Instead of long arrows to every timestep (slow to route, and they cross everything),
    the parameter feeds a "bus" line of small points running along time, and each use
    branches off its own point, so the sharing stays visible and every branch still
    carries that step's gradient. Returns {id(edge): its tap point} and the bus segments
    [(from, to)] in order.
    """
    taps: dict[int, str] = {}
    segments: list[tuple[str, str]] = []
    for node in view.nodes:
        if node.kind != "param":
            continue
        uses = view.uses(node)
        if len(uses) > 1:
            uses.sort(key=lambda e: e.dst.sort_key)
            previous = node.name
            for k, edge in enumerate(uses):
                taps[id(edge)] = f"{node.name}b{k}"
                segments.append((previous, taps[id(edge)]))
                previous = taps[id(edge)]
    return taps, segments
