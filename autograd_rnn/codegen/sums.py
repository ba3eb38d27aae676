"""Gradient sums (``gsum``) written the way backpropagation reads: added where they arrive.

A value's gradient is the sum of its consumers' contributions. Straight code starts the sum
at the first contribution and adds each later one in place right after it is computed
(``g_W_h = h_1.T @ g_a_2`` ... ``g_W_h += h_0.T @ g_a_1``). The first contribution becomes
the sum itself when it is a fresh array read nowhere else; otherwise the first two are added
into a new array (never into a view or an argument). A contribution that is ``scatter_add``
(the gradient of ``x[index]``) is added at ``index`` (``g_x[3] += g``; ``np.add.at`` when an
advanced index may repeat positions) instead of making a zero array the size of ``x``. A sum
of one contribution is that contribution (no statement).
"""

from __future__ import annotations

import numpy as np

from autograd_rnn.codegen import extra_ops
from autograd_rnn.codegen.dce import uses
from autograd_rnn.codegen.ir import (
    At,
    Carry,
    Const,
    Loop,
    Stmt,
    T,
    Var,
    rewrite,
    substitute,
    vars_in,
)
from autograd_rnn.ops.shape import is_basic

VIEW_OPS = {"getitem", "reshape", "transpose", "broadcast_to"}  # outputs may share memory


def fresh(stmt: Stmt | None) -> bool:
    """Does ``stmt`` make a new array its value alone owns?"""
    if stmt is None or stmt.out is None or getattr(stmt.op, "effect", ""):
        return False
    if stmt.op is extra_ops.GSUM:
        return len(stmt.args) > 1
    if stmt.op.name == "getitem":
        return not is_basic(_plain(stmt.params["index"]))
    return stmt.op.name not in VIEW_OPS


def _plain(index):
    """An index with its operands and loop steps as sample values (for ``is_basic``)."""
    if isinstance(index, tuple):
        return tuple(_plain(i) for i in index)
    if isinstance(index, T):
        return 0
    if isinstance(index, Const):
        return index.value
    return np.zeros(1, dtype=int) if isinstance(index, Var) else index


def scatter_index_kind(index) -> str:
    """How to add at ``index``: "basic" (``a[i] += g``), "distinct" (an advanced index
    whose positions cannot repeat: one of its 1-D arrays is ``np.arange(n)``), "repeats"."""
    plain = _plain(index)
    if is_basic(plain):
        return "basic"
    parts = index if isinstance(index, tuple) else (index,)
    arrays = [p for p in parts if isinstance(p, (Var, Const))]
    if len(arrays) != len(parts):
        return "repeats"
    shapes = {tuple(np.shape(p.value) if isinstance(p, Const) else p.shape) for p in arrays}
    kinds = {(np.asarray(p.value).dtype if isinstance(p, Const) else p.dtype).kind
             for p in arrays}
    if len(shapes) != 1 or len(next(iter(shapes))) != 1 or not kinds <= set("iu"):
        return "repeats"
    n = next(iter(shapes))[0]
    if any(isinstance(p, Const) and np.array_equal(p.value, np.arange(n)) for p in arrays):
        return "distinct"
    return "repeats"


def add_into(target, value, index=None, scope: str = "", phase: str = "backward") -> Stmt:
    """``target[index] += value`` (or ``np.add.at`` when positions may repeat)."""
    if index is None:
        return Stmt(None, extra_ops.IADD, (target, value), {}, scope, phase)
    op = extra_ops.ADD_AT if scatter_index_kind(index) == "repeats" else extra_ops.IADD
    return Stmt(None, op, (target, value), {"index": index}, scope, phase)


class _Sums:
    """Rewrites the gsum statements of one straight-line body."""

    def __init__(self, body: list, keep: frozenset = frozenset(), returned=()) -> None:
        self.body = body
        self.keep = keep  # ids of values that must stay defined where they are (carries)
        self.count = uses(body)
        for value in returned:  # the function's results are read too: never taken over
            if isinstance(value, Var):
                self.count[id(value)] = self.count.get(id(value), 0) + 1
        self.alias: dict[int, object] = {}
        self.after: dict[int, list[Stmt]] = {}  # id(stmt) -> statements placed after it
        self.before: dict[int, list[Stmt]] = {}  # id(stmt) -> statements placed before it
        self.dropped: set[int] = set()
        self.start: dict[int, Stmt] = {}  # id(sum) -> the statement starting it
        self.complete: dict[int, Stmt] = {}  # id(sum) -> its last statement (readers after)
        self.defs: dict[int, Stmt] = {}
        self.position: dict[int, tuple] = {}  # id(stmt) -> key of its place in the output
        self.placed: list[Stmt] = []  # statements placed for the sum being lowered
        self.loop_of: dict[int, Loop] = {}  # id(per-step array) -> its loop
        for i, item in enumerate(body):
            self.position[id(item)] = (i, 0)
            if isinstance(item, Stmt) and item.out is not None:
                self.defs[id(item.out)] = item
            elif isinstance(item, Loop):  # arrays and sums a loop makes exist after it
                self.loop_of.update((id(a), item) for a in item.stored.values())
                self.loop_of.update((id(s.out), item) for s in [*item.pre, *item.post]
                                    if s.out is not None)

    def run(self) -> list:
        for item in self.body:
            if isinstance(item, Stmt) and item.op is extra_ops.GSUM:
                item.args = substitute(item.args, self._resolve)
                self._lower(item)
        out = []
        stack = list(reversed(self.body))  # placed statements may anchor others: a stack
        while stack:
            item = stack.pop()
            if isinstance(item, tuple):  # ("emit", stmt): its own turn, after its before-list
                stmt = item[1]
                stack += reversed(self.after.get(id(stmt), ()))
                if isinstance(stmt, Loop):
                    self._resolve_loop(stmt)
                    out.append(stmt)
                elif id(stmt) not in self.dropped:
                    rewrite(stmt, self._resolve)
                    out.append(stmt)
                continue
            stack.append(("emit", item))
            stack += reversed(self.before.get(id(item), ()))
        return out

    def _resolve_loop(self, loop: Loop) -> None:
        for stmt in [*loop.pre, *loop.body, *loop.post]:
            rewrite(stmt, self._resolve)
        loop.carries = {v: None if init is None else self._resolve(init)
                        for v, init in loop.carries.items()}

    def _resolve(self, operand):
        while isinstance(operand, Var) and id(operand) in self.alias:
            operand = self.alias[id(operand)]
        return operand

    def _def(self, operand) -> Stmt | None:
        return self.defs.get(id(operand)) if isinstance(operand, Var) else None

    def _owned(self, operand) -> Stmt | None:
        """The defining statement when ``operand`` is a fresh array read only by this sum."""
        stmt = self._def(operand)
        if (stmt is not None and self.count.get(id(operand), 0) == 1 and fresh(stmt)
                and id(stmt.out) not in self.keep and id(operand) not in self.start):
            return stmt  # (a sum still being added into is not taken over)
        return None

    def _scatter(self, operand) -> Stmt | None:
        stmt = self._def(operand)
        if (stmt is not None and stmt.op.name == "scatter_add"
                and self.count.get(id(operand), 0) == 1):
            return stmt
        return None

    def _keep(self, gsum: Stmt) -> None:
        """A carry that is one contribution computed after the last read of its previous
        value is computed as the carry itself (no copy)."""
        part = gsum.args[0] if len(gsum.args) == 1 else None
        stmt = self._def(part) if getattr(part, "role", "") == "temp" else None
        if stmt is None or self.count.get(id(part), 0) != 1 or not fresh(stmt):
            return
        last_read = max((i for i, s in enumerate(self.body) if isinstance(s, Stmt) and any(
            isinstance(o, Carry) and o.var is gsum.out for o in (*s.args, *vars_in(
                s.params)))), default=-1)
        if self.position[id(stmt)] >= (last_read, 0):
            stmt.out = gsum.out
            self.defs[id(gsum.out)] = stmt
            self.dropped.add(id(gsum))

    def _anchor(self, operand):
        """The statement (or loop) after which ``operand`` exists; None: from the start.
        A lowered sum exists after its last addition, not at its start."""
        if isinstance(operand, At):
            return self.loop_of.get(id(operand.array))
        if isinstance(operand, Var) and id(operand) in self.complete:
            return self.complete[id(operand)]
        return self._def(operand) or self.loop_of.get(id(operand))

    def _key(self, anchor) -> tuple:
        return self.position[id(anchor)] if anchor is not None else (-1,)

    def _scope(self, anchor, gsum: Stmt) -> str:
        return anchor.scope if isinstance(anchor, Stmt) else gsum.scope

    def _lower(self, gsum: Stmt) -> None:
        v, parts = gsum.out, list(gsum.args)
        if id(v) in self.keep and not any(self._scatter(p) for p in parts):
            self._keep(gsum)  # a carry: assigned where it is (g = a + b)
            return
        self.dropped.add(id(gsum))
        if len(parts) == 1 and self._scatter(parts[0]) is None:
            own = self._owned(parts[0])
            if own is not None and parts[0].role == "temp":
                own.out = v  # the contribution is computed as the gradient itself
                self.defs[id(v)] = own
            else:  # the sum is its one part: its readers read the part
                self.alias[id(v)] = parts[0]
                self.count[id(parts[0])] = self.count.get(id(parts[0]), 0) + self.count.get(
                    id(v), 0) - 1
            return
        parts.sort(key=lambda p: self._key(self._anchor(p)))
        self.placed = []
        for part in self._start(gsum, parts):
            self._add(gsum, part)
        self.complete[id(v)] = max([self.start[id(v)], *self.placed], key=self._key)

    def _start(self, gsum: Stmt, parts: list) -> list:
        """Place the statement starting the sum; returns the parts still to add."""
        v, first = gsum.out, parts[0]
        scatter, own = self._scatter(first), self._owned(first)
        if scatter is not None:
            self._place(None, Stmt(v, extra_ops.ZEROS, (), {"shape": v.shape, "dtype": v.dtype},
                                   scatter.scope, "backward"), before=scatter)
            self.start[id(v)] = self.defs[id(v)]
            return parts
        if own is not None:
            own.out = v
            self.defs[id(v)] = own
            self.start[id(v)] = own
            return parts[1:]
        if self.count.get(id(first), 0) == 1 and getattr(first, "role", "") == "temp":
            first.role, first.same_name = v.role, v  # a view named like the sum, then g + c2
        anchor = max((self._anchor(p) for p in parts[:2]), key=self._key)
        self._place(anchor, Stmt(v, extra_ops.GSUM, tuple(parts[:2]), {},
                                 self._scope(anchor, gsum), "backward"), gsum)
        self.start[id(v)] = self.defs[id(v)]
        return parts[2:]

    def _add(self, gsum: Stmt, part) -> None:
        scatter = self._scatter(part)
        if scatter is not None:
            self.dropped.add(id(scatter))
            g, = scatter.args
            self._place(scatter, add_into(gsum.out, g, scatter.params["index"], scatter.scope))
            return
        anchor, start = self._anchor(part), self.start[id(gsum.out)]
        if self._key(anchor) < self._key(start):
            anchor = start  # (a part there from the start: added right after the start)
        self._place(anchor, add_into(gsum.out, part, None, self._scope(anchor, gsum)), gsum)

    def _place(self, anchor, stmt: Stmt, gsum: Stmt | None = None, before=None) -> None:
        """Put ``stmt`` after ``anchor`` (and what was put there before it); without one,
        right before ``gsum`` (or ``before``). Keys order statements as ``run`` emits them:
        a statement's key ends in 0, the k-th put before/after it extends it by (-1|1, k)."""
        if anchor is None and before is None:
            before = gsum
        side, where = (-1, self.before) if before is not None else (1, self.after)
        around = before if before is not None else anchor
        placed = where.setdefault(id(around), [])
        self.position[id(stmt)] = (*self.position[id(around)][:-1], side, len(placed), 0)
        placed.append(stmt)
        self.placed.append(stmt)
        if stmt.out is not None:
            self.defs[id(stmt.out)] = stmt


def lower_sums(program) -> None:
    """Rewrite every gsum of the program (see the module docstring); in a loop body the
    carried values keep their statement (the next iteration reads them)."""
    sums = _Sums(program.body, returned=[*program.grads, program.output])
    program.body = sums.run()
    program.grads = [None if g is None else sums._resolve(g) for g in program.grads]
    program.output = sums._resolve(program.output)
    for loop in program.body:
        if isinstance(loop, Loop):
            keep = frozenset(id(v) for v in [*loop.carries, *loop.stored])
            inner = _Sums(loop.body, keep)
            loop.body = inner.run()
            if inner.alias:
                for stmt in loop.post:
                    rewrite(stmt, inner._resolve)
