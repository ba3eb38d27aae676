"""Hints for a wrong hand-written gradient: patterns typical of student bugs.

Given the user's gradient ``a`` and the expected one ``n`` (both full arrays, compared at the
checked flat ``entries``) and what is known of the inputs (``HintContext``: batch size N,
number of timesteps T of a batch-major sequence, boolean masks, index arrays, a scalar dout):

| pattern                                   | likely cause named                              |
| ----------------------------------------- | ----------------------------------------------- |
| all zeros                                 | gradient never written / accumulated            |
| a = c n, c = 1/dout (scalar dout)         | the upstream gradient dout is ignored           |
| a = c n, c = -1                           | sign error                                      |
| a = c n, c = 1/N, N, 1/T, T, 1/(NT), NT   | averaged / not averaged over batch, time, both  |
| a = c n, c = 1/2 or 2                     | a missing or extra 1/2                          |
| a = n summed over axis 0, repeated        | a sum over the batch where there is none        |
| a.T = n (square)                          | transposed product                              |
| wrong exactly where mask is False (True)  | the mask not applied in backward                |
| wrong exactly at rows of repeated indices | ``dW[x] += dout`` instead of ``np.add.at``      |
| right only at the last k timesteps        | gradient not carried back / loop stops early    |
| wrong only at t = 0                       | backward loop stops before the first step       |
| wrong at a few indices of one axis        | (localised: an off-by-one loop)                 |

``shape_hint`` explains a gradient of the wrong shape (transposed, another input's shape,
summed over the wrong axis). Hints that need the engine (gate order, a dout ignored among
several) live in ``causes.py``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

HINT_RTOL = 1e-4  # a pattern "holds" when its residual is below this fraction of |n|


@dataclass
class HintContext:
    """What is known of the inputs: N (batch, axis 0), T (time, axis 1 of batch-major
    sequences; None when the inputs are not such sequences), boolean masks and index arrays
    by name, and the upstream gradient when it is a scalar (a loss)."""

    N: int | None = None
    T: int | None = None
    masks: dict[str, np.ndarray] = field(default_factory=dict)
    indices: dict[str, np.ndarray] = field(default_factory=dict)
    dout: float | None = None


def _close(a: np.ndarray, b: np.ndarray, atol: float) -> bool:
    return bool(np.all(np.abs(a - b) <= atol + HINT_RTOL * np.abs(b)))


def gradient_hints(name: str, analytic, numeric, entries=None, *, atol: float = 1e-5,
                   rtol: float = 1e-4, context: HintContext | None = None) -> list[str]:
    """Hints (possibly none) explaining how ``analytic`` differs from ``numeric``."""
    ctx = context or HintContext()
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
        return [f"{label} is {ratio_text(c)} times the expected gradient" + factor_cause(c, ctx)]
    full = picked.size == a.size  # with sampling, unchecked entries would look "right"
    if not full:
        return []
    for pattern in (_batch_summed, _transposed, _masked, _repeated, _in_time):
        hint = pattern(label, a, n, bad.reshape(a.shape), ctx, atol)
        if hint:
            return [hint]
    return _localized(label, a.shape, picked[bad])


def ratio_text(c: float) -> str:
    for k in range(2, 65):
        if abs(c * k - 1) < 1e-6:
            return f"1/{k}"
    return f"{c:.6g}"


def _is(c: float, value: float) -> bool:
    return abs(c - value) < 1e-6 * max(1.0, abs(value))


def factor_cause(c: float, ctx: HintContext) -> str:
    """" (likely cause)" of a gradient c times the expected one ("" if none known)."""
    if ctx.dout is not None and ctx.dout != 0 and _is(c * ctx.dout, 1.0):
        return (f" (1/dout with dout = {ctx.dout:.4g}: the upstream gradient is ignored; "
                "multiply by dout)")
    if _is(c, -1.0):
        return " (a sign error?)"
    N, T = ctx.N, ctx.T
    named = []
    if N and N > 1:
        named.append((N, "N", "the batch size"))
    if T and T > 1 and T != N:
        named.append((T, "T", "the number of timesteps"))
    if N and T and N * T > 1:
        named.append((N * T, "N*T", "the number of positions"))
    for k, symbol, what in named:
        if _is(c, 1 / k):
            return (f" (divided by {symbol} = {k}, {what}: averaged where the expected "
                    "gradient sums?)")
        if _is(c, k):
            return f" ({symbol} = {k} times too large: a division by {what} missing?)"
    if _is(c, 2.0) or _is(c, 0.5):
        return (" (a missing or extra factor 1/2, e.g. of 0.5 * x**2, or the 2 of "
                "d(x**2)/dx = 2x?)")
    inv = 1 / c if c else 0
    if abs(inv - round(inv)) < 1e-6 and round(inv) > 1:
        return f" (divided by {round(inv)}: averaged instead of summed over the batch?)"
    if abs(c - round(c)) < 1e-6 and round(c) > 1:
        return f" (a factor {round(c)} too large: counted {round(c)} times?)"
    return ""


def _batch_summed(label, a, n, bad, ctx, atol) -> str | None:
    if not ctx.N or ctx.N < 2 or a.ndim < 2 or a.shape[0] != ctx.N:
        return None
    if _close(a, np.broadcast_to(n.sum(axis=0, keepdims=True), n.shape), atol):
        return (f"{label} is the expected gradient summed over the batch (axis 0, N = {ctx.N}) "
                "and repeated for every sample: only gradients of shared weights sum over "
                "the batch")
    return None


def _transposed(label, a, n, bad, ctx, atol) -> str | None:
    if a.ndim == 2 and a.shape[0] == a.shape[1] and _close(a.T, n, atol):
        return f"{label} is the transpose of the expected gradient"
    return None


def _masked(label, a, n, bad, ctx, atol) -> str | None:
    for name, mask in ctx.masks.items():
        if mask.ndim == 0 or a.shape[:mask.ndim] != mask.shape or mask.all() or not mask.any():
            continue
        wrong = bad.reshape(mask.shape + (-1,)).any(axis=-1)
        if np.array_equal(wrong, ~mask):
            return (f"{label} is wrong exactly where {name} is False: the entries {name} "
                    f"excludes must get zero gradient (multiply by {name} in backward too)")
        if np.array_equal(wrong, mask):
            return f"{label} is wrong exactly where {name} is True"
    return None


def _repeated(label, a, n, bad, ctx, atol) -> str | None:
    for name, idx in ctx.indices.items():
        if a.ndim != 2 or idx.size == 0 or idx.min() < 0 or idx.max() >= a.shape[0]:
            continue
        values, counts = np.unique(idx, return_counts=True)
        repeated = set(values[counts > 1].tolist())
        rows = set(np.nonzero(bad.any(axis=1))[0].tolist())
        if rows and rows <= repeated:
            shown = ", ".join(map(str, sorted(rows)))
            return (f"{label} is wrong exactly at rows {shown}, the indices that occur more "
                    f"than once in {name}: {label}[{name}] += dout keeps one update per index; "
                    f"accumulate with np.add.at({label}, {name}, dout)")
    return None


def _in_time(label, a, n, bad, ctx, atol) -> str | None:
    T = ctx.T
    if not T or T < 2 or a.ndim < 3 or a.shape[1] != T:
        return None
    steps = np.nonzero(bad.reshape(a.shape[0], T, -1).any(axis=(0, 2)))[0].tolist()
    if steps == list(range(T - 1)):
        return (f"{label} is right only at the last timestep t = {T - 1}: the gradient coming "
                "back from later steps (dprev_h) is not added to each step's upstream gradient")
    if steps == [0]:
        return (f"{label} is wrong only at the first timestep t = 0: the backward loop stops "
                "before it (e.g. range(T - 1, 0, -1))")
    k = T - 1 - steps[-1] if steps else 0
    if steps and steps == list(range(T - k)) and k >= 2:
        return (f"{label} is right only at the last {k} timesteps: the backward loop does not "
                f"reach the earlier {T - k}")
    return None


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


def shape_hint(name: str, got: tuple, shapes: dict[str, tuple], order: list[str]) -> str:
    """Why d``name`` may have shape ``got`` instead of ``shapes[name]`` ("" if no idea);
    ``order`` is the order the gradients must be returned in."""
    want = tuple(shapes[name])
    got = tuple(got)
    N = next(iter(shapes.values()))[0] if shapes and next(iter(shapes.values())) else None
    if N and got == (N,) + want:
        return ": not summed over the batch (axis 0)"
    others = [m for m in order if m != name and tuple(shapes[m]) == got]
    if others:
        return (f": {got} is the shape of {', '.join(others)}; are the gradients returned in "
                f"the order {', '.join('d' + m for m in order)}?")
    if len(want) == 2 and got == want[::-1]:
        return f": {name}'s shape transposed (swap the factors of the product, or transpose)"
    if N and N > 1 and got == (1,) + want[1:]:
        return (": one row where there should be one per sample: summed over the batch "
                "(keepdims=True)?")
    if N and len(want) == 1 and got == (N,):
        return f": ({N},) is the batch size N: summed over the wrong axis? sum over axis 0"
    if int(np.prod(got)) == int(np.prod(want)):
        return f": the right number of entries: reshape to {want}"
    return ""
