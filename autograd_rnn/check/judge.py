"""The verdict on a ``StudentRun``: finite differences from its probed values, comparisons,
dtype problems, warnings and hints. Runs where the grader runs (the parent process of an
isolated check), never where the student's code ran, and trusts nothing but the numbers: the
upstream gradients and checked entries are re-drawn here from the seed.

dtype: gradients or forward outputs in a dtype other than float64 are named as problems (the
check fails) unless ``allow_float32``. A float32 forward is differentiated with a larger step
(``FLOAT32_EPS``) and compared with float32 tolerances, so its finite differences still mean
something; kinks are only looked for where the layer has some (custom functions, or a
reference layer with ``kinks``).
"""

from __future__ import annotations

import numpy as np

from autograd_rnn.check import causes
from autograd_rnn.check.backward_report import (
    BackwardCheckReport,
    CheckUsageError,
    StudentCodeError,
)
from autograd_rnn.check.diagnostics import (
    dtype_warnings,
    eps_warnings,
    kink_warning,
    size_warnings,
)
from autograd_rnn.check.hints import HintContext, gradient_hints
from autograd_rnn.check.numeric import central_differences, compare_gradient
from autograd_rnn.check.student_run import StudentRun, plan, step_for
from autograd_rnn.core.state import no_grad

FLOAT32_ATOL = 1e-3  # tolerances for a float32 forward: round-off ~6e-8 / FLOAT32_EPS
FLOAT32_RTOL = 1e-2


def hint_context(reference, names, arrays, douts, loss: bool) -> HintContext:
    """Sizes (N from axis 0 of the first input, T from axis 1 of batch-major sequences),
    boolean masks, integer index arrays and a scalar upstream gradient."""
    first = arrays[0] if arrays else np.zeros(())
    N = int(first.shape[0]) if first.ndim >= 1 else None
    sequence = reference is not None and reference.sequence and first.ndim >= 2
    masks = {n: a for n, a in zip(names, arrays, strict=True) if a.dtype == np.bool_}
    indices = {n: a for n, a in zip(names, arrays, strict=True) if a.dtype.kind in "iu"}
    scalar = len(douts) == 1 and np.ndim(douts[0]) == 0
    dout = float(douts[0]) if scalar and not loss else None
    return HintContext(N, int(first.shape[1]) if sequence else None, masks, indices, dout)


def _dtype_notes(out_names, run: StudentRun) -> list[str]:
    outs = [(n, o.dtype) for n, o in zip(out_names, run.outputs, strict=True)]
    grads = [(f"d{n}", g.dtype) for n, g in run.grads.items()]
    notes = []
    if _named(outs):
        notes.append(f"forward output {_named(outs)}, not float64: the forward computes in "
                     "lower precision")
    if _named(grads):
        digits = min(_digits(d) for _, d in grads)
        notes.append(f"{_named(grads)}, not float64: ~{digits} significant digits (keep float64 "
                     "throughout, or cast with .astype(np.float64))")
    return notes


def _named(pairs) -> str:
    """"a, b are float32" for the (name, dtype) pairs whose dtype is not float64."""
    by_dtype: dict[str, list[str]] = {}
    for name, dtype in pairs:
        if dtype != np.float64:
            by_dtype.setdefault(str(dtype), []).append(name)
    return "; ".join(f"{', '.join(names)} {'are' if len(names) > 1 else 'is'} {d}"
                     for d, names in by_dtype.items())


def _digits(dtype) -> int:
    return int(np.finfo(dtype).precision) if np.dtype(dtype).kind == "f" else 16


def judge(run: StudentRun, names: list[str], arrays: list[np.ndarray], wrt: list[str], *,
          reference=None, seed: int = 0, eps: float = 1e-6, atol: float = 1e-5,
          rtol: float = 1e-4, max_entries: int | None = None, allow_float32: bool = False,
          forward_name: str = "forward", backward_name: str = "backward",
          layer: str | None = None) -> BackwardCheckReport:
    """The report on ``run`` (see the module docstring)."""
    loss = run.mode == "loss"
    douts, entries = plan(seed, [o.shape for o in run.outputs],
                          [arrays[names.index(n)].size for n in wrt], max_entries, loss)
    out_names = _output_names(reference, run)
    low_forward = any(o.dtype != np.float64 for o in run.outputs)
    step = step_for(run.outputs, eps)
    if low_forward:
        atol, rtol = max(atol, FLOAT32_ATOL), max(rtol, FLOAT32_RTOL)
    notes = _dtype_notes(out_names, run)
    warnings = dtype_warnings(zip(names, arrays, strict=True)) + eps_warnings(
        [(n, arrays[names.index(n)]) for n in wrt], eps)
    if low_forward:
        warnings.append(f"the forward computes below float64: finite differences used eps={step:g}"
                        f" and tolerances atol={atol:g}, rtol={rtol:g}")
    problems = [] if allow_float32 else notes
    if allow_float32:
        warnings.extend(notes)
    context = hint_context(reference, names, arrays, douts, loss)
    comparisons, hints = [], []
    for n, picked in zip(wrt, entries, strict=True):
        x = arrays[names.index(n)]
        numeric, kinks = central_differences(x.shape, picked, run.plus[n], run.minus[n],
                                             run.base, step)
        comparisons.append(compare_gradient(n, run.grads[n], numeric, picked, atol=atol,
                                            rtol=rtol))
        hints.extend(gradient_hints(n, run.grads[n], numeric, picked, atol=atol, rtol=rtol,
                                    context=context))
        note = kink_warning(n, x.shape, kinks, step)
        if note and not low_forward and (reference is None or reference.kinks):
            warnings.append(note)
    if reference is not None:
        warnings.extend(size_warnings(reference, names, arrays))
    report = BackwardCheckReport(
        comparisons, eps, atol, rtol, warnings, title="backward vs finite differences",
        layer=layer, forward_name=forward_name, backward_name=backward_name, seed=seed,
        hints=hints, problems=problems)
    if reference is not None:
        _compare_reference(report, reference, names, arrays, wrt, run, douts, context)
    return report


def _output_names(reference, run: StudentRun) -> list[str]:
    if reference is not None and len(reference.outputs) == len(run.outputs):
        return list(reference.outputs)
    if len(run.outputs) == 1:
        return ["loss" if run.mode == "loss" else "out"]
    return [f"out{k}" for k in range(len(run.outputs))]


def _reference_outputs(reference, names, arrays):
    try:
        with no_grad():
            result = reference.forward(*[a.copy() for a in arrays])
    except (ValueError, IndexError, TypeError) as error:  # e.g. time-major inputs
        shapes = ", ".join(f"{n} {a.shape}" for n, a in zip(names, arrays, strict=True))
        raise CheckUsageError(f"reference {reference.signature} cannot run on these inputs "
                              f"({shapes}); sequences are batch-major (N, T, D): "
                              f"{str(error).splitlines()[0]}") from None
    return [r.data for r in (result if isinstance(result, tuple) else (result,))]


def _compare_reference(report, reference, names, arrays, wrt, run, douts, context) -> None:
    ref_outs = _reference_outputs(reference, names, arrays)
    if len(ref_outs) != len(run.outputs):
        raise StudentCodeError(
            f"layer {reference.name} has {len(ref_outs)} output(s) "
            f"({', '.join(reference.outputs)}) but forward returned {len(run.outputs)}",
            "wrong return")
    for name, o, r in zip(reference.outputs, run.outputs, ref_outs, strict=True):
        if o.shape != r.shape:
            raise StudentCodeError(f"forward output {name} has shape {o.shape}, but reference "
                                   f"{reference.signature} gives {r.shape}", "wrong shape")
        report.forward_comparisons.append(
            compare_gradient(name, o, r, atol=report.atol, rtol=report.rtol))
    exact = causes.engine_gradients(reference, names, arrays, wrt, douts)
    for n in wrt:
        report.reference_comparisons.append(
            compare_gradient(n, run.grads[n], exact[n], atol=report.atol, rtol=report.rtol))
    report.hints[:0] = _causes(report, reference, names, arrays, wrt, run, douts, context,
                               ref_outs, exact)


def _causes(report, reference, names, arrays, wrt, run, douts, context, ref_outs, exact):
    """Hints from hypotheses about the bug; one that explains everything replaces the
    per-gradient hints."""
    forward_wrong = [c.name for c in report.forward_comparisons if not c.passed]
    failing = [c.name for c in report.reference_comparisons if not c.passed]
    if forward_wrong:
        whole = causes.gate_order_hint(reference, arrays, run.outputs) or \
            causes.mask_forward_hint(reference, names, arrays, run.outputs)
        if whole:
            report.hints.clear()
            return [whole]
        return [h for name, o, r in zip(reference.outputs, run.outputs, ref_outs, strict=True)
                if (h := causes.output_factor_hint(name, o, r, context))]
    for cause in (causes.upstream_hint(reference, names, arrays, wrt, douts, run.grads, failing),
                  causes.gate_block_hint(reference, run.grads, exact, failing)):
        if cause:
            report.hints.clear()
            return [cause]
    return []
