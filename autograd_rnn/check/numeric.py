"""Numerical gradients of plain NumPy functions and the safe relative error.

Central differences: for each checked entry i of ``x``,

    g_i ~ (s(x + eps e_i) - s(x - eps e_i)) / (2 eps),   error O(eps^2),

where ``s`` is ``f(x)`` itself when it is a scalar, else ``sum(f(x) * upstream)`` (the
vector-Jacobian product a backward pass computes). ``x`` is perturbed in place and restored,
as in the classic coursework helpers ``eval_numerical_gradient(_array)``.

The unperturbed value ``s(x)`` is evaluated once so both one-sided slopes are known for free;
when they disagree by far more than smooth curvature allows, the entry sits within ``eps`` of
a kink (relu, max, abs) and a mismatch there may be spurious: ``NumericalGradient.kinks``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from autograd_rnn.check.gradcheck import _compare
from autograd_rnn.check.report import GradientComparison

TINY = 1e-300  # floor of the relative-error denominator (both zero -> error 0)
KINK_FACTOR = 1e3  # one-sided slopes differing by > KINK_FACTOR * eps * (1 + |g|) -> kink


def rel_errors(a, b, tiny: float = TINY) -> np.ndarray:
    """Elementwise |a - b| / max(|a|, |b|, tiny); 0 where a == b (including both zero)."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    diff = np.abs(a - b)
    err = diff / np.maximum(np.maximum(np.abs(a), np.abs(b)), tiny)
    return np.where(diff == 0, 0.0, err)


def rel_error(a, b, tiny: float = TINY) -> float:
    """Max over entries of |a - b| / max(|a|, |b|, tiny): the safe relative error.

    >>> rel_error(1.0, 1.0 + 1e-9) < 1e-8
    True
    >>> rel_error(0.0, 0.0)
    0.0
    """
    a, b = np.broadcast_arrays(np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64))
    if a.size == 0:
        return 0.0
    return float(np.max(rel_errors(a, b, tiny)))


def sample_entries(size: int, max_entries: int | None, rng: np.random.Generator) -> np.ndarray:
    """Flat indices to check: all of ``range(size)``, or ``max_entries`` distinct random ones
    (sorted) when the array is larger."""
    if max_entries is None or size <= max_entries:
        return np.arange(size)
    return np.sort(rng.choice(size, size=max_entries, replace=False))


@dataclass
class NumericalGradient:
    """Central-difference gradient of one input.

    grad: float64 array of x's shape (zeros at unchecked entries); entries: checked flat
    indices; kinks: flat indices whose one-sided slopes disagree (a kink within eps)."""

    grad: np.ndarray
    entries: np.ndarray
    kinks: np.ndarray


def _projector(f: Callable, upstream) -> Callable[[np.ndarray], float]:
    def s(x) -> float:
        value = np.asarray(f(x), dtype=np.float64)
        if upstream is None:
            if value.size != 1:
                raise ValueError(
                    f"f returned an array of shape {value.shape}: pass upstream= (an array of "
                    "that shape) to differentiate sum(f(x) * upstream)"
                )
            return float(value.reshape(()))
        if value.shape != np.shape(upstream):
            raise ValueError(f"f returned shape {value.shape} but upstream has shape "
                             f"{np.shape(upstream)}")
        return float(np.sum(value * upstream))

    return s


def numerical_gradient_details(
    f: Callable[[np.ndarray], object],
    x: np.ndarray,
    upstream=None,
    *,
    eps: float = 1e-6,
    entries: Sequence[int] | np.ndarray | None = None,
    max_entries: int | None = None,
    seed: int = 0,
) -> NumericalGradient:
    """Central differences of ``f`` at ``x`` with kink detection (see the module docstring).

    Args:
        f: called as ``f(x)`` with ``x`` perturbed in place; returns a scalar, or an array of
            ``upstream``'s shape.
        x: a writable floating-point NumPy array (restored exactly afterwards).
        upstream: the gradient flowing into f's output (needed when f returns an array).
        eps: the step; ~1e-6 in float64.
        entries: flat indices to check (default: all, or ``max_entries`` random ones
            drawn with ``seed`` for large arrays).
    """
    if not isinstance(x, np.ndarray) or x.dtype.kind != "f":
        raise TypeError(f"x must be a floating-point NumPy array, got "
                        f"{getattr(x, 'dtype', type(x).__name__)}")
    flat = x.reshape(-1)
    if not np.shares_memory(flat, x) and x.size > 0:
        raise ValueError("x must be a contiguous array (it is perturbed in place)")
    s = _projector(f, upstream)
    if entries is None:
        picked = sample_entries(x.size, max_entries, np.random.default_rng(seed))
    else:
        picked = np.asarray(entries, dtype=np.int64)
    base = s(x) if picked.size else 0.0
    plus, minus = probe_values(s, x, picked, eps)
    grad, kinks = central_differences(x.shape, picked, plus, minus, base, eps)
    return NumericalGradient(grad, picked, kinks)


def probe_values(s: Callable[[np.ndarray], float], x: np.ndarray, entries: np.ndarray,
                 eps: float) -> tuple[np.ndarray, np.ndarray]:
    """s(x + eps e_j) and s(x - eps e_j) for each flat index j in ``entries``, perturbing the
    contiguous array ``x`` in place and restoring it exactly."""
    flat = x.reshape(-1)
    plus = np.zeros(len(entries), dtype=np.float64)
    minus = np.zeros(len(entries), dtype=np.float64)
    for k, j in enumerate(entries):
        original = flat[j]
        try:
            flat[j] = original + eps
            plus[k] = s(x)
            flat[j] = original - eps
            minus[k] = s(x)
        finally:
            flat[j] = original
    return plus, minus


def central_differences(shape, entries, plus, minus, base: float, eps: float
                        ) -> tuple[np.ndarray, np.ndarray]:
    """(grad of ``shape``, zeros at unchecked entries; flat indices at a kink) from the probed
    values s(x +- eps e_j) and s(x): g_j = (plus_j - minus_j) / (2 eps), and a kink where the
    one-sided slopes (plus - base) / eps and (base - minus) / eps disagree."""
    entries = np.asarray(entries, dtype=np.int64)
    plus = np.asarray(plus, dtype=np.float64)
    minus = np.asarray(minus, dtype=np.float64)
    grad = np.zeros(shape, dtype=np.float64)
    g = (plus - minus) / (2 * eps)
    grad.reshape(-1)[entries] = g
    forward, backward = (plus - base) / eps, (base - minus) / eps
    at_kink = np.abs(forward - backward) > KINK_FACTOR * eps * (1.0 + np.abs(g))
    return grad, entries[at_kink]


def numerical_gradient(
    f: Callable[[np.ndarray], object],
    x: np.ndarray,
    upstream=None,
    *,
    eps: float = 1e-6,
    entries: Sequence[int] | np.ndarray | None = None,
    max_entries: int | None = None,
    seed: int = 0,
) -> np.ndarray:
    """d s / d x by central differences, s = f(x) (scalar) or sum(f(x) * upstream).

    Checks every entry, the flat indices ``entries``, or ``max_entries`` random ones.
    Returns a float64 array of ``x``'s shape (zeros at entries not checked).

    >>> import numpy as np
    >>> x = np.array([1.0, 2.0])
    >>> np.allclose(numerical_gradient(lambda x: np.sum(x ** 2), x), [2.0, 4.0])
    True
    """
    return numerical_gradient_details(f, x, upstream, eps=eps, entries=entries,
                                      max_entries=max_entries, seed=seed).grad


def compare_gradient(
    name: str,
    analytic,
    numeric: np.ndarray,
    entries: np.ndarray | None = None,
    *,
    atol: float = 1e-5,
    rtol: float = 1e-4,
) -> GradientComparison:
    """Compare an analytic gradient with a numeric one at flat ``entries`` (default all).

    An entry passes when |analytic - numeric| <= atol + rtol * |numeric|; the comparison
    reports max abs / safe relative error and the worst entry's index and values."""
    analytic = np.asarray(analytic, dtype=np.float64)
    numeric = np.asarray(numeric, dtype=np.float64)
    if analytic.shape != numeric.shape:
        raise ValueError(f"{name}: analytic gradient has shape {analytic.shape} but the "
                         f"numeric one has shape {numeric.shape}")
    picked = np.arange(numeric.size) if entries is None else np.asarray(entries, dtype=np.int64)
    return _compare(name, numeric.shape, analytic.reshape(-1), numeric.reshape(-1), picked,
                    atol, rtol)
