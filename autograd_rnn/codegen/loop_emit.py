"""Emitting the loops found by ``autograd_rnn.codegen.loops`` next to straight-line code.

Forward: straight-line segments and loops in graph order. Backward: the same segments in
reverse; a backward loop starts each iteration by collecting the gradient that reached a
step's values from outside the step (``g_h = g_h_carry + g_Y[t - 1]``), runs the step's
VJPs, and leaves the gradient for step t - 1 in ``g_<name>_carry``.
"""

from __future__ import annotations

import re

from autograd_rnn.codegen.emit import GradVar, accumulate, make_owned
from autograd_rnn.codegen.loop_buffers import in_buffers
from autograd_rnn.codegen.loop_fuse import fuse_siblings
from autograd_rnn.codegen.loop_opt import (
    alias_picks,
    defer_weight_gradients,
    deferred_gradients,
    hoist_projections,
)
from autograd_rnn.codegen.loops import _REF, Loop, LoopFinder, Unsupported, _fill_markers
from autograd_rnn.codegen.naming import literal

_MARK = re.compile("\u27e6(-?\\d+)\u27e7")
IND = "    "


def _base_name(node, t: int) -> str:
    if node.name:
        return re.sub(rf"_?{t}$", "", node.name) or node.name
    return node.op.name


def _plan(finder: LoopFinder, loop: Loop) -> bool:
    """Classify how gradients leave the loop; False if this graph needs straight-line."""
    b = finder.b
    fwd, bwd = loop.detected
    text = "\n".join(fwd + bwd)
    carry = {int(k) for kind, k in _REF.findall(text) if kind == "c"}
    if min(loop.ts) < (1 if loop.d == 1 else 0):  # the slot before the first step
        return False
    in_run = {id(n): (pi, k) for pi, period in enumerate(loop.periods)
              for k, n in enumerate(period)}
    last = len(loop.periods) - 1
    lazy: dict[int, tuple] = {}
    stacks: dict[tuple[int, int], bool] = {}  # (id(consumer), k) -> stacks column k

    def stacks_column(c, k: int) -> bool:
        """Whether ``c`` is a stack/concat of exactly position k of every step (checked
        once per consumer and position: each step's node meets the same consumer)."""
        if c.op.name not in ("stack", "concat") or len(c.parents) != len(loop.periods):
            return False  # (cheap test first: a per-step consumer must not cost O(T))
        key = (id(c), k)
        if key not in stacks:
            column = [p[k] for p in loop.periods]
            stacks[key] = (all(a is x for a, x in zip(c.parents, column, strict=True))
                           and len({x.data.shape for x in column}) == 1)
        return stacks[key]

    for period_i, period in enumerate(loop.periods):
        for k, node in enumerate(period):
            for c, _ in finder.consumers.get(id(node), ()):
                if id(c) in in_run:
                    continue
                if not (b.wanted(c) and b.wanted(node)):
                    continue
                if stacks_column(c, k):
                    lazy[k] = (c, c.params.get("axis", 0) % c.data.ndim)
                elif period_i == last and k in carry:
                    continue
                else:  # per-step gradient from outside: collected in g_<name>_in[t]
                    loop.has_in.add(k)
    loop.carry = carry
    loop.lazy = lazy
    loop.init = carry | set(lazy) | loop.has_in
    return True


def emit_with_loops(builder, ops: list, output, fwd: list[str], bwd: list[str]) -> int:
    """Fill ``fwd``/``bwd`` using loops where possible; returns the number of loops (0:
    nothing emitted, the caller writes straight-line code)."""
    if not builder.need:
        return 0
    prog = builder.prog
    consts, arguments = dict(prog.consts), list(prog.arguments)
    prog.marking = True
    finder = LoopFinder(builder, ops)
    exclude: set[int] = set()
    while True:  # a rejected loop goes straight-line; later loops may have relied on it
        try:
            found = finder.find(frozenset(exclude))
        except Unsupported:
            found = []
        rejected = [lp for lp in found if not _plan(finder, lp)]
        if not rejected:
            loops = found
            break
        exclude.add(rejected[0].start)
    prog.consts, prog.arguments = consts, arguments  # detection registered throwaway names
    finder.loops = loops
    if not loops:
        prog.marking = False
        return 0
    finder.final = True
    segments, at = [], 0
    for lp in loops:
        segments.append(("line", ops[at:lp.start]))
        segments.append(("loop", lp))
        at = lp.end
    segments.append(("line", ops[at:]))
    for kind, item in segments:
        if kind == "line":
            builder.forward(item, fwd)
        else:
            _forward_loop(finder, item, fwd)
    for lp in loops:
        for k in sorted(lp.has_in):
            node = lp.periods[0][k]
            shape = literal((max(lp.ts) + 1,) + node.data.shape, str)
            dtype = node.data.dtype.name
            bwd.append(f"{IND}g_{lp.names[k]}_in = np.zeros({shape}, dtype=np.{dtype})"
                       "  # gradient reaching each step from outside the loop")
    bwd.append(builder.seed(output))  # after the zeros: the output may be a loop value
    for kind, item in reversed(segments):
        if kind == "line":
            builder.backward(item, bwd)
        else:
            _backward_loop(finder, item, bwd)
    prog.marking = False
    for lines in (fwd, bwd):
        lines[:] = [_MARK.sub(lambda m: m.group(1), line) for line in lines]
    return len(loops)


def _substitute(loop: Loop, lines: list[str], indent: str) -> list[str]:
    def ref(m) -> str:
        kind, k = m.group(1), int(m.group(2))
        name = loop.names[k]
        if k in loop.picks and kind in "vp":  # x_t = x[t - 1]: read x[t - 1] directly
            array, c = loop.picks[k]
            c -= 0 if kind == "v" else loop.d
            return f"{array}[t]" if c == 0 else f"{array}[t {'+' if c > 0 else '-'} {abs(c)}]"
        if kind == "v":
            return f"{name}[t]" if k in loop.stored else name
        if kind == "p":
            return f"{name}[t - 1]" if loop.d == 1 else f"{name}[t + 1]"
        if kind == "g":
            return f"g_{name}"
        if kind == "s":
            return f"g_{name}_steps"
        return f"g_{name}_carry"

    return [indent + _REF.sub(ref, line) for line in lines]


def _forward_loop(finder: LoopFinder, loop: Loop, out: list[str]) -> None:
    b, prog = finder.b, finder.prog
    first = loop.periods[0]
    t0, t1, d, hi = loop.ts[0], loop.ts[-1], loop.d, max(loop.ts)
    for k, node in enumerate(first):
        if node.name:
            base = _base_name(node, t0)
            base = base if base not in prog.namer.used else base + "_t"
            loop.names[k] = prog.namer.unique(base)
        else:
            loop.names[k] = prog.namer.node(None, node.op.name, None)
        prog.namer.used.add(f"g_{loop.names[k]}")
        prog.namer.used.add(f"g_{loop.names[k]}_carry")
    fwd, bwd = finder.render(loop, 0, loop.init)
    n_fwd_marks = len(_MARK.findall("\n".join(fwd)))
    loop.fwd_text = _fill_markers(fwd, loop.modes[:n_fwd_marks])
    loop.bwd_text = _fill_markers(bwd, loop.modes[n_fwd_marks:])
    external = set()  # positions read outside the loop
    for period in loop.periods:
        ids = {id(n) for n in period}
        for k, node in enumerate(period):
            if any(id(c) not in ids for c, _ in finder.consumers.get(id(node), ())):
                external.add(k)
    if getattr(prog, "inplace", True):
        loop.joint = fuse_siblings(loop, external, prog.namer.unique)
    defer_weight_gradients(loop)
    hoisted = hoist_projections(finder, loop)
    alias_picks(loop, external)
    text = "\n".join(loop.fwd_text + loop.bwd_text)
    stored = {int(k) for kind, k in _REF.findall("\n".join(loop.bwd_text)) if kind in "vp"}
    stored |= {int(k) for kind, k in _REF.findall(text) if kind == "p"}
    stored |= {int(_REF.match(ref).group(2)) for _, ref, _ in loop.deferred
               if ref and _REF.match(ref)}
    stored |= external
    loop.stored = stored - set(loop.picks)
    out.append(f"{IND}# ----- {loop.scope.replace(f't={t0}', f't={t0}..{t1}')}: "
               "one iteration per timestep -----")
    for k in sorted(loop.stored):  # per-step values, side by side: name[t] is step t's
        node = first[k]
        if len({p[k].data.shape for p in loop.periods}) != 1:
            out.append(f"{IND}{loop.names[k]} = [None] * {hi + 2}")
            finder.lists.add(loop.names[k])
            continue
        loop.arrays.add(k)
        shape = literal((hi + 2,) + node.data.shape, str)
        out.append(f"{IND}{loop.names[k]} = np.empty({shape}, dtype=np.{node.data.dtype.name})")
    for name, (shape, dtype, columns) in loop.joint.items():  # sibling gates side by side
        out.append(f"{IND}{name} = np.empty({literal((hi + 2,) + shape, str)}, "
                   f"dtype=np.{dtype.name})")
        out += [f"{IND}{gate} = {name}[:, :, {a}:{z}]  # gate {gate}: columns {a}:{z}"
                for gate, (a, z) in columns.items()]
    for j, x in sorted(loop.bind.items()):
        out.append(f"{IND}{loop.names[j]}[{t0 - d}] = {b.value_of(x)}")
    out += [IND + line for line in hoisted]
    if loop.fwd_text:  # (empty when every value is a slice of an array: x_t = x[t - 1])
        pre, body, _ = in_buffers(finder, loop, _substitute(loop, loop.fwd_text, ""),
                                  set(loop.hoisted))
        out += [IND + line for line in pre]
        out.append(f"{IND}for t in range({t0}, {t1 + d}{'' if d == 1 else ', -1'}):")
        out += [IND * 2 + line for line in body]
    for pi, period in enumerate(loop.periods):
        for k, node in enumerate(period):
            if k in loop.picks:
                array, c = loop.picks[k]
                b.value[id(node)] = f"{array}[\u27e6{loop.ts[pi] + c}\u27e7]"
                continue
            b.value[id(node)] = (f"{loop.names[k]}[\u27e6{loop.ts[pi]}\u27e7]"
                                 if k in loop.stored else f"<local {loop.names[k]}>")
    for k, (consumer, axis) in loop.lazy.items():
        in_order = f"[{t0}:{t1 + 1}]" if d == 1 else f"[{t1}:{t0 + 1}][::-1]"
        if k in loop.arrays and consumer.op.name == "stack" and axis == 0:
            b.expr_override[id(consumer)] = (f"{loop.names[k]}{in_order}"
                                             "  # the steps' values, already side by side")
        b.slice_inputs[id(consumer)] = (f"*{loop.names[k]}{in_order}",)
        for i in range(len(consumer.parents)):
            b.skip_edges.add((id(consumer), i))
    for pi, period in enumerate(loop.periods):
        for k in loop.has_in:
            b.grads[id(period[k])] = GradVar(f"g_{loop.names[k]}_in[\u27e6{loop.ts[pi]}\u27e7]",
                                             period[k].data.shape, period[k].data.dtype.name,
                                             "owned")
    for k in loop.carry - loop.has_in:
        node = loop.periods[-1][k]
        gv = GradVar(f"g_{loop.names[k]}_carry", node.data.shape, node.data.dtype.name)
        loop.carry_gv[k] = gv
        b.grads[id(node)] = gv  # uses of the last step after the loop start the carry


def _lazy_term(b, loop: Loop, k: int) -> str:
    consumer, axis = loop.lazy[k]
    g = b.grad_of(consumer).name
    pre = ":, " * axis
    t0 = loop.ts[0]
    step = ("t" if t0 == 0 else f"t - {t0}") if loop.d == 1 else f"{t0} - t"
    if consumer.op.name == "stack":
        return f"{g}[{pre}{step}]"
    w = loop.periods[0][k].data.shape[axis]
    return f"{g}[{pre}({step}) * {w}:({step} + 1) * {w}]"


def _backward_loop(finder: LoopFinder, loop: Loop, out: list[str]) -> None:
    b = finder.b
    t0, t1, d = loop.ts[0], loop.ts[-1], loop.d
    lo, hi = min(loop.ts), max(loop.ts)
    out.append(f"{IND}# ----- backward through {loop.scope.replace(f't={t0}', f't={t1}..{t0}')}"
               " (g_*_carry: gradient for step t - 1) -----")
    for k in sorted(loop.carry):
        gv = loop.carry_gv.get(k)
        if gv is None or gv.state is None:
            gv = gv or GradVar(f"g_{loop.names[k]}_carry", loop.periods[0][k].data.shape,
                               loop.periods[0][k].data.dtype.name)
            out.append(f"{IND}{gv.name} = np.zeros({literal(gv.shape, str)}, "
                       f"dtype=np.{gv.dtype})")
    body = "\n".join(loop.bwd_text)
    for p in finder.ext_used.values():
        if id(p) in b.value and re.search(rf"\b{b.grad_of(p).name}\b", body):
            out += [IND + line for line in make_owned(b.grad_of(p))]
    free = dict(loop.hoisted)  # arrays only the forward loop read: their memory is free
    for j in sorted({j for _, _, j in loop.deferred}):
        node = loop.periods[0][j]
        rows = ((hi - lo + 1,) + node.data.shape, node.data.dtype)
        reuse = next((name for name, spec in free.items() if spec == rows), None)
        if reuse is not None and getattr(b.prog, "inplace", True):
            del free[reuse]
            loop.steps_offset[j] = lo
            out.append(f"{IND}g_{loop.names[j]}_steps = {reuse}  # (row t - {lo} is step t) "
                       f"memory of {reuse}, not read any more")
            continue
        shape = literal((hi + 1,) + node.data.shape, str)
        out.append(f"{IND}g_{loop.names[j]}_steps = np.empty({shape}, "
                   f"dtype=np.{node.data.dtype.name})")
    if not loop.bwd_text and not loop.init:
        out.pop()  # nothing to differentiate in these steps
        return
    lines = []
    for k in sorted(loop.init):
        terms = ([f"g_{loop.names[k]}_carry"] if k in loop.carry else []) + (
            [_lazy_term(b, loop, k)] if k in loop.lazy else []) + (
            [f"g_{loop.names[k]}_in[t]"] if k in loop.has_in else [])
        lines.append(f"g_{loop.names[k]} = {' + '.join(terms)}")
    text = list(loop.bwd_text)
    for j, off in loop.steps_offset.items():  # g_a_steps[t - 1] when it reuses memory
        text = [line.replace(f"\u27e8s:{j}\u27e9[t]", f"\u27e8s:{j}\u27e9[t - {off}]")
                for line in text]
    pre, body, pins = in_buffers(finder, loop, lines + _substitute(loop, text, ""), set())
    for k in sorted(loop.carry):
        gv = loop.carry_gv.get(k)
        if gv is not None and gv.name in pins and gv.state == "alias":
            out.append(f"{IND}{gv.name} = {gv.name}.copy()  # overwritten in place below")
    out += [IND + line for line in pre]
    out.append(f"{IND}for t in range({t1}, {t0 - d}{', -1' if d == 1 else ''}):")
    out += [IND * 2 + line for line in body]
    out += [IND + line for line in deferred_gradients(finder, loop)]
    for j, x in sorted(loop.bind.items()):
        if j in loop.carry and b.wanted(x):
            out += [IND + line for line in accumulate(b.grad_of(x), f"g_{loop.names[j]}_carry",
                                                        False)]
