"""Glue between the loop emitter and ``inplace``: the shapes of every name a loop body can
read, and the rewrite of a forward or backward body into preallocated buffers."""

from __future__ import annotations

import numpy as np

from autograd_rnn.codegen.inplace import lower_body
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
        for name, (shape, dtype) in lp.joint.items():
            add(name, (hi + 2,) + shape, dtype)
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
