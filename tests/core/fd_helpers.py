"""Independent finite-difference helpers for the engine tests.

Deliberately separate from ``ar.gradcheck``: the function is evaluated on plain NumPy
arrays (a primitive called on arrays returns an array, no graph), perturbed on copies,
so a bug in gradcheck cannot hide a bug in a VJP.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

import autograd_rnn as ar

FD_EPS = 1e-6  # central-difference step (float64)
FD_ATOL = 1e-6  # |analytic - numeric| allowed on top of FD_RTOL * |numeric|
FD_RTOL = 1e-5


def _value(x):
    return x.data if isinstance(x, ar.Tensor) else x


def numeric_gradients(
    fn: Callable, arrays: Sequence[np.ndarray], v: np.ndarray, eps: float = FD_EPS
) -> list[np.ndarray]:
    """d/dx_k of sum(fn(*arrays) * v) by central differences, for every array (float64)."""
    arrays = [np.array(a, dtype=np.float64) for a in arrays]

    def scalar(values) -> float:
        with ar.no_grad():
            return float(np.sum(np.asarray(_value(fn(*values))) * v))

    grads = []
    for k, a in enumerate(arrays):
        g = np.zeros_like(a)
        for idx in np.ndindex(a.shape):
            plus = [x.copy() for x in arrays]
            minus = [x.copy() for x in arrays]
            plus[k][idx] += eps
            minus[k][idx] -= eps
            g[idx] = (scalar(plus) - scalar(minus)) / (2 * eps)
        grads.append(g)
    return grads


def analytic_gradients(fn: Callable, arrays: Sequence[np.ndarray], v: np.ndarray):
    """The engine's d/dx_k of sum(fn(*xs) * v) via ``ar.grad`` on float64 leaves."""
    xs = [ar.tensor(np.array(a, dtype=np.float64), requires_grad=True) for a in arrays]
    out = fn(*xs)
    return [g.data for g in ar.grad(out, xs, grad_outputs=v)]


def output_shape(fn: Callable, arrays: Sequence[np.ndarray]) -> tuple[int, ...]:
    with ar.no_grad():
        return np.shape(_value(fn(*[np.array(a, dtype=np.float64) for a in arrays])))


def assert_matches_finite_differences(
    fn: Callable, arrays: Sequence[np.ndarray], seed: int = 0, atol: float = FD_ATOL,
    rtol: float = FD_RTOL,
) -> None:
    """Engine gradients of ``fn`` equal central differences, and have the inputs' shapes."""
    rng = np.random.default_rng(seed)
    v = rng.standard_normal(output_shape(fn, arrays))
    analytic = analytic_gradients(fn, arrays, v)
    numeric = numeric_gradients(fn, arrays, v)
    for k, (a, n, x) in enumerate(zip(analytic, numeric, arrays, strict=True)):
        assert a.shape == np.shape(x), f"input {k}: grad shape {a.shape} != {np.shape(x)}"
        np.testing.assert_allclose(a, n, atol=atol, rtol=rtol, err_msg=f"input {k}")
