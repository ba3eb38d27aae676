"""Loop form: consecutive timesteps whose statements have the same structure become one loop.

Periods (the statements of one timestep scope in one phase) are compared by the structural
keys of their statements (``loop_keys``): runs of consecutive periods whose keys agree, at
least ``MIN_STEPS`` of them, become one ``Loop`` (``loop_build``) whose body is one period
with a symbolic ``t``. The template is taken from the second and third periods of a run; the
first may differ where it reads, instead of the previous period, a value from before the
loop (``h_0``: the carry's initial value) or leaves a gradient sum without it (zero). A run
may start at one of its first three periods (the others stay straight-line). Before that,
``loop_ends`` makes the periods at the ends of a run look like the others (a running sum's
first step, the last step's missing gradient for ``h_0``). Then ``np.stack`` of consecutive
rows of one per-step array becomes a view of them.
"""

from __future__ import annotations

from autograd_rnn.codegen import extra_ops
from autograd_rnn.codegen.ir import At, Const, Loop, Op, Stmt, Var, reads
from autograd_rnn.codegen.loop_build import Builder
from autograd_rnn.codegen.loop_ends import close_sums, open_sums, pad_last
from autograd_rnn.codegen.loop_keys import (
    Mismatch,
    Period,
    Signer,
    agree,
    first_binding,
    modes,
    periods,
)

MIN_STEPS = 4
SINKABLE = {"getitem", "reshape", "transpose"}  # cheap views worth recomputing per step


class LoopFinder:
    """Finds runs of matching periods in a flat body and turns them into ``Loop``s."""

    def __init__(self, body: list) -> None:
        self.body = body
        self.defs: dict[int, Stmt] = {s.out and id(s.out): s for s in body
                                      if isinstance(s, Stmt) and s.out is not None}
        self.periods = periods(body)
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
        self.outside: dict[int, Var] = {}  # values from before a loop its first step reads
        self.loops: list[Loop] = []

    def position_in(self, per: Period) -> dict[int, int]:
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

    def _candidates(self, n: int) -> list[Period]:
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

    def _best(self, run: list[Period]):
        """(index of the first period, number of periods, Loop) for the longest matching
        run starting at one of the first three periods, or None."""
        for s in range(min(3, len(run) - MIN_STEPS + 1)):
            self.run_ids = {id(x.out) for per in run[s:] for x in self.body[per.start:per.end]
                            if x.out is not None}
            try:
                found = self._match(run, s)
            except Mismatch:
                found = None
            if found is not None:
                return found
        self.run_ids = set()
        return None

    def _sig(self, run, p: int) -> tuple[list, list[int]]:
        signer = Signer(self.position_in(run[p]), self.position_in(run[p - 1]) if p else {},
                        self.run_ids, self.sinkable)
        sigs = [signer.stmt(s) for s in self.body[run[p].start:run[p].end]]
        self.outside.update(signer.outside)
        return sigs, signer.ints

    def _match(self, run: list[Period], s: int):
        if len(run) - s < 3:
            return None
        template, ints = self._sig(run, s + 1)
        sig2, ints2 = self._sig(run, s + 2)
        found = modes(ints, ints2, run[s + 1].t, run[s + 2].t)
        if found is None or sig2 != template:
            return None
        end = s + 3
        while end < len(run):
            sig, ints_p = self._sig(run, end)
            if sig != template or not agree(ints_p, found, run[end].t):
                break
            end += 1
        first_sig, first_ints = self._sig(run, s)
        bind = first_binding(template, first_sig) if agree(first_ints, found,
                                                            run[s].t) else None
        first = s if bind is not None else s + 1
        if end - first < MIN_STEPS:
            return None
        carried = {a[1] for sig in template for a in sig[1] if a[0] == "P"}
        if bind is None:  # the period before the loop stays straight: carries start there
            previous = self.body[run[first - 1].start:run[first - 1].end]
            bind = {k: ("X", previous[k].out) for k in carried}
        else:
            bind = {k: (kind, None if v is None else self.outside[v]) for k, (kind, v)
                    in bind.items()}
        self.run_ids = set()
        loop = Builder(self, run[first:end], template, found, bind).build()
        self.loops.append(loop)
        return first, end - first, loop


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
    opened = open_sums(program.body)
    pad_last(program.body)
    returned = Stmt(None, _RETURN, (program.output, *(Const(None) if g is None else g
                                                       for g in program.grads)))
    body = LoopFinder([*program.body, returned]).find()
    assert body[-1] is returned
    program.body = body[:-1]
    program.output = returned.args[0]
    program.grads = [None if isinstance(g, Const) else g for g in returned.args[1:]]
    close_sums(program, opened)
    stacked_rows(program.body)
