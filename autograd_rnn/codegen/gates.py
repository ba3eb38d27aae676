"""Sibling gates computed together: one op over adjacent column blocks.

An LSTM step slices its pre-activation into gates and applies the same function to
neighbours (``i = sigmoid(a[:, 0:H])``, ``f = sigmoid(a[:, H:2H])``). Hand-written code applies
it once to ``a[:, 0:2H]``; so does the forward loop after ``fuse_gates``: the gates live side by
side in one per-step array (``i_f[t]``; ``i`` is the view ``i_f[:, :, 0:H]``, so every reader
of ``i[t]`` is unchanged). In the backward loop, the gates' gradients are put side by side
(``g_i_f[:, 0:H] = g_i``) and the derivative chain, which is the same for each gate, runs once
on the joint block and is added into the pre-activation's gradient at once. Same ops on the
same numbers: results are unchanged.
"""

from __future__ import annotations

from autograd_rnn.codegen import extra_ops
from autograd_rnn.codegen.ir import At, Const, Loop, Stmt, T, Var, reads


def _column(index):
    """(lo, hi) when ``index`` is ``(:, lo:hi)`` or ``(..., lo:hi)`` (a block of columns of
    a matrix), else None."""
    if not (isinstance(index, tuple) and len(index) == 2
            and (index[0] == slice(None) or index[0] is Ellipsis)):
        return None
    cols = index[1]
    if not isinstance(cols, slice) or cols.step is not None:
        return None
    if not all(isinstance(b, (int, type(None))) for b in (cols.start, cols.stop)):
        return None
    return cols.start or 0, cols.stop


def _readers(body: list, v) -> list[Stmt]:
    return [s for s in body if any(r is v for r in reads(s))]


def _groups(loop: Loop) -> list[list[tuple]]:
    """Runs of (slice statement, gate statement, lo, hi) over adjacent columns of one value,
    each slice read only by one identical single-operand op whose value is stored."""
    body, found = loop.body, []
    for s in body:
        cols = _column(s.params.get("index")) if s.op.name == "getitem" else None
        if cols is None or not isinstance(s.args[0], Var) or len(s.out.shape) != 2:
            continue
        readers = _readers(body, s.out)
        if len(readers) != 1 or len(readers[0].args) != 1 or readers[0].out is None:
            continue
        gate = readers[0]
        if gate.out not in loop.stored or gate.out in loop.carries:
            continue
        hi = cols[1] if cols[1] is not None else s.args[0].shape[-1]
        found.append((s, gate, cols[0], hi))
    runs: list[list[tuple]] = []
    for item in found:
        last = runs[-1][-1] if runs else None
        if (last and last[0].args[0] is item[0].args[0] and last[3] == item[2]
                and last[1].op is item[1].op and last[1].params == item[1].params):
            runs[-1].append(item)
        else:
            runs.append([item])
    return [run for run in runs if len(run) > 1]


def fuse_forward(loop: Loop, namer_hint=None) -> list[tuple]:
    """Fuse every run of sibling gates of a forward loop; returns (joint array, [(gate
    array, lo, hi)]) per run, for ``fuse_backward``."""
    fused = []
    for run in _groups(loop):
        first, lo, hi = run[0], run[0][2], run[-1][3]
        base, op = first[0].args[0], first[1].op
        width = hi - lo
        joint = Var((first[1].out.shape[0], width), first[1].out.dtype,
                    "_".join(g.out.hint for _, g, _, _ in run))
        block = Var(joint.shape, joint.dtype, "getitem", role="temp")
        rows = max(loop.ts) + 2
        array = Var((rows, *joint.shape), joint.dtype, joint.hint)
        at = loop.body.index(first[0])
        for s, gate, _, _ in run:
            loop.body.remove(s)
            loop.body.remove(gate)
        loop.body[at:at] = [
            Stmt(block, extra_ops.GETITEM, (base,), {"index": (slice(None), slice(lo, hi))},
                 first[0].scope, first[0].phase),
            Stmt(joint, op, (block,), dict(first[1].params), first[1].scope, first[1].phase)]
        loop.stored = {joint: array, **loop.stored}
        parts = []
        for _, gate, a, b in run:
            view = loop.stored[gate.out]
            loop.pre.append(Stmt(view, extra_ops.GETITEM, (array,),
                                 {"index": (slice(None), slice(None), slice(a - lo, b - lo))},
                                 loop.scope, loop.phase, f"gate {gate.out.hint}: columns "
                                 f"{a - lo}:{b - lo}"))
            parts.append((view, a, b))
        fused.append((array, parts))
    return fused


def _chain(body: list, c: Var, count: dict) -> tuple[list[Stmt], list] | None:
    """The statements computing ``c`` from values outside them (each read once, by the
    chain), in body order, and the canonical form of the chain (for comparing gates)."""
    defs = {id(s.out): s for s in body if s.out is not None}
    members, stack = [], [c]
    while stack:
        v = stack.pop()
        s = defs.get(id(v)) if isinstance(v, Var) else None
        if s is None or s.op.name not in _ELEMENTWISE or (v is not c and (
                count.get(id(v)) != 1 or v.role != "temp")):  # (a gradient: the chain's input)
            continue
        members.append(s)
        stack += list(s.args)
    members.sort(key=body.index)
    return members


_ELEMENTWISE = {"add", "subtract", "multiply", "divide", "negative", "tanh", "exp", "gsum"}


def _form(members: list[Stmt], gate: Var) -> tuple | None:
    """Canonical form: ops, params and operands with the chain's own values as positions,
    the gate's rows as ("row", c) and the one other value (its gradient) as ("grad",)."""
    position = {id(s.out): k for k, s in enumerate(members)}
    grads, form = set(), []
    for s in members:
        ops = []
        for a in s.args:
            if isinstance(a, Var) and id(a) in position:
                ops.append(("own", position[id(a)]))
            elif isinstance(a, At) and a.array is gate and isinstance(a.index, T):
                ops.append(("row", a.index.c))
            elif isinstance(a, Const) and not hasattr(a.value, "shape"):
                ops.append(("const", a.value))
            elif isinstance(a, Var):
                grads.add(id(a))
                ops.append(("grad",))
            else:
                return None
        form.append((s.op, tuple(sorted(s.params.items())), tuple(ops)))
    return tuple(form) if len(grads) == 1 else None


def fuse_backward(loop: Loop, fused: list[tuple]) -> None:
    """The derivative chain of sibling gates once on their joint block (see docstring)."""
    for joint, parts in fused:
        _fuse_run(loop, joint, parts)


def _fuse_run(loop: Loop, joint: Var, parts: list[tuple]) -> None:
    body = loop.body
    count: dict[int, int] = {}
    for s in body:
        for v in reads(s):
            count[id(v)] = count.get(id(v), 0) + 1
    adds = {}
    for s in body:
        if s.op is extra_ops.IADD and _column(s.params.get("index")) is not None:
            adds[_column(s.params["index"])] = s
    found = []
    for view, a, b in parts:
        add = adds.get((a, b))
        if add is None or not isinstance(add.args[1], Var):
            return
        members = _chain(body, add.args[1], count)
        form = _form(members, view) if members else None
        if form is None:
            return
        grad = next(x for s in members for x in s.args
                    if isinstance(x, Var) and x not in [m.out for m in members])
        found.append((add, members, form, grad, a, b))
    if len({f[2] for f in found}) != 1 or len({id(f[0].args[0]) for f in found}) != 1:
        return
    lo, hi = found[0][4], found[-1][5]
    target = found[0][0].args[0]
    shape = (joint.shape[1], hi - lo)
    g_joint = Var(shape, joint.dtype, "g_" + joint.hint, role="grad")
    new = [Stmt(g_joint, extra_ops.ZEROS, (), {"shape": shape, "dtype": joint.dtype},
                loop.scope, loop.phase)]
    new += [Stmt(None, extra_ops.IADD, (g_joint, grad), {"index": (slice(None), slice(
        a - lo, b - lo))}, loop.scope, loop.phase) for _, _, _, grad, a, b in found]
    mapping = {id(found[0][3]): g_joint}
    first_view = parts[0][0]
    for s in found[0][1]:
        out = Var(shape, s.out.dtype, s.out.hint, role=s.out.role)
        args = tuple(mapping.get(id(x), x) if isinstance(x, Var) else
                     At(joint, x.index, shape, joint.dtype) if isinstance(x, At)
                     and x.array is first_view else x for x in s.args)
        new.append(Stmt(out, s.op, args, dict(s.params), s.scope, s.phase))
        mapping[id(s.out)] = out
    new.append(Stmt(None, extra_ops.IADD, (target, new[-1].out),
                    {"index": (slice(None), slice(lo, hi))}, loop.scope, loop.phase))
    last = max(body.index(s) for f in found for s in [f[0], *f[1]])
    for add, members, *_ in found:
        for s in [add, *members]:
            s.op = None  # marked: removed below
    loop.body = [s for s in body[:last + 1] if s.op is not None] + new + [
        s for s in body[last + 1:] if s.op is not None]


def fuse_gates(program) -> None:
    """Sibling gates of every forward loop, and their gradients in the loops reading them."""
    loops = [item for item in program.body if isinstance(item, Loop)]
    for loop in loops:
        fused = fuse_forward(loop) if loop.phase == "forward" else []
        if not fused:
            continue
        for other in loops:
            if other is not loop:
                fuse_backward(other, fused)
