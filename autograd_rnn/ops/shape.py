"""Shape and indexing primitives: reshape, transpose, broadcast_to, getitem, scatter_add,
stack, concat. None of them changes values, only where they sit."""

from __future__ import annotations

import numpy as np

from autograd_rnn.core.primitive import primitive


@primitive
def reshape(x, *, shape):
    """x with a new ``shape`` of the same size."""
    return np.reshape(x, shape)


reshape.defsource(lambda x, *, shape: x.reshape(shape))
reshape.defvjp(lambda g, out, x, *, shape: g.reshape(np.shape(x)), saves=())  # undo it


@primitive
def transpose(x, *, axes):
    """Permute the axes of x: output axis i is input axis ``axes[i]``."""
    return np.transpose(x, axes)


transpose.defsource(lambda x, *, axes: x.transpose(axes))
transpose.defvjp(  # the inverse permutation (axes may be negative: normalise first)
    lambda g, out, x, *, axes: g.transpose(tuple(np.argsort([a % len(axes) for a in axes]))),
    saves=(),
)


@primitive
def broadcast_to(x, *, shape):
    """x repeated along broadcast axes to ``shape`` (a read-only view for arrays)."""
    return np.broadcast_to(x, shape)


broadcast_to.defsource(lambda x, *, shape: np.broadcast_to(x, shape))
broadcast_to.defvjp(lambda g, out, x, *, shape: g, saves=())  # engine sums back to x


def is_basic(index) -> bool:
    """True for basic indexing (ints, slices, None, Ellipsis): no repeated positions.
    Runs once per slice in backward: the common x[:, a:b] is decided by type alone."""
    parts = index if type(index) is tuple else (index,)
    for p in parts:
        kind = type(p)
        if kind is slice or kind is int or p is None or p is Ellipsis:
            continue
        if not isinstance(p, (int, np.integer, slice)):
            return False
    return True


@primitive
def getitem(x, *, index):
    """x[index], basic (ints, slices, None, ...) or integer/boolean-array indexing."""
    return x[index]


getitem.defsource(lambda x, *, index: x[index])
getitem.defvjp(
    lambda g, out, x, *, index: scatter_add(g, index=index, shape=np.shape(x)),  # put g back
    saves=(),
)


@getitem.defvjp_inplace(0)
def _getitem_add_into(acc, g, out, x, *, index):
    # the same scatter, straight into the running gradient of x (no zero array per slice);
    # repeated positions add up (np.add.at, slow: only when the index can repeat)
    if is_basic(index):
        acc[index] += g
    else:
        np.add.at(acc, index, g)


def _scatter_add_source(g, *, index, shape):
    out = np.zeros_like(g, shape=shape)
    np.add.at(out, index, g)  # (repeated positions add up)
    return out


@primitive
def scatter_add(g, *, index, shape):
    """A zero array of ``shape`` with g added at ``index`` (repeated indices add up)."""
    out = np.zeros(shape, dtype=np.result_type(g, np.float16))
    _getitem_add_into(out, g, None, None, index=index)  # getitem's in-place VJP, into zeros
    return out


scatter_add.defsource(_scatter_add_source)
scatter_add.defvjp(lambda g, out, x, *, index, shape: getitem(g, index=index), saves=())


def _along(axis: int, i) -> tuple:
    return (slice(None),) * axis + (i,)


@primitive(saves=())
def stack(*xs, axis=0):
    """Join equal-shaped arrays along a new ``axis``."""
    return np.stack(xs, axis=axis)


stack.defsource(lambda *xs, axis: np.stack(xs, axis=axis))


@stack.defvjp_all
def stack_vjp(g, out, *xs, axis=0):
    # each input receives its slice of g along the new axis
    axis = axis % out.ndim
    return tuple(g[_along(axis, i)] for i in range(len(xs)))


@primitive(saves=())
def concat(*xs, axis=0):
    """Join arrays along an existing ``axis``."""
    return np.concatenate(xs, axis=axis)


concat.defsource(lambda *xs, axis: np.concatenate(xs, axis=axis))


@concat.defvjp_all
def concat_vjp(g, out, *xs, axis=0):
    # each input receives the block of g it occupied
    axis = axis % out.ndim
    bounds = np.cumsum([0] + [np.shape(x)[axis] for x in xs])
    spans = zip(bounds[:-1], bounds[1:], strict=True)
    return tuple(g[_along(axis, slice(lo, hi))] for lo, hi in spans)
