"""Structural keys of the statements of a timestep, for the loop finder (``loops.py``).

A *period* is a run of consecutive statements recorded under one timestep scope
(``rnn/layer0/t=3``) in one phase. Each statement of a period gets a key relative to its
period: its op, the structure of its params, and for each operand where it comes from:
this period ("L", position k), the previous period ("P", a carry), a row of an array
("A"), a statement outside cheap enough to copy into the body ("S", with its own key), or
a value outside the same for every period ("X"). Integers in params are collected apart and
compared as constants or as ``t + c`` (``modes``, ``agree``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from autograd_rnn.codegen import extra_ops
from autograd_rnn.codegen.ir import At, Const, Stmt, T, Var
from autograd_rnn.codegen.names import scope_key, timestep


class Mismatch(Exception):
    """The periods cannot be one loop (a value from further back than one step)."""


@dataclass
class Period:
    start: int
    end: int
    key: tuple  # (phase, scope with t=*)
    t: int


def periods(body: list) -> list[Period]:
    """The periods of a flat body, in order."""
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
            out.append(Period(i, j, (item.phase, scope_key(item.scope)), t))
        i = j
    return out


class Signer:
    """Structural keys of statements relative to their period ``local`` (var id ->
    position), the previous period ``prev``, the ids of the run (``inside``) and
    ``sinkable(var)`` (the outside statement to copy into the body, or None)."""

    def __init__(self, local: dict, prev: dict, inside: set, sinkable) -> None:
        self.local, self.prev, self.inside, self.sinkable = local, prev, inside, sinkable
        self.ints: list[int] = []
        self.outside: dict[int, Var] = {}  # ids of "X" operands -> the values

    def operand(self, o):
        if isinstance(o, Var):
            key = id(o)
            if key in self.local:
                return ("L", self.local[key])
            if key in self.prev:
                return ("P", self.prev[key])
            if key in self.inside:
                raise Mismatch("a value from further back than one step")
            sink = self.sinkable(o)
            if sink is not None:
                return ("S", self.stmt(sink))
            self.outside[key] = o
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


def modes(a: list[int], b: list[int], ta: int, tb: int) -> list | None:
    """Each integer of two periods (at steps ta, tb) as ("const", c) or ("step", c)
    (``t + c``), or None when neither fits."""
    found = []
    for x, y in zip(a, b, strict=True):
        if x == y:
            found.append(("const", x))
        elif x - ta == y - tb:
            found.append(("step", x - ta))
        else:
            return None
    return found


def agree(ints: list[int], found: list, t: int) -> bool:
    """Do the integers of the period at step ``t`` follow ``found`` modes?"""
    return len(ints) == len(found) and all(
        x == (c if mode == "const" else t + c) for x, (mode, c) in zip(ints, found, strict=True))


def first_binding(template: list, first: list) -> dict | None:
    """Carry positions the first period binds: {k: ("X", id(var))} where it reads a value
    from before the loop, {k: ("Z", None)} where it leaves a sum without it or adds to 0
    (zeros: ``gsum`` without the carry, ``0 + loss_1``, see ``loops.open_sums``); None
    when the first period does not fit the template so."""
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
                if ta[0] != "P" or not (fa[0] == "X" and note(ta[1], ("X", fa[1])) or fa == (
                        "C", float, 0.0) and note(ta[1], ("Z", None))):
                    return None
        elif op == id(extra_ops.GSUM):  # the first step's gradient sum lacks the carry
            if [a for a in targs if a[0] != "P"] != list(fargs):
                return None
            if not all(note(a[1], ("Z", None)) for a in targs if a[0] == "P"):
                return None
        else:
            return None
    return bind
