"""Numerical gradient checks of the engine: ``gradcheck`` and ``gradgradcheck``.

The function under test is projected on a fixed random upstream gradient ``v``
(s = sum(f(x) * v)), and ds/dx from the engine is compared entry by entry with central
differences (s(x + eps e_i) - s(x - eps e_i)) / (2 eps).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from autograd_rnn.check.diagnostics import eps_warnings, graph_kink_warnings
from autograd_rnn.check.report import GradcheckReport, GradientComparison
from autograd_rnn.core.engine import grad
from autograd_rnn.core.state import no_grad
from autograd_rnn.core.tensor import Tensor
from autograd_rnn.ops import concat


def _as_inputs(inputs) -> list[Tensor]:
    if isinstance(inputs, (Tensor, np.ndarray)):
        inputs = [inputs]
    result = []
    for x in inputs:
        if isinstance(x, Tensor):
            result.append(x)
        else:
            result.append(Tensor(x, requires_grad=np.asarray(x).dtype.kind == "f"))
    return result


def _call(fn, xs) -> Tensor:
    out = fn(*xs)
    if not isinstance(out, Tensor):
        raise TypeError(f"the checked function must return a Tensor, got {type(out).__name__}")
    return out


def _entries(size: int, max_entries: int | None, rng) -> np.ndarray:
    if max_entries is None or size <= max_entries:
        return np.arange(size)
    return np.sort(rng.choice(size, size=max_entries, replace=False))


def check_settings(eps: float, atol: float, rtol: float) -> None:
    """Raise ValueError unless eps is a positive finite step and atol, rtol are >= 0 (a zero
    eps divides by zero; a negative tolerance fails every entry, even exact ones)."""
    if not (np.isfinite(eps) and eps > 0):
        raise ValueError(f"eps must be a positive finite step (e.g. 1e-6), got {eps!r}")
    for name, value in (("atol", atol), ("rtol", rtol)):
        if not value >= 0:  # also catches NaN
            raise ValueError(f"{name} must be >= 0, got {value!r}")


def gradcheck(
    fn: Callable[..., Tensor],
    inputs: Sequence,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-4,
    *,
    seed: int = 0,
    max_entries: int | None = None,
    names: Sequence[str] | None = None,
    _numeric_with_grad: bool = False,
) -> GradcheckReport:
    """Compare the engine's gradients of ``fn(*inputs)`` with central differences.

    Args:
        fn: maps tensors to a tensor of any shape.
        inputs: tensors (those with ``requires_grad`` are checked) or float arrays.
        eps, atol, rtol: step and tolerances; an entry passes when
            |analytic - numeric| <= atol + rtol * |numeric|.
        seed: seeds the random upstream gradient and the sampled entries.
        max_entries: check at most this many random entries per input (large weights).
        names: labels for the report (default: each tensor's name, else ``input<i>``).

    Returns:
        a ``GradcheckReport``, truthy when every checked input passed.
    """
    check_settings(eps, atol, rtol)
    xs = _as_inputs(inputs)
    rng = np.random.default_rng(seed)
    out = _call(fn, xs)
    v = rng.standard_normal(out.shape).astype(out.dtype)
    positions = [i for i, x in enumerate(xs) if x.requires_grad]
    checked = [xs[i] for i in positions]
    if not checked:
        raise ValueError("gradcheck: no input requires grad, so there is nothing to check")
    warnings = []
    if out.requires_grad:
        analytic = grad(out, checked, grad_outputs=v)
    else:  # no recorded path to any input (e.g. the gradient of a linear fn): zero gradient
        analytic = [Tensor(np.zeros_like(x.data)) for x in checked]
        warnings.append("the output does not depend on any input through the graph; "
                        "analytic gradients are taken as zero")

    def projected() -> float:
        if _numeric_with_grad:
            return float(np.sum(_call(fn, xs).data * v))
        with no_grad():
            return float(np.sum(_call(fn, xs).data * v))

    comparisons = []
    for i, (position, x, g) in enumerate(zip(positions, checked, analytic, strict=True)):
        label = (names[i] if names else None) or x.name or f"input{position}"
        if x.dtype != np.float64:
            warnings.append(f"{label} is {x.dtype}: finite differences need float64")
        flat = x.data.reshape(-1)  # a view: perturb in place, restore after
        if x.data.size and not np.shares_memory(flat, x.data):  # empty: nothing to perturb
            raise ValueError(f"gradcheck needs {label} to be a contiguous array")
        numeric = np.zeros(flat.size)
        picked = _entries(flat.size, max_entries, rng)
        for j in picked:
            original = flat[j]
            flat[j] = original + eps
            plus = projected()
            flat[j] = original - eps
            minus = projected()
            flat[j] = original
            numeric[j] = (plus - minus) / (2 * eps)
        analytic_flat = g.data.reshape(-1)
        comparisons.append(_compare(label, x.shape, analytic_flat, numeric, picked, atol, rtol))
    warnings.extend(eps_warnings([(c.name, x.data) for c, x in zip(comparisons, checked,
                                                                     strict=True)], eps))
    warnings.extend(graph_kink_warnings([out], eps))  # relu/abs/max inputs within ~eps of a kink
    return GradcheckReport(comparisons, eps, atol, rtol, warnings)


def _compare(label, shape, analytic, numeric, picked, atol, rtol) -> GradientComparison:
    if picked.size == 0:
        return GradientComparison(label, tuple(shape), 0.0, 0.0, None, True, 0)
    a = analytic[picked]
    n = numeric[picked]
    abs_err = np.abs(a - n)
    rel_err = abs_err / np.maximum(np.maximum(np.abs(a), np.abs(n)), 1e-300)
    rel_err[abs_err == 0] = 0.0
    excess = abs_err - (atol + rtol * np.abs(n))
    worst = int(np.argmax(excess))
    flat_index = int(picked[worst])
    index = tuple(int(k) for k in np.unravel_index(flat_index, shape)) if shape else ()
    return GradientComparison(
        name=label,
        shape=tuple(shape),
        max_abs_error=float(abs_err.max()),
        max_rel_error=float(rel_err.max()),
        worst_index=index,
        passed=bool(np.all(excess <= 0)),
        entries_checked=int(picked.size),
        analytic_at_worst=float(a[worst]),
        numeric_at_worst=float(n[worst]),
    )


def gradgradcheck(
    fn: Callable[..., Tensor],
    inputs: Sequence,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-4,
    *,
    seed: int = 0,
    max_entries: int | None = None,
) -> GradcheckReport:
    """Check second-order gradients: the gradient of (d fn / d inputs) . v, recorded with
    ``create_graph=True``, against central differences of that first-order gradient."""
    xs = _as_inputs(inputs)
    out = _call(fn, xs)
    v = np.random.default_rng(seed + 1).standard_normal(out.shape).astype(out.dtype)
    checked_positions = [i for i, x in enumerate(xs) if x.requires_grad]

    def first_order(*ys):
        result = _call(fn, ys)
        gs = grad(result, [ys[i] for i in checked_positions], grad_outputs=v, create_graph=True)
        return concat(*[g.reshape(-1) for g in gs], axis=0)

    report = gradcheck(first_order, xs, eps, atol, rtol, seed=seed, max_entries=max_entries,
                       _numeric_with_grad=True)
    report.title = "second-order gradient check"
    return report
