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
(``ar.lean_graph()``, training) keep only those values (the others become the ``Dropped``
marker); undeclared ops keep everything. In-place change checks watch the declared values.

``defsource`` (or ``source=``) says how generated code writes the forward: a function of the
inputs written with NumPy (``tanh.defsource(lambda x: np.tanh(x))``). ``ar.compile`` calls it
on symbolic inputs to write the op's line; it derives the backward code from the graph that
``backward(create_graph=True)`` records, so an op needs no other declaration to compile.

Arrays are positional, static parameters keyword-only. A forward returns a NumPy array or a
number. Broadcasting is undone centrally (``core/vjp.py``), so a VJP may return a gradient
of the broadcast shape, as an array, a tensor or a number.

Training speed-ups are declared beside the op they speed up, the VJP staying the
definition: ``defvjp_outer`` (a weight's uses summed as one stacked matmul) and
``defvjp_inplace`` (a slice's gradient added into the running gradient).

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

from autograd_rnn.core.errors import AnomalyError, ShapeError, describe_value
from autograd_rnn.core.node import NO_PARAMS, NUMERIC_TYPES, Node
from autograd_rnn.core.state import STATE
from autograd_rnn.core.tensor import Tensor

REGISTRY: dict[str, Primitive] = {}
_UNSET = object()


def _where(forward: Callable) -> str:
    return f"{getattr(forward, '__module__', '?')}.{getattr(forward, '__qualname__', '?')}"


def _check_free(name: str, forward: Callable) -> None:
    """Refuse a name another primitive holds, except the same function defined again in an
    interactive session (a notebook cell or REPL run twice: ``__main__``), which replaces it."""
    old = REGISTRY.get(name)
    if old is None:
        return
    rerun = (getattr(forward, "__module__", None) == "__main__"
             and _where(old.forward) == _where(forward))
    if not rerun:
        raise ValueError(
            f"a primitive named {name!r} is already registered (by {_where(old.forward)}): "
            f"give this one another name (@ar.primitive(name=...)), or remove the old one "
            f"first with ar.REGISTRY.pop({name!r})")


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
            _check_free(self.name, forward)
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

        In a lean graph (``ar.lean_graph()``) the other values are not kept: the VJPs
        receive the ``Dropped`` marker (shape and dtype only) in their place. In-place
        change checks (``core/inplace.py``) watch exactly the declared values.
        """
        self._layouts: dict[int, tuple] = {}
        if saves is None:
            self.saves = None
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
        self.saves_out = "out" in saves

    def _layout(self, n: int) -> tuple:
        """(saved input positions, a drop flag per input or None) for ``n`` inputs."""
        found = self._layouts.get(n)
        if found is None:
            kept = range(n) if self.saves is None else [s for s in self.saves if s != "out"]
            positions = tuple(i for i in range(n) if i in kept)
            flags = tuple(i not in positions for i in range(n))
            found = self._layouts[n] = (positions, flags if any(flags) else None)
        return found

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
        """``op(x, y, axis=...)``: ``apply`` with the op's keyword defaults filled in."""
        if self.defaults:
            params = {**self.defaults, **params}
        return self.apply(inputs, params or NO_PARAMS)

    def apply(self, inputs: tuple, params: dict = NO_PARAMS):
        """The op on ``inputs`` (tensors, arrays, numbers) with all its static parameters in
        ``params`` (keyword defaults included; ``NO_PARAMS`` for none): a tensor recording a
        node if an input is a tensor, else the plain value. The operators (``x * y``,
        ``x[i]``) call it directly, without ``__call__``'s argument packing."""
        # Hot path (runs once per node): unrolled for the common one- and two-input ops.
        n = len(inputs)
        if n == 2:
            a, b = inputs
            if isinstance(a, Tensor):
                pa = a.node
                va = a._data
                needs_grad = pa.requires_grad
            else:
                pa, va, needs_grad = None, a, False
            if isinstance(b, Tensor):
                pb = b.node
                vb = b._data
                needs_grad = needs_grad or pb.requires_grad
            elif pa is None:
                return self._forward(inputs, inputs, params)
            else:
                pb, vb = None, b
            values = (va, vb)
            parents = (pa, pb)
        elif n == 1:
            x = inputs[0]
            if not isinstance(x, Tensor):  # on an array (a VJP's reshape, ...)
                return self._forward(inputs, inputs, params)
            node = x.node
            values = (x._data,)
            parents = (node,)
            needs_grad = node.requires_grad
        else:
            parents = tuple([x.node if isinstance(x, Tensor) else None for x in inputs])
            if all(p is None for p in parents):
                return self._forward(inputs, inputs, params)
            values = tuple([x if p is None else x._data
                            for x, p in zip(inputs, parents, strict=True)])
            needs_grad = any(p is not None and p.requires_grad for p in parents)
        try:
            data = self.forward(*values, **params) if params else self.forward(*values)
        except (ValueError, IndexError) as error:
            raise _shape_error(self, inputs, values, params, error) from None
        if type(data) is not np.ndarray or data.dtype.type not in NUMERIC_TYPES:
            data = _checked_output(self, data)
        if STATE.anomaly:
            _check_finite(self, data, "forward")
        out = _new(Tensor)  # (``tensor.wrap``, inline: once per op)
        out._data = data
        if needs_grad and STATE.grad_enabled:
            if self.vjps is None and self.vjp_all is None:
                raise TypeError(f"primitive {self.name!r} has no VJP but an input requires grad")
            out.node = made = _new(Node)  # ``Node(...)`` without the class call (hot)
            _init_node(made, self, parents, values, params, data, True)
        else:
            out.node = Node(None, (), (), None, data, False)
        if STATE.listeners:
            for listener in STATE.listeners:
                listener("node", out.node)
        return out

    def _forward(self, inputs, values, params):
        try:
            result = self.forward(*values, **params) if params else self.forward(*values)
        except (ValueError, IndexError) as error:
            raise _shape_error(self, inputs, values, params, error) from None
        if type(result) is np.ndarray or isinstance(result, _SCALARS):
            return result
        return _checked_output(self, result)


_SCALARS = (float, int, bool, complex, np.generic)
_new = object.__new__
_init_node = Node.__init__  # (read once: looking it up on the class per op costs 0.15k)


def _checked_output(prim: Primitive, data) -> np.ndarray:
    """A forward's result as an array: NumPy arrays (and subclasses) and numeric scalars
    are accepted; anything else is a bug in the op, reported by name."""
    if isinstance(data, (np.ndarray, *_SCALARS)):
        array = np.asarray(data)
        if array.dtype.kind in "biufc":
            return array
    raise TypeError(
        f"primitive {prim.name!r}: forward must return a NumPy array or a number, got "
        f"{describe_value(data)}"
    )


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
