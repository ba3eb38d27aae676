"""Calling an op's VJPs for one node, and fitting what they return to each input's shape.

``input_gradients(node, g)`` is the step the backward pass repeats per node: one VJP call
per parent that needs a gradient, ``vjp(g, out, *inputs, **params)``, each result checked
and summed back over the axes broadcasting added (``unbroadcast``: the one place where
broadcasting is undone for every op). With ``create_graph=True`` the VJPs receive tensors
standing for the node's output and inputs, so the ops they run are recorded: the graph of
the backward pass, differentiable again.
"""

from __future__ import annotations

import numpy as np

from autograd_rnn.core.errors import GraphFreedError, ShapeError, describe_value
from autograd_rnn.core.node import FLOAT_TYPES, DroppedValueError, Node
from autograd_rnn.core.tensor import Tensor, wrap

_NUMBERS = (float, int, bool, np.generic)


def unbroadcast(g, shape: tuple[int, ...]):
    """Sum ``g`` (an array or a tensor) over the axes broadcasting added, back to ``shape``.

    The single place where broadcasting is undone for every op.
    """
    extra = g.ndim - len(shape)
    if extra > 0:
        axis = 0 if extra == 1 else tuple(range(extra))
        # ufunc reduce directly: skips ndarray.sum's Python wrapper (runs once per bias use)
        g = np.add.reduce(g, axis=axis) if type(g) is np.ndarray else g.sum(axis=axis)
        if g.shape == shape:
            return g
    axes = tuple(i for i, n in enumerate(shape) if n == 1 and g.shape[i] != 1)
    if axes:
        g = g.sum(axis=axes, keepdims=True)
    return g


def input_gradients(node: Node, g, create_graph: bool = False, skip=()) -> list:
    """The gradient for each parent of ``node`` given the gradient ``g`` at its output:
    one VJP call per parent that requires grad (``None`` for the others and for indices
    in ``skip``), each fitted to the parent's shape by ``fit_gradient``."""
    op, parents, args = node.op, node.parents, node.args
    if args is None:
        where = f" in scope {node.scope!r}" if node.scope else ""
        raise GraphFreedError(
            f"backward reached op {op.name!r}{where} whose saved buffers were freed by an "
            "earlier backward(retain_graph=False); keep the graph with retain_graph=True "
            "(the default) to backpropagate through it twice"
        )
    out = node.value
    if create_graph:  # tensors for the saved values: the VJPs' ops are recorded
        args = tuple([a if p is None else wrap(a, p) for p, a in zip(parents, args, strict=True)])
        out = wrap(out, node)
    needed = [p is not None and p.requires_grad and i not in skip for i, p in enumerate(parents)]
    try:
        raw = _call_vjps(node, g, out, args, needed)
    except DroppedValueError as error:
        raise DroppedValueError(f"op {op.name!r}: {error}") from None
    fitted = []
    for i, c in enumerate(raw):
        if c is None or not needed[i]:
            c = None
        elif (create_graph or type(c) is not np.ndarray or c.dtype.type not in FLOAT_TYPES
              or c.shape != parents[i].value.shape):
            c = fit_gradient(node, i, c, create_graph)
        fitted.append(c)  # (an array of the input's shape as it is: the common case)
    return fitted


def _call_vjps(node: Node, g, out, args: tuple, needed: list) -> list:
    op, params = node.op, node.params or {}
    if op.vjps is None:  # a variadic op: one call for every input
        raw = op.vjp_all(g, out, *args, **params)
        if not isinstance(raw, (tuple, list)) or len(raw) != len(needed):
            raise TypeError(
                f"the VJP of op {op.name!r} must return one gradient per input "
                f"({len(needed)}), got {describe_value(raw)}"
            )
        return list(raw)
    vjps = op.vjps
    return [vjps[i](g, out, *args, **params) if need and i < len(vjps) and vjps[i] else None
            for i, need in enumerate(needed)]


def fit_gradient(node: Node, index: int, c, create_graph: bool = False):
    """``c``, the VJP result for input ``index`` of ``node``, checked and summed back to
    that input's shape: a NumPy array (a tensor under ``create_graph``).

    A VJP may return an ndarray, a tensor or a number, of the input's shape, of a shape
    that sums back to it over broadcast axes (``unbroadcast``), or of any shape that
    broadcasts to the output's (then it is summed back the same way). Anything else is a
    bug in that VJP (a custom op's, typically): ``TypeError``/``ShapeError`` naming the op,
    the input position and what was returned.
    """
    if isinstance(c, Tensor):
        value = c._data
        if not create_graph:
            c = value
    elif type(c) is np.ndarray or isinstance(c, _NUMBERS):
        value = c = np.asarray(c)
        if create_graph:
            c = Tensor(value)
    else:
        raise TypeError(f"{_which(node, index)} returned {describe_value(c)}; a VJP must "
                        "return a NumPy array, a Tensor or a number")
    if value.dtype.kind not in "biufc":
        raise TypeError(f"{_which(node, index)} returned {describe_value(value)}")
    shape = node.parents[index].value.shape
    if value.shape == shape:
        return c
    if _sums_back(value.shape, shape):
        return unbroadcast(c, shape)
    out_shape = node.value.shape
    if _broadcasts(value.shape, out_shape) and _broadcasts(shape, out_shape):
        return unbroadcast(c + np.zeros(out_shape, dtype=value.dtype), shape)
    raise ShapeError(
        f"{_which(node, index)} returned a gradient of shape {value.shape}, which neither "
        f"sums back to the input's shape {shape} nor broadcasts to the output's shape "
        f"{out_shape}"
    )


def _which(node: Node, index: int) -> str:
    return (f"the VJP of op {node.op.name!r} for its input {index} "
            f"({node.parents[index].label!r})")


def _sums_back(shape: tuple, target: tuple) -> bool:
    """True if summing leading axes and size-1 axes of ``target`` turns ``shape`` into it."""
    if len(shape) < len(target):
        return False
    tail = shape[len(shape) - len(target):]
    return all(t == s or t == 1 for t, s in zip(target, tail, strict=True))


def _broadcasts(shape: tuple, target: tuple) -> bool:
    try:
        return np.broadcast_shapes(shape, target) == target
    except ValueError:
        return False
