"""The compiler's intermediate representation: the generated function as data.

    Var      an array value, assigned once (shape, dtype, a name hint, its timestep)
    Const    a static value (a number, or a small array written inline: zeros, arange)
    At       row ``index`` of an array value: ``h[3]``, or ``h[t - 1]`` in a loop (``T(-1)``)
    Carry    inside a loop body: a body value as the previous iteration left it
    Stmt     ``out = op(*args, **params)``; ``op`` a ``Primitive`` (its ``source=`` writes
             the line) or an ``Op`` of the compiler (gradient sums, zeros, in-place adds)
    Loop     ``for t in ...``: one body of statements standing for consecutive timesteps
    Program  the function: arguments, body, the returned value and gradients

Operands sit in ``Stmt.args`` and also inside ``Stmt.params`` (index tuples may hold arrays:
``y[rows, targets]``). Passes rewrite statements; ``render`` writes text once at the end.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import numpy as np


@dataclass(eq=False, slots=True)
class Var:
    """An array value of the generated function. ``hint``: base of its name (``h``,
    ``matmul``, ``g_h``); ``t``: the timestep it belongs to (``h_3`` in straight code)."""

    shape: tuple
    dtype: np.dtype
    hint: str
    t: int | None = None
    role: str = "value"  # "value" (forward), "grad" (a gradient sum), "temp" (inside a VJP)
    name: str = ""  # set by naming
    same_name: Var | None = None  # an earlier value of the same variable (``g = g + c``)
    grad_of: Var | None = None  # a gradient sum: the value it is the gradient of

    def __repr__(self) -> str:
        return f"Var({self.name or self.hint}{'' if self.t is None else f'@{self.t}'})"


@dataclass(frozen=True, eq=False, slots=True)
class Const:
    """A static operand: a Python number or a small array written inline."""

    value: object


@dataclass(frozen=True, slots=True)
class T:
    """``t + c`` inside a loop over t."""

    c: int = 0


@dataclass(frozen=True, eq=False, slots=True)
class At:
    """``array[index]``: a row of a per-step array or of an input (index an int or ``T``)."""

    array: Var
    index: int | T
    shape: tuple = ()
    dtype: np.dtype | None = None


@dataclass(frozen=True, eq=False, slots=True)
class Part:
    """``base[index]``: a basic-index view of a buffer, where a value is computed in place."""

    base: object
    index: object


@dataclass(frozen=True, eq=False, slots=True)
class Carry:
    """In a loop body: the value ``var`` had at the end of the previous iteration."""

    var: Var


class Op:
    """A compiler operation (not a primitive): ``source`` builds its expression from
    symbols like a primitive's ``source=``; ``effect`` ops change ``args[0]`` in place
    (``+=``, ``-=``, ``*=``, ``=`` into ``args[0][index]``, ``np.add.at``)."""

    def __init__(self, name: str, source: Callable | None = None, effect: str = "") -> None:
        self.name, self.source, self.effect = name, source, effect

    def __repr__(self) -> str:
        return f"<op {self.name}>"


@dataclass(eq=False, slots=True)
class Stmt:
    out: Var | None
    op: object  # a Primitive or an Op
    args: tuple
    params: dict = field(default_factory=dict)
    scope: str = ""
    phase: str = "forward"  # "forward" | "backward"
    comment: str = ""
    dest: object = None  # where the value is computed (``out=``): a buffer, a row, a Part

    def __repr__(self) -> str:
        return f"Stmt({self.out!r} = {self.op.name}{self.args!r})"


@dataclass(eq=False, slots=True)
class Loop:
    """``for t in ts``: ``body`` runs once per timestep (``T(c)`` is ``t + c`` in it).

    ``carries``: body value -> its value before the first iteration (an operand, or None
    for zeros). ``stored``: body value -> per-step array ``(rows, *shape)`` whose row ``t`` keeps
    it. ``pre``/``post``: statements run once before/after the loop (allocations, hoisted
    projections, weight gradients of all steps at once).
    """

    scope: str
    ts: list[int]
    body: list[Stmt]
    carries: dict = field(default_factory=dict)
    stored: dict = field(default_factory=dict)
    pre: list = field(default_factory=list)
    post: list = field(default_factory=list)
    phase: str = "forward"
    copy_carries: bool = False  # the body changes carries in place: start from copies

    @property
    def step(self) -> int:
        return self.ts[1] - self.ts[0] if len(self.ts) > 1 else 1

    def __repr__(self) -> str:
        return f"Loop({self.scope}, t={self.ts[0]}..{self.ts[-1]}, {len(self.body)} stmts)"


@dataclass(eq=False, slots=True)
class Argument:
    """A parameter of the generated function and where its value comes from at call time:
    ``("input", position)``, ``("tensor", Tensor)`` (read ``.data`` live) or ``("const",
    array)`` (frozen at trace time)."""

    var: Var
    kind: str
    source: object


@dataclass(eq=False, slots=True)
class Program:
    arguments: list[Argument]
    body: list  # Stmt | Loop
    output: object  # the returned value (an operand)
    grads: list  # one operand per differentiated tensor (None: zeros), then the extras
    title: str = ""
    wrt_vars: list = field(default_factory=list)  # the argument of each differentiated tensor
    # the last n_extra entries of grads (and wrt_vars) are further values fn returned, not
    # gradients: every pass treats them as returned values, render writes them after the
    # gradients
    n_extra: int = 0
    namer: object = None  # the names in use (set by names.name_program)


# ----- operands ----------------------------------------------------------------------------
def leaves(value) -> Iterator[object]:
    """The operands and plain values inside tuples, lists, dicts and slices, in order."""
    if isinstance(value, (tuple, list)):
        for v in value:
            yield from leaves(v)
    elif isinstance(value, dict):
        for v in value.values():
            yield from leaves(v)
    elif isinstance(value, slice):
        yield from leaves((value.start, value.stop, value.step))
    else:
        yield value


def vars_in(value) -> Iterator[Var]:
    """Every ``Var`` an operand or a params value refers to (``At`` and ``Carry`` included)."""
    for o in leaves(value):
        if isinstance(o, Var):
            yield o
        elif isinstance(o, At):
            yield o.array
        elif isinstance(o, Carry):
            yield o.var
        elif isinstance(o, Part):
            yield from vars_in((o.base, o.index))


def reads(stmt: Stmt) -> Iterator[Var]:
    """Vars a statement reads (its arguments and any inside its params)."""
    for a in stmt.args:  # most operands are plain values: no recursion for them
        if type(a) is Var:
            yield a
        elif type(a) is not Const:
            yield from vars_in(a)
    if stmt.params:
        yield from vars_in(stmt.params)


def substitute(value, mapping: Callable):
    """``value`` with every operand ``o`` replaced by ``mapping(o)`` (operands inside tuples,
    lists, dicts and slices included)."""
    if isinstance(value, (Var, At, Carry, Const, Part)):
        return mapping(value)
    if isinstance(value, tuple):
        return tuple(substitute(v, mapping) for v in value)
    if isinstance(value, list):
        return [substitute(v, mapping) for v in value]
    if isinstance(value, dict):
        return {k: substitute(v, mapping) for k, v in value.items()}
    if isinstance(value, slice):
        return slice(*(substitute(v, mapping) for v in (value.start, value.stop, value.step)))
    return value


def rewrite(stmt: Stmt, mapping: Callable) -> None:
    """Replace the operands of ``stmt`` in place (see ``substitute``)."""
    stmt.args = substitute(stmt.args, mapping)
    stmt.params = substitute(stmt.params, mapping)


def statements(body: list) -> Iterator[Stmt]:
    """Every statement of a body, loop bodies (and their pre/post) included."""
    for item in body:
        if isinstance(item, Loop):
            yield from item.pre
            yield from item.body
            yield from item.post
        else:
            yield item


def meta_of(operand) -> tuple[tuple, np.dtype]:
    """(shape, dtype) of an operand."""
    if isinstance(operand, Carry):
        operand = operand.var
    if isinstance(operand, (Var, At)):
        return tuple(operand.shape), np.dtype(operand.dtype)
    value = np.asarray(operand.value)
    return value.shape, value.dtype


def shape_of(operand) -> tuple:
    return meta_of(operand)[0]


def dtype_of(operand) -> np.dtype:
    return meta_of(operand)[1]


def at(array: Var, index) -> At:
    """Row ``index`` of ``array`` (shape and dtype of one row)."""
    return At(array, index, array.shape[1:], array.dtype)


def explicit_index(index: tuple, ndim: int) -> tuple:
    """``x[..., 4:8]`` of a matrix as ``x[:, 4:8]`` (reads as the textbook slice)."""
    if sum(part is Ellipsis for part in index) != 1:
        return index
    k = index.index(Ellipsis)
    rest = len(index) - 1 - sum(part is None for part in index)
    return index[:k] + (slice(None),) * (ndim - rest) + index[k + 1:]
