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

A forward that is exactly one NumPy ufunc can be the ufunc itself, with no Python function
in between: ``tanh = primitive(np.tanh, name="tanh", doc=...)`` (how the built-in ops are made).

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
import sys
from collections.abc import Callable

import numpy as np

from autograd_rnn.core.errors import AnomalyError, ShapeError, describe_value
from autograd_rnn.core.inplace import SAVED, note_saved
from autograd_rnn.core.node import F64, MARKERS, NO_PARAMS, Node, clock, dropped, leaf, lean_args
from autograd_rnn.core.state import STATE
from autograd_rnn.core.tensor import Tensor

REGISTRY: dict[str, Primitive] = {}
_UNSET = object()


def _where(forward: Callable) -> str:
    """Where ``forward`` was defined: ``module.qualname``; for a NumPy ufunc made a primitive
    (no Python function of ours), the module that made it and the ufunc's name."""
    if inspect.isfunction(forward) or not hasattr(forward, "nin"):
        return f"{getattr(forward, '__module__', '?')}.{getattr(forward, '__qualname__', '?')}"
    frame = sys._getframe(1)
    while frame is not None and frame.f_globals.get("__name__") == __name__:
        frame = frame.f_back  # (out of this module: primitive() -> Primitive())
    module = frame.f_globals.get("__name__", "?") if frame is not None else "?"
    return f"{module}.{forward.__name__}"


def _check_free(name: str, where: str) -> None:
    """Refuse a name another primitive holds, except the same function defined again in an
    interactive session (a notebook cell or REPL run twice: ``__main__``), which replaces it."""
    old = REGISTRY.get(name)
    if old is None:
        return
    rerun = where.startswith("__main__.") and old.origin == where
    if not rerun:
        raise ValueError(
            f"a primitive named {name!r} is already registered (by {old.origin}): "
            f"give this one another name (@ar.primitive(name=...)), or remove the old one "
            f"first with ar.REGISTRY.pop({name!r})")


class _Layouts(dict):
    """{input count n: (saved input positions, a drop flag per input or None)} of an op
    saving ``saves`` (``None``: everything); an entry is made on first use."""

    __slots__ = ("saves",)

    def __init__(self, saves: tuple | None) -> None:
        super().__init__()
        self.saves = saves

    def __missing__(self, n: int) -> tuple:
        kept = range(n) if self.saves is None else [s for s in self.saves if s != "out"]
        positions = tuple(i for i in range(n) if i in kept)
        flags = tuple(i not in positions for i in range(n))
        found = self[n] = (positions, flags if any(flags) else None)
        return found


class Primitive:
    """A differentiable op: ``forward`` on NumPy values plus its VJPs."""

    def __init__(
        self, forward: Callable, name: str | None = None, register: bool = True, saves=None,
        source: Callable | None = None, doc: str | None = None,
    ):
        self.forward = forward
        self.name = name or forward.__name__
        self.origin = _where(forward)  # "module.qualname" of the definition
        self.source = source  # the forward as NumPy code for ar.compile (module docstring)
        self.vjps: tuple | None = None
        self.vjp_all: Callable | None = None
        self.differentiable = False  # has VJPs (defvjp or defvjp_all)
        self.outer_vjps: dict[int, Callable] = {}  # see defvjp_outer
        self.inplace_vjps: dict[int, Callable] = {}  # see defvjp_inplace
        # keyword-only defaults of the forward, so VJPs (and node.params) always see every
        # static parameter, also when the caller relied on a default: ar.sum(x)
        self.defaults = _keyword_defaults(forward)
        self.declare_saves(saves)
        self.__doc__ = doc or forward.__doc__
        self.__name__ = self.name
        self.__wrapped__ = forward
        if register:
            _check_free(self.name, self.origin)
            REGISTRY[self.name] = self

    def defvjp(self, *vjps: Callable | None, saves=_UNSET) -> Callable | None:
        """Register one VJP per positional input; returns the first (for decorator use).
        ``saves``: what the VJPs read (see ``declare_saves``)."""
        self.vjps = vjps
        self.differentiable = True
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
        self.differentiable = True
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
        if saves is None:
            self._set_saves(None, True)
            return
        saves = tuple(saves)
        bad = [s for s in saves if s != "out" and not (isinstance(s, int) and s >= 0)]
        if bad:
            raise ValueError(
                f"primitive {self.name!r}: saves= takes input positions (ints >= 0) and/or "
                f"'out', got {bad}"
            )
        self._set_saves(saves, "out" in saves)

    def _set_saves(self, saves: tuple | None, saves_out: bool) -> None:
        self.saves = saves
        self.saves_out = saves_out
        self._out_state = SAVED if saves_out else 0  # a new node's in-place state
        self._layouts = _Layouts(saves)

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
            parents, values, needs_grad = _gather(inputs)
            if parents is None:
                return self._forward(inputs, inputs, params)
        try:
            data = self.forward(*values, **params) if params else self.forward(*values)
        except (ValueError, IndexError) as error:
            raise _shape_error(self, inputs, values, params, error) from None
        float64 = type(data) is _ndarray and data.dtype is F64  # (the common case, cheapest)
        if not float64 or STATE.anomaly:
            data, float64 = self._checked(data)
        out = _new(Tensor)  # (``tensor.wrap``, inline: once per op)
        out._data = data
        if not (needs_grad and STATE.grad_enabled and self.differentiable):
            out.node = self._unrecorded(data, needs_grad)
            return out
        # record the node (inline, not a function: this runs once per op)
        out.node = node = Node()  # (no __init__: the cheapest object to make)
        node.op = self
        node.parents = parents
        node.params = params
        node.requires_grad = True
        node.scope = STATE.scope
        node.grad = node._edge_grads = None
        positions, drop = self._layouts[n]
        for i in positions:  # these values must not change until backward
            parent = parents[i]
            if parent is not None and parent.state != SAVED:  # (exposed: compare, snapshot)
                parent.state = note_saved(parent, values[i]) if parent.state else SAVED
        node.id = _tick()  # after a change note_saved dated: this node saw the new value
        node.state = self._out_state
        if STATE.lean and not STATE.listeners:  # keep what the VJPs read, markers for the rest
            node.value = data if self.saves_out else (
                float64 and MARKERS.get(data.shape) or dropped(data))
            node.args = values if drop is None else lean_args(parents, values, drop)
        else:  # a full graph (traces always see one)
            node.args, node.value = values, data
            if STATE.listeners:
                _notify(node)
        return out

    def _checked(self, data) -> tuple:
        """(the forward's result as an array, whether it is float64), checked for NaN/Inf
        under ``ar.detect_anomaly()``: the cold part of ``apply``."""
        if type(data) is not _ndarray or data.dtype is not F64:
            data = _checked_output(self, data)
        if STATE.anomaly:
            _check_finite(self, data, "forward")
        return data, data.dtype is F64

    def _unrecorded(self, data, needs_grad: bool) -> Node:
        """The node of an op's output that records nothing (no input requires grad, or
        grad mode is off): a leaf. An op without VJPs on an input that requires grad is
        refused."""
        if needs_grad and STATE.grad_enabled:
            raise TypeError(f"primitive {self.name!r} has no VJP but an input requires grad")
        node = leaf(data)
        if STATE.listeners:
            _notify(node)
        return node

    def _forward(self, inputs, values, params):
        try:
            result = self.forward(*values, **params) if params else self.forward(*values)
        except (ValueError, IndexError) as error:
            raise _shape_error(self, inputs, values, params, error) from None
        if type(result) is np.ndarray or isinstance(result, _SCALARS):
            return result
        return _checked_output(self, result)


def _notify(node: Node) -> None:
    for listener in STATE.listeners:
        listener("node", node)


def _gather(inputs: tuple) -> tuple:
    """(parent nodes, values, whether one requires grad) of an op's inputs (any number of
    them; ``Primitive.apply`` unrolls one and two), or ``(None, None, False)`` if no input
    is a tensor."""
    parents = tuple([x.node if isinstance(x, Tensor) else None for x in inputs])
    if all(p is None for p in parents):
        return None, None, False
    values = tuple([x if p is None else x._data for x, p in zip(inputs, parents, strict=True)])
    return parents, values, any(p is not None and p.requires_grad for p in parents)


_SCALARS = (float, int, bool, complex, np.generic)
_new = object.__new__
_ndarray = np.ndarray  # (a global: one attribute lookup less per op)
_tick = clock.__next__


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
              source: Callable | None = None, doc: str | None = None):
    """Decorator turning a NumPy function into a ``Primitive`` (see the module docstring).
    Called on a NumPy ufunc (``primitive(np.tanh, name="tanh", doc=...)``) the ufunc is the
    forward itself: no Python call in between (the built-in arithmetic ops)."""
    if forward is None:
        return lambda f: Primitive(f, name=name, saves=saves, source=source, doc=doc)
    return Primitive(forward, name=name, saves=saves, source=source, doc=doc)


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
