"""Source templates: for every primitive in ``ar.REGISTRY``, its forward and its VJPs as
NumPy source text (the same math as ``autograd_rnn/ops/*.py``, one entry per op).

A template is a format string or a function of an ``OpContext`` (see ``OpContext``):

* forward: an expression computing the op's output from its inputs ``{0}``, ``{1}``, ...
  and its rendered static parameters (``{axis}``, ``{shape}``, ...);
* vjps: one per input, an expression for the gradient sent to that input from ``{g}``
  (the gradient reaching the output) and ``{out}`` (the saved output). The expression may
  have the broadcast (output) shape: the emitter undoes broadcasting with explicit sums,
  only where the shapes differ (known at trace time);
* into (optional): a statement adding the gradient *in place* into an existing buffer
  ``{target}`` (getitem: ``g_x[3] += g`` instead of a zero array the size of x per use).

``views=True`` marks templates whose VJPs can return a view of ``g`` (not a fresh array):
the emitter never adds into such a gradient in place. ``elementwise=True`` means the VJPs
have the output's (broadcast) shape.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

Source = str | Callable[["OpContext"], str]


@dataclass
class OpContext:
    """What a template sees: source expressions of the inputs (``x``), the output (``out``),
    the gradient reaching the output (``g``), raw static ``params``, trace-time shapes, and
    helpers to render values (``lit``) and indices (``index``) and to emit helper lines."""

    x: tuple[str, ...]
    out: str
    g: str
    params: dict
    shapes: tuple[tuple[int, ...], ...]
    out_shape: tuple[int, ...]
    lit: Callable[[object], str]
    index: Callable[[object], str]
    statements: list[str] = field(default_factory=list)
    tmp: Callable[[str], str] = lambda base: base

    def p(self, name: str, default=None) -> str:
        """A static parameter rendered as source."""
        return self.lit(self.params.get(name, default))


@dataclass(frozen=True)
class Template:
    forward: Source
    vjps: tuple[Source | None, ...] | Callable[[OpContext, int], str]
    elementwise: bool = False
    views: bool = False
    into: Callable[[OpContext, str], str] | None = None


def render(source: Source, ctx: OpContext, **extra: str) -> str:
    """Fill a template: positional inputs, ``g``, ``out`` and every rendered parameter."""
    if callable(source):
        return source(ctx)
    fields = {name: ctx.lit(value) for name, value in ctx.params.items()
              if "{" + name + "}" in source}
    fields.update(g=ctx.g, out=ctx.out, **extra)
    return source.format(*ctx.x, **fields)


def render_vjp(template: Template, ctx: OpContext, i: int) -> str | None:
    """The source of the gradient sent to input ``i`` (None: not differentiable)."""
    if callable(template.vjps):
        return template.vjps(ctx, i)
    source = template.vjps[i]
    return None if source is None else render(source, ctx)


# ----- helpers for the templates that depend on shapes -----------------------------------
def _keep_shape(shape: tuple[int, ...], axis) -> tuple[int, ...]:
    if axis is None:
        return (1,) * len(shape)
    axes = axis if isinstance(axis, tuple) else (axis,)
    axes = {a % len(shape) for a in axes} if shape else set()
    return tuple(1 if i in axes else n for i, n in enumerate(shape))


def _expand(c: OpContext, g: str) -> str:
    """Broadcast a reduced gradient back to the input shape (sum / max VJPs)."""
    shape = c.shapes[0]
    if c.params.get("keepdims") or c.out_shape == ():
        return f"np.broadcast_to({g}, {c.lit(shape)})"
    keep = _keep_shape(shape, c.params.get("axis"))
    return f"np.broadcast_to({g}.reshape({c.lit(keep)}), {c.lit(shape)})"


def _matmul_vjp(c: OpContext, i: int) -> str:
    a, b = c.x
    na, nb = len(c.shapes[0]), len(c.shapes[1])
    if na == 1 and nb == 1:  # dot product: g * b, g * a
        return f"{c.g} * {b}" if i == 0 else f"{c.g} * {a}"
    if i == 0:
        if nb == 1:  # (..., n, k) @ (k,): outer product of g with b
            return f"{c.g}[..., None] * {b}"
        if na == 1:  # (k,) @ (..., k, m): g as a row vector
            return f"({c.g}[..., None, :] @ {_swap(b, nb)})[..., 0, :]"
        return f"{c.g} @ {_swap(b, nb)}"  # d(a @ b)/da: g b^T
    if na == 1:  # (k,) @ (..., k, m): outer product of a with g
        return f"{a}[:, None] * {c.g}[..., None, :]"
    if nb == 1:  # (..., n, k) @ (k,)
        return f"({c.g}[..., None, :] @ {a})[..., 0, :]"
    return f"{_swap(a, na)} @ {c.g}"  # d(a @ b)/db: a^T g


def _swap(x: str, ndim: int) -> str:
    return f"{x}.T" if ndim == 2 else f"np.swapaxes({x}, -1, -2)"


def matmul_vjp_shape(shapes, out_shape, i: int) -> tuple[int, ...]:
    """Shape of the matmul VJP expression for input ``i`` (before unbroadcasting)."""
    (sa, sb) = shapes
    if len(sa) == 1 and len(sb) == 1:
        return sa if i == 0 else sb
    if i == 0:
        return tuple(out_shape) + sa[-1:] if len(sb) == 1 else tuple(out_shape[:-1]) + sa[-1:]
    if len(sa) == 1:
        return tuple(out_shape[:-1]) + (sa[0], out_shape[-1])
    if len(sb) == 1:
        return tuple(out_shape[:-1]) + sb
    return tuple(out_shape[:-2]) + sb[-2:]


def _is_basic(index) -> bool:
    parts = index if isinstance(index, tuple) else (index,)
    return all(
        p is None or p is Ellipsis or isinstance(p, (int, np.integer, slice)) for p in parts
    )


def _getitem_into(c: OpContext, target: str) -> str:
    # put g back where it was read; repeated advanced indices add up (np.add.at)
    index = c.params["index"]
    if _is_basic(index) or _distinct_rows(c, index):  # no position repeats
        return f"{target}[{c.index(index)}] += {c.g}"
    return f"np.add.at({target}, {c.lit(index)}, {c.g})"


def _scatter_add_forward(c: OpContext) -> str:
    shape, index = c.params["shape"], c.params["index"]
    buf = c.tmp("g_scatter" if c.g else "scatter")
    c.statements.append(f"{buf} = np.zeros({c.lit(shape)}, dtype={c.x[0]}.dtype)")
    if _is_basic(index):
        c.statements.append(f"{buf}[{c.index(index)}] = {c.x[0]}")
    elif _distinct_rows(c, index):  # no position repeats: assigning is adding into zeros
        c.statements.append(f"{buf}[{c.lit(index)}] = {c.x[0]}")
    else:
        c.statements.append(f"np.add.at({buf}, {c.lit(index)}, {c.x[0]})")
    return buf


def _distinct_rows(c: OpContext, index) -> bool:
    """Does an advanced index select every position at most once, whatever the values of
    its other arrays? True when one of its 1-D arrays is written ``np.arange(n)`` (the
    ``x[np.arange(N), targets]`` of a cross-entropy) and all have that length."""
    parts = index if isinstance(index, tuple) else (index,)
    if not all(isinstance(p, np.ndarray) and p.ndim == 1 and p.dtype.kind in "iu"
               for p in parts) or len({p.shape for p in parts}) != 1:
        return False
    return any(c.lit(p) == f"np.arange({p.size})" for p in parts)


def _getitem_vjp(c: OpContext, i: int) -> str:
    shape = c.shapes[0]
    sub = OpContext((c.g,), c.out, c.g, {"shape": shape, "index": c.params["index"]},
                    (c.out_shape,), shape, c.lit, c.index, c.statements, c.tmp)
    return _scatter_add_forward(sub)


def _along(c: OpContext, axis: int, part: str) -> str:
    return f"{c.g}[{':, ' * axis}{part}]"


def _stack_vjp(c: OpContext, i: int) -> str:
    # each input receives its slice of g along the new axis
    return _along(c, c.params.get("axis", 0) % len(c.out_shape), str(i))


def _concat_vjp(c: OpContext, i: int) -> str:
    # each input receives the block of g it occupied
    axis = c.params.get("axis", 0) % len(c.out_shape)
    lo = sum(s[axis] for s in c.shapes[:i])
    return _along(c, axis, f"{lo}:{lo + c.shapes[i][axis]}")


def _transpose_forward(c: OpContext) -> str:
    axes = tuple(c.params["axes"])
    if axes == tuple(reversed(range(len(axes)))):
        return f"{c.x[0]}.T"
    return f"{c.x[0]}.transpose({c.lit(axes)})"


def _transpose_vjp(c: OpContext, i: int) -> str:
    axes = tuple(c.params["axes"])
    if axes == tuple(reversed(range(len(axes)))):
        return f"{c.g}.T"
    return f"{c.g}.transpose({c.lit(tuple(int(a) for a in np.argsort(axes)))})"


def _max_vjp(c: OpContext, i: int) -> str:
    # d max/dx_i = 1/k for the k entries equal to the maximum (ties share), 0 elsewhere
    keep = c.lit(_keep_shape(c.shapes[0], c.params.get("axis")))
    mask = c.tmp("mask")
    c.statements.append(f"{mask} = {c.x[0]} == {c.out}.reshape({keep})")
    share = f"{mask} / {mask}.sum(axis={_kw(c.p('axis'))}, keepdims=True)"
    return f"{_expand(c, c.g)} * ({share})"


def _power_vjp(c: OpContext, i: int) -> str:
    p = c.params["exponent"]
    return f"{c.g} * {c.lit(p)} * {c.x[0]} ** {c.lit(p - 1)}"  # p x^(p-1)


def _kw(text: str) -> str:
    """A keyword argument needs no parentheses around a negative number: axis=-1."""
    return text[1:-1] if text.startswith("(-") and text.endswith(")") else text


def _reduce_forward(c: OpContext, name: str) -> str:
    axis, keepdims = c.params.get("axis"), c.params.get("keepdims", False)
    extra = (f", axis={_kw(c.lit(axis))}" if axis is not None else "") + (
        ", keepdims=True" if keepdims else "")
    if re.fullmatch(r"[A-Za-z_][\w.]*(\[[^\[\]]*\])?", c.x[0]):  # an array variable
        return f"{c.x[0]}.{name}({extra[2:]})"  # the method: less call overhead
    return f"np.{name}({c.x[0]}{extra})"


def _concat_forward(name: str) -> Callable[[OpContext], str]:
    def forward(c: OpContext) -> str:
        return f"np.{name}([{', '.join(c.x)}], axis={_kw(c.p('axis', 0))})"

    return forward


TEMPLATES: dict[str, Template] = {
    # elementwise arithmetic (VJPs have the broadcast shape)
    "add": Template("{0} + {1}", ("{g}", "{g}"), elementwise=True, views=True),
    "subtract": Template("{0} - {1}", ("{g}", "-{g}"), elementwise=True, views=True),
    "multiply": Template("{0} * {1}", ("{g} * {1}", "{g} * {0}"), elementwise=True),
    "divide": Template("{0} / {1}", ("{g} / {1}", "-{g} * {0} / ({1} * {1})"),
                       elementwise=True),
    "negative": Template("-{0}", ("-{g}",), elementwise=True),
    "power": Template("{0} ** {exponent}", _power_vjp, elementwise=True),
    "exp": Template("np.exp({0})", ("{g} * {out}",), elementwise=True),
    "log": Template("np.log({0})", ("{g} / {0}",), elementwise=True),
    "tanh": Template("np.tanh({0})", ("{g} * (1 - {out} * {out})",), elementwise=True),
    "sigmoid": Template("0.5 + 0.5 * np.tanh(0.5 * {0})", ("{g} * {out} * (1 - {out})",),
                        elementwise=True),
    "relu": Template("np.maximum({0}, 0)", ("{g} * ({0} > 0)",), elementwise=True),
    "abs": Template("np.abs({0})", ("{g} * np.sign({0})",), elementwise=True),
    "where": Template("np.where({0}, {1}, {2})",
                      (None, "np.where({0}, {g}, 0.0)", "np.where({0}, 0.0, {g})"),
                      elementwise=True),
    # linear algebra
    "matmul": Template("{0} @ {1}", _matmul_vjp),
    # reductions
    "sum": Template(lambda c: _reduce_forward(c, "sum"),
                    lambda c, i: _expand(c, c.g), views=True),
    "max": Template(lambda c: _reduce_forward(c, "max"), _max_vjp),
    # shapes and indexing
    "reshape": Template("{0}.reshape({shape})", lambda c, i: f"{c.g}.reshape("
                        f"{c.lit(c.shapes[0])})", views=True),
    "transpose": Template(_transpose_forward, _transpose_vjp, views=True),
    "broadcast_to": Template("np.broadcast_to({0}, {shape})", ("{g}",), elementwise=True,
                             views=True),
    "getitem": Template(lambda c: f"{c.x[0]}[{c.index(c.params['index'])}]", _getitem_vjp,
                        into=_getitem_into),
    "scatter_add": Template(_scatter_add_forward,
                            lambda c, i: f"{c.g}[{c.index(c.params['index'])}]", views=True),
    "stack": Template(_concat_forward("stack"), _stack_vjp, views=True),
    "concat": Template(_concat_forward("concatenate"), _concat_vjp, views=True),
}


def vjp_shape(name: str, template: Template, shapes, out_shape, i: int) -> tuple[int, ...]:
    """Shape of the VJP expression for input ``i``, before broadcasting is undone."""
    if name == "matmul":
        return matmul_vjp_shape(shapes, out_shape, i)
    if template.elementwise:
        return tuple(out_shape)
    return tuple(shapes[i])
