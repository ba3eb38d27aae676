"""``check_backward``: verify a hand-written NumPy backward pass, in this process.

The conventions (cs231n style, ``forward -> (out, cache)``, ``backward(dout, cache)``, or one
loss function returning ``(loss, dx)``) are described in ``student_run.py``. The check: a
random upstream gradient ``dout`` (fixed ``seed``) is fed to ``backward``; each returned
gradient is compared with central differences of sum(forward(...)[0] * dout). With ``layer=``
naming a reference (``references.REFERENCES``), the user's forward outputs are also compared
with the reference's, and the user's gradients with the engine's exact gradients of the
reference.

This runs the code under check in the calling process, which suits a notebook or a test of
one's own code. To grade someone else's code (it may exit, hang, crash or patch NumPy), use
``check_backward_isolated`` (``sandbox.py``) or ``grade``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import numpy as np

from autograd_rnn.check.backward_report import BackwardCheckReport, CheckUsageError
from autograd_rnn.check.gradcheck import check_settings
from autograd_rnn.check.judge import judge
from autograd_rnn.check.references import Reference, get_reference
from autograd_rnn.check.student_run import fname, param_names, run_student
from autograd_rnn.core.tensor import Tensor


def prepare(inputs, forward, layer: str | None, wrt, eps: float, atol: float, rtol: float):
    """(reference, names, arrays, wrt) after checking the settings and the inputs; raises
    ``CheckUsageError`` naming what is wrong."""
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
    wrt = list(wrt)
    unknown = [n for n in wrt if n not in names]
    if unknown or not wrt:
        raise CheckUsageError(f"nothing to check: wrt={wrt} but inputs are {names}")
    for n in wrt:
        if arrays[names.index(n)].dtype.kind != "f":
            raise CheckUsageError(f"input {n} has dtype {arrays[names.index(n)].dtype}: only "
                                  "floating-point inputs can be differentiated")
    return reference, names, arrays, wrt


def _normalize_inputs(inputs, forward, reference: Reference | None):
    if isinstance(inputs, Mapping):
        names, values = list(inputs), list(inputs.values())
    elif isinstance(inputs, (list, tuple)):
        values = list(inputs)
        if reference is not None and len(reference.inputs) == len(values):
            names = list(reference.inputs)
        else:
            names = param_names(forward, len(values))
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


def check_backward(
    forward: Callable,
    backward: Callable | None,
    inputs: Mapping[str, np.ndarray] | Sequence[np.ndarray],
    *,
    layer: str | None = None,
    wrt: Sequence[str] | None = None,
    seed: int = 0,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-4,
    max_entries: int | None = None,
    allow_float32: bool = False,
) -> BackwardCheckReport:
    """Check ``backward`` against finite differences of ``forward`` (and a reference layer).

    Args:
        forward, backward: NumPy functions following the module's convention; backward
            None when forward is a loss returning (loss, grads) (cs231n's
            ``temporal_softmax_loss(x, y, mask) -> (loss, dx)``).
        inputs: dict name -> array (ordered), or a list (named after the reference's or
            forward's parameters). They are copied, never modified.
        layer: a name in ``REFERENCES`` (e.g. "rnn_step") to also compare with the engine.
        wrt: names of the inputs to check (default: the float ones / the reference's).
        seed: seeds the upstream gradient and sampled entries; eps, atol, rtol: as gradcheck
            (entry passes when |analytic - numeric| <= atol + rtol * |numeric|).
        max_entries: check at most this many random entries per input.
        allow_float32: accept gradients and forward outputs in float32 (a warning instead
            of a failure).

    Returns:
        a ``BackwardCheckReport`` (truthy on pass; ``status``, ``str`` table, ``to_json``).

    Raises:
        StudentCodeError: the code raised, returned the wrong structure or shapes (one line).
        CheckUsageError: unknown layer, bad settings or inputs (one line).
    """
    reference, names, arrays, wrt = prepare(inputs, forward, layer, wrt, eps, atol, rtol)
    run = run_student(forward, backward, names, arrays, wrt, seed=seed, eps=eps,
                      max_entries=max_entries)
    return judge(run, names, arrays, wrt, reference=reference, seed=seed, eps=eps, atol=atol,
                 rtol=rtol, max_entries=max_entries, allow_float32=allow_float32,
                 forward_name=fname(forward),
                 backward_name=fname(backward) if backward is not None else fname(forward),
                 layer=layer)
