"""Two kinds of carried value a loop need not carry (before ``vectorize`` splits a body).

* ``invariant_carries``: a value every step passes on unchanged (``g_loss`` of a loss summed
  over the steps: each step's loss gets the same gradient) is its initial value everywhere.
* ``reduction_carries``: a value that only sums a per-step value (``loss = loss + loss_t``)
  and is read only after the loop (its last value) is taken out of the loop; ``final_sum``
  writes it as its initial value plus the sum of the steps' values, computed for all steps
  at once.
"""

from __future__ import annotations

from autograd_rnn.codegen import extra_ops
from autograd_rnn.codegen.ir import (
    At,
    Carry,
    Loop,
    Stmt,
    Var,
    leaves,
    reads,
    rewrite,
    statements,
    substitute,
    vars_in,
)


def carry_reads(loop: Loop, v: Var) -> list[Stmt]:
    return [s for s in loop.body if any(isinstance(o, Carry) and o.var is v
                                        for o in (*s.args, *vars_in(s.params)))]


def rows_of(program, array: Var, mapping) -> None:
    """Rewrite every read of ``array`` (``At`` rows) in the program."""
    for s in statements(program.body):
        rewrite(s, lambda o: mapping(o) if isinstance(o, At) and o.array is array else o)
    program.output = substitute(program.output, lambda o: mapping(o) if isinstance(
        o, At) and o.array is array else o)
    program.grads = [None if g is None else substitute(g, lambda o: mapping(o) if isinstance(
        o, At) and o.array is array else o) for g in program.grads]


def invariant_carries(program, loop: Loop) -> None:
    """``v = v_carry`` every step: ``v`` is its initial value everywhere."""
    for s in list(loop.body):
        v = s.out
        if not (v in loop.carries and s.op is extra_ops.GSUM and len(s.args) == 1
                and isinstance(s.args[0], Carry) and s.args[0].var is v):
            continue
        init = loop.carries.pop(v)
        if init is None:
            init = Var(v.shape, v.dtype, v.hint)
            loop.pre.append(Stmt(init, extra_ops.ZEROS, (), {"shape": v.shape,
                                                              "dtype": v.dtype}))
        loop.body.remove(s)
        for t in loop.body:
            rewrite(t, lambda o, v=v, init=init: init if o is v or (
                isinstance(o, Carry) and o.var is v) else o)
        array = loop.stored.pop(v, None)
        if array is not None:
            rows_of(program, array, lambda o, init=init: init)


def reduction_carries(program, loop: Loop) -> list[tuple]:
    """``v = v_carry + w`` where nothing else reads ``v`` but its last value after the
    loop: take the statement out of the loop (``v`` is its initial value plus the sum of the
    steps' ``w``). Returns (statement, v, w, initial value, position) per carry."""
    found = []
    for s in list(loop.body):
        v = s.out
        if v not in loop.carries or s.op.name not in ("add", "gsum") or len(s.args) != 2:
            continue
        carries = [a for a in s.args if isinstance(a, Carry) and a.var is v]
        w = next((a for a in s.args if a is not (carries[0] if carries else None)), None)
        if len(carries) != 1 or not isinstance(w, Var) or carry_reads(loop, v) != [s] or any(
                v in reads(t) for t in loop.body if t is not s):
            continue
        array = loop.stored.get(v)
        last = loop.ts[-1]
        if array is None or any(isinstance(o, At) and o.array is array and o.index != last
                                for t in statements(program.body) for o in leaves(
                                    (t.args, t.params))):
            continue
        found.append((s, v, w, loop.carries.pop(v), loop.body.index(s)))
        loop.body.remove(s)
    return found


def final_sum(program, loop: Loop, every: Var, v: Var, w: Var, init) -> None:
    """After the loop: ``v`` = its initial value + the sum of the steps' ``w`` (``every``:
    ``w`` of all steps)."""
    total = Var(w.shape, w.dtype, w.hint + "_sum", role="temp")
    loop.post.append(Stmt(total, extra_ops.SUM, (every,), {"axis": 0, "keepdims": False}))
    final = Var(v.shape, v.dtype, v.hint)
    loop.post.append(Stmt(final, extra_ops.GSUM, (init, total) if init is not None else
                          (total,), {}, loop.scope, loop.phase, "the steps' sum"))
    rows_of(program, loop.stored.pop(v), lambda o: final)
