"""Graphviz export of a recorded graph: ``to_dot(roots, ...) -> graphviz.Digraph``.

``detail="textbook"`` is drawn by ``textbook_dot.py``; the op-level and cells views here
(see ``view.py`` for the node/edge model, ``layout_hints.py`` for how time order is kept):

- clusters per scope, so an unrolled network gets one box per timestep ("t=1", "t=2", ...)
  inside one box per layer, in time order; parameters sit outside every cluster, drawn
  once, feeding a bus line with a tap into each timestep that uses them;
- the hidden-state chain h_0 -> h_1 -> ... kept on one straight line;
- after backward, every edge is labelled with the gradient that flowed along it (its norm,
  or its values for tensors of <= 2 entries; shapes with ``show_shapes``) and coloured /
  thickened on a log scale (a small legend lists what the figure uses); a shared weight's
  node shows the sum of its edge contributions (BPTT's sum over timesteps); before backward
  the title says gradients are not computed yet;
- a detached hidden state (truncated BPTT) gets a thick dashed vermillion "detached" arrow;
  nodes whose VJP failed ``check_nodes`` are filled vermillion.
"""

from __future__ import annotations

import textwrap
from collections.abc import Iterable

import graphviz

from autograd_rnn.viz import labels, style
from autograd_rnn.viz.columns import (
    DOT_RANKDIR,
    bus_lines,
    emit_bus_lines,
    emit_edge,
    emit_levels,
    merged_branches,
    plan_columns,
)
from autograd_rnn.viz.columns_wrap import band_points, emit_band_chain, wrap_columns
from autograd_rnn.viz.errors import GraphTooLargeError
from autograd_rnn.viz.layout_hints import buses, edge_weight, emit_buses, emit_time_order
from autograd_rnn.viz.notebook import Diagram
from autograd_rnn.viz.view import (
    View,
    build_view,
    count_nodes,
    filter_view,
    step_of,
    timesteps,
)

DEFAULT_MAX_NODES = 1000
DETAILS = ("auto", "ops", "cells", "textbook")
AUTO_OPS_STEPS = 2  # "auto" draws every op up to this many timesteps


def to_dot(
    roots,
    *,
    detail: str = "auto",
    group: bool = True,
    rankdir: str = "LR",
    show_values: bool = False,
    show_grads: bool = True,
    show_shapes: bool = False,
    show_grad_values: bool = False,
    bus: bool = True,
    highlight_nodes: Iterable[int] = (),
    highlight_edges: Iterable[tuple[int, int]] = (),
    visible_nodes: Iterable[int] | None = None,
    max_nodes: int | None = DEFAULT_MAX_NODES,
    title: str | None = None,
    node_check=None,
    legend: bool = True,
    wrap: int | None = None,
    compact: bool | None = None,
) -> Diagram:
    """The graph behind ``roots`` (a Tensor or a list) as a Graphviz ``Digraph``.

    Args:
        detail: "ops" (one node per tensor), "cells" (one node per scope, e.g. per cell
            per timestep: keeps a 100-step LSTM readable), "textbook" (the unrolled network
            as in a textbook: one column per timestep, weights on the arrows; see
            ``textbook.py``) or "auto" (the default): ops for graphs of at most
            ``AUTO_OPS_STEPS`` timesteps, else textbook for recurrent networks, else cells.
        group: draw boxes: one per timestep in the op-level view ("t=1", ...), one per
            scope outside timesteps ("backward", ...).
        rankdir: ops and cells views: "LR" (the default: one column per timestep, time
            left to right, each step's ops bottom to top as in the textbook) or "TB" (the
            same columns upside down: inputs on top, ops flowing down to the loss). Graphs
            without timestep scopes flow left to right (LR) or top to bottom (TB).
        show_values: print values (tiny tensors) or value norms in op nodes.
        show_grads: label and colour edges with the gradients of the last backward.
        show_shapes: add each tensor's shape to the arrow labels (off: gradient norms only,
            or the values of tensors with at most 2 entries).
        show_grad_values: write the gradient's first entries on every arrow, not only on
            tiny tensors (ops and cells views).
        bus: a parameter used more than once feeds a bus line with a tap per use (False:
            one arrow from the parameter to every use).
        highlight_nodes / highlight_edges: tensor ids / (parent id, child id) pairs drawn in
            bold orange (used by the step-through tracer).
        visible_nodes: None, or the tensor ids to draw (others are omitted).
        max_nodes: raise ``GraphTooLargeError`` above this many nodes (None: no limit).
        title: a caption at the top.
        node_check: a ``NodeCheckReport`` from ``check_nodes``: failing nodes are filled
            vermillion and their failing input edges marked.
        legend: add the colour legend when gradients are drawn.
        wrap: textbook and cells views: lay a long unroll out in bands of at most this many
            timesteps, read like lines of text (None, the default: the width that shows the
            figure largest on a 16:9 slide; 0: one band).
        compact: textbook view: draw only the recurrent states (None, the default: beyond
            40 timesteps; see ``textbook_compact.py``).

    Returns a ``graphviz.Digraph`` (``.source`` is the DOT text) that Jupyter shows at a
    readable size (see ``notebook.py``).
    """
    if detail not in DETAILS:
        raise ValueError(f"detail must be one of {DETAILS}, got {detail!r}")
    if rankdir not in DOT_RANKDIR:
        raise ValueError(f"rankdir must be 'LR' (ops flow up, the default) or 'TB' (ops "
                         f"flow down), got {rankdir!r}")
    frames = visible_nodes is not None or bool(highlight_nodes) or node_check is not None
    if detail == "auto":
        detail = "ops" if frames else auto_detail(roots)
    if detail == "textbook":
        if frames:
            raise ValueError("detail='textbook' draws whole networks: visible_nodes, "
                             "highlights and node_check need detail='ops' or 'cells'")
        return _textbook_dot(roots, max_nodes, show_grads=show_grads, title=title,
                             legend=legend, wrap=wrap, compact=compact)
    full, view = _views(roots, detail, visible_nodes, max_nodes)
    grads_on = show_grads and view.has_grads
    scale = None
    if grads_on:
        scale = style.LogScale(labels.edge_norms(view.edges) + labels.param_norms(view))
    failed = node_check.failed_pairs() if node_check is not None else {}
    hl_edges = {tuple(p) for p in highlight_edges}

    plan = plan_columns(full)
    if plan is not None and detail == "cells":
        wrap_columns(full, plan, wrap)
    dot = _diagram(plan is not None, rankdir, _caption(title, show_grads, view, full))
    where = {id(n): plan.cluster(n, boxes=detail == "ops") if plan else n.cluster
             for n in view.nodes}
    bodies = _cluster_bodies(where.values(), group)
    hl_nodes = set(highlight_nodes)
    for node in view.nodes:
        attrs = labels.node_attrs(node, show_values, grads_on, view, scale, failed, hl_nodes)
        bodies[where[id(node)] if group else ""].append((node.name, attrs))
    _emit_clusters(dot, bodies)

    if plan is not None:  # one column per timestep (columns.py), in bands (columns_wrap.py)
        taps, points, segments, anchors = bus_lines(view, plan, bus)
        points += band_points(view, plan)
        emit_levels(dot, view, plan, points)
        heights, bands = plan.heights(points), plan.point_bands(points)
        emit_band_chain(dot, view, plan, points)
    else:
        emit_time_order(dot, view, detail)
        taps, segments = buses(view) if bus else ({}, [])
        heights, bands = {}, {}
    branches = merged_branches(view, taps) if detail == "cells" else {}
    for edge, attrs in _edge_attrs(view, taps, branches, grads_on, scale, failed, hl_edges,
                                   show_shapes, show_grad_values):
        emit_edge(dot, taps.get(id(edge), edge.src.name), edge.dst.name, attrs, heights,
                  bands)
    if plan is not None:
        emit_bus_lines(dot, points, segments, anchors, heights, stubs=plan.width is not None)
    else:
        emit_buses(dot, segments)
    if grads_on and legend and scale is not None and not scale.empty:
        _emit_legend(dot, view, scale)
    return dot


def _textbook_dot(roots, max_nodes: int | None, **options) -> Diagram:
    """``detail="textbook"``: the network as drawn in a textbook (``textbook_dot.py``)."""
    from autograd_rnn.viz.textbook import build_textbook
    from autograd_rnn.viz.textbook_dot import textbook_to_dot

    book = build_textbook(roots)
    if max_nodes is not None and len(book.nodes) > max_nodes:
        raise GraphTooLargeError(
            f"the textbook view has {len(book.nodes)} boxes, more than max_nodes="
            f"{max_nodes} that Graphviz lays out in reasonable time: draw fewer "
            "timesteps, or write the DOT source only (render(..., format='dot'))")
    return textbook_to_dot(roots, book=book, **options)


def _views(roots, detail: str, visible_nodes, max_nodes: int | None) -> tuple[View, View]:
    """(the whole view, the view of the ``visible_nodes``), refusing one above
    ``max_nodes`` (counted before building labels when nothing is filtered out)."""
    if max_nodes is not None and visible_nodes is None:
        count = count_nodes(roots, detail)  # fail fast, before building labels
        if count > max_nodes:
            raise GraphTooLargeError(_too_large(count, roots, detail, max_nodes))
    full = build_view(roots, detail)
    view = filter_view(full, None if visible_nodes is None else set(visible_nodes))
    if max_nodes is not None and len(view.nodes) > max_nodes:
        raise GraphTooLargeError(_too_large(len(view.nodes), roots, detail, max_nodes))
    return full, view


def _diagram(columns: bool, rankdir: str, caption: str) -> Diagram:
    """An empty diagram with the graph, node and edge defaults (``columns``: one column per
    timestep, so the layout direction is turned as in ``columns.py``)."""
    dot = Diagram("autograd_rnn", strict=False)
    dot.attr(rankdir=DOT_RANKDIR[rankdir] if columns else rankdir, fontname="Helvetica",
             newrank="true", nodesep="0.25", ranksep="0.2" if columns else "0.35")
    dot.attr("node", fontname="Helvetica", fontsize="11")
    dot.attr("edge", fontname="Helvetica", fontsize="10", arrowsize="0.6")
    if caption:
        dot.attr(label=caption, labelloc="t", fontsize="14")
    return dot


def _edge_attrs(view: View, taps: dict, branches: dict, grads_on: bool, scale, failed,
                hl_edges: set, show_shapes: bool, show_grad_values: bool):
    """Yield (edge, its DOT attributes) for every edge drawn: the gradient label and colour,
    the layout weight, and what a bus tap or a merged branch adds."""
    states = {id(n) for chain in view.chains.values() for n in chain}
    for edge in view.edges:
        if branches.get(id(edge)) == []:
            continue  # drawn with the first branch from its tap into the same cell
        attrs = labels.edge_attrs(edge, grads_on, scale, failed, hl_edges, show_shapes,
                                  show_grad_values)
        weight = edge_weight(view, edge, states)
        if weight:
            attrs["weight"] = weight
        if id(edge) in branches:
            attrs.update(labels.branch_attrs(branches[id(edge)], grads_on, scale))
        elif id(edge) in taps and grads_on:  # a branch off a bus says which weight it is
            attrs["label"] = labels.label_lines(edge.src.members[0].name,
                                                attrs.get("label", ""))
        yield edge, attrs


def _emit_legend(dot: graphviz.Digraph, view: View, scale) -> None:
    """The colour legend, listing only the kinds of edge the figure shows."""
    kinds = {e.kind for e in view.edges}
    zero = any(labels.edge_norm(e) == 0 for e in view.edges)
    dot.node("legend", shape="plaintext", fontsize="10", label=scale.legend_label(
        zero=zero, const="const" in kinds, detached="detached" in kinds))


def auto_detail(roots) -> str:
    """What ``detail="auto"`` draws: "ops" for at most ``AUTO_OPS_STEPS`` timesteps, else
    "textbook" when the graph is a recurrent network the textbook view can read (states
    named h_1, h_2, ... in timestep scopes), else "cells"."""
    if timesteps(roots) <= AUTO_OPS_STEPS:
        return "ops"
    from autograd_rnn.viz.textbook import build_textbook

    try:
        build_textbook(roots)
    except ValueError:
        return "cells"
    return "textbook"


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


def _cluster_bodies(clusters, group: bool) -> dict[str, list]:
    bodies: dict[str, list] = {"": []}
    if group:
        for cluster in clusters:
            parts = cluster.split("/") if cluster else []
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
    for kids in children.values():  # timestep boxes in t order ("t=0" first)
        kids.sort(key=lambda p: (step_of(p) is None, step_of(p) or 0))
    order = [""]
    for path in order:  # breadth first: every box is numbered after its parent
        order.extend(children.get(path, []))
    numbers = {path: k for k, path in enumerate(order[1:])}

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

