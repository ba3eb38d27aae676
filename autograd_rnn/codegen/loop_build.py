"""The ``Loop`` of a matched run of periods (``loops.py`` finds the runs).

The body is one period (the second: every statement there has the template's shape) with
operands rewritten: this period's values become the body's, the previous period's become
carries (``Carry``), a cheap statement from outside read once per period with its own step
(``g_Y[t - 1]``) is copied into the body, integers that follow the step become ``T(c)``.
Then the periods' values read after the loop get a per-step array (``h[t]``, row t is step
t), are read as rows of an input (a value that is ``x[t + c]``), or, when every period's
value is added into one gradient sum outside (a weight gradient), are accumulated by the loop
(``acc += ...``; the gradient of ``a[t - 1]`` as ``acc[t - 1] += g``).
"""

from __future__ import annotations

import numpy as np

from autograd_rnn.codegen import extra_ops
from autograd_rnn.codegen.ir import At, Carry, Const, Loop, Stmt, T, Var, at, reads, rewrite
from autograd_rnn.codegen.loop_keys import Signer
from autograd_rnn.codegen.names import scope_key
from autograd_rnn.codegen.sums import add_into


class Builder:
    """Makes the ``Loop`` of a matched run (see the module docstring). ``finder`` gives
    ``body``, ``users`` (id(var) -> reading statements), ``index`` (id(stmt) -> position),
    ``position_in(period)`` and ``sinkable(var)``."""

    def __init__(self, finder, run: list, template: list, modes: list,
                 bind: dict) -> None:
        self.f = finder
        self.run = run
        self.template = template
        self.modes = modes
        self.bind = bind
        self.periods = [finder.body[p.start:p.end] for p in run]
        self.base = self.periods[1]  # a period whose statements all have the template's shape
        self.ts = [p.t for p in run]

    def build(self) -> Loop:
        first = self.periods[0][0]
        loop = Loop(first.scope, self.ts, [], phase=first.phase)
        loop.scope = scope_key(first.scope)
        self.body_vars = [Var(s.out.shape, s.out.dtype, s.out.hint, None, s.out.role,
                              grad_of=s.out.grad_of) if s.out is not None else None
                          for s in self.base]
        signer = Signer(self.f.position_in(self.run[1]), self.f.position_in(self.run[0]),
                        set(), self.f.sinkable)
        self.ints = iter(self.modes)
        for s in self.base:
            self.signer = signer
            signer.ints = []
            body = self._body_stmt(s, loop)
            loop.body.append(body)
        for k, (kind, value) in self.bind.items():
            loop.carries[self.body_vars[k]] = value if kind == "X" else None
        self._exits(loop)
        return loop

    def _mode(self):
        mode, c = next(self.ints)
        return T(c) if mode == "step" else c

    def _operand(self, o, loop: Loop):
        local = self.signer.local
        if isinstance(o, Var):
            if id(o) in local:
                return self.body_vars[local[id(o)]]
            if id(o) in self.signer.prev:
                return Carry(self.body_vars[self.signer.prev[id(o)]])
            sink = self.f.sinkable(o)
            if sink is not None:
                copy = self._copy(sink, loop)
                loop.body.append(copy)
                return copy.out
            return o
        if isinstance(o, At):
            return at(o.array, self._mode()) if isinstance(o.index, int) else o
        return o

    def _param(self, v, loop: Loop):
        if isinstance(v, (Var, At, Const)):
            return self._operand(v, loop)
        if isinstance(v, bool) or v is None:
            return v
        if isinstance(v, (int, np.integer)):
            return self._mode()
        if isinstance(v, tuple):
            return tuple(self._param(x, loop) for x in v)
        if isinstance(v, slice):
            return slice(*(self._param(x, loop) for x in (v.start, v.stop, v.step)))
        return v

    def _copy(self, s: Stmt, loop: Loop) -> Stmt:
        """A statement from outside, copied into the body with its step symbolic."""
        args = tuple(self._operand(a, loop) for a in s.args)
        params = {k: self._param(v, loop) for k, v in sorted(s.params.items())}
        out = Var(s.out.shape, s.out.dtype, s.out.hint, None, s.out.role, grad_of=s.out.grad_of)
        return Stmt(out, s.op, args, params, s.scope, s.phase)

    def _body_stmt(self, s: Stmt, loop: Loop) -> Stmt:
        k = self.base.index(s)
        args = tuple(self._operand(a, loop) for a in s.args)
        params = {key: self._param(v, loop) for key, v in sorted(s.params.items())}
        return Stmt(self.body_vars[k], s.op, args, params, s.scope, s.phase, s.comment)

    def _exits(self, loop: Loop) -> None:
        """Values of the periods read outside: per-step arrays, rows of an input (a value
        that is ``x[t + c]``), or sums accumulated by the loop."""
        members = {id(s) for period in self.periods for s in period}
        defining = {id(s.out): s for s in loop.body if s.out is not None}
        rows_of: dict[int, At] = {}  # id(a period's value) -> the row standing for it
        users: dict[int, Stmt] = {}
        for k, var in enumerate(self.body_vars):
            if var is None:
                continue
            instances = [period[k].out for period in self.periods]
            outside = [(p, u) for p, v in enumerate(instances)
                       for u in self.f.users.get(id(v), ()) if id(u) not in members]
            if not outside:
                continue
            stmt = defining[id(var)]
            pick = _pick(stmt) if id(stmt.args[0] if stmt.args else None) not in defining else None
            if pick is not None:
                array, c = pick
                rows_of.update((id(v), at(array, t + c)) for v, t in zip(instances, self.ts,
                                                                        strict=True))
            elif _reduction(outside, instances):
                _accumulate(loop, var, outside[0][1], instances)
                continue
            else:
                array = self._array(loop, var)
                rows_of.update((id(v), at(array, t)) for v, t in zip(instances, self.ts,
                                                                    strict=True))
            users.update((id(u), u) for _, u in outside)
        for user in users.values():  # (each once: a stack of every step reads T values)
            rewrite(user, lambda o: rows_of.get(id(o), o) if isinstance(o, Var) else o)
        self._bound_rows(loop)

    def _array(self, loop: Loop, var: Var) -> Var:
        """The per-step array of ``var`` (row t is step t; one spare row each side)."""
        if var not in loop.stored:
            rows = max(self.ts) + 2
            loop.stored[var] = Var((rows, *var.shape), var.dtype, var.hint, None, var.role)
        return loop.stored[var]

    def _bound_rows(self, loop: Loop) -> None:
        """A carry's initial value is row ``t0 - step`` of its array: later statements
        reading that value read the row (then the step before the first looks like the
        others: ``h[t - 1]`` also for the first step)."""
        end = self.run[-1].end
        d = loop.step
        for var, init in loop.carries.items():
            if not isinstance(init, Var):
                continue
            later = [u for u in self.f.users.get(id(init), ()) if self.f.index[id(u)] >= end]
            if not later:
                continue
            row = at(self._array(loop, var), self.ts[0] - d)
            for user in later:
                rewrite(user, lambda o, init=init, row=row: row if o is init else o)


def _pick(stmt: Stmt) -> tuple | None:
    """(array, c) when ``stmt`` is ``array[t + c]`` of an array from outside the loop."""
    if stmt.op.name != "getitem" or not isinstance(stmt.args[0], Var):
        return None
    index = stmt.params["index"]
    index = index[0] if isinstance(index, tuple) and len(index) == 1 else index
    return (stmt.args[0], index.c) if isinstance(index, T) else None


def _reduction(outside: list, instances: list) -> bool:
    """Is every instance read exactly once, all by the same gradient sum outside?"""
    user = outside[0][1]
    return (user.op is extra_ops.GSUM and len(outside) == len(instances)
            and all(u is user for _, u in outside)
            and sorted(p for p, _ in outside) == list(range(len(instances))))


def _accumulate(loop: Loop, var: Var, gsum: Stmt, instances: list) -> None:
    """The loop adds ``var`` of every step into the sum: ``acc += var``."""
    ids = {id(v) for v in instances}
    acc = Var(gsum.out.shape, gsum.out.dtype, gsum.out.hint, None, "grad",
              grad_of=gsum.out.grad_of)
    loop.pre.append(Stmt(acc, extra_ops.ZEROS, (), {"shape": acc.shape, "dtype": acc.dtype},
                         loop.scope, loop.phase))
    where = next(i for i, s in enumerate(loop.body) if s.out is var)
    made = loop.body[where]
    readers = [s for s in loop.body if any(r is var for r in reads(s))]
    if made.op.name == "scatter_add" and not readers:  # the gradient of x[t - 1]: acc[t - 1] += g
        add = add_into(acc, made.args[0], made.params["index"], loop.scope)
        loop.body[where] = add
    else:
        add = Stmt(None, extra_ops.IADD, (acc, var), {}, loop.scope, loop.phase)
        loop.body.insert(where + 1, add)  # right after the step's contribution
    gsum.args = tuple(a for a in gsum.args if id(a) not in ids) + (acc,)
