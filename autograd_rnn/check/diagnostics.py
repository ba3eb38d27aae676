"""Warnings attached to gradient reports: reasons a check may be unreliable.

- float32/float16 inputs: central differences need float64 (round-off ~1e-7 / eps).
- eps badly chosen for the inputs' magnitude: too large (truncation error O(eps^2)),
  too small (round-off ~1e-16 / eps), or below ~1e-8 of the largest entry (x + eps loses
  the step's digits).
- kinks: the check point sits within ~eps of a relu / abs / max non-differentiability,
  where the two one-sided slopes differ, so a mismatch there may be spurious. Found either
  numerically (one-sided slopes, see ``numeric.py``) or by scanning the engine's graph.
- sizes that cannot reveal a class of bug (``size_warnings``): N = 1 hides batch bugs, T < 3
  hides carries and loop bounds, no repeated index hides ``dW[x] += dout``, a mask with one
  value hides a mask ignored in backward.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np

from autograd_rnn.core.backward import reachable
from autograd_rnn.core.tensor import Tensor

EPS_TOO_LARGE = 1e-3
EPS_TOO_SMALL = 1e-10
EPS_RELATIVE_FLOOR = 1e-8  # eps below this fraction of max|x| loses digits in x + eps
KINK_WINDOW = 2.0  # graph scan: |x| <= KINK_WINDOW * eps counts as "at the kink"


def dtype_warnings(named: Iterable[tuple[str, np.ndarray]]) -> list[str]:
    """One warning per floating-point input that is not float64."""
    out = []
    for name, x in named:
        dtype = np.asarray(x).dtype
        if dtype.kind == "f" and dtype != np.float64:
            out.append(f"{name} is {dtype}: finite differences are unreliable below float64 "
                       f"(round-off ~1e-7/eps); cast with .astype(np.float64)")
    return out


def eps_warnings(named: Iterable[tuple[str, np.ndarray]], eps: float) -> list[str]:
    """Warnings when ``eps`` is badly chosen in general or for an input's magnitude."""
    out = []
    if eps > EPS_TOO_LARGE:
        out.append(f"eps={eps:g} is large: central differences err by O(eps^2); use ~1e-6")
    elif eps < EPS_TOO_SMALL:
        out.append(f"eps={eps:g} is tiny: round-off (~1e-16/eps) swamps the difference; "
                   "use ~1e-6")
    for name, x in named:
        x = np.asarray(x)
        if x.dtype.kind != "f" or x.size == 0:
            continue
        scale = float(np.max(np.abs(x)))
        if np.isfinite(scale) and eps < EPS_RELATIVE_FLOOR * scale:
            out.append(f"{name} has entries up to {scale:.3g}: eps={eps:g} is below "
                       f"{EPS_RELATIVE_FLOOR:g} of that, so x + eps loses digits; "
                       f"use eps ~ {1e-6 * scale:.1g} or rescale the input")
    return out


def kink_warning(name: str, shape: tuple[int, ...], flat_indices: Sequence[int],
                 eps: float) -> str | None:
    """A warning naming where one-sided slopes disagreed (None when there are none)."""
    if len(flat_indices) == 0:
        return None
    shown = [tuple(int(k) for k in np.unravel_index(int(i), shape)) if shape else ()
             for i in list(flat_indices)[:3]]
    more = f" and {len(flat_indices) - 3} more" if len(flat_indices) > 3 else ""
    return (f"{name}: {len(flat_indices)} checked entr{'y' if len(flat_indices) == 1 else 'ies'}"
            f" within ~eps={eps:g} of a kink (relu/max/abs) at {', '.join(map(str, shown))}"
            f"{more}: one-sided slopes differ, so a mismatch there may be spurious")


def graph_kink_warnings(outputs: Sequence[Tensor], eps: float) -> list[str]:
    """Scan the graph behind ``outputs`` for relu / abs inputs within ~eps of 0 and max
    reductions whose two largest candidates are within ~eps of a tie."""
    counts: dict[str, int] = {}
    for node in reachable(list(outputs)):
        if node.op is None or not node.args:
            continue
        name = node.op.name
        if name not in ("relu", "abs", "max"):
            continue
        x = np.asarray(node.args[0])  # saved by these ops (a lean graph drops others)
        if name in ("relu", "abs"):
            n = int(np.sum(np.abs(x) <= KINK_WINDOW * eps))
        else:
            n = _near_ties(x, (node.params or {}).get("axis"), eps)
        if n:
            where = f"{name} in scope {node.scope!r}" if node.scope else name
            counts[where] = counts.get(where, 0) + n
    return [f"{n} input entr{'y' if n == 1 else 'ies'} of {where} within ~eps={eps:g} of a "
            "kink: a mismatch there may be spurious" for where, n in counts.items()]


def _near_ties(x: np.ndarray, axis, eps: float) -> int:
    if axis is None:
        x, axis = x.reshape(-1), 0
    elif isinstance(axis, (tuple, list)):
        k = len(axis)
        moved = np.moveaxis(x, list(axis), list(range(-k, 0)))
        x, axis = moved.reshape(moved.shape[: moved.ndim - k] + (-1,)), -1
    if x.ndim == 0 or x.shape[axis] < 2:
        return 0
    top = np.sort(x, axis=axis)
    gap = np.take(top, -1, axis=axis) - np.take(top, -2, axis=axis)
    return int(np.sum(gap <= 2 * KINK_WINDOW * eps))


def size_warnings(reference, names: Sequence[str], arrays: Sequence[np.ndarray]) -> list[str]:
    """Warnings for inputs of ``reference`` too small or too regular to reveal a bug class."""
    out = []
    first = np.asarray(arrays[0]) if len(arrays) else np.zeros(())
    if first.ndim >= 1 and first.shape[0] == 1:
        out.append("N = 1: a batch of one cannot reveal a 1/N factor, a sum over the batch or "
                   "a batch axis mix-up (use N >= 2)")
    recurrent = reference.sequence and "h0" in reference.inputs  # a loop over time
    if recurrent and first.ndim >= 2 and first.shape[1] < 3:
        T = first.shape[1]
        out.append(f"T = {T}: " + ("a single step cannot reveal a gradient not carried back "
                                   "in time" if T == 1 else "two steps cannot reveal a "
                                   "backward loop covering only the last two steps")
                   + " (use T >= 3)")
    for name, a in zip(names, arrays, strict=True):
        a = np.asarray(a)
        if a.dtype == np.bool_ and a.size and (a.all() or not a.any()):
            out.append(f"{name} is all {bool(a.flat[0])}: a mask ignored in backward cannot "
                       "show (use a mask density strictly between 0 and 1)")
        elif reference.name == "word_embedding" and name == reference.inputs[0] and \
                np.unique(a).size == a.size:
            out.append(f"no index of {name} repeats: dW[x] += dout (instead of np.add.at) "
                       "cannot show (use repeats >= 1)")
    return out
