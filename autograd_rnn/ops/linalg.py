"""Matrix product with NumPy's ``matmul`` semantics: 1-D, 2-D and batched (broadcast).

Shapes: (n, k) @ (k, m) -> (n, m); (k,) @ (k, m) -> (m,); (n, k) @ (k,) -> (n,);
(..., n, k) @ (..., k, m) -> (..., n, m) with the batch dimensions broadcast.
"""

from __future__ import annotations

import numpy as np

from autograd_rnn.core.primitive import primitive


def _swap_last(x):
    """Transpose the last two axes (``x.T`` for matrices)."""
    if x.ndim == 2:
        return x.T
    axes = tuple(range(x.ndim - 2)) + (x.ndim - 1, x.ndim - 2)
    return x.transpose(axes)


def _as_row(g):
    """(..., m) -> (..., 1, m)."""
    return g.reshape(g.shape[:-1] + (1, g.shape[-1]))


matmul = primitive(np.matmul, name="matmul", doc="a @ b.")  # (the ufunc itself: ops/elementwise.py)
matmul.defsource(lambda a, b: a @ b)


def _matmul_vjp_a(g, out, a, b):
    # d(a @ b)/da applied to g is g @ b^T, with vectors promoted to matrices
    if a.ndim == 1 and b.ndim == 1:
        return g * b
    if b.ndim == 1:  # (..., n, k) @ (k,): g (..., n) -> outer product with b
        return g.reshape(g.shape + (1,)) * b
    if a.ndim == 1:  # (k,) @ (..., k, m): g (..., m) -> (..., k), summed over batch later
        prod = _as_row(g) @ _swap_last(b)
        return prod.reshape(prod.shape[:-2] + (prod.shape[-1],))
    return g @ _swap_last(b)


def _matmul_vjp_b(g, out, a, b):
    # d(a @ b)/db applied to g is a^T @ g, with vectors promoted to matrices
    if a.ndim == 1 and b.ndim == 1:
        return g * a
    if a.ndim == 1:  # (k,) @ (..., k, m): outer product of a with g
        return a.reshape((a.shape[0], 1)) * _as_row(g)
    if b.ndim == 1:  # (..., n, k) @ (k,): g (..., n) -> (..., k)
        prod = _as_row(g) @ a
        return prod.reshape(prod.shape[:-2] + (prod.shape[-1],))
    return _swap_last(a) @ g


matmul.defvjp(_matmul_vjp_a, _matmul_vjp_b, saves=(0, 1))


@matmul.defvjp_outer(1)
def _matmul_factors_b(g, out, a, b):
    # a^T g for 2-D a: the uses of a weight over all timesteps sum as one stacked a^T g
    return (a, g) if a.ndim == 2 and g.ndim == 2 else None
