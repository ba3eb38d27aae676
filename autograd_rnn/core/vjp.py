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
    try:
        if op.vjps is None:  # a variadic op: one call gives every input's gradient
            raw = _call_vjp_all(node, g, out, args)
        else:  # one call per input that needs a gradient (loops, not comprehensions: hot)
            raw = []
            vjps, params = op.vjps, node.params
            for i in range(len(parents)):
                p = parents[i]
                vjp = vjps[i] if i < len(vjps) else None
                if vjp is None or p is None or not p.requires_grad or i in skip:
                    raw.append(None)
                else:
                    raw.append(vjp(g, out, *args, **params) if params else vjp(g, out, *args))
    except DroppedValueError as error:
        raise DroppedValueError(f"op {op.name!r}: {error}") from None
    for i in range(len(raw)):
        c = raw[i]
        if c is None:
            continue
        p = parents[i]
        if p is None or not p.requires_grad or i in skip:
            raw[i] = None
        elif (create_graph or type(c) is not np.ndarray or c.dtype.type not in FLOAT_TYPES
              or c.shape != p.value.shape):  # (else an array of the input's shape: as it is)
            raw[i] = fit_gradient(node, i, c, create_graph)
    return raw


def _call_vjp_all(node: Node, g, out, args: tuple) -> list:
    op, count = node.op, len(node.parents)
    raw = op.vjp_all(g, out, *args, **(node.params or {}))
    if not isinstance(raw, (tuple, list)) or len(raw) != count:
        raise TypeError(
            f"the VJP of op {op.name!r} must return one gradient per input ({count}), got "
            f"{describe_value(raw)}"
        )
    return list(raw)


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
