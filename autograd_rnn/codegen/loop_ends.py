"""The timesteps at the ends of a run made to look like the others, so they join its loop.

* ``open_sums``: a running sum starts at its first term (``total = loss_1``; later steps
  ``total = total + loss_t``), so the first step lacks an ``add``. It gets ``0 + loss_1``,
  which the loop finder reads as a carry starting at zero; ``close_sums`` turns what stays
  outside a loop back into ``loss_1``.
* ``pad_last``: the last period of a run may lack statements the others have: a value only
  the next period would read (a gradient for ``h_0``, which needs none), or a one-term sum
  (the gradient passed along a running sum the first step does not add to). It gets copies
  of them: a value nobody reads runs as the loop's last iteration or is removed as dead
  code when no loop forms; a one-term sum is its term.
"""

from __future__ import annotations

from autograd_rnn.codegen import extra_ops
from autograd_rnn.codegen.ir import Const, Loop, Stmt, Var, rewrite, statements, substitute
from autograd_rnn.codegen.loop_keys import Period, periods
from autograd_rnn.codegen.names import scope_key, timestep


# ----- running sums -------------------------------------------------------------------------
def _accumulated(stmt: Stmt, defs: dict) -> int | None:
    """Which operand of ``stmt`` is a running sum it adds to (a forward ``add`` of two
    same-shaped values, one made by the previous timestep of the same scope), or None."""
    t = timestep(stmt.scope)
    if (t is None or stmt.phase != "forward" or getattr(stmt.op, "name", "") != "add"
            or len(stmt.args) != 2 or stmt.out is None):
        return None
    for k, a in enumerate(stmt.args):
        d = defs.get(id(a))
        if (isinstance(a, Var) and d is not None and a.shape == stmt.out.shape
                and timestep(d.scope) == t - 1 and d.phase == "forward"
                and scope_key(d.scope) == scope_key(stmt.scope)):
            return k
    return None


def open_sums(body: list) -> list[Stmt]:
    """Start each running sum at ``0 + first term`` in the first step (returned, for
    ``close_sums``)."""
    defs = {id(s.out): s for s in body if isinstance(s, Stmt) and s.out is not None}
    opened = []
    for stmt in list(body):
        k = _accumulated(stmt, defs) if isinstance(stmt, Stmt) else None
        if k is None:
            continue
        first = defs[id(stmt.args[k])]
        if _accumulated(first, defs) is not None:
            continue
        x = first.out
        start = Var(x.shape, x.dtype, stmt.out.hint, x.t, x.role)
        args = (Const(0.0), x) if k == 0 else (x, Const(0.0))
        opened.append(Stmt(start, stmt.op, args, {}, first.scope, first.phase))
        defs[id(start)] = opened[-1]
        body.insert(body.index(first) + 1, opened[-1])
        stmt.args = tuple(start if n == k else a for n, a in enumerate(stmt.args))
    return opened


def close_sums(program, opened: list[Stmt]) -> None:
    """``0 + loss_1`` left outside any loop is ``loss_1`` again."""
    for stmt in opened:
        if stmt not in program.body:
            continue
        program.body.remove(stmt)
        x = next(a for a in stmt.args if isinstance(a, Var))

        def back(o, start=stmt.out, x=x):
            return x if o is start else o
        for s in statements(program.body):
            rewrite(s, back)
        for loop in (item for item in program.body if isinstance(item, Loop)):
            loop.carries = {v: back(init) for v, init in loop.carries.items()}
        program.output = substitute(program.output, back)
        program.grads = [None if g is None else substitute(g, back) for g in program.grads]


# ----- the last period ----------------------------------------------------------------------
def _align(full: list[Stmt], part: list[Stmt]) -> list[int | None] | None:
    """For each statement of ``full``, the position of the statement of ``part`` with the
    same op (in order), or None where ``part`` lacks it; None when ``part`` is not ``full``
    with statements left out."""
    out, j = [], 0
    for s in full:
        if j < len(part) and part[j].op is s.op:
            out.append(j)
            j += 1
        else:
            out.append(None)
    return out if j == len(part) else None


def _pad(prev: list[Stmt], before: list[Stmt], last: list[Stmt], readers: dict):
    """``last`` with copies of the statements of ``prev`` it lacks (``before``: the period
    before ``prev``), or None when a lacking statement cannot be copied."""
    align = _align(prev, last)
    if align is None:
        return None
    in_prev = {id(s.out): k for k, s in enumerate(prev) if s.out is not None}
    of_before = {id(s.out) for s in before if s.out is not None}
    shift = _align(prev, before) or ()  # where before's statements stand in prev
    in_before = {id(before[j].out): k for k, j in enumerate(shift)
                 if j is not None and before[j].out is not None}
    made: dict[int, object] = {}  # position in prev -> the value of last standing for it
    aliases: dict[int, Var] = {}  # id(value) -> a copied one-term sum of it
    unmatched: list[Var] = []  # values of before with no counterpart in prev

    def local(o):
        if isinstance(o, Var) and id(o) in in_prev:
            return made.get(in_prev[id(o)], o)
        if isinstance(o, Var) and id(o) in in_before:
            return prev[in_before[id(o)]].out
        if isinstance(o, Var) and id(o) in of_before:
            unmatched.append(o)
        return o
    out = []
    for k, (s, j) in enumerate(zip(prev, align, strict=True)):
        if j is not None:
            out.append(last[j])
            made[k] = last[j].out
            continue
        alias = s.op is extra_ops.GSUM and len(s.args) == 1
        if s.out is None or getattr(s.op, "effect", "") or not alias and any(
                id(r) in in_prev for r in readers.get(id(s.out), ())):
            return None  # neither an alias nor a value only the next period would read
        copy = Stmt(Var(s.out.shape, s.out.dtype, s.out.hint, last[0].out and
                        last[0].out.t, s.out.role, grad_of=s.out.grad_of),
                    s.op, substitute(s.args, local), substitute(s.params, local),
                    last[0].scope, s.phase, s.comment)
        if unmatched or any(id(v) in in_prev for v in _vars(copy)):
            return None  # reads a value of prev (or before) last has no counterpart for
        if alias:
            aliases[id(copy.args[0])] = copy.out
        out.append(copy)
        made[k] = copy.out
    for s in out:  # a one-term sum is its term: read the copy where prev reads its sum
        if s not in last:
            continue
        rewrite(s, lambda o, own=s.out: aliases.get(id(o), o) if isinstance(o, Var) and
                aliases.get(id(o)) is not own else o)
    return out


def _vars(stmt: Stmt):
    for o in (*stmt.args, *stmt.params.values()):
        if isinstance(o, Var):
            yield o


def _ends(pers: list[Period]):
    """(period before, previous period, last period) where a run of adjacent periods of
    one key ends."""
    for n in range(1, len(pers)):
        a, b = pers[n - 1], pers[n]
        if a.key != b.key or a.end != b.start or abs(a.t - b.t) != 1:
            continue
        nxt = pers[n + 1] if n + 1 < len(pers) else None
        if nxt is not None and nxt.key == b.key and nxt.start == b.end:
            continue
        before = pers[n - 2] if n >= 2 and pers[n - 2].key == a.key else None
        yield before, a, b


def pad_last(body: list) -> None:
    """Give the last period of each run the statements it lacks (see the docstring)."""
    ends = [(before, a, b) for before, a, b in _ends(periods(body))
            if b.end - b.start < a.end - a.start]
    readers: dict[int, list] = {}
    for s in body if ends else ():
        if isinstance(s, Stmt):
            for o in _vars(s):
                readers.setdefault(id(o), []).append(s)
    for before, a, b in reversed(ends):
        prev, last = body[a.start:a.end], body[b.start:b.end]
        padded = _pad(prev, body[before.start:before.end] if before else [], last,
                      readers)
        if padded is not None:
            body[b.start:b.end] = padded
