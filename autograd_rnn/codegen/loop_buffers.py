"""Glue between the loop emitter and ``inplace``: the shapes of every name a loop body can
read, and ``lower_body``, the rewrite of a forward or backward body into preallocated
buffers (with ``g_add = g_a`` aliases read through afterwards)."""

from __future__ import annotations

import ast
import re

import numpy as np

from autograd_rnn.codegen.inplace import Lowering
from autograd_rnn.codegen.inplace_homes import analyse
from autograd_rnn.codegen.inplace_plan import Stmt, Unplannable
from autograd_rnn.codegen.loops import Loop, LoopFinder


def _dummy(shape, dtype) -> np.ndarray:
    return np.broadcast_to(np.zeros((), np.dtype(dtype)), tuple(shape))


def body_env(finder: LoopFinder, loop: Loop) -> dict:
    """name -> zero-stride array of its shape and dtype, for every name known outside the
    body: graph values and gradients, inputs, constants, per-step arrays of this and
    earlier loops, carried gradients and hoisted projections."""
    b = finder.b
    env: dict[str, np.ndarray] = {}

    def add(name: str, shape, dtype) -> None:
        if name.isidentifier():
            env[name] = _dummy(shape, dtype)

    for node in b.order:
        name = b.value.get(id(node))
        if name:
            add(name, node.data.shape, node.data.dtype)
    for array, name in b.prog.array_inputs:
        add(name, np.shape(array), np.asarray(array).dtype)
    for arg in b.prog.arguments:
        value = np.asarray(arg.source)
        if value.dtype.kind in "biufc":
            add(arg.name, value.shape, value.dtype)
    for gv in b.grads.values():
        add(gv.name, gv.shape, gv.dtype)
    for lp in [*getattr(finder, "loops", ()), loop]:
        if not lp.names:
            continue
        first, hi = lp.periods[0], max(lp.ts)
        for k in lp.arrays:
            add(lp.names[k], (hi + 2,) + first[k].data.shape, first[k].data.dtype)
        for _, _, j in lp.deferred:
            rows = hi + 1 - lp.steps_offset.get(j, 0)
            add(f"g_{lp.names[j]}_steps", (rows,) + first[j].data.shape, first[j].data.dtype)
        for k in lp.has_in:
            add(f"g_{lp.names[k]}_in", (hi + 1,) + first[k].data.shape, first[k].data.dtype)
        for k in lp.carry:
            add(f"g_{lp.names[k]}_carry", first[k].data.shape, first[k].data.dtype)
        for name, (shape, dtype) in lp.hoisted.items():
            add(name, shape, dtype)
        for name, (shape, dtype, columns) in lp.joint.items():
            add(name, (hi + 2,) + shape, dtype)
            for gate, (a, z) in columns.items():
                add(gate, (hi + 2,) + shape[:-1] + (z - a,), dtype)
    return env


def in_buffers(finder: LoopFinder, loop: Loop, lines: list[str], consumable: set
               ) -> tuple[list[str], list[str], set[str]]:
    """``(lines before the loop, body, carried names needing a fresh array)``; the body
    unchanged when the program asked for plain expressions or the rewrite declines."""
    if not getattr(finder.prog, "inplace", True):
        return [], lines, set()
    result = lower_body(lines, body_env(finder, loop), loop.ts[0], consumable,
                        finder.prog.namer.unique)
    if result is None:
        return [], lines, set()
    pre, body, pins = result
    if pre:
        pre = ["# buffers reused by every step (the loop allocates nothing)", *pre]
    return pre, body, pins


def lower_body(lines: list[str], env: dict, t0: int, consumable: set, namer,
               ) -> tuple[list[str], list[str], set[str]] | None:
    """Rewrite a loop body into preallocated buffers (``autograd_rnn.codegen.inplace``).

    Args:
        lines: the body's statements (no indentation), names substituted.
        env: name -> array of the right shape and dtype (values are never read) for every
            name defined outside the body.
        t0: a valid value of ``t`` (indices are evaluated for shapes).
        consumable: arrays whose step slices the body reads once and may overwrite.
        namer: ``namer(base) -> unique identifier``.

    Returns:
        (lines for before the loop, the new body, carried names kept in their own
        buffer: each must hold a fresh array before the loop), or None (keep the body).
    """
    try:
        stmts = [Stmt(line, ast.parse(line).body[0]) for line in lines]
        plan = analyse(stmts, consumable, t0)
    except (SyntaxError, IndexError, Unplannable):
        return None
    pins = {n for n in plan.carried if n in env and np.ndim(env[n]) > 0}
    while True:
        lowering = Lowering(plan, env, t0, namer, pins)
        lowering.run()
        if lowering.fail is None:
            break
        pins.discard(lowering.fail)  # this carry cannot keep one buffer: a fresh array
    pre = ([p for p in lowering.pre if p.endswith(".T")]
           + [p for p in lowering.pre if not p.endswith(".T")])
    scratch = {b.text for b in lowering.buffers if b.kind == "scratch"}
    return pre, _propagate_aliases(lowering.out, set(env) | plan.carried, scratch), pins


def _propagate_aliases(lines: list[str], keep: set, scratch: set) -> list[str]:
    """Drop ``g_add = g_a`` and read ``g_a`` wherever ``g_add`` was read, when ``g_add``
    is assigned only there and ``g_a`` is not rebound afterwards (one statement fewer)."""
    assigned: dict[str, int] = {}
    for line in lines:
        m = re.match(r"^(\w+) = ", line)
        if m:
            assigned[m.group(1)] = assigned.get(m.group(1), 0) + 1
    out = list(lines)
    i = 0
    while i < len(out):
        m = re.fullmatch(r"(\w+) = (\w+)", out[i])
        if (not m or m.group(1) in keep or assigned.get(m.group(1)) != 1
                or m.group(2) in scratch  # g_i_f = tmp3 keeps its name
                or any(re.match(rf"^{m.group(2)} = ", line) for line in out[i + 1:])):
            i += 1
            continue
        name = re.compile(rf"(?<![\w.]){m.group(1)}\b")
        out[i + 1:] = [name.sub(m.group(2), line) for line in out[i + 1:]]
        del out[i]
    return out
