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
from autograd_rnn.codegen.ir import Const, Loop, Stmt, T, Var, substitute
from autograd_rnn.ops.shape import _is_basic

VIEW_OPS = {"getitem", "reshape", "transpose", "broadcast_to"}  # outputs may share memory


def fresh(stmt: Stmt | None) -> bool:
    """Does ``stmt`` make a new array its value alone owns?"""
    if stmt is None or stmt.out is None or getattr(stmt.op, "effect", ""):
        return False
    if stmt.op is extra_ops.GSUM:
        return len(stmt.args) > 1
    if stmt.op.name == "getitem":
        return not _is_basic(_plain(stmt.params["index"]))
    return stmt.op.name not in VIEW_OPS


def _plain(index):
    """An index with its operands and loop steps as sample values (for ``_is_basic``)."""
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
    if _is_basic(plain):
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

    def __init__(self, body: list) -> None:
        self.body = body
        self.count = uses(body)
        self.alias: dict[int, object] = {}
        self.after: dict[int, list[Stmt]] = {}  # id(stmt) -> statements placed after it
        self.before: dict[int, list[Stmt]] = {}  # id(stmt) -> statements placed before it
        self.dropped: set[int] = set()
        self.defs: dict[int, Stmt] = {}
        self.position: dict[int, float] = {}
        for i, item in enumerate(body):
            self.position[id(item)] = i
            if isinstance(item, Stmt) and item.out is not None:
                self.defs[id(item.out)] = item

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
                if id(stmt) not in self.dropped:
                    stmt.args = substitute(stmt.args, self._resolve)
                    stmt.params = substitute(stmt.params, self._resolve)
                    out.append(stmt)
                continue
            stack.append(("emit", item))
            stack += reversed(self.before.get(id(item), ()))
        return out

    def _resolve(self, operand):
        while isinstance(operand, Var) and id(operand) in self.alias:
            operand = self.alias[id(operand)]
        return operand

    def _def(self, operand) -> Stmt | None:
        return self.defs.get(id(operand)) if isinstance(operand, Var) else None

    def _owned(self, operand) -> Stmt | None:
        """The defining statement when ``operand`` is a fresh array read only by this sum."""
        stmt = self._def(operand)
        if stmt is not None and self.count.get(id(operand), 0) == 1 and fresh(stmt):
            return stmt
        return None

    def _scatter(self, operand) -> Stmt | None:
        stmt = self._def(operand)
        if (stmt is not None and stmt.op.name == "scatter_add"
                and self.count.get(id(operand), 0) == 1):
            return stmt
        return None

    def _lower(self, gsum: Stmt) -> None:
        v, parts = gsum.out, list(gsum.args)
        self.dropped.add(id(gsum))
        if len(parts) == 1 and self._scatter(parts[0]) is None:
            own = self._owned(parts[0])
            if own is not None and parts[0].role == "temp":
                own.out = v  # the contribution is computed as the gradient itself
                self.defs[id(v)] = own
            else:
                self.alias[id(v)] = parts[0]
            return
        position = self.position
        parts.sort(key=lambda p: position.get(id(self._def(p)), -1))
        first = parts[0]
        scatter, own = self._scatter(first), self._owned(first)
        named = self._def(first) if self.count.get(id(first), 0) == 1 and getattr(
            first, "role", "") == "temp" else None
        if scatter is not None:
            self._place(None, Stmt(v, extra_ops.ZEROS, (), {"shape": v.shape, "dtype": v.dtype},
                                   gsum.scope, "backward"), before=scatter)
            rest = parts
        elif own is not None:
            own.out = v
            self.defs[id(v)] = own
            rest = parts[1:]
        elif named is not None:  # a view: named like the sum, then g = g + c2 (a new array)
            first.role, first.same_name = v.role, v
            d = self._def(parts[1])
            self._place(d, Stmt(v, extra_ops.GSUM, (first, parts[1]), {},
                                d.scope if d else gsum.scope, "backward"),
                        before=None if d else gsum)
            rest = parts[2:]
        else:
            second = parts[1]
            anchor = max((self._def(p) for p in (first, second)),
                         key=lambda s: position.get(id(s), -1), default=None)
            self._place(anchor, Stmt(v, extra_ops.GSUM, (first, second), {},
                                     anchor.scope if anchor else gsum.scope, "backward"),
                        before=None if anchor else gsum)
            rest = parts[2:]
        for part in rest:
            scatter = self._scatter(part)
            if scatter is not None:
                self.dropped.add(id(scatter))
                g, = scatter.args
                self._place(scatter, add_into(v, g, scatter.params["index"], scatter.scope))
            else:
                d = self._def(part)
                self._place(d, add_into(v, part, None, d.scope if d else gsum.scope),
                            before=None if d else gsum)

    def _place(self, anchor: Stmt | None, stmt: Stmt, before: Stmt | None = None) -> None:
        """Put ``stmt`` right after ``anchor`` (or right before ``before``)."""
        if before is not None:
            self.before.setdefault(id(before), []).append(stmt)
            self.position[id(stmt)] = self.position[id(before)] - 0.5
        else:
            self.after.setdefault(id(anchor), []).append(stmt)
            self.position[id(stmt)] = self.position[id(anchor)] + 0.5
        if stmt.out is not None:
            self.defs[id(stmt.out)] = stmt


def lower_sums(program) -> None:
    """Rewrite every gsum of the program's straight-line code (see the docstring)."""
    if any(isinstance(item, Loop) for item in program.body):
        raise NotImplementedError("loops: sums are lowered by the loop passes")
    sums = _Sums(program.body)
    program.body = sums.run()
    program.grads = [None if g is None else sums._resolve(g) for g in program.grads]
    program.output = sums._resolve(program.output)
