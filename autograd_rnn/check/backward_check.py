"""``check_backward``: verify a hand-written NumPy backward pass.

Convention (cs231n style)::

    forward(*inputs)            -> (out, cache)
    backward(dout, cache)       -> (d_input_1, d_input_2, ...)   # in the order of inputs

Several outputs (e.g. an LSTM step): ``forward -> (next_h, next_c, cache)`` with
``backward(dnext_h, dnext_c, cache)``, or ``forward -> ((next_h, next_c), cache)`` with
``backward((dnext_h, dnext_c), cache)``. Non-float inputs (indices, masks) get no gradient:
backward returns either one gradient per float input, or one entry per input (ignored for
non-float ones); a lone array is accepted when there is a single float input.

The check: a random upstream gradient ``dout`` (fixed ``seed``) is fed to ``backward``; each
returned gradient is compared with central differences of sum(forward(...)[0] * dout).
With ``layer=`` naming a reference (``references.REFERENCES``), the user's forward outputs
are also compared with the reference's, and the user's gradients with the engine's exact
gradients of the reference.
"""

from __future__ import annotations

import inspect
import traceback
from collections.abc import Callable, Mapping, Sequence

import numpy as np

from autograd_rnn.check.backward_report import BackwardCheckReport, CheckUsageError
from autograd_rnn.check.diagnostics import dtype_warnings, eps_warnings, kink_warning
from autograd_rnn.check.gradcheck import check_settings
from autograd_rnn.check.hints import gradient_hints
from autograd_rnn.check.numeric import compare_gradient, numerical_gradient_details, sample_entries
from autograd_rnn.check.references import Reference, get_reference
from autograd_rnn.core.engine import grad as engine_grad
from autograd_rnn.core.tensor import Tensor


def _fname(fn) -> str:
    return getattr(fn, "__name__", None) or type(fn).__name__


def _call_user(fn: Callable, *args):
    """Call user code; any exception becomes a one-line CheckUsageError with its location."""
    try:
        return fn(*args)
    except CheckUsageError:
        raise
    except Exception as error:  # noqa: BLE001 (user code may raise anything)
        frames = traceback.extract_tb(error.__traceback__)
        code = getattr(fn, "__code__", None)
        mine = [f for f in frames if code is not None and f.filename == code.co_filename]
        where = mine[-1] if mine else (frames[-1] if frames else None)
        at = f" (at {where.filename}:{where.lineno}: {where.line})" if where else ""
        message = str(error).replace("\n", " ")
        raise CheckUsageError(f"{_fname(fn)} raised {type(error).__name__}: {message}{at}"
                              ) from error


def _check_arity(fn: Callable, args: Sequence, role: str, arg_names: Sequence[str]) -> None:
    try:
        signature = inspect.signature(fn)
    except (TypeError, ValueError):
        return
    try:
        signature.bind(*args)
    except TypeError as error:
        raise CheckUsageError(
            f"{role} {_fname(fn)}{signature} cannot be called with {len(args)} argument(s) "
            f"({', '.join(arg_names)}): {error}") from None


def _normalize_inputs(inputs, forward, reference: Reference | None):
    if isinstance(inputs, Mapping):
        names, values = list(inputs), list(inputs.values())
    elif isinstance(inputs, (list, tuple)):
        values = list(inputs)
        if reference is not None and len(reference.inputs) == len(values):
            names = list(reference.inputs)
        else:
            names = _param_names(forward, len(values))
    else:
        raise CheckUsageError(f"inputs must be a dict name -> array or a list of arrays, got "
                              f"{type(inputs).__name__}")
    arrays = []
    for name, v in zip(names, values, strict=True):
        a = np.array(v.data if isinstance(v, Tensor) else v)
        if a.dtype.kind not in "biuf":
            raise CheckUsageError(f"input {name} must be a numeric array, got dtype {a.dtype}")
        arrays.append(a)
    if reference is not None and len(arrays) != len(reference.inputs):
        raise CheckUsageError(f"layer {reference.name} takes {len(reference.inputs)} inputs "
                              f"({', '.join(reference.inputs)}), got {len(arrays)}")
    return [str(n) for n in names], arrays


def _param_names(fn, n: int) -> list[str]:
    try:
        params = [p.name for p in inspect.signature(fn).parameters.values()
                  if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    except (TypeError, ValueError):
        params = []
    return params[:n] + [f"input{i}" for i in range(len(params), n)]


def _split_forward(result, fn) -> tuple[list[np.ndarray], object, str]:
    """(outputs, cache, mode) from what forward returned; mode says how to call backward."""
    if not isinstance(result, tuple) or len(result) < 2:
        raise CheckUsageError(f"forward {_fname(fn)} must return (out, cache), got "
                              f"{type(result).__name__}" + (f" of length {len(result)}"
                                                            if isinstance(result, tuple) else ""))
    if len(result) == 2 and isinstance(result[0], (tuple, list)):
        outs, mode = list(result[0]), "packed"
    else:
        outs, mode = list(result[:-1]), "single" if len(result) == 2 else "multi"
    arrays = []
    for k, o in enumerate(outs):
        a = np.asarray(o.data if isinstance(o, Tensor) else o)
        if a.dtype.kind not in "fiu":
            raise CheckUsageError(f"forward {_fname(fn)} output {k} must be a numeric array, "
                                  f"got {type(o).__name__}")
        arrays.append(a)
    return arrays, result[-1], mode


def _call_backward(backward, douts, cache, mode):
    if mode == "packed":
        args = (tuple(d.copy() for d in douts), cache)
    else:
        args = (*[d.copy() for d in douts], cache)
    names = ["dout" if len(douts) == 1 else f"dout{k}" for k in range(len(douts))] + ["cache"]
    _check_arity(backward, args, "backward", names)
    return _call_user(backward, *args)


def _split_grads(result, names, arrays, wrt, backward) -> dict[str, np.ndarray]:
    if isinstance(result, (np.ndarray, Tensor)) or np.isscalar(result):
        result = (result,)
    if not isinstance(result, (tuple, list)):
        raise CheckUsageError(f"backward {_fname(backward)} must return a tuple of gradients, "
                              f"got {type(result).__name__}")
    if len(result) == len(wrt):
        picked = dict(zip(wrt, result, strict=True))
    elif len(result) == len(names):
        picked = {n: g for n, g in zip(names, result, strict=True) if n in wrt}
    else:
        raise CheckUsageError(
            f"backward {_fname(backward)} returned {len(result)} gradient(s), expected "
            f"{len(wrt)}: {', '.join('d' + n for n in wrt)} (in the order of the inputs)")
    grads = {}
    for n in wrt:
        g = picked[n]
        if g is None:
            raise CheckUsageError(f"backward {_fname(backward)} returned None for d{n}")
        g = np.asarray(g.data if isinstance(g, Tensor) else g)
        shape = arrays[names.index(n)].shape
        if g.shape != shape:
            raise CheckUsageError(f"backward {_fname(backward)} returned d{n} of shape "
                                  f"{g.shape}, expected {shape} (the shape of {n})")
        grads[n] = g
    return grads


def check_backward(
    forward: Callable,
    backward: Callable,
    inputs: Mapping[str, np.ndarray] | Sequence[np.ndarray],
    *,
    layer: str | None = None,
    wrt: Sequence[str] | None = None,
    seed: int = 0,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-4,
    max_entries: int | None = None,
) -> BackwardCheckReport:
    """Check ``backward`` against finite differences of ``forward`` (and a reference layer).

    Args:
        forward, backward: NumPy functions following the module's convention.
        inputs: dict name -> array (ordered), or a list (named after the reference's or
            forward's parameters). They are copied, never modified.
        layer: a name in ``REFERENCES`` (e.g. "rnn_step") to also compare with the engine.
        wrt: names of the inputs to check (default: the float ones / the reference's).
        seed: seeds the upstream gradient and sampled entries; eps, atol, rtol: as gradcheck
            (entry passes when |analytic - numeric| <= atol + rtol * |numeric|).
        max_entries: check at most this many random entries per input.

    Returns:
        a ``BackwardCheckReport`` (truthy on pass; ``str`` table, ``to_json``).

    Raises:
        CheckUsageError: one-line message for bad signatures, return structures or shapes.
    """
    try:
        check_settings(eps, atol, rtol)
    except ValueError as error:
        raise CheckUsageError(str(error)) from None
    reference = None
    if layer is not None:
        try:
            reference = get_reference(layer)
        except KeyError as error:
            raise CheckUsageError(error.args[0]) from None
    names, arrays = _normalize_inputs(inputs, forward, reference)
    if wrt is None:
        if reference is not None:  # by position, so the user's own input names work too
            wrt = [n for n, r in zip(names, reference.inputs, strict=True)
                   if r in reference.differentiable]
        else:
            wrt = [n for n, a in zip(names, arrays, strict=True) if a.dtype.kind == "f"]
    unknown = [n for n in wrt if n not in names]
    if unknown or not wrt:
        raise CheckUsageError(f"nothing to check: wrt={list(wrt)} but inputs are {names}")
    for n in wrt:
        if arrays[names.index(n)].dtype.kind != "f":
            raise CheckUsageError(f"input {n} has dtype {arrays[names.index(n)].dtype}: only "
                                  "floating-point inputs can be differentiated")
    _check_arity(forward, arrays, "forward", names)
    rng = np.random.default_rng(seed)
    outs, cache, mode = _split_forward(_call_user(forward, *[a.copy() for a in arrays]), forward)
    douts = [rng.standard_normal(o.shape) for o in outs]
    grads = _split_grads(_call_backward(backward, douts, cache, mode), names, arrays, wrt,
                         backward)

    warnings = dtype_warnings(zip(names, arrays, strict=True)) + eps_warnings(
        [(n, arrays[names.index(n)]) for n in wrt], eps)
    work = [a.copy() for a in arrays]

    def projected(_x) -> float:
        result = _split_forward(_call_user(forward, *work), forward)[0]
        if [r.shape for r in result] != [o.shape for o in outs]:
            raise CheckUsageError(f"forward {_fname(forward)} returned different output "
                                  "shapes on a second call")
        return float(sum(np.sum(r * d) for r, d in zip(result, douts, strict=True)))

    comparisons, hints = [], []
    for n in wrt:
        x = work[names.index(n)]
        entries = sample_entries(x.size, max_entries, rng)
        num = numerical_gradient_details(projected, x, eps=eps, entries=entries)
        comparisons.append(compare_gradient(n, grads[n], num.grad, entries, atol=atol, rtol=rtol))
        hints.extend(gradient_hints(n, grads[n], num.grad, entries, atol=atol, rtol=rtol))
        note = kink_warning(n, x.shape, num.kinks, eps)
        if note:
            warnings.append(note)

    report = BackwardCheckReport(
        comparisons, eps, atol, rtol, warnings, title="backward vs finite differences",
        layer=layer, forward_name=_fname(forward), backward_name=_fname(backward), seed=seed,
        hints=hints)
    if reference is not None:
        _compare_reference(report, reference, names, arrays, wrt, outs, douts, grads)
    return report


def _compare_reference(report, reference, names, arrays, wrt, outs, douts, grads) -> None:
    tensors = [Tensor(a.copy(), requires_grad=n in wrt, name=n) if a.dtype.kind == "f"
               else a.copy() for n, a in zip(names, arrays, strict=True)]  # indices stay ints
    try:
        ref_outs = reference.forward(*tensors)
    except (ValueError, IndexError, TypeError) as error:  # e.g. time-major inputs
        shapes = ", ".join(f"{n} {a.shape}" for n, a in zip(names, arrays, strict=True))
        raise CheckUsageError(f"reference {reference.signature} cannot run on these inputs "
                              f"({shapes}); sequences are batch-major (N, T, D): "
                              f"{str(error).splitlines()[0]}") from None
    ref_outs = list(ref_outs) if isinstance(ref_outs, tuple) else [ref_outs]
    if len(ref_outs) != len(outs):
        raise CheckUsageError(
            f"layer {reference.name} has {len(ref_outs)} output(s) "
            f"({', '.join(reference.outputs)}) but forward returned {len(outs)}")
    for name, o, r in zip(reference.outputs, outs, ref_outs, strict=True):
        if o.shape != r.shape:
            raise CheckUsageError(f"forward output {name} has shape {o.shape}, but reference "
                                  f"{reference.signature} gives {r.shape}")
        report.forward_comparisons.append(
            compare_gradient(name, o, r.data, atol=report.atol, rtol=report.rtol))
    checked = [t for t in tensors if isinstance(t, Tensor) and t.name in wrt]
    exact = engine_grad(ref_outs, checked, grad_outputs=douts)
    for t, g in zip(checked, exact, strict=True):
        report.reference_comparisons.append(
            compare_gradient(t.name, grads[t.name], g.data, atol=report.atol, rtol=report.rtol))
