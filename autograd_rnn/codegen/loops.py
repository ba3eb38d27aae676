"""Loop form: consecutive timesteps whose statements have the same structure become one loop.

A *period* is a run of consecutive statements recorded under one timestep scope
(``rnn/layer0/t=3``) in one phase (forward or backward). Each statement of a period gets a
structural key relative to its period: its op, the structure of its params, and for each
operand where it comes from: this period (position k), the previous period (a carry), an
earlier loop's step ``t + c``, or a value outside (the same for every period). Integers in
params (``x[t - 1]``) are compared as constants or as ``t + c``. Consecutive periods whose
keys agree (at least ``MIN_STEPS``) become a ``Loop`` whose body is one period with symbolic
``t``; the first period may read, where the others read the previous period, a value from
before the loop (``h_0``: the carry's initial value), or omit it from a gradient sum (zero).

A statement outside the run that every period reads once with its own step (``g_Y[t - 1]``,
the stack gradient of step t) is copied into the body (sunk). Values read after the loop
get per-step arrays (``h[t]``, ``ir.Loop.stored``); contributions every step adds into one
outside gradient sum (a weight gradient) are accumulated by the loop (``acc += ...``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from autograd_rnn.codegen import extra_ops
from autograd_rnn.codegen.ir import At, Carry, Const, Loop, Op, Stmt, T, Var, at, reads, rewrite
from autograd_rnn.codegen.names import scope_key, timestep
from autograd_rnn.codegen.sums import add_into

MIN_STEPS = 4
SINKABLE = {"getitem", "reshape", "transpose"}  # cheap views worth recomputing per step


class _Mismatch(Exception):
    pass


@dataclass
class _Period:
    start: int
    end: int
    key: tuple  # (phase, scope with t=*)
    t: int


def _periods(body: list) -> list[_Period]:
    out, i = [], 0
    while i < len(body):
        item = body[i]
        if not isinstance(item, Stmt):
            i += 1
            continue
        j = i
        while j < len(body) and isinstance(body[j], Stmt) and (
                body[j].scope, body[j].phase) == (item.scope, item.phase):
            j += 1
        t = timestep(item.scope)
        if t is not None:
            out.append(_Period(i, j, (item.phase, scope_key(item.scope)), t))
        i = j
    return out


class _Signer:
    """Structural keys of statements relative to their period."""

    def __init__(self, finder: LoopFinder, run: list[_Period], p: int) -> None:
        self.f = finder
        self.local = finder.position_in(run[p])
        self.prev = finder.position_in(run[p - 1]) if p > 0 else {}
        self.run_ids = finder.run_ids
        self.ints: list[int] = []

    def operand(self, o):
        if isinstance(o, Var):
            key = id(o)
            if key in self.local:
                return ("L", self.local[key])
            if key in self.prev:
                return ("P", self.prev[key])
            if key in self.run_ids:
                raise _Mismatch("a value from further back than one step")
            sink = self.f.sinkable(o)
            if sink is not None:
                return ("S", self.stmt(sink))
            return ("X", key)
        if isinstance(o, At):
            self.ints.append(o.index if isinstance(o.index, int) else 0)
            return ("A", id(o.array), isinstance(o.index, T))
        if isinstance(o, Const):
            v = o.value
            return ("C", id(v)) if isinstance(v, np.ndarray) else ("C", type(v), v)
        return ("?", id(o))

    def value(self, v):
        if isinstance(v, (Var, At, Const)):
            return self.operand(v)
        if isinstance(v, bool) or v is None:
            return v
        if isinstance(v, (int, np.integer)):
            self.ints.append(int(v))
            return "#"
        if isinstance(v, tuple):
            return tuple(self.value(x) for x in v)
        if isinstance(v, slice):
            return ("slice", self.value(v.start), self.value(v.stop), self.value(v.step))
        if isinstance(v, np.ndarray):
            return ("array", id(v))
        return (type(v), v) if isinstance(v, (float, str, np.dtype)) else ("obj", id(v))

    def stmt(self, s: Stmt) -> tuple:
        args = tuple(self.operand(a) for a in s.args)
        params = tuple((k, self.value(v)) for k, v in sorted(s.params.items()))
        return (id(s.op), args, params)


def _modes(a: list[int], b: list[int], ta: int, tb: int) -> list | None:
    modes = []
    for x, y in zip(a, b, strict=True):
        if x == y:
            modes.append(("const", x))
        elif x - ta == y - tb:
            modes.append(("step", x - ta))
        else:
            return None
    return modes


def _agree(ints: list[int], modes: list, t: int) -> bool:
    return len(ints) == len(modes) and all(
        x == (c if mode == "const" else t + c) for x, (mode, c) in zip(ints, modes, strict=True))


class LoopFinder:
    """Finds runs of matching periods in a flat body and turns them into ``Loop``s."""

    def __init__(self, body: list) -> None:
        self.body = body
        self.defs: dict[int, Stmt] = {s.out and id(s.out): s for s in body
                                      if isinstance(s, Stmt) and s.out is not None}
        self.periods = _periods(body)
        self.period_of: dict[int, int] = {}  # id(var) -> index of its period
        for n, per in enumerate(self.periods):
            for s in body[per.start:per.end]:
                if s.out is not None:
                    self.period_of[id(s.out)] = n
        self.index = {id(s): i for i, s in enumerate(body)}
        self.users: dict[int, list[Stmt]] = {}
        for s in body:
            for v in reads(s):
                self.users.setdefault(id(v), []).append(s)
        self.run_ids: set[int] = set()
        self.loops: list[Loop] = []

    def position_in(self, per: _Period) -> dict[int, int]:
        return {id(s.out): k for k, s in enumerate(self.body[per.start:per.end])
                if s.out is not None}

    def sinkable(self, v: Var) -> Stmt | None:
        """The statement outside any period making ``v`` when copying it into a loop body
        is cheap and safe: a view of values from outside the periods."""
        s = self.defs.get(id(v))
        if s is None or id(v) in self.period_of or s.op.name not in SINKABLE:
            return None
        if any(id(r) in self.run_ids or isinstance(r, Var) and id(r) in self.period_of
               for r in reads(s)):
            return None
        return s

    # ----- finding runs --------------------------------------------------------------------
    def find(self) -> list:
        """The body with loops in place of matching runs."""
        out, n, taken_to = [], 0, 0
        while n < len(self.periods):
            run = self._candidates(n)
            found = self._best(run) if len(run) >= MIN_STEPS else None
            if found is None:
                n += 1
                continue
            first, count, loop = found
            start, end = run[first].start, run[first + count - 1].end
            out += self.body[taken_to:start]
            out.append(loop)
            taken_to = end
            n += first + count
        out += self.body[taken_to:]
        return out

    def _candidates(self, n: int) -> list[_Period]:
        per = self.periods[n]
        run = [per]
        ops = [s.op for s in self.body[per.start:per.end]]
        step = None
        for nxt in self.periods[n + 1:]:
            last = run[-1]
            d = nxt.t - last.t
            if (nxt.key != per.key or nxt.start != last.end or d not in (1, -1)
                    or (step is not None and d != step)
                    or [s.op for s in self.body[nxt.start:nxt.end]] != ops):
                break
            step = d
            run.append(nxt)
        return run

    def _best(self, run: list[_Period]):
        """(index of the first period, number of periods, Loop) for the longest matching
        run starting at one of the first three periods, or None."""
        for s in range(min(3, len(run) - MIN_STEPS + 1)):
            self.run_ids = {id(x.out) for per in run[s:] for x in self.body[per.start:per.end]
                            if x.out is not None}
            try:
                found = self._match(run, s)
            except _Mismatch:
                found = None
            if found is not None:
                return found
        self.run_ids = set()
        return None

    def _sig(self, run, p: int) -> tuple[list, list[int]]:
        signer = _Signer(self, run, p)
        sigs = [signer.stmt(s) for s in self.body[run[p].start:run[p].end]]
        return sigs, signer.ints

    def _match(self, run: list[_Period], s: int):
        if len(run) - s < 3:
            return None
        template, ints = self._sig(run, s + 1)
        sig2, ints2 = self._sig(run, s + 2)
        modes = _modes(ints, ints2, run[s + 1].t, run[s + 2].t)
        if modes is None or sig2 != template:
            return None
        end = s + 3
        while end < len(run):
            sig, ints_p = self._sig(run, end)
            if sig != template or not _agree(ints_p, modes, run[end].t):
                break
            end += 1
        first_sig, first_ints = self._sig(run, s)
        bind = _first_binding(template, first_sig) if _agree(first_ints, modes,
                                                              run[s].t) else None
        first = s if bind is not None else s + 1
        if end - first < MIN_STEPS:
            return None
        carried = {a[1] for sig in template for a in sig[1] if a[0] == "P"}
        if bind is None:  # the period before the loop stays straight: carries start there
            previous = self.body[run[first - 1].start:run[first - 1].end]
            bind = {k: ("X", previous[k].out) for k in carried}
        else:
            bind = {k: (kind, None if v is None else self._var(v)) for k, (kind, v)
                    in bind.items()}
        self.run_ids = set()
        loop = _Builder(self, run[first:end], template, modes, bind).build()
        self.loops.append(loop)
        return first, end - first, loop

    def _var(self, key: int) -> Var:
        return self._by_id[key]

    @property
    def _by_id(self) -> dict[int, Var]:
        if not hasattr(self, "_vars"):
            self._vars = {}
            for s in self.body:
                for v in (s.out, *reads(s)) if isinstance(s, Stmt) else ():
                    if isinstance(v, Var):
                        self._vars[id(v)] = v
        return self._vars


def _first_binding(template: list, first: list) -> dict | None:
    """Carry positions the first period binds: {k: ("X", id(var))} where it reads a value
    from before the loop, {k: ("Z", None)} where it leaves a sum without it (zeros)."""
    if len(template) != len(first):
        return None
    bind: dict[int, tuple] = {}

    def note(k, value) -> bool:
        if k in bind and bind[k] != value:
            return False
        bind[k] = value
        return True

    for ts, fs in zip(template, first, strict=True):
        if ts == fs:
            continue
        (op, targs, tparams), (fop, fargs, fparams) = ts, fs
        if op != fop or tparams != fparams:
            return None
        if len(targs) == len(fargs):
            for ta, fa in zip(targs, fargs, strict=True):
                if ta == fa:
                    continue
                if ta[0] != "P" or fa[0] != "X" or not note(ta[1], ("X", fa[1])):
                    return None
        elif op == id(extra_ops.GSUM):  # the first step's gradient sum lacks the carry
            rest = [a for a in targs if a[0] != "P"]
            if rest != list(fargs):
                return None
            if not all(note(a[1], ("Z", None)) for a in targs if a[0] == "P"):
                return None
        else:
            return None
    return bind


class _Builder:
    """Makes the ``Loop`` of a matched run (see the module docstring)."""

    def __init__(self, finder: LoopFinder, run: list[_Period], template: list, modes: list,
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
        signer = _Signer(self.f, self.run, 1)
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
                rows_of = {id(v): at(array, t + c) for v, t in zip(instances, self.ts,
                                                                   strict=True)}
            elif _reduction(outside, instances):
                _accumulate(loop, var, outside[0][1], instances)
                continue
            else:
                array = self._array(loop, var)
                rows_of = {id(v): at(array, t) for v, t in zip(instances, self.ts, strict=True)}
            for _, user in outside:
                rewrite(user, lambda o, rows_of=rows_of: rows_of.get(id(o), o)
                        if isinstance(o, Var) else o)
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


def stacked_rows(body: list) -> None:
    """``np.stack([h[1], ..., h[T]])`` of consecutive rows of one per-step array is a view of
    those rows (``h[1:T + 1]``): the steps' values are already side by side."""
    for i, stmt in enumerate(body):
        if not (isinstance(stmt, Stmt) and stmt.op.name == "stack" and stmt.args
                and stmt.params.get("axis", 0) == 0):
            continue
        rows = stmt.args
        if not all(isinstance(r, At) and isinstance(r.index, int) and r.array is rows[0].array
                   for r in rows):
            continue
        first, d = rows[0].index, (rows[1].index - rows[0].index if len(rows) > 1 else 1)
        if d not in (1, -1) or any(r.index != first + d * n for n, r in enumerate(rows)):
            continue
        stop = first + d * len(rows)
        index = slice(first, stop) if d == 1 else slice(first, stop if stop >= 0 else None, -1)
        body[i] = Stmt(stmt.out, extra_ops.GETITEM, (rows[0].array,), {"index": index},
                       stmt.scope, stmt.phase, "the steps' values, already side by side")


_RETURN = Op("return")


def find_loops(program) -> None:
    """Replace matching runs of timesteps in ``program.body`` by loops."""
    returned = Stmt(None, _RETURN, (program.output, *(Const(None) if g is None else g
                                                       for g in program.grads)))
    body = LoopFinder([*program.body, returned]).find()
    assert body[-1] is returned
    program.body = body[:-1]
    program.output = returned.args[0]
    program.grads = [None if isinstance(g, Const) else g for g in returned.args[1:]]
    stacked_rows(program.body)
