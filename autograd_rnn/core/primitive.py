"""Primitives: an op's forward and its vector-Jacobian products, defined side by side.

A primitive is a plain NumPy function wrapped by ``@primitive``; its VJPs are registered
right below it::

    @primitive
    def tanh(x):
        return np.tanh(x)

    @tanh.defvjp
    def tanh_vjp(g, out, x):
        # d tanh(x)/dx = 1 - tanh(x)^2, reusing the saved output
        return g * (1 - out * out)

VJP signature: ``vjp(g, out, *inputs, **params) -> gradient for one input``. Register one
VJP per positional input (``defvjp(vjp_a, vjp_b)``, ``None`` for an input that is never
differentiable); the engine only calls the ones whose input requires grad. Variadic ops
register ``defvjp_all(vjp)`` that returns a tuple with one entry per input.

``saves=`` (on ``defvjp``/``defvjp_all`` or ``@primitive``) declares what the VJPs read:
input positions and/or ``"out"`` (``tanh``: ``("out",)``, ``add``: ``()``). Lean graphs
(``ar.lean_graph()``, training) keep only those values; undeclared ops keep everything.

``defsource`` (or ``source=``) says how generated code writes the forward: a function of the
inputs written with NumPy (``tanh.defsource(lambda x: np.tanh(x))``). ``ar.compile`` calls it
on symbolic inputs to write the op's line; it derives the backward code from the graph that
``backward(create_graph=True)`` records, so an op needs no other declaration to compile.

Arrays are positional, static parameters keyword-only. Broadcasting is undone centrally
by the engine, so a VJP may return a gradient of the broadcast shape.

Calling a primitive on plain arrays returns a plain array; on tensors it returns a tensor
and records a node. VJPs are written with operators and primitives, so the same VJP runs
on arrays in an ordinary backward pass and on tensors (recording the backward pass as a
graph) under ``create_graph=True``: that is what makes second-order gradients work.
This is also the documented way to define a custom op.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable

import numpy as np

from autograd_rnn.core.errors import AnomalyError, ShapeError
from autograd_rnn.core.lean import DroppedInputs, lean_output
from autograd_rnn.core.state import STATE
from autograd_rnn.core.tensor import Tensor

REGISTRY: dict[str, Primitive] = {}
_UNSET = object()
_node = Tensor._node.__func__  # unbound: saves a method lookup per node


class Primitive:
    """A differentiable op: ``forward`` on NumPy values plus its VJPs."""

    def __init__(
        self, forward: Callable, name: str | None = None, register: bool = True, saves=None,
        source: Callable | None = None,
    ):
        self.forward = forward
        self.name = name or forward.__name__
        self.source = source  # the forward as NumPy code for ar.compile (module docstring)
        self.vjps: tuple | None = None
        self.vjp_all: Callable | None = None
        self.outer_vjps: dict[int, Callable] = {}  # see defvjp_outer
        self.inplace_vjps: dict[int, Callable] = {}  # see defvjp_inplace
        # keyword-only defaults of the forward, so VJPs (and node.params) always see every
        # static parameter, also when the caller relied on a default: ar.sum(x)
        self.defaults = _keyword_defaults(forward)
        self.declare_saves(saves)
        self.__doc__ = forward.__doc__
        self.__name__ = self.name
        self.__wrapped__ = forward
        if register:
            if self.name in REGISTRY:
                raise ValueError(f"a primitive named {self.name!r} is already registered")
            REGISTRY[self.name] = self

    def defvjp(self, *vjps: Callable | None, saves=_UNSET) -> Callable | None:
        """Register one VJP per positional input; returns the first (for decorator use).
        ``saves``: what the VJPs read (see ``declare_saves``)."""
        self.vjps = vjps
        if saves is not _UNSET:
            self.declare_saves(saves)
        return vjps[0]

    def defsource(self, source: Callable) -> Callable:
        """Declare how generated code writes the forward (see the module docstring)."""
        self.source = source
        return source

    def defvjp_all(self, vjp: Callable, saves=_UNSET) -> Callable:
        """Register one VJP returning a tuple of input gradients (variadic ops)."""
        self.vjp_all = vjp
        if saves is not _UNSET:
            self.declare_saves(saves)
        return vjp

    def declare_saves(self, saves) -> None:
        """Declare which values the VJPs (and ``defvjp_outer``/``defvjp_inplace`` helpers)
        read: an iterable of input positions and/or ``"out"``; ``None`` = everything.

        Only shapes and dtypes of the other values are available to the VJPs in a lean
        graph (``ar.lean_graph()``): they receive zero-memory NaN placeholders.
        """
        if saves is None:
            self.saves = None
            self.dropped_inputs = None  # keep every input
            self.saves_out = True
            return
        saves = tuple(saves)
        bad = [s for s in saves if s != "out" and not (isinstance(s, int) and s >= 0)]
        if bad:
            raise ValueError(
                f"primitive {self.name!r}: saves= takes input positions (ints >= 0) and/or "
                f"'out', got {bad}"
            )
        self.saves = saves
        kept = frozenset(s for s in saves if s != "out")
        # True: drop every input; a frozenset of positions to drop is built per call count
        self.dropped_inputs = True if not kept else DroppedInputs(kept)
        self.saves_out = "out" in saves

    def defvjp_outer(self, index: int, factors: Callable | None = None) -> Callable:
        """Declare that input ``index``'s VJP is a product ``left.T @ right``.

        ``factors(g, out, *inputs, **params)`` returns ``(left, right)``, 2-D arrays of
        shapes (n, p) and (n, q) for an input of shape (p, q), or ``None`` where the form
        does not apply. The VJP registered with ``defvjp`` stays the definition; backward
        with gradient recording off uses the factors to sum every use of a *leaf* (a weight
        reused at each timestep) with one stacked matmul instead of one per use:
        sum_k left_k.T @ right_k = [left_1; ...; left_n].T @ [right_1; ...; right_n].
        """
        if factors is None:  # used as a decorator: @op.defvjp_outer(1)
            return lambda f: self.defvjp_outer(index, f)
        self.outer_vjps[index] = factors
        return factors

    def defvjp_inplace(self, index: int, add_into: Callable | None = None) -> Callable:
        """Declare how to add input ``index``'s VJP *into* an existing gradient buffer.

        ``add_into(acc, g, out, *inputs, **params)`` adds the same contribution the
        ``defvjp`` VJP returns into ``acc`` (an array of the input's shape) in place. For
        ops whose VJP is mostly zeros (slicing), backward with gradient recording off uses
        it to skip building and summing a full-size zero array per use.
        """
        if add_into is None:  # used as a decorator: @op.defvjp_inplace(0)
            return lambda f: self.defvjp_inplace(index, f)
        self.inplace_vjps[index] = add_into
        return add_into

    @property
    def differentiable(self) -> bool:
        return self.vjps is not None or self.vjp_all is not None

    def __repr__(self) -> str:
        return f"<primitive {self.name}>"

    def __call__(self, *inputs, **params):
        # Hot path (runs once per node): unrolled for the common one- and two-input ops.
        if self.defaults:
            params = {**self.defaults, **params}
        n = len(inputs)
        if n == 2:
            a, b = inputs
            ta = isinstance(a, Tensor)
            tb = isinstance(b, Tensor)
            if not (ta or tb):
                return self._forward(inputs, inputs, params)
            values = (a.data if ta else a, b.data if tb else b)
            needs_grad = (ta and a.requires_grad) or (tb and b.requires_grad)
            # a lean output stands in the graph as its node (see core/lean.py)
            pa = (a if a.node is None else a.node) if ta else None
            pb = (b if b.node is None else b.node) if tb else None
            parents = (pa, pb)
        elif n == 1:
            (a,) = inputs
            if not isinstance(a, Tensor):
                return self._forward(inputs, inputs, params)
            values = (a.data,)
            needs_grad = a.requires_grad
            parents = inputs if a.node is None else (a.node,)
        else:
            flags = [isinstance(x, Tensor) for x in inputs]
            if not any(flags):
                return self._forward(inputs, inputs, params)
            values = tuple([x.data if f else x for x, f in zip(inputs, flags, strict=True)])
            needs_grad = any(x.requires_grad for x, f in zip(inputs, flags, strict=True) if f)
            parents = tuple([
                (x if x.node is None else x.node) if f else None
                for x, f in zip(inputs, flags, strict=True)
            ])
        try:
            data = self.forward(*values, **params) if params else self.forward(*values)
        except (ValueError, IndexError) as error:
            raise _shape_error(self, inputs, values, params, error) from None
        if type(data) is not np.ndarray:
            data = np.asarray(data)
        if STATE.anomaly:
            _check_finite(self, data, "forward")
        if needs_grad and STATE.grad_enabled:
            if self.vjps is None and self.vjp_all is None:
                raise TypeError(f"primitive {self.name!r} has no VJP but an input requires grad")
            if STATE.lean and not STATE.listeners:  # traces always see full graphs
                out = lean_output(self, data, parents, values, params)
            else:
                out = _node(Tensor, data, self, parents, values, params, True)
        else:
            out = _node(Tensor, data, None, (), (), None, False)
        if STATE.listeners:
            for listener in STATE.listeners:
                listener("node", out)
        return out

    def _forward(self, inputs, values, params):
        try:
            if params:
                return self.forward(*values, **params)
            return self.forward(*values)
        except (ValueError, IndexError) as error:
            raise _shape_error(self, inputs, values, params, error) from None


def primitive(forward: Callable | None = None, *, name: str | None = None, saves=None,
              source: Callable | None = None):
    """Decorator turning a NumPy function into a ``Primitive`` (see the module docstring)."""
    if forward is None:
        return lambda f: Primitive(f, name=name, saves=saves, source=source)
    return Primitive(forward, name=name, saves=saves, source=source)


def _keyword_defaults(forward: Callable) -> dict:
    if not inspect.isfunction(forward):
        return {}  # a ufunc or builtin (np.tanh): its defaults (out=, dtype=...) stay its own
    try:
        parameters = inspect.signature(forward).parameters.values()
    except (TypeError, ValueError):
        return {}
    return {
        p.name: p.default
        for p in parameters
        if p.kind is p.KEYWORD_ONLY and p.default is not p.empty
    }


def _describe(x, value) -> str:
    shape = np.shape(value)
    if isinstance(x, Tensor):
        return f"{x.label!r} of shape {shape}"
    return f"constant of shape {shape}"


def _shape_error(prim: Primitive, inputs, values, params, error: Exception) -> Exception:
    operands = ", ".join(_describe(x, v) for x, v in zip(inputs, values, strict=True))
    extra = f" with {params}" if params else ""
    where = f" in scope {STATE.scope!r}" if STATE.scope else ""
    kind = IndexError if isinstance(error, IndexError) else ShapeError
    return kind(f"{prim.name}{extra}{where}: cannot apply to {operands}: {error}")


def _check_finite(prim: Primitive, value, phase: str) -> None:
    if not np.all(np.isfinite(value)):
        where = STATE.scope or "<top level>"
        raise AnomalyError(
            f"op {prim.name!r} in scope {where!r} produced NaN/Inf in {phase} "
            f"(output shape {np.shape(value)})"
        )
