"""Graphviz export of a recorded graph: ``to_dot(roots, ...) -> graphviz.Digraph``.

What the picture shows (see ``view.py`` for the node/edge model):

- clusters per scope, so an unrolled network gets one box per timestep ("t=1", "t=2", ...)
  inside one box per layer; parameters sit outside every cluster, drawn once, with an arrow
  into each timestep that uses them;
- the hidden-state chain h_0 -> h_1 -> ... kept on one straight line (same ``group`` and
  heavy invisible edges between consecutive states);
- after backward, every edge is labelled with the gradient that flowed along it (its norm,
  or its values for tensors of <= 3 entries, and its shape) and coloured / thickened on a log
  scale (legend included); a shared weight's node shows the sum of its edge contributions
  (BPTT's sum over timesteps); before backward the title says gradients are not computed yet;
- a detached hidden state (truncated BPTT) gets a dashed vermillion "truncated (detached)"
  arrow; nodes whose VJP failed ``check_nodes`` are filled vermillion.
"""

from __future__ import annotations

import textwrap
from collections.abc import Iterable

import graphviz

from autograd_rnn.viz import labels, style
from autograd_rnn.viz.errors import GraphTooLargeError
from autograd_rnn.viz.view import View, VNode, build_view, count_nodes, filter_view

DEFAULT_MAX_NODES = 1000
BUS_MIN = 8  # parameters used more often feed a bus line (see _buses)


def to_dot(
    roots,
    *,
    detail: str = "ops",
    group: bool = True,
    rankdir: str = "LR",
    show_values: bool = False,
    show_grads: bool = True,
    highlight_nodes: Iterable[int] = (),
    highlight_edges: Iterable[tuple[int, int]] = (),
    visible_nodes: Iterable[int] | None = None,
    max_nodes: int | None = DEFAULT_MAX_NODES,
    title: str | None = None,
    node_check=None,
    legend: bool = True,
) -> graphviz.Digraph:
    """The graph behind ``roots`` (a Tensor or a list) as a Graphviz ``Digraph``.

    Args:
        detail: "ops" (one node per tensor) or "cells" (one node per scope, e.g. per cell
            per timestep: keeps a 100-step LSTM readable).
        group: draw scopes as clusters (labelled "t=1", "layer0", ...).
        rankdir: "LR" (time flows left to right) or "TB".
        show_values: print values (tiny tensors) or value norms in op nodes.
        show_grads: label and colour edges with the gradients of the last backward.
        highlight_nodes / highlight_edges: tensor ids / (parent id, child id) pairs drawn in
            bold orange (used by the step-through tracer).
        visible_nodes: None, or the tensor ids to draw (others are omitted).
        max_nodes: raise ``GraphTooLargeError`` above this many nodes (None: no limit).
        title: a caption at the top.
        node_check: a ``NodeCheckReport`` from ``check_nodes``: failing nodes are filled
            vermillion and their failing input edges marked.
        legend: add the colour legend when gradients are drawn.
    """
    if rankdir not in ("LR", "TB", "RL", "BT"):
        raise ValueError(f"rankdir must be 'LR' or 'TB', got {rankdir!r}")
    if max_nodes is not None and visible_nodes is None:
        count = count_nodes(roots, detail)  # fail fast, before building labels
        if count > max_nodes:
            raise GraphTooLargeError(_too_large(count, roots, detail, max_nodes))
    full = build_view(roots, detail)
    view = filter_view(full, None if visible_nodes is None else set(visible_nodes))
    if max_nodes is not None and len(view.nodes) > max_nodes:
        raise GraphTooLargeError(_too_large(len(view.nodes), roots, detail, max_nodes))
    grads_on = show_grads and view.has_grads
    scale = None
    if grads_on:
        scale = style.LogScale(labels.edge_norms(view.edges) + labels.param_norms(view))
    failed = node_check.failed_pairs() if node_check is not None else {}
    hl_nodes = set(highlight_nodes)
    hl_edges = {tuple(p) for p in highlight_edges}

    dot = graphviz.Digraph("autograd_rnn", strict=False)
    dot.attr(rankdir=rankdir, fontname="Helvetica", newrank="true", nodesep="0.25",
             ranksep="0.35")
    dot.attr("node", fontname="Helvetica", fontsize="10")
    dot.attr("edge", fontname="Helvetica", fontsize="8", arrowsize="0.6")
    caption = _caption(title, show_grads, view, full)
    if caption:
        dot.attr(label=caption, labelloc="t", fontsize="12")

    bodies = _cluster_bodies(view.nodes, group)
    for node in view.nodes:
        attrs = labels.node_attrs(node, show_values, grads_on, view, scale, failed, hl_nodes)
        bodies[node.cluster if group else ""].append((node.name, attrs))
    _emit_clusters(dot, bodies)

    for _k, chain in enumerate(view.chains.values()):
        for a, b in zip(chain, chain[1:], strict=False):
            dot.edge(a.name, b.name, style="invis", weight="10")
    taps, segments = _buses(view)
    for edge in view.edges:
        attrs = labels.edge_attrs(edge, grads_on, scale, failed, hl_edges)
        dot.edge(taps.get(id(edge), edge.src.name), edge.dst.name, **attrs)
    for a, b in segments:
        dot.node(b, shape="point", width="0.04", color=style.GREY)
        dot.edge(a, b, arrowhead="none", color=style.GREY, penwidth="1.2")
    if grads_on and legend and scale is not None and not scale.empty:
        dot.node("legend", label=scale.legend_label(), shape="plaintext", fontsize="8")
    return dot


def _buses(view: View) -> tuple[dict[int, str], list[tuple[str, str]]]:
    """Bus lines for parameters used by more than ``BUS_MIN`` nodes.

    Instead of many long arrows (slow to route and unreadable), the parameter feeds a "bus"
    line of small points running along time, and each use branches off its own point, so
    the sharing stays visible and every branch still carries that step's gradient.
    Returns {id(edge): its tap point} and the bus segments [(from, to)] in order.
    """
    taps: dict[int, str] = {}
    segments: list[tuple[str, str]] = []
    for node in view.nodes:
        if node.kind != "param":
            continue
        uses = view.uses(node)
        if len(uses) > BUS_MIN:
            uses.sort(key=lambda e: e.dst.sort_key)
            previous = node.name
            for k, edge in enumerate(uses):
                taps[id(edge)] = f"{node.name}b{k}"
                segments.append((previous, taps[id(edge)]))
                previous = taps[id(edge)]
    return taps, segments


def _too_large(count: int, roots, detail: str, max_nodes: int) -> str:
    advice = ""
    if detail == "ops":
        cells = count_nodes(roots, "cells")
        if cells <= max_nodes:
            advice = f"draw detail='cells' ({cells} nodes: one per cell per timestep), or "
        else:
            advice = (f"even detail='cells' has {cells} nodes, so draw fewer timesteps, "
                      "or ")
    elif count > max_nodes:
        advice = "draw fewer timesteps, or "
    return (
        f"the graph has {count} nodes, more than max_nodes={max_nodes} that Graphviz "
        f"lays out in reasonable time: {advice}write the DOT source only "
        "(render(..., format='dot') or to_dot(..., max_nodes=None))"
    )


def _caption(title, show_grads, view: View, full: View) -> str:
    lines = textwrap.wrap(title, 110) if title else []
    if show_grads and not full.has_grads:
        leaves_have_grad = any(
            n.kind == "param" and n.members[0].grad is not None for n in full.nodes
        )
        lines.append(
            "per-edge gradients were not recorded (backward ran under "
            "ar.record_gradients(False))" if leaves_have_grad
            else "gradients not computed yet: call loss.backward() to label the edges"
        )
    return "\\n".join(lines)


def _cluster_bodies(nodes: list[VNode], group: bool) -> dict[str, list]:
    bodies: dict[str, list] = {"": []}
    if group:
        for node in nodes:
            parts = node.cluster.split("/") if node.cluster else []
            for k in range(1, len(parts) + 1):
                bodies.setdefault("/".join(parts[:k]), [])
    return bodies


def _emit_clusters(dot: graphviz.Digraph, bodies: dict[str, list]) -> None:
    """Nested subgraphs "cluster_<k>" (k in order of first appearance) for scope paths."""
    children: dict[str, list[str]] = {}
    for path in bodies:
        if path:
            parent = path.rsplit("/", 1)[0] if "/" in path else ""
            children.setdefault(parent, []).append(path)
    numbers = {path: k for k, path in enumerate(p for p in bodies if p)}

    def fill(graph, path):
        for name, attrs in bodies[path]:
            graph.node(name, **attrs)

    # iterative: a stack of (graph, path, next child index)
    fill(dot, "")
    stack = [(dot, "", 0)]
    while stack:
        graph, path, i = stack.pop()
        kids = children.get(path, [])
        if i >= len(kids):
            if path:
                stack[-1][0].subgraph(graph)
            continue
        stack.append((graph, path, i + 1))
        child = kids[i]
        sub = graphviz.Digraph(name=f"cluster_{numbers[child]}")
        last = child.rsplit("/", 1)[-1]
        sub.attr(label=last, style="rounded", color=style.GREY, fontsize="10",
                 fontcolor="#555555")
        fill(sub, child)
        stack.append((sub, child, 0))

