"""Statement emission shared by the straight-line and loop code paths.

``Program`` holds what the whole generated function needs: variable names, the function's
arguments (inputs, captured tensors, constants) and the rule for turning a non-tensor
argument into source. ``forward_line`` writes one op; ``backward_lines`` writes the
gradients one op sends to its inputs, accumulating into ``GradVar`` buffers: the first
contribution is assigned, later ones are added in place (``g_W_h += ...``) when the buffer
is known to be a fresh array, and broadcasting is undone with explicit sums only where the
shapes differ.
"""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass, field

import numpy as np

from autograd_rnn.codegen.naming import Namer, index_source, literal
from autograd_rnn.codegen.templates import TEMPLATES, OpContext, Template, render, render_vjp
from autograd_rnn.codegen.templates import vjp_shape as _vjp_shape

_ATOM = re.compile("[A-Za-z_][\\w.]*|\u27e8\\w+:\\d+\u27e9")


@dataclass
class Argument:
    """One parameter of the generated function and where its value comes from at call
    time: ``("input", position)``, ``("tensor", Tensor)`` (read ``.data`` live) or
    ``("const", value)`` (frozen at trace time)."""

    name: str
    kind: str
    source: object
    shape: tuple = ()
    dtype: str = ""


@dataclass
class GradVar:
    """A gradient buffer in the generated code; ``state`` None (unset), "alias" (may be a
    view of another array: never add in place) or "owned" (a fresh array)."""

    name: str
    shape: tuple
    dtype: str
    state: str | None = None


@dataclass
class Program:
    namer: Namer = field(default_factory=Namer)
    arguments: list[Argument] = field(default_factory=list)
    array_inputs: list[tuple[np.ndarray, str]] = field(default_factory=list)
    consts: dict[int, str] = field(default_factory=dict)
    keep_alive: list = field(default_factory=list)
    needs_unbroadcast: bool = False
    marking: bool = False  # render ints in indices as markers (loop detection)
    inplace: bool = True  # loop bodies write into preallocated buffers (codegen.inplace)

    def const(self, value) -> str:
        """Source for a non-tensor argument: an input array (by identity), a view of one
        (``x[3]``), or a new function argument holding the trace-time value."""
        key = id(value)
        if key in self.consts:
            return self.consts[key]
        if isinstance(value, np.ndarray):
            reshaped = _reshaped_const(value, self.consts)  # e.g. logsumexp's squeezed shift
            if reshaped is not None:
                return reshaped
            for array, name in self.array_inputs:
                if value is array:
                    return name
                view = view_of(value, array, name, self.int_text)
                if view is not None:
                    return view
            for array, name in self.array_inputs:
                if np.shares_memory(value, array):
                    warnings.warn(
                        f"codegen: a constant of shape {value.shape} is a view of input "
                        f"{name!r} that cannot be written as x[k] or x.reshape(...); its "
                        "trace-time value is frozen into the compiled function",
                        stacklevel=4,
                    )
        inline = _inline_array(value)
        if inline is not None:
            return inline
        name = self.namer.unique(f"const{len(self.consts)}")
        self.consts[key] = name
        self.keep_alive.append(value)  # ids stay unique while the program is built
        self.arguments.append(Argument(name, "const", value, np.shape(value),
                                       str(getattr(value, "dtype", type(value).__name__))))
        return name

    def lit(self, value) -> str:
        return literal(value, self.const)

    def index(self, value) -> str:
        return index_source(value, self.const, self.int_text)

    def int_text(self, value: int) -> str:
        """An int inside an index: a marker while looking for loops, else a literal."""
        return f"\u27e6{int(value)}\u27e7" if self.marking else literal(int(value), str)


def _inline_array(value) -> str | None:
    """Short source for constants that are zeros or ``arange(n)``; None otherwise."""
    if not isinstance(value, np.ndarray) or value.size > 10**7:
        return None
    kind = value.dtype.kind
    if kind == "f" and not value.any():
        dtype = "" if value.dtype == np.float64 else f", dtype=np.{value.dtype.name}"
        return f"np.zeros({literal(value.shape, str)}{dtype})"
    if kind in "iu" and value.ndim == 1 and np.array_equal(value, np.arange(value.size)):
        return f"np.arange({value.size})"
    return None


def view_of(value: np.ndarray, array: np.ndarray, name: str, int_text=str) -> str | None:
    """``name[k]`` or ``name.reshape(shape)`` if ``value`` is that view of ``array``."""
    if value.base is None or not (value.base is array or value.base is array.base):
        return None
    offset = value.__array_interface__["data"][0] - array.__array_interface__["data"][0]
    if (array.ndim >= 1 and value.shape == array.shape[1:] and value.strides == array.strides[1:]
            and array.strides[0] and offset % array.strides[0] == 0
            and 0 <= offset // array.strides[0] < array.shape[0]):
        return f"{name}[{int_text(offset // array.strides[0])}]"
    if (offset == 0 and value.size == array.size and value.flags.c_contiguous
            and array.flags.c_contiguous):
        return f"{name}.reshape({literal(value.shape, str)})"
    return None


def template_for(node) -> Template | None:
    return TEMPLATES.get(node.op.name)


def context(prog: Program, node, inputs: tuple[str, ...], out: str, g: str,
            tmp=None) -> OpContext:
    shapes = tuple(np.shape(a) for a in node.args)
    return OpContext(inputs, out, g, dict(node.params or {}), shapes, node.data.shape,
                     prog.lit, prog.index, [], tmp or prog.namer.unique)


def input_sources(prog: Program, node, value_of) -> tuple[str, ...]:
    """Source of each input of ``node``: a variable for a parent tensor, else a literal."""
    pairs = zip(node.parents, node.args, strict=True)
    return tuple(value_of(p) if p is not None else prog.lit(a) for p, a in pairs)


def forward_lines(prog: Program, node, target: str, inputs: tuple[str, ...],
                  tmp=None) -> list[str]:
    """``target = <op on inputs>`` plus any helper lines the template needs."""
    template = template_for(node)
    ctx = context(prog, node, inputs, target, "", tmp)
    if template is None:
        expr = _fallback_forward(prog, node, inputs)
    else:
        expr = render(template.forward, ctx)
    return ctx.statements + [f"{target} = {expr}"]


def _reshaped_const(value: np.ndarray, consts: dict[int, str]) -> str | None:
    """``name.reshape(shape)`` when ``value`` is a reshaped view (same buffer, C order) of an
    array that already has a name, else None."""
    base = value.base
    if (isinstance(base, np.ndarray) and id(base) in consts and base.size == value.size
            and base.flags.c_contiguous and value.flags.c_contiguous
            and value.__array_interface__["data"][0] == base.__array_interface__["data"][0]):
        return f"{consts[id(base)]}.reshape({tuple(value.shape)!r})"
    return None


def derived_constants(prog: Program, node, value_of, tmp) -> list[str]:
    """Lines recomputing constants that depend on input values instead of freezing them.

    ``log_softmax`` and ``logsumexp`` subtract ``max(x, axis, keepdims=True)`` from x as a
    constant (so ``exp`` never overflows; the shift cancels in the gradient). Frozen, it
    would be stale for new inputs; recognised here, it becomes ``x.max(...)``. The
    same array object reused later (``+ shift`` in logsumexp) refers to the new variable.
    """
    if node.op.name != "subtract" or node.parents[0] is None or node.parents[1] is not None:
        return []
    x, shift = node.parents[0], node.args[1]
    if (not isinstance(shift, np.ndarray) or id(shift) in prog.consts
            or shift.ndim != x.data.ndim or shift.shape == x.data.shape):
        return []
    axes = [a for a in range(shift.ndim) if shift.shape[a] == 1 and x.data.shape[a] != 1]
    if len(axes) != 1 or not np.array_equal(shift, x.data.max(axis=axes[0], keepdims=True)):
        return []
    name = tmp("shift")
    prog.consts[id(shift)] = name
    prog.keep_alive.append(shift)
    axis = axes[0] - shift.ndim  # counted from the end, as softmax code writes it
    source = value_of(x)
    if not _ATOM.fullmatch(source):
        source = f"np.asarray({source})"
    return [f"{name} = {source}.max(axis={axis}, keepdims=True)"]


def _params_source(prog: Program, node) -> str:
    return "".join(f", {k}={prog.lit(v)}" for k, v in (node.params or {}).items())


def _fallback_forward(prog: Program, node, inputs) -> str:
    # a primitive without a template runs its own forward (the source is then not standalone)
    op = prog.const(node.op)
    return f"{op}.forward({', '.join(inputs)}{_params_source(prog, node)})"


def _fallback_vjp(prog: Program, node, ctx: OpContext, i: int) -> str:
    op = prog.const(node.op)
    args = ", ".join((ctx.g, ctx.out) + ctx.x) + _params_source(prog, node)
    if node.op.vjps is not None:
        return f"{op}.vjps[{i}]({args})"
    return f"{op}.vjp_all({args})[{i}]"


def unbroadcast_source(expr: str, shape: tuple, target: tuple) -> str:
    """Explicit sums undoing broadcasting from ``shape`` back to ``target``."""
    if tuple(shape) == tuple(target):
        return expr
    atom = expr if _ATOM.fullmatch(expr) else f"({expr})"
    extra = len(shape) - len(target)
    if extra > 0:
        axes = tuple(range(extra))
        atom = f"{atom}.sum(axis={axes[0] if extra == 1 else axes})"
        shape = tuple(shape[extra:])
    keep = tuple(i for i, n in enumerate(target) if n == 1 and shape[i] != 1)
    if keep:
        atom = f"{atom}.sum(axis={keep[0] if len(keep) == 1 else keep}, keepdims=True)"
    return atom


def accumulate(gv: GradVar, expr: str, fresh: bool) -> list[str]:
    """Add a contribution into a gradient buffer (assign, add in place, or add)."""
    if gv.state is None:
        gv.state = "owned" if fresh else "alias"
        return [f"{gv.name} = {expr}"]
    if gv.state == "owned":
        return [f"{gv.name} += {expr}"]
    gv.state = "owned"
    return [f"{gv.name} = {gv.name} + {expr}"]


def make_owned(gv: GradVar) -> list[str]:
    """Lines making ``gv`` a fresh array that can be added into in place."""
    if gv.state is None:
        gv.state = "owned"
        return [f"{gv.name} = np.zeros({literal(gv.shape, str)}, dtype=np.{gv.dtype})"]
    if gv.state == "alias":
        gv.state = "owned"
        return [f"{gv.name} = {gv.name}.copy()"]
    return []


def backward_lines(prog: Program, node, inputs: tuple[str, ...], out: str, g: str,
                   target_of, wanted, tmp=None) -> list[str]:
    """The gradient ``node`` sends to each of its parents that ``wanted(parent, index)``
    accepts, added into ``target_of(parent_index) -> GradVar``."""
    template = template_for(node)
    ctx = context(prog, node, inputs, out, g, tmp)
    lines: list[str] = []
    for i, parent in enumerate(node.parents):
        if parent is None or not wanted(parent, i):
            continue
        gv = target_of(i)
        if template is not None and template.into is not None:
            lines += make_owned(gv)
            lines += ctx.statements
            ctx.statements.clear()
            lines.append(template.into(ctx, gv.name))
            continue
        if template is None:  # the shape is only known at run time: a generic helper
            expr = f"_unbroadcast({_fallback_vjp(prog, node, ctx, i)}, {literal(gv.shape, str)})"
            prog.needs_unbroadcast = True
            lines += accumulate(gv, expr, False)
            continue
        expr = render_vjp(template, ctx, i)
        if expr is None:
            raise TypeError(f"op {node.op.name!r} has no gradient for input {i}")
        shape = _vjp_shape(node.op.name, template, ctx.shapes, ctx.out_shape, i)
        fresh = not template.views
        lines += ctx.statements
        ctx.statements.clear()
        if tuple(shape) != tuple(gv.shape):
            expr = unbroadcast_source(expr, shape, gv.shape)
            fresh = True
        lines += accumulate(gv, expr, fresh)
    return lines
