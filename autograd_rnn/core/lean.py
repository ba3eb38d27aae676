"""Lean graph nodes: an op's output split into the tensor the caller gets and a graph node
that keeps only what the op's VJPs need (``ar.lean_graph()``; PyTorch's saved tensors).

A primitive declares what its VJPs read with ``saves``: input positions and/or ``"out"``
(``tanh``: ``("out",)``, ``matmul``: ``(0, 1)``, ``add``: ``()``; ``None``, the default for
custom ops, keeps everything). In a lean graph every other value is replaced by a
*placeholder*: a read-only array of the right shape and dtype whose single element is NaN,
broadcast with zero strides, so it costs no memory, shape-only code (``np.shape(x)``,
``unbroadcast``) works unchanged, and a VJP that reads a value it did not declare produces
NaN instead of a plausible wrong gradient (tests/core/test_lean.py checks every built-in
declaration that way).

The caller's tensor holds the value and points to its graph node (``tensor.node``); later
ops take that node as their parent, so the graph never references the caller's tensor and
its value is freed when the caller drops it, unless a VJP saved it.
"""

from __future__ import annotations

import numpy as np

from autograd_rnn.core.state import STATE
from autograd_rnn.core.tensor import Tensor, _ids

_PLACEHOLDERS: dict = {}
_MAX_CACHED = 4096
_new = object.__new__


class DroppedInputs:
    """The input positions a lean node drops: every one not in ``kept``."""

    __slots__ = ("kept", "by_count")

    def __init__(self, kept: frozenset) -> None:
        self.kept = kept
        self.by_count: dict[int, tuple | None] = {}

    def flags(self, n: int) -> tuple | None:
        """For an op called with ``n`` inputs: a drop flag per input, ``None`` if none."""
        found = self.by_count.get(n, False)
        if found is False:
            flags = tuple(i not in self.kept for i in range(n))
            found = self.by_count[n] = flags if any(flags) else None
        return found


def placeholder(value):
    """A zero-memory stand-in for ``value`` (an ndarray): same shape and dtype, all NaN
    (0 for non-float dtypes), read-only. Anything that is not an ndarray is kept as is
    (Python numbers, NumPy scalars: they cost nothing)."""
    if type(value) is not np.ndarray:
        return value
    key = (value.shape, value.dtype)
    found = _PLACEHOLDERS.get(key)
    if found is None:
        if len(_PLACEHOLDERS) >= _MAX_CACHED:
            _PLACEHOLDERS.clear()
        fill = np.full((), np.nan if value.dtype.kind in "fc" else 0, dtype=value.dtype)
        found = np.lib.stride_tricks.as_strided(
            fill, shape=value.shape, strides=(0,) * value.ndim, writeable=False
        )
        _PLACEHOLDERS[key] = found
    return found


def is_placeholder(value) -> bool:
    """True for a value dropped from a lean graph node (also one made before the cache of
    placeholders was last cleared: read-only, zero strides, one NaN (or 0) repeated)."""
    if type(value) is not np.ndarray:
        return False
    if _PLACEHOLDERS.get((value.shape, value.dtype)) is value:
        return True
    if value.size < 2 or any(value.strides) or value.flags.writeable:
        return False
    first = value.flat[0]
    return bool(np.isnan(first)) if value.dtype.kind in "fc" else first == 0


def lean_output(prim, data, parents: tuple, values: tuple, params) -> Tensor:
    """The caller's tensor for ``prim``'s output ``data`` and, behind it, its lean node.

    A dropped input becomes its parent node's own value (whatever that node keeps: no
    extra memory either way, and no placeholder to build) or, for a constant, a
    placeholder. Runs once per op: written for speed (both objects built inline).
    """
    dropped = prim.dropped_inputs
    if dropped is None:  # nothing declared: keep everything (custom ops)
        args = values
        kept = data
    else:
        if dropped is True:
            n = len(values)
            if n == 1:
                args = (parents[0].data,)
            elif n == 2:
                pa, pb = parents
                args = (placeholder(values[0]) if pa is None else pa.data,
                        placeholder(values[1]) if pb is None else pb.data)
            else:
                args = tuple([
                    placeholder(v) if p is None else p.data
                    for p, v in zip(parents, values, strict=True)
                ])
        else:
            flags = dropped.flags(len(values))
            if flags is None:
                args = values
            else:
                args = tuple([
                    v if not f else placeholder(v) if p is None else p.data
                    for p, v, f in zip(parents, values, flags, strict=True)
                ])
        if prim.saves_out or type(data) is not np.ndarray:
            kept = data
        else:
            kept = _PLACEHOLDERS.get((data.shape, data.dtype))
            if kept is None:
                kept = placeholder(data)
    scope = STATE.scope
    ident = next(_ids)
    node = _new(Tensor)
    node.data = kept
    node.grad = node.grad_tensor = node._name = node.edge_grads = None
    node.detached_from = node.node = None
    node.requires_grad = True
    node.op = prim
    node.parents = parents
    node.args = args
    node.params = params
    node.id = ident
    node.scope = scope
    out = _new(Tensor)
    out.data = data
    out.grad = out.grad_tensor = out._name = out.edge_grads = out.detached_from = None
    out.requires_grad = True
    out.op = prim
    out.parents = parents
    out.args = args
    out.params = params
    out.id = ident
    out.scope = scope
    out.node = node
    return out
