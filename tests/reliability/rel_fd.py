"""Finite differences for the reliability tests, independent of ``ar.gradcheck``: the
function is evaluated under ``ar.no_grad()`` on perturbed float64 copies (the shared helper
in ``tests/core/fd_helpers``), with the reliability suite's own tolerances.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

import autograd_rnn as ar
from tests.core.fd_helpers import numeric_gradients

FD_EPS = 1e-6  # central-difference step in float64
FD_ATOL = 1e-5  # allowed |analytic - numeric| on top of FD_RTOL * |numeric|
FD_RTOL = 1e-4


def value(x):
    """The NumPy array behind a Tensor (or ``x`` itself)."""
    return x.data if isinstance(x, ar.Tensor) else np.asarray(x)


def central_differences(
    fn: Callable, arrays: Sequence[np.ndarray], v: np.ndarray, eps: float = FD_EPS
) -> list[np.ndarray]:
    """d/dx_k sum(fn(*arrays) * v) for every input, entry by entry (float64), with ``fn``
    called on constant tensors (the central differences of ``tests/core/fd_helpers``)."""
    return numeric_gradients(lambda *xs: fn(*[ar.tensor(x) for x in xs]), arrays, v, eps)


def engine_gradients(
    fn: Callable, arrays: Sequence[np.ndarray], v: np.ndarray, record: bool = True
) -> list[np.ndarray]:
    """The engine's d/dx_k sum(fn(*xs) * v) through ``loss.backward()`` into leaf ``.grad``."""
    xs = [ar.tensor(np.array(a, dtype=np.float64), requires_grad=True) for a in arrays]
    with ar.record_gradients(record):
        out = fn(*xs)
        (out * v).sum().backward()
    return [np.zeros_like(x.data) if x.grad is None else x.grad for x in xs]


def assert_gradients_match(
    fn: Callable,
    arrays: Sequence[np.ndarray],
    seed: int = 0,
    atol: float = FD_ATOL,
    rtol: float = FD_RTOL,
) -> None:
    """Engine gradients (recording on and off) equal central differences and have the
    inputs' shapes and dtype float64."""
    with ar.no_grad():
        out_shape = value(fn(*[ar.tensor(np.array(a, dtype=np.float64)) for a in arrays])).shape
    v = np.random.default_rng(seed).standard_normal(out_shape)
    numeric = central_differences(fn, arrays, v)
    for record in (True, False):
        analytic = engine_gradients(fn, arrays, v, record=record)
        for k, (a, n) in enumerate(zip(analytic, numeric, strict=True)):
            assert a.shape == np.shape(arrays[k]), (
                f"input {k}: gradient shape {a.shape} != input shape {np.shape(arrays[k])}"
            )
            assert a.dtype == np.float64, f"input {k}: gradient dtype {a.dtype}"
            np.testing.assert_allclose(
                a, n, atol=atol, rtol=rtol, err_msg=f"input {k} (record_gradients={record})"
            )
