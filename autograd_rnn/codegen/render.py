"""Rendering: the IR ``Program`` written out as the source of one Python module, once.

Each statement's line comes from its op's ``source`` evaluated on symbols named after the
operands (``codegen.symbolic``). A temporary of the backward pass read once by a statement
that follows it closely is written inside that statement, so a gradient reads as one line
(``g_a_2 = g_h_2 * (1 - h_2 * h_2)``) instead of one line per primitive of its VJP.
"""

from __future__ import annotations

import numpy as np

from autograd_rnn.codegen import extra_ops
from autograd_rnn.codegen.dce import uses
from autograd_rnn.codegen.ir import At, Carry, Const, Loop, Program, Stmt, T, Var, substitute
from autograd_rnn.codegen.names import scope_key
from autograd_rnn.codegen.sums import fresh
from autograd_rnn.codegen.symbolic import Sym, assignment, evaluate, index_source, render

FUNCTION = "forward_backward"
IND = "    "
_NEAR = 8  # how far (in statements) a temporary may be from the statement it is written in


def step_text(index) -> str:
    """``t``, ``t + 2``, ``t - 1`` or a plain int."""
    if not isinstance(index, T):
        return str(int(index))
    return "t" if index.c == 0 else (f"t + {index.c}" if index.c > 0 else f"t - {-index.c}")


def leaf(operand):
    """The symbol (or plain literal) standing for an operand in a statement's source."""
    if isinstance(operand, Var):
        return Sym.leaf(operand.name, operand.shape, operand.dtype)
    if isinstance(operand, Carry):
        return Sym.leaf(operand.var.name, operand.var.shape, operand.var.dtype)
    if isinstance(operand, At):
        return Sym.leaf(f"{operand.array.name}[{step_text(operand.index)}]", operand.shape,
                        operand.dtype, 16)
    if isinstance(operand, T):
        return Sym.leaf(step_text(operand), (), np.int64, 11 if operand.c else 17)
    value = operand.value
    if isinstance(value, np.ndarray):
        return Sym.leaf(extra_ops.inline_source(value), value.shape, value.dtype, 16)
    return value


def _symbols(value, inlined: dict):
    def mapping(operand):
        if isinstance(operand, Var) and id(operand) in inlined:
            return inlined.pop(id(operand))
        return leaf(operand)

    def steps(v):
        if isinstance(v, T):
            return leaf(v)
        if isinstance(v, tuple):
            return tuple(steps(x) for x in v)
        return v

    return steps(substitute(value, mapping))


def expression(stmt: Stmt, inlined: dict) -> Sym:
    """The right-hand side of ``stmt`` as a symbolic expression."""
    args = _symbols(stmt.args, inlined)
    params = _symbols(stmt.params, inlined)
    return evaluate(stmt.op.source, list(args), params)


def effect_line(stmt: Stmt, inlined: dict) -> str:
    target, value = _symbols(stmt.args, inlined)
    params = _symbols(stmt.params, inlined)
    text = render(target)
    if stmt.op.effect == "add.at":
        return f"np.add.at({text}, {render(params['index'])}, {render(value)})"
    if "index" in params:
        text = f"{text}[{index_source(params['index'])}]"
    return f"{text} {stmt.op.effect} {render(value)}"


def statement_lines(stmt: Stmt, inlined: dict) -> list[str]:
    if getattr(stmt.op, "effect", ""):
        lines = [effect_line(stmt, inlined)]
    else:
        lines = assignment(stmt.out.name, expression(stmt, inlined))
    if stmt.comment:
        lines[0] += f"  # {stmt.comment}"
    return lines


def inline_plan(body: list) -> set[int]:
    """ids of statements written inside the statement that reads them (see the docstring)."""
    count = uses(body)
    consumer: dict[int, int] = {}
    for j, item in enumerate(body):
        if isinstance(item, Stmt):
            for v in _read_vars(item):
                consumer[id(v)] = j
    inline = [False] * len(body)
    for i in range(len(body) - 1, -1, -1):
        item = body[i]
        if not isinstance(item, Stmt) or item.out is None or item.out.role != "temp":
            continue
        if count.get(id(item.out), 0) != 1 or item.op.name == "scatter_add":
            continue
        j = consumer.get(id(item.out), -1)
        if i < j <= i + _NEAR and isinstance(body[j], Stmt) and all(inline[i + 1:j]):
            inline[i] = True
    return {id(s) for s, flag in zip(body, inline, strict=True) if flag}


def _read_vars(stmt: Stmt):
    from autograd_rnn.codegen.ir import reads

    return reads(stmt)


class Writer:
    """Writes the function body; ``scope`` comments where the timestep scope changes."""

    def __init__(self, program: Program) -> None:
        self.program = program
        self.lines: list[str] = []
        self.scope: tuple | None = None
        self.defs = {id(s.out): s for s in program.body if isinstance(s, Stmt) and s.out}

    def body(self, body: list, indent: str = IND) -> None:
        plan = inline_plan(body)
        inlined: dict[int, Sym] = {}
        for item in body:
            if isinstance(item, Loop):
                raise NotImplementedError("loops")
            if id(item) in plan:
                inlined[id(item.out)] = expression(item, inlined)
                continue
            self._comment(item, indent)
            self.lines += [indent + line for line in statement_lines(item, inlined)]

    def _comment(self, stmt: Stmt, indent: str) -> None:
        key = (stmt.phase, stmt.scope)
        if key == self.scope:
            return
        if self.scope is None or self.scope[0] != stmt.phase:
            if stmt.phase == "backward":
                self.lines.append(f"{indent}# ----- backward (reverse topological order) -----")
        first = self.scope is None or self.scope[0] != stmt.phase
        if stmt.scope or not first:
            where = stmt.scope or "top level"
            prefix = "backward: " if stmt.phase == "backward" else ""
            self.lines.append(f"{indent}# --- {prefix}{where} ---")
        self.scope = key

    def returned(self, operand) -> str:
        if operand is None:
            return ""
        text = render(leaf(operand))
        d = self.defs.get(id(operand))
        if isinstance(operand, Var) and not fresh(d):  # never hand out a view or an argument
            return f"np.array({text})"
        return text


def _grad_source(program: Program, writer: Writer, i: int, operand) -> str:
    if operand is not None:
        return writer.returned(operand)
    return ""


def render_program(program: Program, wrt_vars: list[Var]) -> str:
    """The generated module (``FUNCTION`` is the function it defines)."""
    writer = Writer(program)
    writer.lines.append(f"{IND}# ----- forward -----")
    writer.body(program.body)
    grads = []
    for g, w in zip(program.grads, wrt_vars, strict=True):
        if g is None:
            dtype = "" if w.dtype == np.float64 else f", dtype=np.{w.dtype.name}"
            grads.append(f"np.zeros({tuple(w.shape)!r}{dtype})")
        else:
            grads.append(writer.returned(g))
    out = render(leaf(program.output))
    returns = ", ".join(grads) + ("," if len(grads) == 1 else "")
    return _module(program, writer.lines, out, returns)


def _describe(arg) -> str:
    kind = {"input": "input", "tensor": "captured tensor", "const": "constant"}[arg.kind]
    return f"        {arg.var.name}: {kind}, shape {tuple(arg.var.shape)}, {arg.var.dtype}"


def _module(program: Program, body: list[str], out: str, returns: str) -> str:
    names = ", ".join(a.var.name for a in program.arguments)
    lines = [
        f'"""{program.title or "Forward and backward pass of a recorded graph."}',
        "",
        "Generated by autograd_rnn.codegen: plain NumPy, the forward pass statement by",
        "statement, then the gradients in reverse topological order (backpropagation",
        "written out). Do not edit: regenerate instead.",
        '"""',
        "",
        "import numpy as np",
        "",
        "",
        f"def {FUNCTION}({names}):",
        '    """Arguments:',
        *[_describe(a) for a in program.arguments],
        "",
        f"    Returns: ({out}, ({returns})).",
        '    """',
        *body,
        f"    return {out}, ({returns})",
    ]
    return "\n".join(lines) + "\n"


__all__ = ["Const", "FUNCTION", "render_program", "scope_key"]
