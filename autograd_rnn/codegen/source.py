"""Turn a traced graph into the source of one Python function: forward statement by
statement in topological order, then the gradients in reverse topological order.

Generated layout::

    def forward_backward(x, W_x, W_h, b_h, h_0):
        # ----- forward -----
        # --- rnn/layer0/t=1 ---
        matmul_1 = x_1 @ W_x
        ...
        # ----- backward (reverse topological order) -----
        g_loss = np.ones_like(loss)
        ...
        return loss, (g_W_x, g_W_h, g_b_h)

Repeated timesteps become ``for t in range(...)`` loops when ``loops=True`` and the
structure allows it (see ``autograd_rnn.codegen.loops``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from autograd_rnn.codegen.emit import (
    Argument,
    GradVar,
    Program,
    backward_lines,
    derived_constants,
    forward_lines,
    input_sources,
)
from autograd_rnn.codegen.fuse import find_cross_entropy, fused_lines, pick_targets
from autograd_rnn.codegen.naming import literal, unmark
from autograd_rnn.codegen.straight import drop_unused, function_env, reuse_dead_arrays

FUNCTION = "forward_backward"

UNBROADCAST_HELPER = '''

def _unbroadcast(g, shape):
    """Sum g back to shape (used only for primitives without a template)."""
    g = np.asarray(g)
    if g.ndim > len(shape):
        g = g.sum(axis=tuple(range(g.ndim - len(shape))))
    axes = tuple(i for i, n in enumerate(shape) if n == 1 and g.shape[i] != 1)
    return g.sum(axis=axes, keepdims=True) if axes else g
'''


@dataclass
class Generated:
    """The generated module: ``source``, the function's ``arguments`` (in order), the names
    of the gradients it returns (``grad_names``, aligned with ``wrt``) and whether loops
    were used."""

    source: str
    arguments: list[Argument]
    grad_names: list[str]
    loops: int
    function: str = FUNCTION


class Builder:
    """Per-graph state: variable names of values and gradient buffers, the need set."""

    def __init__(self, prog: Program, order: list, wrt: list) -> None:
        self.prog = prog
        self.order = order
        self.value: dict[int, str] = {}
        self.grads: dict[int, GradVar] = {}
        wrt_ids = {id(w) for w in wrt}
        self.detached: dict[int, object] = {}  # detached leaf id -> the tensor it copies
        self.skip_edges: set[tuple[int, int]] = set()  # (consumer id, input index)
        self.slice_inputs: dict[int, tuple[str, ...]] = {}  # node id -> input sources
        self.expr_override: dict[int, str] = {}  # node id -> its forward expression
        self.output = None
        self.xent = find_cross_entropy(order)  # fused softmax cross-entropy backward
        self.fused: set[int] = set()  # chain nodes whose gradient the fusion wrote
        self.need: set[int] = set()
        for node in order:  # nodes that depend on something we differentiate with respect to
            if id(node) in wrt_ids or (
                node.op is not None
                and any(p is not None and id(p) in self.need for p in node.parents)
            ):
                self.need.add(id(node))

    def value_of(self, tensor) -> str:
        while id(tensor) in self.detached:
            tensor = self.detached[id(tensor)]
        return self.value[id(tensor)]

    def wanted(self, tensor, index=None) -> bool:
        return id(tensor) in self.need

    def grad_of(self, tensor) -> GradVar:
        key = id(tensor)
        if key not in self.grads:
            name = self.prog.namer.unique("g_" + self.value[key].split("[")[0])
            self.grads[key] = GradVar(name, tensor.data.shape, tensor.data.dtype.name)
        return self.grads[key]

    def name_node(self, node) -> str:
        name = self.prog.namer.node(node.name, node.op.name, node.scope)
        self.value[id(node)] = name
        return name

    def seed(self, output) -> str:
        """``g_<output> = np.ones_like(<output>)``: where backpropagation starts."""
        self.output = output
        gv = self.grad_of(output)
        gv.state = "owned"
        return unmark(f"    {gv.name} = np.ones_like({self.value_of(output)})")

    # straight-line code for a run of op nodes --------------------------------------------
    def forward(self, nodes: list, lines: list[str], indent: str = "    ") -> None:
        scope = None
        picks = pick_targets(self, nodes)  # -log_softmax(y)[rows, targets]: pick, then log
        for node in nodes:
            if id(node) in picks.get("skip", ()):
                continue
            if id(node) in picks:
                self.expr_override[id(node)] = picks[id(node)]()
            if node.scope != scope:
                scope = node.scope
                lines.append(f"{indent}# --- {scope or 'top level'} ---")
            tmp = self.prog.namer.unique
            body = derived_constants(self.prog, node, self.value_of, tmp)
            target = self.name_node(node) if id(node) not in self.value else self.value_of(node)
            if id(node) in self.expr_override:
                body.append(f"{target} = {self.expr_override[id(node)]}")
            else:
                inputs = self.slice_inputs.get(id(node)) or input_sources(
                    self.prog, node, self.value_of)
                body += forward_lines(self.prog, node, target, inputs)
            lines += [indent + s for s in body]

    def backward(self, nodes: list, lines: list[str], indent: str = "    ") -> None:
        scope = None
        for node in reversed(nodes):
            if not self.wanted(node) or id(node) in self.fused:
                continue
            if node.scope != scope:
                scope = node.scope
                lines.append(f"{indent}# --- backward: {scope or 'top level'} ---")
            fused = fused_lines(self, self.xent[id(node)]) if id(node) in self.xent else None
            if fused is not None:
                lines += [indent + s for s in fused]
                self.fused.update(id(n) for n in self.xent[id(node)][-1])
                continue
            inputs = self.slice_inputs.get(id(node)) or input_sources(
                self.prog, node, self.value_of)
            g = self.grad_of(node).name

            def wanted(parent, i, node=node):
                return self.wanted(parent) and (id(node), i) not in self.skip_edges

            body = backward_lines(
                self.prog, node, inputs, self.value_of(node), g,
                lambda i, node=node: self.grad_of(node.parents[i]), wanted,
            )
            lines += [indent + s for s in body]


def generate(output, order: list, arguments: list[Argument], leaf_names: dict[int, str],
             array_inputs: list[tuple[np.ndarray, str]], wrt: list, *, loops: bool = True,
             title: str = "", frozen: list | None = None,
             detached: dict | None = None, inplace: bool = True) -> Generated:
    """Source for ``output`` over the topologically ordered graph ``order``.

    ``arguments`` are the inputs and captured tensors (already named in ``leaf_names``);
    ``frozen`` are leaf tensors ``fn`` created itself (constants: zeros and ``arange``
    are written inline, anything else becomes an argument); constants found while
    emitting are appended as further arguments.
    """
    prog = Program()
    prog.inplace = inplace
    for name in leaf_names.values():
        prog.namer.used.add(name)
    prog.array_inputs = array_inputs
    for _, name in array_inputs:
        prog.namer.used.add(name)
    prog.namer.used.add(FUNCTION)
    builder = Builder(prog, order, wrt)
    builder.value.update(leaf_names)
    builder.detached.update(detached or {})
    ops = [n for n in order if n.op is not None]
    if output.op is None:
        raise ValueError("the traced function returned a leaf tensor: there is nothing to compile")
    if wrt and output.data.size != 1:
        raise ValueError(
            f"compile: the function returns shape {output.shape}; gradients need a "
            "scalar (size-1) output: reduce it with .sum() or .mean()"
        )

    fwd: list[str] = []
    bwd: list[str] = []
    for leaf in frozen or ():
        expr = prog.const(leaf.data)
        if expr.startswith("np."):
            name = prog.namer.unique(leaf.name or "const")
            fwd.append(f"    {name} = {expr}")
            expr = name
        builder.value[id(leaf)] = expr
    n_loops = 0
    if loops:
        from autograd_rnn.codegen.loop_emit import emit_with_loops

        n_loops = emit_with_loops(builder, ops, output, fwd, bwd)
    if not n_loops:
        builder.forward(ops, fwd)
    out_name = unmark(builder.value_of(output))
    grad_sources = []
    if wrt:
        if not n_loops:
            bwd.append(builder.seed(output))
            builder.backward(ops, bwd)
        for w in wrt:
            gv = builder.grads.get(id(w))
            if gv is None:
                grad_sources.append(
                    f"np.zeros({literal(w.data.shape, str)}, dtype=np.{w.data.dtype.name})")
            elif gv.state == "alias":
                grad_sources.append(f"np.array({gv.name})")  # never hand out a shared view
            else:
                grad_sources.append(gv.name)
    drop_unused(fwd, bwd, f"{out_name} {' '.join(grad_sources)}")
    if inplace and n_loops:  # (loop form: outside the loops, reuse arrays nothing reads
        # any more; short straight-line unrolls stay one plain expression per op)
        returned = re.findall(r"(?<![\w.])[A-Za-z_]\w*", f"{out_name} {' '.join(grad_sources)}")
        n = len(fwd)
        body = reuse_dead_arrays(fwd + bwd, function_env(builder, arguments), returned)
        fwd[:], bwd[:] = body[:n], body[n:]
    all_args = arguments + prog.arguments
    body = _assemble(title, all_args, fwd, bwd, out_name, grad_sources, prog.needs_unbroadcast)
    return Generated(body, all_args, [leaf_names.get(id(w), "") for w in wrt], n_loops)


def _describe(arg: Argument) -> str:
    kind = {"input": "input", "tensor": "captured tensor", "const": "constant"}[arg.kind]
    return f"        {arg.name}: {kind}, shape {arg.shape}, {arg.dtype}"


def _assemble(title, args, fwd, bwd, out_name, grads, helper) -> str:
    names = ", ".join(a.name for a in args)
    returns = ", ".join(grads) + ("," if len(grads) == 1 else "")
    doc = [
        f'"""{title or "Forward and backward pass of a recorded graph."}',
        "",
        "Generated by autograd_rnn.codegen: plain NumPy, the forward pass statement by",
        "statement, then the gradients in reverse topological order (backpropagation",
        "written out). Do not edit: regenerate instead.",
        '"""',
        "",
        "import numpy as np",
    ]
    lines = doc + ([UNBROADCAST_HELPER.rstrip()] if helper else []) + [
        "",
        "",
        f"def {FUNCTION}({names}):",
        '    """Arguments:',
        *[_describe(a) for a in args],
        "",
        f"    Returns: ({out_name}, ({returns})).",
        '    """',
        "    # ----- forward -----",
        *fwd,
    ]
    if grads:
        lines += ["    # ----- backward (reverse topological order) -----", *bwd]
    lines.append(f"    return {out_name}, ({returns})")
    return "\n".join(lines) + "\n"
