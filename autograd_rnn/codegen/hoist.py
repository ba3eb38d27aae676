"""Work moved out of loop bodies, as hand-written BPTT does (three passes, each optional).

* ``hoist_invariants``: a statement reading nothing that changes from step to step runs
  once before the loop (``W_h_T = W_h.T``).
* ``hoist_projections``: ``a = x[t - 1] @ W_x`` does not depend on the recurrence: one
  matmul over the rows of every step before the loop (``a_all``), the body reads its row;
  a bias added to it next (``+ b``) is added to all rows at once too (the same sum in
  another order: results differ from the engine's at the level of rounding).
* ``defer_weight_gradients``: ``g_W += h[t - 1].T @ g_a`` and ``g_b += g_a.sum(axis=0)``
  summed by the loop become one matmul / one sum over all steps after it; the loop keeps
  ``g_a`` of every step in a per-step array.
"""

from __future__ import annotations

import numpy as np

from autograd_rnn.codegen import extra_ops
from autograd_rnn.codegen.ir import (
    At,
    Carry,
    Loop,
    Stmt,
    T,
    Var,
    at,
    reads,
    rewrite,
    shape_of,
    vars_in,
)


def _body_vars(loop: Loop) -> set[int]:
    return {id(s.out) for s in loop.body if s.out is not None}


def _varies(value, inside: set[int]) -> bool:
    """Does an operand or params value change from step to step?"""
    if isinstance(value, Carry) or (isinstance(value, Var) and id(value) in inside):
        return True
    if isinstance(value, (At, T)):
        return isinstance(value, T) or isinstance(value.index, T)
    if isinstance(value, (tuple, list)):
        return any(_varies(v, inside) for v in value)
    if isinstance(value, dict):
        return any(_varies(v, inside) for v in value.values())
    if isinstance(value, slice):
        return _varies((value.start, value.stop, value.step), inside)
    return False


def hoist_invariants(loop: Loop) -> None:
    """Move statements whose operands are the same at every step before the loop."""
    inside = _body_vars(loop)
    changed = {id(v) for s in loop.body if getattr(s.op, "effect", "")
               for v in vars_in(s.args[0])}  # arrays changed in place: fresh every step
    kept = []
    for stmt in loop.body:
        v = stmt.out
        if (v is None or v in loop.carries or v in loop.stored or getattr(stmt.op, "effect", "")
                or id(v) in changed or any(id(r) in changed for r in reads(stmt))
                or _varies((stmt.args, stmt.params), inside)):
            kept.append(stmt)
            continue
        inside.discard(id(v))
        if stmt.op.name == "transpose" and isinstance(stmt.args[0], Var):
            v.hint, v.role = stmt.args[0].hint + "_T", "value"  # W_h_T = W_h.T
        loop.pre.append(stmt)
    loop.body = kept


def step_rows(loop: Loop, operand):
    """(array, c) when ``operand`` is row ``t + c`` of an array that exists before the loop
    (another loop's per-step array, or an input: a pick ``x[t - 1]``); else None."""
    if isinstance(operand, At) and isinstance(operand.index, T):
        return operand.array, operand.index.c
    if isinstance(operand, Var):
        stmt = next((s for s in loop.body if s.out is operand), None)
        if stmt is not None and stmt.op.name == "getitem" and isinstance(stmt.args[0], Var) \
                and id(stmt.args[0]) not in _body_vars(loop):
            index = stmt.params["index"]
            index = index[0] if isinstance(index, tuple) and len(index) == 1 else index
            if isinstance(index, T):
                return stmt.args[0], index.c
    return None


def all_rows(loop: Loop, array: Var, c: int, temp_hint: str) -> list[Stmt]:
    """Statements making ``array[lo + c : hi + 1 + c].reshape((-1, width))``: the rows of
    every step of the loop stacked (ascending t)."""
    lo, hi = min(loop.ts), max(loop.ts)
    rows = Var((hi - lo + 1, *array.shape[1:]), array.dtype, temp_hint, role="temp")
    flat = Var((int(np.prod(rows.shape[:-1])), rows.shape[-1]), array.dtype, temp_hint,
               role="temp")
    return [Stmt(rows, extra_ops.GETITEM, (array,), {"index": slice(lo + c, hi + 1 + c)},
                 loop.scope, loop.phase),
            Stmt(flat, extra_ops.RESHAPE, (rows,), {"shape": (-1, rows.shape[-1])},
                 loop.scope, loop.phase)]


def _uses(loop: Loop, var: Var) -> int:
    return sum(1 for s in loop.body for v in reads(s) if v is var)


def hoist_projections(loop: Loop) -> None:
    """``m = x_t @ W`` with ``x_t`` a row of an array from before the loop: every step's
    product at once before the loop (``m_all``, row ``t - lo`` is step t)."""
    inside = _body_vars(loop)
    lo, hi = min(loop.ts), max(loop.ts)
    for stmt in list(loop.body):
        v = stmt.out
        if (stmt.op.name != "matmul" or v is None or v in loop.carries or v in loop.stored
                or len(v.shape) != 2):
            continue
        rows, weight = step_rows(loop, stmt.args[0]), stmt.args[1]
        if rows is None or not isinstance(weight, Var) or id(weight) in inside or \
                len(weight.shape) != 2:
            continue
        array, c = rows
        pre = all_rows(loop, array, c, v.hint)
        product = Var((pre[-1].out.shape[0], v.shape[-1]), v.dtype, v.hint, role="temp")
        every = Var((hi - lo + 1, *v.shape), v.dtype, v.hint + "_all")
        pre += [Stmt(product, stmt.op, (pre[-1].out, weight), {}, loop.scope, loop.phase),
                Stmt(every, extra_ops.RESHAPE, (product,), {"shape": every.shape}, loop.scope,
                     loop.phase, "all steps at once (no recurrence)")]
        loop.pre += pre
        row = at(every, T(-lo))
        loop.body.remove(stmt)
        for s in loop.body:
            rewrite(s, lambda o, v=v, row=row: row if o is v else o)
        _fold_bias(loop, every, row)


def _fold_bias(loop: Loop, every: Var, row: At) -> None:
    """``(row + h W_h) + b`` or ``row + b``: add ``b`` to every row before the loop."""
    inside = _body_vars(loop)
    readers = [s for s in loop.body if any(o is row for o in s.args)]
    if len(readers) != 1 or readers[0].op.name != "add":
        return
    first = readers[0]
    target, bias = first, _other(first, row)
    if isinstance(bias, Var) and id(bias) in inside:  # row + h W_h, then (+ b)
        users = [s for s in loop.body if any(o is first.out for o in s.args)]
        if len(users) != 1 or users[0].op.name != "add" or _uses(loop, first.out) != 1:
            return
        target, bias = users[0], _other(users[0], first.out)
    if (not isinstance(bias, Var) or id(bias) in inside or target.out in loop.carries
            or target.out in loop.stored
            or np.broadcast_shapes(bias.shape, every.shape[1:]) != every.shape[1:]):
        return
    loop.pre.append(Stmt(None, extra_ops.IADD, (every, bias), {}, loop.scope, loop.phase,
                         "the bias too (added before the recurrent term)"))
    kept = target.args[0] if target.args[1] is bias else target.args[1]
    loop.body.remove(target)
    for s in loop.body:
        rewrite(s, lambda o, old=target.out, new=kept: new if o is old else o)


def _other(stmt: Stmt, operand):
    a, b = stmt.args
    return b if a is operand else a


def defer_weight_gradients(loop: Loop) -> None:
    """``acc += A_t.T @ G`` / ``acc += G.sum(axis=0)`` of every step: after the loop, one
    matmul (one sum) over the stacked rows of all steps; ``G`` kept per step."""
    zeros = {id(s.out): s for s in loop.pre if s.op is extra_ops.ZEROS}
    every: dict[int, Var] = {}  # id(G) -> its rows of all steps (made once)
    for add in [s for s in loop.body if s.op is extra_ops.IADD and not s.params]:
        acc, v = add.args
        if id(acc) not in zeros or not isinstance(v, Var):
            continue
        made = _deferred(loop, v, every)
        if made is None:
            continue
        loop.body.remove(add)
        loop.post += made[:-1]
        result = made[-1]
        if sum(1 for s in loop.body if acc in vars_in(s.args)) == 0 and id(acc) in zeros:
            loop.pre.remove(zeros.pop(id(acc)))  # nothing else adds into it: assign
            result.out = acc
            loop.post.append(result)
        else:
            loop.post.append(result)
            loop.post.append(Stmt(None, extra_ops.IADD, (acc, result.out), {}, loop.scope,
                                  loop.phase))
    _drop_unread(loop)


def _deferred(loop: Loop, v: Var, every: dict) -> list[Stmt] | None:
    stmt = next((s for s in loop.body if s.out is v), None)
    if stmt is None or _uses(loop, v) != 1 or v in loop.carries or v in loop.stored:
        return None
    if stmt.op.name == "sum" and stmt.params.get("axis") == 0 and not stmt.params.get(
            "keepdims"):
        g = stmt.args[0]
        made = _every(loop, g, every)
        if made is None:
            return None
        return made + [Stmt(Var(v.shape, v.dtype, v.hint, role="temp"), stmt.op,
                            (made[-1].out if made else every[id(g)],),
                            {"axis": 0, "keepdims": False}, loop.scope, loop.phase)]
    if stmt.op.name != "matmul":
        return None
    left, g = stmt.args
    left_stmt = next((s for s in loop.body if s.out is left), None)
    if left_stmt is None or left_stmt.op.name != "transpose" or _uses(loop, left) != 1:
        return None
    rows = step_rows(loop, left_stmt.args[0])
    made = _every(loop, g, every)
    if rows is None or made is None or len(shape_of(left_stmt.args[0])) != 2:
        return None
    a_rows = all_rows(loop, *rows, left.hint)
    flat = a_rows[-1].out
    flat_t = Var(flat.shape[::-1], flat.dtype, left.hint, role="temp")
    g_all = made[-1].out if made else every[id(g)]
    return made + a_rows + [
        Stmt(flat_t, extra_ops.TRANSPOSE, (flat,), {"axes": (1, 0)}, loop.scope, loop.phase),
        Stmt(Var(v.shape, v.dtype, v.hint, role="temp"), stmt.op, (flat_t, g_all), {},
             loop.scope, loop.phase)]


def _every(loop: Loop, g, every: dict) -> list[Stmt] | None:
    """Statements making the rows of every step of body value ``g`` (stored per step);
    empty when made before."""
    if not isinstance(g, Var) or id(g) not in _body_vars(loop) or len(g.shape) != 2:
        return None
    if id(g) in every:
        return []
    if g not in loop.stored:
        rows = max(loop.ts) + 2
        loop.stored[g] = Var((rows, *g.shape), g.dtype, g.hint + "_steps", None, g.role)
    made = all_rows(loop, loop.stored[g], 0, g.hint)
    made[-1].out.hint, made[-1].out.role = g.hint + "_all", "value"
    every[id(g)] = made[-1].out
    return made


def _drop_unread(loop: Loop) -> None:
    """Remove body statements nothing reads any more (the per-step products replaced)."""
    while True:
        read = {id(v) for s in [*loop.body, *loop.post] for v in reads(s)}
        read |= {id(v) for v in [*loop.carries, *loop.stored]}
        dead = [s for s in loop.body if s.out is not None and id(s.out) not in read
                and not getattr(s.op, "effect", "")]
        if not dead:
            return
        for s in dead:
            loop.body.remove(s)


def optimise_loops(program) -> None:
    """The three passes on every loop of the program."""
    for item in program.body:
        if isinstance(item, Loop):
            hoist_invariants(item)
            hoist_projections(item)
            defer_weight_gradients(item)
