"""One statement written as source: its op's ``source`` evaluated on symbols named after the
operands (``codegen.symbolic``), or, with a destination (``Stmt.dest``), as a ufunc call
writing there (``np.multiply(a, b, out=tmp1)``).

A temporary of the backward pass read once by a statement that follows it closely is
written inside that statement (``inline_plan``), so a gradient reads as one line
(``g_a_2 = g_h_2 * (1 - h_2 * h_2)``) instead of one line per primitive of its VJP.
"""

from __future__ import annotations

import numpy as np

from autograd_rnn.codegen import extra_ops
from autograd_rnn.codegen.dce import uses
from autograd_rnn.codegen.ir import At, Carry, Part, Stmt, T, Var, reads, substitute
from autograd_rnn.codegen.symbolic import (
    Sym,
    assignment,
    evaluate,
    index_source,
    literal_index,
    primary,
    render,
)

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
    if isinstance(operand, Part):
        base = render(leaf(operand.base))
        return Sym.leaf(f"{base}[{index_source(_steps(operand.index))}]", (), np.float64, 16)
    if isinstance(operand, T):
        return Sym.leaf(step_text(operand), (), np.int64, 11 if operand.c else 17)
    value = operand.value
    if isinstance(value, np.ndarray):
        return Sym.leaf(extra_ops.inline_source(value), value.shape, value.dtype, 16)
    return value


def _steps(value):
    if isinstance(value, T):
        return leaf(value)
    if isinstance(value, tuple):
        return tuple(_steps(x) for x in value)
    if isinstance(value, dict):
        return {k: _steps(x) for k, x in value.items()}
    if isinstance(value, slice):
        return slice(_steps(value.start), _steps(value.stop), _steps(value.step))
    return value


def symbols(value, inlined: dict):
    """``value`` (operands, params) with operands as symbols; inlined temporaries as their
    expressions."""
    def mapping(operand):
        if isinstance(operand, Var) and id(operand) in inlined:
            return inlined.pop(id(operand))
        return leaf(operand)

    return _steps(substitute(value, mapping))


def expression(stmt: Stmt, inlined: dict) -> Sym:
    """The right-hand side of ``stmt`` as a symbolic expression."""
    args = symbols(stmt.args, inlined)
    params = symbols(stmt.params, inlined)
    return evaluate(stmt.op.source, list(args), params)


def _effect_line(stmt: Stmt, inlined: dict) -> str:
    target, value = symbols(stmt.args, inlined)
    params = symbols(stmt.params, inlined)
    text = render(target)
    if stmt.op.effect == "add.at":
        return f"np.add.at({text}, {literal_index(params['index'])}, {render(value)})"
    if "index" in params:
        text = f"{text}[{index_source(params['index'])}]"
    return f"{text} {stmt.op.effect} {render(value)}"


def _call_line(stmt: Stmt, inlined: dict, dest: str) -> str:
    """``np.<ufunc>(args, out=dest)``; a product of matrices as ``a.dot(b, out=dest)`` (the
    array method: ``np.dot`` first runs NumPy's ``__array_function__`` dispatch, a Python
    call, which a tiny recurrent step pays at every timestep)."""
    args = symbols(stmt.args, inlined)
    name = stmt.op.ufunc.__name__
    if name == "matmul":
        return f"{primary(args[0])}.dot({render(args[1])}, out={dest})"
    return f"np.{name}({', '.join(render(a) for a in args)}, out={dest})"


def statement_lines(stmt: Stmt, inlined: dict, target: str | None = None,
                    placed: bool = False) -> list[str]:
    """The lines of one statement; ``target``: text the value is assigned to (a row);
    ``placed``: temporaries computed in place are read as their destination (no name)."""
    if getattr(stmt.op, "effect", ""):
        lines = [_effect_line(stmt, inlined)]
    elif stmt.dest is not None:
        lines = _in_place(stmt, inlined, target, placed)
    else:
        lines = assignment(target or stmt.out.name, expression(stmt, inlined))
    if stmt.comment and lines:
        lines[0] += f"  # {stmt.comment}"
    return lines


def _in_place(stmt: Stmt, inlined: dict, target: str | None, placed: bool) -> list[str]:
    dest = render(leaf(stmt.dest))
    anonymous = target is not None or (placed and stmt.out.role == "temp")
    bind = [] if anonymous or dest == stmt.out.name else [stmt.out.name]
    if stmt.op is extra_ops.ZEROS:
        lines = [f"{stmt.out.name} = {dest}"] if bind else []
        if stmt.params.get("fill", True):
            lines.append(f"{bind[0] if bind else dest}[...] = 0.0")
        return lines
    call = _call_line(stmt, inlined, dest)
    return [f"{bind[0]} = {call}" if bind else call]


def inline_plan(body: list, returned: frozenset = frozenset()) -> set[int]:
    """ids of statements written inside the statement that reads them (see the docstring);
    ``returned``: ids of values the function returns (they keep their names)."""
    count = uses(body)
    consumer: dict[int, int] = {}
    for j, item in enumerate(body):
        if isinstance(item, Stmt):
            for v in reads(item):
                consumer[id(v)] = j
    inline = [False] * len(body)
    for i in range(len(body) - 1, -1, -1):
        item = body[i]
        if (not isinstance(item, Stmt) or item.out is None or item.out.role != "temp"
                or item.dest is not None):
            continue
        if (count.get(id(item.out), 0) != 1 or item.op.name == "scatter_add"
                or id(item.out) in returned):
            continue
        j = consumer.get(id(item.out), -1)
        if i < j <= i + _NEAR and isinstance(body[j], Stmt) and all(inline[i + 1:j]):
            inline[i] = True
    return {id(s) for s, flag in zip(body, inline, strict=True) if flag}
