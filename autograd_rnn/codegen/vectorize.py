"""Statements off the recurrence run for all steps at once, outside the loop.

A loop body splits in three: ``before`` (statements that do not depend on a carried value:
the cross-entropy backward of a per-step loss), ``recurrence`` (statements on the path from
a carried value to the next one) and ``after`` (statements depending on the recurrence but
feeding no carried value: a per-step output layer and its loss). The first and last parts
are rewritten over all steps at once, one array op per statement instead of one per step
(as hand-written code computes the output layer of all steps with one matmul), before and
after the loop; the loop keeps the recurrence and reads their values as rows.

A value of step t becomes row ``t - lo`` of an array of all steps (ascending t). Rows of
other arrays become slices; reductions over a step's axes keep their meaning (axes shift
by one); fancy indices get a leading ``np.arange(n)[:, None]``; a per-step scalar next to
per-step arrays is reshaped to broadcast along the step axis. Before, two carries are
simplified: one that every step passes on unchanged (``g_loss`` of a summed loss) is its
initial value, and one that only sums a per-step value (``loss = loss + loss_t``) becomes
that sum over the steps' values. Anything else leaves its part in the loop.
"""

from __future__ import annotations

import numpy as np

from autograd_rnn.codegen import extra_ops
from autograd_rnn.codegen.carries import (
    final_sum,
    invariant_carries,
    reduction_carries,
    rows_of,
)
from autograd_rnn.codegen.ir import (
    At,
    Carry,
    Const,
    Loop,
    Op,
    Stmt,
    T,
    Var,
    leaves,
    reads,
    rewrite,
    shape_of,
    statements,
    vars_in,
)

ELEMENTWISE = {"add", "subtract", "multiply", "divide", "negative", "power", "exp", "log",
               "tanh", "sigmoid", "relu", "abs", "gsum", "greater", "equal", "sign", "where"}
MINUS_LOG_ALL = Op("minus_log", lambda picked, log, *, rows: picked - log[:, rows, 0])


class _Cannot(Exception):
    """A statement without a rule for all steps at once."""


class Vectorizer:
    """Rewrites one loop (see the module docstring)."""

    def __init__(self, program, loop: Loop) -> None:
        self.program, self.loop = program, loop
        self.lo, self.hi = min(loop.ts), max(loop.ts)
        self.n = self.hi - self.lo + 1
        self.all: dict[int, Var] = {}  # id(body value) -> its array of all steps
        self.out: list[Stmt] = []

    # ----- parts -------------------------------------------------------------------------
    def parts(self) -> tuple[list, list, list]:
        body, loop = self.loop.body, self.loop
        joint = self._views()
        dep: set[int] = set()
        size = -1
        while len(dep) != size:  # (an array changed in place depends on what changes it)
            size = len(dep)
            for s in body:
                target = s.out if s.out is not None else next(vars_in(s.args[0]), None)
                if id(target) in dep or any(isinstance(o, Carry) for o in (
                        *s.args, *vars_in(s.params))) or any(
                        id(joint.get(id(v), v)) in dep for v in reads(s)):
                    dep.update((id(s), id(target)))
        feeds: set[int] = set()
        for s in reversed(body):
            target = s.out if s.out is not None else next(vars_in(s.args[0]), None)
            if target in loop.carries or id(target) in feeds:
                feeds.add(id(s))
                feeds.update(id(joint.get(id(v), v)) for v in reads(s))
        before = [s for s in body if id(s) not in dep]
        after = [s for s in body if id(s) in dep and id(s) not in feeds]
        return before, [s for s in body if id(s) in feeds and id(s) in dep], after

    def _views(self) -> dict[int, Var]:
        """id(value) -> the body value it is a view of (gates computed together: ``i`` is
        columns of ``i_f``, kept as a view of the joint per-step array)."""
        loop = self.loop
        owner = {id(a): v for v, a in loop.stored.items()}
        views = {}
        for s in loop.pre:
            if s.op.name == "getitem" and s.args and id(s.args[0]) in owner:
                for v, a in loop.stored.items():
                    if a is s.out:
                        views[id(v)] = owner[id(s.args[0])]
        return views

    # ----- operands ------------------------------------------------------------------------
    def operand(self, o):
        """(the operand over all steps, whether it varies with the step)."""
        if isinstance(o, Var) and id(o) in self.all:
            return self.all[id(o)], True
        if isinstance(o, Var) and any(s.out is o for s in self.loop.body):
            array = self.loop.stored.get(o)
            if array is None:
                raise _Cannot("a value of the recurrence not kept per step")
            return self._rows(array, 0), True
        if isinstance(o, At) and isinstance(o.index, T):
            return self._rows(o.array, o.index.c), True
        if isinstance(o, Carry):
            raise _Cannot("a carried value")
        return o, False

    def _rows(self, array: Var, c: int) -> Var:
        rows = Var((self.n, *array.shape[1:]), array.dtype, array.hint, role="temp")
        self.out.append(Stmt(rows, extra_ops.GETITEM, (array,),
                             {"index": slice(self.lo + c, self.hi + 1 + c)}))
        return rows

    def _lift(self, o, rank: int):
        """A step-varying operand of per-step rank below ``rank``: (n, 1, ..., *shape)."""
        shape = shape_of(o)
        if len(shape) - 1 >= rank:
            return o
        lifted = Var((shape[0], *(1,) * (rank - len(shape) + 1), *shape[1:]), o.dtype, o.hint,
                     role="temp")
        self.out.append(Stmt(lifted, extra_ops.RESHAPE, (o,), {"shape": lifted.shape}))
        return lifted

    # ----- statements ----------------------------------------------------------------------
    def block(self, stmts: list[Stmt]) -> list[Stmt] | None:
        """The statements over all steps (None: some statement has no rule)."""
        self.out = []
        try:
            for s in stmts:
                self.statement(s)
        except _Cannot:
            for s in stmts:
                self.all.pop(id(s.out), None)
            return None
        return self.out

    def _new(self, s: Stmt, op, args, params: dict, shape=None) -> Var:
        v = s.out
        out = Var(shape or (self.n, *v.shape), v.dtype, v.hint, role=v.role, grad_of=v.grad_of)
        self.out.append(Stmt(out, op, tuple(args), params, s.scope, s.phase, s.comment))
        self.all[id(v)] = out
        return out

    def statement(self, s: Stmt) -> None:
        if getattr(s.op, "effect", ""):
            return self._effect(s)
        args = [self.operand(a) for a in s.args]
        if not any(v for _, v in args) and not _steps_in(s.params):
            if s.out in self.loop.stored or s.out in self.loop.carries:
                raise _Cannot("a value kept per step that does not change")
            self.out.append(s)  # the same at every step
            return None
        name = s.op.name
        if name in ELEMENTWISE and not _steps_in(s.params):
            rank = len(s.out.shape)
            self._new(s, s.op, [self._lift(a, rank) if v else a for a, v in args],
                      dict(s.params))
        elif name in ("sum", "max") and args[0][1]:
            axis = s.params.get("axis")
            ndim = len(shape_of(s.args[0]))
            axis = (tuple(range(1, ndim + 1)) if axis is None else
                    tuple(a % ndim + 1 for a in axis) if isinstance(axis, tuple) else
                    axis % ndim + 1)
            self._new(s, s.op, [args[0][0]], {**s.params, "axis": axis})
        elif name == "matmul":
            self._matmul(s, args)
        elif name in ("getitem", "reshape", "transpose"):
            self._shape_op(s, args)
        elif name == "minus_log":  # (xent: the picked logits minus their row's log-sum)
            self._new(s, MINUS_LOG_ALL, [a for a, _ in args], {"rows": s.params["rows"]})
        else:
            raise _Cannot(name)
        return None

    def _matmul(self, s: Stmt, args) -> None:
        (a, va), (b, vb) = args
        if not va or vb or len(shape_of(s.args[0])) != 2 or len(shape_of(b)) != 2:
            raise _Cannot("matmul")
        rows, k = shape_of(s.args[0])
        flat = Var((self.n * rows, k), a.dtype, a.hint, role="temp")
        self.out.append(Stmt(flat, extra_ops.RESHAPE, (a,), {"shape": flat.shape}))
        product = Var((self.n * rows, s.out.shape[1]), s.out.dtype, s.out.hint, role="temp")
        self.out.append(Stmt(product, s.op, (flat, b), {}))
        self._new(s, extra_ops.RESHAPE, [product], {"shape": (self.n, *s.out.shape)})

    def _shape_op(self, s: Stmt, args) -> None:
        (x, vx), name = args[0], s.op.name
        if name == "reshape" and vx:
            self._new(s, s.op, [x], {"shape": (self.n, *s.params["shape"])})
        elif name == "transpose" and vx:
            ndim = len(s.params["axes"])
            axes = (0, *(a % ndim + 1 for a in s.params["axes"]))
            self._new(s, s.op, [x], {"axes": axes})
        elif name == "getitem" and not vx:  # x[t + c] of an array from before the loop
            index = s.params["index"]
            index = index[0] if isinstance(index, tuple) and len(index) == 1 else index
            if not isinstance(index, T):
                raise _Cannot("getitem")
            self.all[id(s.out)] = self._rows(x, index.c)
        elif name == "getitem":
            self._new(s, s.op, [x], {"index": self._index(s.params["index"])})
        else:
            raise _Cannot(name)

    def _index(self, index) -> tuple:
        parts = index if isinstance(index, tuple) else (index,)
        if _steps_in(parts):
            raise _Cannot("an index that moves with the step")
        arrays = [self.operand(p) for p in parts if isinstance(p, (Var, At, Const))]
        if not arrays:
            return (slice(None), *parts)  # basic: every step's block
        if len(arrays) != len(parts):
            raise _Cannot("mixed basic and advanced index")
        steps = Var((self.n, 1), np.dtype(np.int64), "steps", role="temp")
        self.out.append(Stmt(steps, extra_ops.GETITEM, (Const(np.arange(self.n)),),
                             {"index": (slice(None), None)}))
        return (steps, *(a for a, _ in arrays))

    def _effect(self, s: Stmt) -> None:
        (target, vt), (value, vv) = (self.operand(a) for a in s.args)
        if not vt:  # a sum outside the loop: add every step's value
            if "index" in s.params or not vv:
                raise _Cannot("an add into an array outside the loop")
            total = Var(shape_of(s.args[1]), value.dtype, value.hint, role="temp")
            self.out.append(Stmt(total, extra_ops.SUM, (value,), {"axis": 0,
                                                                 "keepdims": False}))
            self.out.append(Stmt(None, s.op, (target, total), {}, s.scope, s.phase))
            return
        params = dict(s.params)
        if "index" in params:
            params["index"] = self._index(params["index"])
        value = self._lift(value, len(shape_of(s.args[0]))) if vv else value
        self.out.append(Stmt(None, s.op, (target, value), params, s.scope, s.phase, s.comment))


def _steps_in(value) -> bool:
    return any(isinstance(v, T) for v in leaves(value))


def vectorize_loop(program, loop: Loop) -> None:
    """Rewrite ``loop`` (see the module docstring)."""
    invariant_carries(program, loop)
    reduced = reduction_carries(program, loop)
    vec = Vectorizer(program, loop)
    before, _, after = vec.parts()
    made_before = vec.block(before) if before else []
    made_after = vec.block(after) if after else []
    if made_before:
        _commit(program, loop, vec, before, made_before, front=True)
    done = []
    for s, v, w, init, at_index in reduced:
        if made_after and id(w) in vec.all:
            done.append((v, w, init))
        else:  # its per-step value stays in the loop: so does the sum
            loop.body.insert(min(at_index, len(loop.body)), s)
            loop.carries[v] = init
    if made_after:
        _commit(program, loop, vec, after, made_after, front=False)
        for v, w, init in done:
            final_sum(program, loop, vec.all[id(w)], v, w, init)


def _commit(program, loop: Loop, vec: Vectorizer, stmts: list, made: list,
            front: bool) -> None:
    ids = {id(s) for s in stmts}
    loop.body = [s for s in loop.body if id(s) not in ids]
    if front:
        loop.pre += made
    else:
        loop.post = made + loop.post
    lo = vec.lo

    def rows(o):
        if isinstance(o, Var) and id(o) in vec.all:
            return At(vec.all[id(o)], T(-lo), o.shape, o.dtype)
        return o

    for s in loop.body:
        rewrite(s, rows)
    for s in stmts:
        if s.out is not None and s.out in loop.stored:
            _moved(program, loop.stored.pop(s.out), vec.all[id(s.out)], lo)


def _moved(program, array: Var, every: Var, lo: int) -> None:
    """Readers of a per-step array read the array of all steps (row t - lo is step t)."""
    def shift(o):
        index = o.index
        index = T(index.c - lo) if isinstance(index, T) else index - lo
        return At(every, index, o.shape, o.dtype)

    rows_of(program, array, shift)
    for s in statements(program.body):
        if s.op.name == "getitem" and s.args and s.args[0] is array:
            index = s.params["index"]
            if not isinstance(index, slice) or index.step is not None:
                raise AssertionError("a per-step array read other than by rows")
            s.args = (every,)
            s.params = {"index": slice(index.start - lo, index.stop - lo)}


def vectorize(program) -> None:
    """Every loop of the program (see the module docstring); a loop left with nothing to
    repeat becomes the straight code around it."""
    body = []
    for item in program.body:
        if isinstance(item, Loop):
            vectorize_loop(program, item)
            if not item.body:
                body += [*item.pre, *item.post]
                continue
        body.append(item)
    program.body = body
