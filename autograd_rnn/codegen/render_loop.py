"""A ``Loop`` written out: allocations and initial carries, what runs before it, the
``for t`` loop with its body, what runs after it."""

from __future__ import annotations

from autograd_rnn.codegen import extra_ops
from autograd_rnn.codegen.ir import At, Carry, Loop, Op, Part, Stmt, T, Var, at, substitute
from autograd_rnn.codegen.render_stmt import expression, inline_plan, leaf, statement_lines
from autograd_rnn.codegen.symbolic import Sym, render

IND = "    "


def header(loop: Loop) -> str:
    t0, t1 = loop.ts[0], loop.ts[-1]
    span = loop.scope.replace("t=*", f"t={t0}..{t1}")
    if loop.phase == "backward":
        return f"# ----- backward through {span} (*_carry: the gradient for step t - 1) -----"
    return f"# ----- {span}: one iteration per timestep -----"


def setup_lines(loop: Loop) -> list[str]:
    """Per-step arrays, carries' initial values."""
    views = {id(s.out) for s in loop.pre}  # (stored values that are views of another array)
    lines = [f"{array.name} = np.empty({tuple(array.shape)!r}, dtype=np.{array.dtype.name})"
             for array in loop.stored.values() if id(array) not in views]
    for var, init in loop.carries.items():
        value = "0.0" if init is None else render(leaf(init))
        if var in loop.stored:
            lines.append(f"{loop.stored[var].name}[{loop.ts[0] - loop.step}] = {value}")
        elif init is None:
            lines.append(f"{var.name} = np.zeros({tuple(var.shape)!r}, "
                         f"dtype=np.{var.dtype.name})")
        else:
            copy = ".copy()" if loop.copy_carries and isinstance(init, (Var, At)) else ""
            lines.append(f"{var.name} = {value}{copy}")
    return lines


def range_line(loop: Loop) -> str:
    d, t0, t1 = loop.step, loop.ts[0], loop.ts[-1]
    return f"for t in range({t0}, {t1 + d}{'' if d == 1 else ', -1'}):"


def body_lines(loop: Loop, namer) -> list[str]:
    """The body with stored values as rows (``h[t]``, the previous step's ``h[t - 1]``) and
    temporaries computed in place as their destination."""
    d = loop.step
    rows = {id(v): at(a, T(0)) for v, a in loop.stored.items()}
    previous = {id(v): at(a, T(-d)) for v, a in loop.stored.items()}
    placed = {id(s.out): s.dest for s in loop.body
              if s.dest is not None and s.out is not None and s.out.role == "temp"
              and id(s.out) not in rows}

    bases = {id(s.out): s.dest for s in loop.body  # a sum assembled in a buffer's slices
             if s.op is extra_ops.ZEROS and s.dest is not None and id(s.out) not in rows}

    def place(o):
        if isinstance(o, Carry):
            return previous.get(id(o.var), o)
        if isinstance(o, Part):
            return Part(bases.get(id(o.base)) or place(o.base), o.index)
        if isinstance(o, Var):
            found = rows.get(id(o)) or placed.get(id(o))
            return place(found) if isinstance(found, Part) else (found or o)
        return o

    body = [Stmt(s.out, s.op, substitute(s.args, place), substitute(s.params, place), s.scope,
                 s.phase, s.comment, None if s.dest is None else place(s.dest))
            for s in loop.body]
    body = _bind_rows(body, namer, {id(a) for a in loop.stored.values()})
    plan = inline_plan(body)
    inlined: dict[int, Sym] = {}
    lines = []
    for s in body:
        if id(s) in plan:
            inlined[id(s.out)] = expression(s, inlined)
            continue
        target = render(leaf(rows[id(s.out)])) if s.out is not None and id(s.out) in rows \
            else None
        lines += statement_lines(s, inlined, target, placed=True)
    return lines


def _row_name(row: At) -> str:
    c = row.index.c
    suffix = "t" if c == 0 else "prev" if c == -1 else "next" if c == 1 else (
        f"t_minus_{-c}" if c < 0 else f"t_plus_{c}")
    return f"{row.array.name}_{suffix}"


def _rewrite(body: list[Stmt], use) -> list[Stmt]:
    return [Stmt(s.out, s.op, substitute(s.args, use), substitute(s.params, use), s.scope,
                 s.phase, s.comment, None if s.dest is None else use(s.dest)) for s in body]


def _bind_rows(body: list[Stmt], namer, written: set[int]) -> list[Stmt]:
    """A row read or written twice or more per step (``h[t]``) is taken once at the top
    of the body (``h_t = h[t]``), and so is a slice a value is computed in (named after
    the value): indexing costs about as much as a small ufunc call. Not a row of one
    number the step writes (``written``: ids of its per-step arrays): ``s[t]`` is then a
    copy, not a view, and would keep the value from before the write."""
    count: dict[tuple, int] = {}
    found: dict[tuple, object] = {}

    def key(o):
        if isinstance(o, At) and isinstance(o.index, T):
            return ("row", id(o.array), o.index.c)
        if isinstance(o, Part):
            return ("part", key(o.base), repr(o.index))
        return None

    def note(o):
        k = key(o)
        if k is not None:
            count[k] = count.get(k, 0) + 1
            found[k] = o
            if isinstance(o, Part):
                note(o.base)
        return o

    for s in body:
        substitute((s.args, s.params, s.dest), note)
    owners = {key(s.dest): s.out.name for s in body
              if isinstance(s.dest, Part) and s.out.role != "temp"}
    bound: dict[tuple, Var] = {}
    binding = []

    def use(o):
        k = key(o)
        if k in bound:
            return bound[k]
        if isinstance(o, Part):
            return Part(use(o.base), o.index)
        return o

    for k in sorted(found, key=lambda k: k[0] != "row"):  # rows first: parts read them
        o = found[k]
        if count[k] < 2 or (k[0] == "row" and o.shape == () and o.index.c == 0
                            and id(o.array) in written):
            continue
        name = owners.get(k) or namer.unique(_row_name(o) if k[0] == "row" else "part")
        binding.append(Stmt(Var(o.shape if isinstance(o, At) else (), o.dtype if isinstance(
            o, At) else None, "", name=name), _ROW, (use(o),), {}))
        bound[k] = binding[-1].out
    return binding + _rewrite(body, use) if bound else body


_ROW = Op("row", lambda row: row)
