"""Run the code under check and record raw results: the only place student code is called.

Convention (cs231n style)::

    forward(*inputs)            -> (out, cache)
    backward(dout, cache)       -> (d_input_1, d_input_2, ...)   # in the order of inputs

Several outputs (e.g. an LSTM step): ``forward -> (next_h, next_c, cache)`` with
``backward(dnext_h, dnext_c, cache)``, or ``forward -> ((next_h, next_c), cache)`` with
``backward((dnext_h, dnext_c), cache)``. A loss with no separate backward (cs231n's
``temporal_softmax_loss(x, y, mask) -> (loss, dx)``): pass ``backward=None``; the function
returns the scalar loss then the gradients. Non-float inputs (indices, masks) get no
gradient: backward returns one gradient per float input, or one entry per input (ignored for
non-float ones); a lone array is accepted when there is a single float input.

``run_student`` produces a ``StudentRun``: outputs, gradients (dtypes as returned) and the
probed values s(x +- eps e_j) of the projection s = sum(out * dout) for the planned entries.
Nothing here judges: ``judge.py`` turns a run into a verdict (in the parent process when the
student's code runs isolated). The projection uses ndarray operators only, which NumPy
implements in C and Python code cannot replace.
"""

from __future__ import annotations

import inspect
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from autograd_rnn.check.backward_report import StudentCodeError
from autograd_rnn.check.hints import shape_hint
from autograd_rnn.check.numeric import probe_values, sample_entries

FLOAT32_EPS = 1e-3  # finite-difference step for a float32 forward


@dataclass
class StudentRun:
    """Raw results of the code under check. ``mode`` is how backward was called ("single",
    "multi", "packed") or "loss" (one function returning (loss, grads)); ``plus[n]`` and
    ``minus[n]`` hold s(x +- eps e_j) for the planned entries of input n; ``base`` = s(x)."""

    mode: str
    outputs: list[np.ndarray]
    grads: dict[str, np.ndarray]
    plus: dict[str, np.ndarray]
    minus: dict[str, np.ndarray]
    base: float


def plan(seed: int, out_shapes, sizes: Sequence[int], max_entries: int | None, loss: bool):
    """(upstream gradients, entries checked per input): the same on both sides of a sandbox,
    since both are drawn from ``seed`` given the output shapes and input sizes."""
    rng = np.random.default_rng(seed)
    if loss:
        douts = [np.ones(())]
    else:
        douts = [rng.standard_normal(shape) for shape in out_shapes]
    return douts, [sample_entries(size, max_entries, rng) for size in sizes]


def step_for(outputs, eps: float) -> float:
    """The finite-difference step: ``eps``, or ``FLOAT32_EPS`` for a forward that computes in
    a lower precision (round-off ~1e-7 / eps would swamp a step of 1e-6)."""
    low = any(np.asarray(o).dtype != np.float64 for o in outputs)
    return max(eps, FLOAT32_EPS) if low else eps


def fname(fn) -> str:
    return getattr(fn, "__name__", None) or type(fn).__name__


def call_user(fn: Callable, role: str, *args):
    """Call student code; anything it raises (SystemExit too) becomes a one-line
    ``StudentCodeError`` naming the function and the line of the student's file."""
    try:
        return fn(*args)
    except StudentCodeError:
        raise
    except KeyboardInterrupt:
        raise  # Ctrl-C (an isolated child ignores SIGINT, so there it came from the student)
    except BaseException as error:  # noqa: BLE001 (student code may raise anything, exit too)
        raise StudentCodeError(f"{role} {fname(fn)} raised {describe(error)}{where(error, fn)}",
                               "out of memory" if isinstance(error, MemoryError) else "raised"
                               ) from error


def describe(error: BaseException) -> str:
    """"ValueError: message" or, for exits, "SystemExit(0)"."""
    if isinstance(error, SystemExit):
        return f"SystemExit({error.code!r})"
    message = str(error).replace("\n", " ")
    return f"{type(error).__name__}: {message}" if message else type(error).__name__


def where(error: BaseException, fn) -> str:
    frames = traceback.extract_tb(error.__traceback__)
    code = getattr(fn, "__code__", None)
    mine = [f for f in frames if code is not None and f.filename == code.co_filename]
    at = mine[-1] if mine else (frames[-1] if len(frames) > 1 else None)  # [0] is call_user
    return f" (at {at.filename}:{at.lineno}: {at.line})" if at else ""


def param_names(fn, n: int) -> list[str]:
    """The first ``n`` positional parameter names of ``fn`` (input<i> past its signature)."""
    try:
        params = [p.name for p in inspect.signature(fn).parameters.values()
                  if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    except (TypeError, ValueError):
        params = []
    return params[:n] + [f"input{i}" for i in range(len(params), n)]


def check_arity(fn: Callable, args: Sequence, role: str, arg_names: Sequence[str]) -> None:
    try:
        signature = inspect.signature(fn)
    except (TypeError, ValueError):
        return
    try:
        signature.bind(*args)
    except TypeError as error:
        raise StudentCodeError(
            f"{role} {fname(fn)}{signature} cannot be called with {len(args)} argument(s) "
            f"({', '.join(arg_names)}): {error}", "wrong return") from None


def _as_array(value, what: str) -> np.ndarray:
    a = np.asarray(getattr(value, "data", value))
    if a.dtype.kind not in "fiu":
        raise StudentCodeError(f"{what} must be a numeric array, got {type(value).__name__}"
                               + (f" of dtype {a.dtype}" if isinstance(value, np.ndarray)
                                  else ""), "wrong return")
    return a


def split_forward(result, fn, loss: bool):
    """(outputs, rest, mode): rest is the cache, or the gradients in loss mode."""
    what = "(loss, grads...)" if loss else "(out, cache)"
    if not isinstance(result, tuple) or len(result) < 2:
        raise StudentCodeError(
            f"forward {fname(fn)} must return {what}, got {type(result).__name__}"
            + (f" of length {len(result)}" if isinstance(result, tuple) else ""), "wrong return")
    if loss:
        value = _as_array(result[0], f"the loss returned by {fname(fn)}")
        if value.size != 1:
            raise StudentCodeError(f"{fname(fn)} must return the loss first (a scalar), got "
                                   f"an array of shape {value.shape}", "wrong return")
        rest = result[1] if len(result) == 2 else tuple(result[1:])
        return [value.reshape(())], rest, "loss"
    if len(result) == 2 and isinstance(result[0], (tuple, list)):
        outs, mode = list(result[0]), "packed"
    else:
        outs, mode = list(result[:-1]), "single" if len(result) == 2 else "multi"
    arrays = [_as_array(o, f"forward {fname(fn)} output {k}") for k, o in enumerate(outs)]
    return arrays, result[-1], mode


def call_backward(backward, douts, cache, mode):
    if mode == "packed":
        args = (tuple(d.copy() for d in douts), cache)
    else:
        args = (*[d.copy() for d in douts], cache)
    names = ["dout" if len(douts) == 1 else f"dout{k}" for k in range(len(douts))] + ["cache"]
    check_arity(backward, args, "backward", names)
    return call_user(backward, "backward", *args)


def split_grads(result, names, arrays, wrt, fn) -> dict[str, np.ndarray]:
    """One gradient per name in ``wrt`` from what backward returned, shapes checked."""
    role = "backward" if fn is not None else "loss function"
    if isinstance(result, np.ndarray) or np.isscalar(result) or hasattr(result, "data"):
        result = (result,)
    if not isinstance(result, (tuple, list)):
        raise StudentCodeError(f"{role} {fname(fn)} must return a tuple of gradients, got "
                               f"{type(result).__name__}", "wrong return")
    if len(result) == len(wrt):
        picked = dict(zip(wrt, result, strict=True))
    elif len(result) == len(names):
        picked = {n: g for n, g in zip(names, result, strict=True) if n in wrt}
    else:
        raise StudentCodeError(
            f"{role} {fname(fn)} returned {len(result)} gradient(s), expected {len(wrt)}: "
            f"{', '.join('d' + n for n in wrt)} (in the order of the inputs)", "wrong return")
    grads = {}
    shapes = {n: a.shape for n, a in zip(names, arrays, strict=True)}
    for n in wrt:
        if picked[n] is None:
            raise StudentCodeError(f"{role} {fname(fn)} returned None for d{n}", "wrong return")
        g = _as_array(picked[n], f"d{n} returned by {fname(fn)}")
        if g.shape != shapes[n]:
            raise StudentCodeError(
                f"{role} {fname(fn)} returned d{n} of shape {g.shape}, expected {shapes[n]} "
                f"(the shape of {n})" + shape_hint(n, g.shape, shapes, list(wrt)), "wrong shape")
        grads[n] = g
    return grads


def run_student(forward: Callable, backward: Callable | None, names: list[str],
                arrays: list[np.ndarray], wrt: list[str], *, seed: int, eps: float,
                max_entries: int | None,
                on_stage: Callable[[str], None] | None = None) -> StudentRun:
    """Call forward and backward once, then forward at x +- eps e_j for the planned entries.
    Raises ``StudentCodeError`` when the code cannot be compared (see ``call_user``)."""
    stage = on_stage or (lambda _name: None)
    loss = backward is None
    stage("forward")
    check_arity(forward, arrays, "forward", names)
    outs, rest, mode = split_forward(call_user(forward, "forward", *[a.copy() for a in arrays]),
                                     forward, loss)
    douts, entries = plan(seed, [o.shape for o in outs], [arrays[names.index(n)].size
                                                          for n in wrt], max_entries, loss)
    if not loss:
        stage("backward")
        rest = call_backward(backward, douts, rest, mode)
    grads = split_grads(rest, names, arrays, wrt, backward if not loss else forward)
    stage("finite differences")
    step = step_for(outs, eps)
    work = [a.copy() for a in arrays]

    def projected(_x) -> float:
        got = split_forward(call_user(forward, "forward", *[w.copy() for w in work]),
                            forward, loss)[0]
        if [g.shape for g in got] != [o.shape for o in outs]:
            raise StudentCodeError(f"forward {fname(forward)} returned different output "
                                   "shapes on a second call", "wrong return")
        return float(sum(g.reshape(-1) @ d.reshape(-1) for g, d in zip(got, douts,
                                                                          strict=True)))

    base = projected(None)
    plus, minus = {}, {}
    for n, picked in zip(wrt, entries, strict=True):
        plus[n], minus[n] = probe_values(projected, work[names.index(n)], picked, step)
    return StudentRun(mode, outs, grads, plus, minus, base)
