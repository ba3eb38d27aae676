"""Labels, colours and styles of the boxes and arrows of a diagram (used by ``to_dot``).

Node labels: parameters show name, shape and the sum of their edge contributions; op nodes
show op name and output shape (named ones like h_t also ``|dL/dh_t|``); cells show their
scope, outputs and op count; roots show their value. Edge labels after backward: ``g = [...]``
for tensors of at most ``TINY`` entries, else ``|g| = ...`` (and the shape with
``show_shapes``).
"""

from __future__ import annotations

import numpy as np

from autograd_rnn.viz import style
from autograd_rnn.viz.view import HIDDEN_NAME, VEdge, View, VNode, layer_path

TINY = 2  # tensors with at most this many entries show their values, not just a norm
SHOWN = 4  # gradient entries written on an arrow with show_grad_values

def edge_norms(edges: list[VEdge]) -> list[float]:
    return [n for e in edges for n in [edge_norm(e)] if n is not None]


def edge_norm(edge: VEdge) -> float | None:
    """Norm of everything that flowed back along ``edge`` (None if nothing recorded)."""
    grads = [g for g in edge.grads if g is not None]
    if not grads:
        return None
    return float(np.sqrt(sum(style.norm(g) ** 2 for g in grads)))


def param_norms(view: View) -> list[float]:
    norms = []
    for node in view.nodes:
        if node.kind == "param":
            total = _param_sum(node, view)
            if total is not None:
                norms.append(style.norm(total))
    return norms


def _param_sum(node: VNode, view: View):
    """Sum of the gradient contributions on the edges out of a parameter node."""
    total = None
    for edge in view.uses(node):
        for g in edge.grads:
            if g is not None:
                total = np.array(g, dtype=np.float64) if total is None else total + g
    return total


def _uses(node: VNode, view: View) -> int:
    return len(view.uses(node))


def node_attrs(node, show_values, grads_on, view, scale, failed, hl) -> dict:
    """The DOT attributes of one view node: its shape and fill by kind (see the ``_*_body``
    helpers), then what marks a root (the loss), a failed VJP check and a highlight."""
    t = node.members[0]
    attrs: dict[str, str] = {}
    lines: list[str] = []
    if node.kind == "cut":
        attrs.update(shape="plaintext", fontcolor=style.DETACHED)
        lines.append(f"earlier chunk\\n(graph of {t.name or 'state'} freed / not drawn)")
    elif node.kind == "param":
        _param_body(node, view, show_values, grads_on, scale, attrs, lines)
    elif node.kind == "input":
        _input_body(t, show_values, attrs, lines)
    elif node.kind == "op":
        _op_body(node, show_values, grads_on, attrs, lines)
    else:  # cell
        lines += _cell_lines(node, grads_on, show_values)
        attrs.update(shape="box", style="rounded,filled", fillcolor=style.FILL_HIDDEN)
    _marks(node, failed, hl, attrs, lines)
    attrs["label"] = "\\n".join(lines)
    chain_group = _chain_group(node, view) if node.kind == "cell" else None
    if chain_group:  # a straight row of cells; op-level chains keep straight by weight alone
        attrs["group"] = chain_group
    return attrs


def _param_body(node, view, show_values, grads_on, scale, attrs: dict, lines: list) -> None:
    """A parameter: name, shape, where it is used, and the sum of its edges' gradients."""
    t = node.members[0]
    attrs.update(shape="box", style="filled,bold", fillcolor=style.FILL_PARAM)
    lines.append(f"{t.name or 'parameter'} {style.fmt_shape(t.shape)}")
    where = _param_place(node, view)
    if where:
        lines.append(f"[{where}]")
    if show_values:
        lines.append(_value_text(t.data))
    if grads_on:
        total = _param_sum(node, view)
        if total is not None:
            uses = _uses(node, view)
            lines.append(f"grad = sum of {uses} edge{'s' if uses != 1 else ''}")
            lines.append(f"|g| = {style.fmt(style.norm(total))}")
            attrs["color"] = scale.colour(style.norm(total))


def _input_body(t, show_values, attrs: dict, lines: list) -> None:
    """An input (x_t, h_0) or the detached copy a truncated-BPTT chunk starts from."""
    attrs.update(shape="box", style="filled", fillcolor=style.FILL_INPUT)
    lines.append(f"{t.name or 'input'} {style.fmt_shape(t.shape)}")
    if t.detached_from is not None:
        lines.append("detached copy")
        attrs.update(style="filled,dashed", fillcolor="white", color=style.DETACHED,
                     fontcolor=style.DETACHED, penwidth="2")
    if show_values:
        lines.append(_value_text(t.data))


def _op_body(node, show_values, grads_on, attrs: dict, lines: list) -> None:
    """An op: ``name = op shape``, hidden states filled, the gradient reaching a named one."""
    t = node.members[0]
    head = f"{t.name} = {t.op.name}" if t.name else t.op.name
    lines.append(f"{head} {style.fmt_shape(t.shape)}")
    attrs.update(shape="ellipse")
    if HIDDEN_NAME.match(t.name or ""):
        attrs.update(style="filled", fillcolor=style.FILL_HIDDEN)
    if show_values:
        lines.append(_value_text(t.data))
    if grads_on and t.name and t.grad is not None and not node.is_root:
        lines.append(f"|dL/d{t.name}| = {style.fmt(style.norm(t.grad))}")


def _marks(node, failed, hl, attrs: dict, lines: list) -> None:
    """A root shows its value (the loss); a failed VJP check and a highlight restyle."""
    if node.is_root:
        root = next(m for m in reversed(node.members))
        value = (f" = {style.fmt(float(root.data.ravel()[0]))}"
                 if root.size == 1 and style.kept(root.data) else "")
        lines.append(f"{root.name or 'output'}{value}")
        attrs.update(shape="box", style="rounded,filled,bold", fillcolor=style.FILL_LOSS)
    if any(m.id in failed for m in node.members):
        attrs.update(style="filled,bold", fillcolor=style.FILL_FAIL, color=style.FAIL,
                     penwidth="2.5")
        lines.append("VJP CHECK FAILED")
    if any(m.id in hl for m in node.members):
        attrs.update(color=style.HIGHLIGHT, penwidth="4")


def _chain_group(node: VNode, view: View) -> str | None:
    """The Graphviz ``group`` of a hidden-state node (h chains win over c chains)."""
    groups = view.__dict__.get("_groups")
    if groups is None:  # built once per view: a dict, not a scan per node
        groups = {}
        for key in sorted(view.chains, key=lambda k: (not k.startswith("h:"), k)):
            name = "chain_" + "".join(c if c.isalnum() else "_" for c in key)
            for member in view.chains[key]:
                groups.setdefault(id(member), name)
        view.__dict__["_groups"] = groups
    return groups.get(id(node))


def _cell_lines(node: VNode, grads_on: bool, show_values: bool) -> list[str]:
    scope = node.members[0].scope
    head, _, last = scope.rpartition("/")
    lines = [f"{head} {last}" if head else last]
    ops = sum(1 for m in node.members if m.op is not None)
    named = [m for m in node.outputs if m.name]
    if named:
        lines.append("-> " + ", ".join(m.name for m in named))
    lines.append(f"({ops} ops)")
    for m in named:
        if grads_on and m.grad is not None and m.op is not None:
            lines.append(f"|dL/d{m.name}| = {style.fmt(style.norm(m.grad))}")
        if show_values:
            lines.append(f"{m.name}: {_value_text(m.data)}")
    return lines


def _value_text(a: np.ndarray) -> str:
    if not style.kept(a):
        return "value not kept (lean graph)"
    return style.fmt_values(a) if a.size <= TINY else f"|v| = {style.fmt(style.norm(a))}"


def edge_attrs(edge: VEdge, grads_on, scale, failed, hl, show_shapes: bool = False,
               grad_values: bool = False) -> dict:
    """Style and label of an arrow: after backward the gradient's norm (its values for
    tensors of at most ``TINY`` entries, or its first entries with ``grad_values``),
    coloured and thickened on the log scale; the shape too when ``show_shapes``."""
    attrs: dict[str, str] = {}
    shape = _edge_shape(edge) if show_shapes else ""
    if edge.kind == "detached":
        attrs.update(style="dashed", color=style.DETACHED, fontcolor=style.DETACHED,
                     arrowhead="tee", penwidth="3", label="detached: no gradient flows back",
                     constraint="true", fontsize="10")
    elif edge.kind == "const":
        attrs.update(style="dotted", color=style.GREY, label=shape)
    elif grads_on:
        n = edge_norm(edge)
        if n is None:
            attrs.update(color=style.GREY, label=label_lines(shape, "no gradient reached"))
        else:
            attrs.update(color=scale.colour(n), penwidth=scale.penwidth(n),
                         label=label_lines(_grad_text(edge, n, grad_values), shape))
    else:
        attrs["label"] = shape
    if not attrs.get("label"):
        attrs.pop("label", None)
    if any(pid in failed.get(cid, ()) for pid, cid in edge.pairs):
        attrs.update(color=style.FAIL, style="bold", penwidth="3",
                     label=label_lines(attrs.get("label", ""), "VJP CHECK FAILED"))
    if edge.pairs & hl:
        attrs.update(color=style.HIGHLIGHT, penwidth="4")
    return attrs


def branch_attrs(edges: list[VEdge], grads_on: bool, scale) -> dict:
    """One arrow for several weights' branches into one cell: a line per weight (its name,
    and this step's share of its gradient), coloured by all of them together."""
    rows, total = [], []
    for e in edges:
        n = edge_norm(e)
        name = e.src.members[0].name or "parameter"
        rows.append(f"{name}: {style.fmt(n)}" if grads_on and n is not None else name)
        total += [g for g in e.grads if g is not None]
    attrs = {"label": "\\n".join(rows)}
    if grads_on and total and scale is not None:
        n = float(np.sqrt(sum(style.norm(g) ** 2 for g in total)))
        attrs.update(color=scale.colour(n), penwidth=scale.penwidth(n))
    return attrs


def label_lines(*parts: str) -> str:
    """The non-empty ``parts`` as the lines of one DOT label."""
    return "\\n".join(p for p in parts if p)


def _grad_text(edge: VEdge, n: float, values: bool = False) -> str:
    """``g = [...]`` for tiny gradients (or, with ``values``, the first ``SHOWN`` entries of
    any, then the norm), else ``|g| = ...``."""
    grads = [g for g in edge.grads if g is not None]
    if len(grads) == 1 and np.size(grads[0]) <= TINY:
        return "g = " + style.fmt_values(grads[0])
    if values and len(grads) == 1:
        flat = np.ravel(grads[0])
        more = ", ..." if flat.size > SHOWN else ""
        return f"g = {style.fmt_values(flat[:SHOWN])[:-1]}{more}]\\n|g| = {style.fmt(n)}"
    return f"|g| = {style.fmt(n)}"


def _edge_shape(edge: VEdge) -> str:
    if len(edge.parents) == 1:
        p = edge.parents[0]
        text = style.fmt_shape(p.shape)
        return text if edge.src.kind != "cell" or not p.name else f"{p.name} {text}"
    return ", ".join(p.name or style.fmt_shape(p.shape) for p in edge.parents)


def _param_place(node: VNode, view: View) -> str | None:
    """For parameters sharing a name (W_x of layer0 and of layer1): the layer scope of
    their first use, so the two boxes can be told apart; None when the name is unique."""
    t = node.members[0]
    same = view.__dict__.get("_param_names")
    if same is None:
        same = {}
        for n in view.nodes:
            if n.kind == "param":
                same[n.members[0].name] = same.get(n.members[0].name, 0) + 1
        view.__dict__["_param_names"] = same
    if same[t.name] < 2:
        return None
    for edge in view.out.get(id(node), ()):
        if edge.dst.members[0].scope:
            return layer_path(edge.dst.members[0].scope) or edge.dst.members[0].scope
    return None
