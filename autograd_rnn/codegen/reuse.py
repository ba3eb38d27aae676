"""Straight code reuses the arrays of values nothing reads any more.

Outside the loops each op makes a fresh array: for a (T*B, V) output layer that is a few
megabytes per statement, and fresh memory costs page faults on every call. Here a statement
that is one elementwise ufunc call writes into an operand that dies at that statement, when
the operand is a fresh array of the result's shape and dtype::

    y = matmul_3 + b_y          ->  y = np.add(matmul_3, b_y, out=matmul_3)
    subtract = y - shift        ->  subtract = np.subtract(y, shift, out=matmul_3)

An operand that is a slice or reshape of all of such an array (``matmul_all[0:T]``) gives
its memory too (written through that view, or, when the view is a temporary written inside
its reader, through the nearest named array of the same shape it views)::

    y = matmul_all[0:25] + b_y   ->  y = np.add(matmul_all[0:25], b_y, out=matmul_all)

The statements a loop runs once before or after its steps (``pre``, ``post``: hoisted
work such as ``1 - h * h`` of all steps) are straight-line code too. A temporary operand
that dies (otherwise written inside its reader) gets a line and a name of its own::

    g_h_3 = 1 - h[1:26] * h[1:26]   ->  g_h = h[1:26] * h[1:26]
                                        g_h_3 = np.subtract(1.0, g_h, out=g_h)

A value is alive while it or a view of it is read later; a loop keeps alive everything its
steps read or write. Same ops in the same order: results are unchanged.
"""

from __future__ import annotations

import math

import numpy as np

from autograd_rnn.codegen.ir import Loop, Program, Stmt, Var, reads, vars_in
from autograd_rnn.codegen.split import ufunc_steps, ufunc_tree
from autograd_rnn.codegen.sums import fresh

_VIEWS = {"getitem", "reshape", "transpose", "broadcast_to"}


def _single_call(stmt: Stmt) -> Stmt | None:
    """``stmt`` as one elementwise ufunc call on its operands (a ``UfuncOp`` statement),
    or None."""
    if stmt.out is None or not stmt.out.shape or np.dtype(stmt.out.dtype).kind != "f":
        return None
    tree = ufunc_tree(stmt)
    if tree is None or tree.op is np.matmul:
        return None
    steps = ufunc_steps(stmt, tree)
    return steps[0] if len(steps) == 1 else None


def _whole_view(view: Stmt, owner: Stmt | None) -> bool:
    """Is ``view`` (a slice or reshape) all of the memory of the fresh array ``owner``
    makes (so that memory may be written through it)?"""
    if owner is None or math.prod(view.out.shape) != math.prod(owner.out.shape):
        return False
    return view.op.name == "reshape" or (view.op.name == "getitem" and not fresh(view))


def _units(body: list) -> list:
    """The program in execution order: each straight-line statement (loops' ``pre`` and
    ``post`` statements included) and, for each loop, the loop itself (its body)."""
    out: list = []
    for item in body:
        if isinstance(item, Loop):
            out += [*item.pre, item, *item.post]
        else:
            out.append(item)
    return out


def _loop_reads(loop: Loop) -> list[Var]:
    """What a loop's body reads or writes: its operands, its carries' initial values, the
    per-step arrays it stores rows into and every destination (kept alive for good)."""
    read = [v for s in loop.body for v in reads(s)]
    read += [v for init in loop.carries.values() for v in vars_in(init)]
    read += list(vars_in(list(loop.stored.values())))
    return read + [v for s in loop.body if s.dest is not None for v in vars_in(s.dest)]


class _Memory:
    """Who owns which memory and when each is read last, over ``units`` (``_units``)."""

    def __init__(self, program: Program, units: list) -> None:
        self.last: dict[int, int] = {}  # id(base value) -> last unit reading it (or a view)
        self.base: dict[int, int] = {}  # id(view) -> id(value owning its memory)
        self.owner: dict[int, Stmt] = {}  # id(value) -> statement making its memory
        self.whole: dict[int, int] = {}  # id(view) -> id(its base): views of all of a fresh array
        self.viewed: dict[int, Var] = {}  # id(view) -> the value it is a view of
        last, base = self.last, self.base
        for i, item in enumerate(units):
            if isinstance(item, Loop):  # (everything a loop touches stays)
                for v in _loop_reads(item):
                    last[base.get(id(v), id(v))] = 1 << 60
                continue
            for v in reads(item):
                last[base.get(id(v), id(v))] = i
            if item.out is not None:
                self._made(item)
        for v in vars_in((program.output, program.grads)):
            last[base.get(id(v), id(v))] = 1 << 60

    def _made(self, item: Stmt) -> None:
        first = item.args[0] if item.args else None
        if item.op.name in _VIEWS and isinstance(first, Var) and not fresh(item):
            self.base[id(item.out)] = root = self.base.get(id(first), id(first))
            self.viewed[id(item.out)] = first
            if _whole_view(item, self.owner.get(root)):
                self.whole[id(item.out)] = root
        elif fresh(item):
            self.owner[id(item.out)] = item


def reuse_dead_arrays(program: Program) -> None:
    """Give straight-line elementwise statements (a loop's ``pre`` and ``post`` too) the
    memory of a dying operand (in programs with loops; a short unroll stays one plain
    expression per op, for reading)."""
    if not any(isinstance(item, Loop) for item in program.body):
        return
    units = _units(program.body)
    memory = _Memory(program, units)
    owner = memory.owner
    holder: dict[int, Var] = {}  # id(value) -> the array it lives in
    for i, item in enumerate(units):
        if not isinstance(item, Stmt):
            continue
        call = _single_call(item)
        if call is None:
            continue
        a = _dying_operand(item, i, owner, memory.whole, memory.base, memory.last)
        if a is not None and a.role == "temp":  # (written inside this statement: no name)
            if id(a) in owner:
                a.role = "value"  # computed on its own line, named, then written over
            else:
                a = _named(a, memory.viewed, owner, memory.whole)
        if a is not None:
            item.op, item.args, item.params = call.op, call.args, {}  # the same call
            item.dest = holder.get(id(a), a)
            holder[id(item.out)] = item.dest
            owner[id(item.out)] = item


def _dying_operand(item: Stmt, i: int, owner: dict, whole: dict, base: dict,
                   last: dict) -> Var | None:
    """An operand of statement ``i`` whose memory it may write: a fresh array of the
    result's shape and dtype (or a view of all of one) read for the last time here, that no
    other operand views."""
    for a in item.args:
        if not (isinstance(a, Var) and a.shape == item.out.shape
                and a.dtype == item.out.dtype):
            continue
        root = id(a) if id(a) in owner else whole.get(id(a))
        if root is not None and last.get(root) == i and not any(
                b is not a and isinstance(b, Var) and base.get(id(b), id(b)) == root
                for b in item.args):
            return a
    return None


def _named(view: Var, viewed: dict, owner: dict, whole: dict) -> Var | None:
    """The first named value up the chain of views from the temporary ``view`` that has its
    shape and all of its memory (None if there is none)."""
    v = viewed.get(id(view))
    while v is not None:
        if v.role != "temp" and v.shape == view.shape and (id(v) in owner or id(v) in whole):
            return v
        v = viewed.get(id(v))
    return None
