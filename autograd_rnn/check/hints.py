"""Hints for a wrong hand-written gradient: patterns typical of student bugs.

Given the user's gradient ``a`` and the expected one ``n`` (both full arrays, compared at
the checked flat ``entries``):

- all zeros: the gradient was never written (or never accumulated);
- a constant multiple, a = c n: c = 1/N suggests averaging instead of summing over the
  batch, c = -1 a flipped sign, c = 0.5 or 2 a missing / extra factor;
- transposed: a.T = n for a square matrix (e.g. ``prev_h.T @ da`` vs ``da.T @ prev_h``);
- localized: the mismatches all sit at a few indices of one axis (e.g. one timestep of a
  batch-major sequence: an off-by-one loop, or the gradient not carried back in time).
"""

from __future__ import annotations

import numpy as np

HINT_RTOL = 1e-4  # a pattern "holds" when its residual is below this fraction of |n|


def _close(a: np.ndarray, b: np.ndarray, atol: float) -> bool:
    return bool(np.all(np.abs(a - b) <= atol + HINT_RTOL * np.abs(b)))


def gradient_hints(name: str, analytic, numeric, entries=None, *, atol: float = 1e-5,
                   rtol: float = 1e-4) -> list[str]:
    """Hints (possibly none) explaining how ``analytic`` differs from ``numeric``."""
    a = np.asarray(analytic, dtype=np.float64)
    n = np.asarray(numeric, dtype=np.float64)
    picked = np.arange(n.size) if entries is None else np.asarray(entries, dtype=np.int64)
    av, nv = a.reshape(-1)[picked], n.reshape(-1)[picked]
    bad = np.abs(av - nv) > atol + rtol * np.abs(nv)
    if not bad.any() or not np.any(nv):
        return []
    label = f"d{name}"
    if not np.any(av):
        return [f"{label} is all zeros but the expected gradient is not"]
    c = float(av @ nv / (nv @ nv))
    if _close(av, c * nv, atol):
        return [f"{label} is {_ratio(c)} times the expected gradient" + _why(c, a.shape)]
    hints = []
    if a.ndim == 2 and a.shape[0] == a.shape[1] and picked.size == a.size and _close(a.T, n, atol):
        hints.append(f"{label} is the transpose of the expected gradient")
    if picked.size == a.size:  # with sampling, unchecked indices would look "right"
        hints.extend(_localized(label, a.shape, picked[bad]))
    return hints


def _ratio(c: float) -> str:
    for k in range(2, 65):
        if abs(c * k - 1) < 1e-6:
            return f"1/{k}"
    return f"{c:.6g}"


def _why(c: float, shape) -> str:
    if abs(c + 1) < 1e-6:
        return " (a sign error?)"
    inv = 1 / c if c else 0
    if abs(inv - round(inv)) < 1e-6 and round(inv) > 1:
        return f" (divided by {round(inv)}: averaged instead of summed over the batch?)"
    if abs(c - round(c)) < 1e-6 and round(c) > 1:
        return f" (a factor {round(c)} too large: counted {round(c)} times?)"
    return ""


def _localized(label: str, shape, bad_flat: np.ndarray) -> list[str]:
    if len(shape) < 2 or bad_flat.size == 0:
        return []
    coords = np.unravel_index(bad_flat, shape)
    for axis, size in enumerate(shape):
        wrong = np.unique(coords[axis])
        if size > 1 and wrong.size < size:
            where = ", ".join(map(str, wrong[:6])) + (" ..." if wrong.size > 6 else "")
            return [f"{label} is wrong only at index {where} of axis {axis} (size {size})"
                    + (": for (N, T, ...) sequences axis 1 is time" if axis == 1
                       and len(shape) >= 3 else "")]
    return []
