"""Preparing a loop body for ``buffers``: one statement per ufunc call, zero-filled sums
written slice by slice.

* ``split``: a statement whose source is a tree of ufuncs (``sigmoid``: four calls) becomes
  one statement per call (``UfuncOp``), so each can write into a buffer (``out=``).
* ``covers``: ``g = zeros; g[:, 0:4] += a; g[:, 4:8] += b`` with disjoint basic slices covering
  ``g`` needs no zero fill and no adds: ``a`` and ``b`` are computed in their slice of ``g``
  (returned as the place each is computed; ``buffers`` uses it).
"""

from __future__ import annotations

import numpy as np

from autograd_rnn.codegen import extra_ops
from autograd_rnn.codegen.ir import (
    At,
    Carry,
    Const,
    Loop,
    Op,
    Part,
    Stmt,
    Var,
    dtype_of,
    reads,
    shape_of,
    vars_in,
)
from autograd_rnn.codegen.symbolic import Sym, evaluate, meta
from autograd_rnn.ops.shape import is_basic


class UfuncOp(Op):
    """One NumPy ufunc call (``out=`` capable)."""

    def __init__(self, ufunc) -> None:
        super().__init__(ufunc.__name__, lambda *xs: ufunc(*xs))
        self.ufunc = ufunc


_UFUNC_OPS: dict = {}


def ufunc_op(ufunc) -> UfuncOp:
    if ufunc not in _UFUNC_OPS:
        _UFUNC_OPS[ufunc] = UfuncOp(ufunc)
    return _UFUNC_OPS[ufunc]


# ----- one statement per ufunc ----------------------------------------------------------
def ufunc_tree(stmt: Stmt):
    """The statement's source evaluated on placeholder leaves (``#k`` is operand k)."""
    if any(isinstance(v, (Var, At, Carry, Part)) for v in vars_in(stmt.params)):
        return None
    leaves = []
    for k, a in enumerate(stmt.args):
        if isinstance(a, Const):
            leaves.append(a.value if not isinstance(a.value, np.ndarray) else None)
        else:
            leaves.append(Sym.leaf(f"#{k}", shape_of(a), dtype_of(a)))
    if any(leaf is None for leaf in leaves) or stmt.op.source is None:
        return None
    tree = evaluate(stmt.op.source, leaves, dict(stmt.params))
    return tree if tree.kind == "ufunc" and _all_ufuncs(tree) else None


def _all_ufuncs(sym) -> bool:
    if not isinstance(sym, Sym):
        return True
    if sym.kind == "leaf":
        return True
    return sym.kind == "ufunc" and not sym.effects and all(_all_ufuncs(a) for a in sym.args)


def split(loop: Loop) -> None:
    body = []
    for stmt in loop.body:
        v = stmt.out
        tree = None
        if v is not None and not getattr(stmt.op, "effect", "") and len(v.shape) and (
                np.dtype(v.dtype).kind == "f"):
            tree = ufunc_tree(stmt)
        if tree is None:
            body.append(stmt)
            continue
        body += ufunc_steps(stmt, tree)
    loop.body = body


def ufunc_steps(stmt: Stmt, tree: Sym) -> list[Stmt]:
    """One ``UfuncOp`` statement per node of ``tree`` (post-order); the last defines
    ``stmt.out``."""
    out: list[Stmt] = []
    operand_of: dict[int, object] = {}

    def operand(sym):
        if not isinstance(sym, Sym):  # 1 - x: 1.0 - x (an int costs a conversion per call)
            return Const(float(sym) if type(sym) is int else sym)
        if sym.kind == "leaf":
            a = stmt.args[int(sym.text[1:])]
            return Const(float(a.value)) if isinstance(a, Const) and type(a.value) is int else a
        return operand_of[id(sym)]

    order, stack = [], [(tree, False)]
    while stack:  # post-order without recursion
        sym, done = stack.pop()
        if not isinstance(sym, Sym) or sym.kind == "leaf":
            continue
        if done:
            order.append(sym)
            continue
        stack.append((sym, True))
        stack += [(a, False) for a in reversed(sym.args)]
    for sym in order:
        shape, dtype = meta(sym)
        target = stmt.out if sym is tree else Var(shape, dtype, stmt.out.hint, role="temp")
        operand_of[id(sym)] = target
        out.append(Stmt(target, ufunc_op(sym.op), tuple(operand(a) for a in sym.args), {},
                        stmt.scope, stmt.phase, stmt.comment if sym is tree else ""))
    return out


# ----- zero-filled sums written slice by slice ------------------------------------------
def _covers(shape: tuple, indices: list) -> bool:
    ids = np.arange(int(np.prod(shape))).reshape(shape)
    seen = np.zeros(ids.size, dtype=int)
    for index in indices:
        if not is_basic(index):
            return False
        part = ids[index]
        if not np.shares_memory(part, ids):
            return False
        seen[np.ravel(part)] += 1
    return bool((seen == 1).all())


def covers(loop: Loop) -> dict[int, Part]:
    """{id(part value): where it is computed} for every zero-filled sum of slices."""
    homes: dict[int, Part] = {}
    body = loop.body
    for z in [s for s in body if s.op is extra_ops.ZEROS and s.out is not None]:
        g = z.out
        adds = [s for s in body if s.op is extra_ops.IADD and s.args[0] is g]
        if not adds:
            continue
        last = max(body.index(s) for s in adds)
        early = [s for s in body[:last] if g in reads(s) and s not in adds]  # a partial sum
        if early or not all("index" in s.params and isinstance(s.args[1], Var) for s in adds):
            continue
        if not _covers(g.shape, [s.params["index"] for s in adds]):
            continue
        defs = {id(s.out): i for i, s in enumerate(body) if s.out is not None}
        homed = [s for s in adds if id(s.args[1]) in defs
                 and sum(1 for x in body if s.args[1] in reads(x)) == 1]
        first = min([_chain_start(body, s.args[1], defs) for s in homed] + [body.index(z)])
        for s in adds:
            if s in homed:  # computed in its slice
                body.remove(s)
                homes[id(s.args[1])] = Part(g, s.params["index"])
            else:  # read elsewhere too: copied into its slice (no zero fill needed)
                s.op = extra_ops.SETITEM
        body.remove(z)
        z.params = {**z.params, "fill": False}
        body.insert(first, z)
    return homes


def _chain_start(body: list, v: Var, defs: dict) -> int:
    """Where the chain of elementwise calls ending in ``v`` starts (its temporaries read
    once, of ``v``'s shape, may be computed where ``v`` goes): the slice must exist then."""
    start, stack = defs[id(v)], [v]
    while stack:
        x = stack.pop()
        i = defs.get(id(x)) if isinstance(x, Var) else None
        if i is None or not isinstance(body[i].op, UfuncOp) or x.shape != v.shape:
            continue
        start = min(start, i)
        stack += [a for a in body[i].args if isinstance(a, Var) and a.role == "temp"
                  and sum(1 for s in body if a in reads(s)) == 1]
    return start
