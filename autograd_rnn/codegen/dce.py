"""Dead-code removal: statements whose value nothing returned depends on are dropped.

The recorded backward computes a gradient for every leaf (also inputs and constants, so that
each timestep has the same statements); the gradients nobody asked for, and the forward
values only they read, disappear here. In a loop body a statement stays when a kept statement
reads it in the same iteration, the next one reads it as a carry, or its per-step array is
read after the loop. Statements changing an argument in place are kept.
"""

from __future__ import annotations

from autograd_rnn.codegen.ir import Loop, Program, Stmt, reads, vars_in


def _effect(stmt: Stmt) -> bool:
    return bool(getattr(stmt.op, "effect", ""))


def _target(stmt: Stmt):
    return next(vars_in(stmt.args[0]), None)


def _needed(stmt: Stmt, live: set) -> bool:
    if stmt.out is not None and id(stmt.out) in live:
        return True
    return _effect(stmt) and id(_target(stmt)) in live


def remove_dead(program: Program) -> None:
    """Drop every statement the output and the returned gradients do not depend on (an
    in-place change of an argument, such as an optimizer's update, is seen by the caller)."""
    live = {id(v) for v in vars_in((program.output, program.grads))}
    live.update(id(a.var) for a in program.arguments)
    program.body = _sweep(program.body, live)


def _sweep(body: list, live: set) -> list:
    kept = []
    for item in reversed(body):
        if isinstance(item, Loop):
            if _loop(item, live):
                kept.append(item)
            continue
        if _needed(item, live):
            live.update(id(v) for v in reads(item))
            kept.append(item)
    kept.reverse()
    return kept


def _loop(loop: Loop, live: set) -> bool:
    """Shrink the loop to what ``live`` needs; False when nothing of it is needed."""
    loop.post = _sweep(loop.post, live)  # (runs after the loop: what it reads is live)
    for var, array in loop.stored.items():
        if id(array) in live:
            live.add(id(var))
    carried = {id(v): v for v in loop.carries}
    while True:  # a carry read by a kept statement keeps its definition (next iteration)
        inner = set(live)
        body = _sweep(loop.body, inner)
        grown = {k for k in carried if k in inner and k not in live}
        if not grown:
            break
        live |= grown
    if not body:
        return False
    loop.body = body
    loop.stored = {v: a for v, a in loop.stored.items() if id(a) in live}
    loop.carries = {v: init for v, init in loop.carries.items() if id(v) in inner}
    live |= inner
    live.update(id(v) for init in loop.carries.values() for v in vars_in(init))
    loop.pre = _sweep(loop.pre, live)
    return True


def uses(body: list) -> dict[int, int]:
    """How many times each Var is read (carries included), keyed by ``id``."""
    count: dict[int, int] = {}
    for item in body:
        stmts = (item.pre + item.body + item.post) if isinstance(item, Loop) else [item]
        for stmt in stmts:
            for v in reads(stmt):
                count[id(v)] = count.get(id(v), 0) + 1
        if isinstance(item, Loop):
            for init in item.carries.values():
                for v in vars_in(init):
                    count[id(v)] = count.get(id(v), 0) + 1
    return count

