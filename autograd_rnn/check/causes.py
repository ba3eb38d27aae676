"""Diagnoses that need the reference layer: re-run the engine under a hypothesis about the bug
and see whether the student's numbers match it exactly.

- ``gate_order_hint``: an LSTM forward that matches the reference with its four gate blocks
  in another order ("your gates are in i, f, g, o order: use --layer lstm_step_ifgo");
- ``gate_block_hint``: weight gradients whose gate blocks are stacked in another order than
  the forward's;
- ``upstream_hint``: gradients equal to the engine's for dout = 1 (dout ignored) or with one
  of several upstream gradients dropped (e.g. dnext_c never added);
- ``mask_forward_hint``: a forward that equals the reference with the mask all True;
- ``output_factor_hint``: a forward output that is a constant multiple of the reference's.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import permutations, product

import numpy as np

from autograd_rnn.check import references
from autograd_rnn.check.hints import HintContext, factor_cause, ratio_text
from autograd_rnn.core.engine import grad as engine_grad
from autograd_rnn.core.state import no_grad
from autograd_rnn.core.tensor import Tensor

MATCH_RTOL = 1e-6  # a hypothesis "matches" when it reproduces the student's numbers this well
MATCH_ATOL = 1e-9


def _matches(mine, theirs, atol: float = MATCH_ATOL) -> bool:
    mine, theirs = np.asarray(mine, dtype=np.float64), np.asarray(theirs, dtype=np.float64)
    return mine.shape == theirs.shape and bool(
        np.all(np.abs(mine - theirs) <= atol + MATCH_RTOL * np.abs(theirs)))


def _outputs(result) -> list[np.ndarray]:
    result = result if isinstance(result, tuple) else (result,)
    return [r.data for r in result]


def _spelled(order: str) -> str:
    return ", ".join(order)


def gate_order_hint(reference, arrays: Sequence[np.ndarray], outs) -> str | None:
    """Name the gate order the student's LSTM forward uses, when it is not the reference's."""
    if reference.gate_order is None:
        return None
    forward = references.lstm if reference.sequence else references.lstm_step
    with no_grad():
        for order in ("".join(p) for p in permutations("ifog")):
            if order == reference.gate_order:
                continue
            theirs = _outputs(forward(*arrays, gate_order=order))
            if all(_matches(o, t, atol=1e-6) for o, t in zip(outs, theirs, strict=True)):
                return _gate_message(reference, order)
    return None


def _gate_message(reference, order: str) -> str:
    alternatives = [r.name for r in references.REFERENCES.values()
                    if r.gate_order == order and r.sequence == reference.sequence]
    head = f"your gates are in {_spelled(order)} order"
    if alternatives:
        return (f"{head}: use --layer {alternatives[0]} or reorder them to "
                f"{_spelled(reference.gate_order)}")
    return f"{head}: reorder them to {_spelled(reference.gate_order)} (--layer {reference.name})"


def gate_block_hint(reference, grads: dict, exact: dict, failing: Sequence[str]) -> str | None:
    """Weight gradients (last axis 4H) matching the engine's once their gate blocks are
    permuted: the backward stacks the gate gradients in another order than the forward."""
    if reference.gate_order is None:
        return None
    stacked = [n for n in failing if grads[n].ndim >= 1 and grads[n].shape[-1] % 4 == 0
               and n in exact and exact[n].shape == grads[n].shape and grads[n].shape[-1] >= 4]
    if not stacked:
        return None
    H = grads[stacked[0]].shape[-1] // 4
    for perm in permutations(range(4)):
        if perm == (0, 1, 2, 3):
            continue
        cols = np.concatenate([np.arange(k * H, (k + 1) * H) for k in perm])
        if all(_matches(grads[n][..., cols], exact[n]) for n in stacked):
            order = "".join(reference.gate_order[k] for k in np.argsort(perm))
            return (f"d{', d'.join(stacked)} have their gate blocks in {_spelled(order)} order "
                    f"but the forward's are {_spelled(reference.gate_order)}: stack the gate "
                    "gradients in the forward's order")
    return None


def engine_gradients(reference, names, arrays, wrt, douts) -> dict[str, np.ndarray]:
    """The engine's exact gradients of the reference at ``arrays`` for upstream ``douts``."""
    tensors = [Tensor(a.copy(), requires_grad=n in wrt, name=n) if a.dtype.kind == "f"
               else a.copy() for n, a in zip(names, arrays, strict=True)]
    outs = reference.forward(*tensors)
    outs = list(outs) if isinstance(outs, tuple) else [outs]
    checked = [t for t in tensors if isinstance(t, Tensor) and t.name in wrt]
    grads = engine_grad(outs, checked, grad_outputs=[np.asarray(d, dtype=np.float64)
                                                     for d in douts])
    return {t.name: g.data for t, g in zip(checked, grads, strict=True)}


def upstream_hint(reference, names, arrays, wrt, douts, grads: dict,
                  failing: Sequence[str]) -> str | None:
    """Explain every failing gradient by an upstream gradient ignored (treated as ones) or
    dropped (treated as zeros). Scalar losses are left to the 1/dout factor hint."""
    if not failing or all(np.ndim(d) == 0 for d in douts):
        return None
    outs = list(reference.outputs)
    for choice in product(("given", "ones", "zeros"), repeat=len(douts)):
        if all(c == "given" for c in choice) or all(c == "zeros" for c in choice):
            continue
        trial = [d if c == "given" else (np.ones_like(d) if c == "ones" else np.zeros_like(d))
                 for c, d in zip(choice, douts, strict=True)]
        exact = engine_gradients(reference, names, arrays, wrt, trial)
        if all(_matches(grads[n], exact[n]) for n in failing):
            which = ", ".join("d" + n for n in failing)
            ignored = [f"d{o}" for o, c in zip(outs, choice, strict=True) if c == "ones"]
            dropped = [f"d{o}" for o, c in zip(outs, choice, strict=True) if c == "zeros"]
            if ignored:
                return (f"{which} ignore the upstream gradient {', '.join(ignored)}: they equal "
                        "the gradients for an upstream gradient of ones (multiply by "
                        f"{', '.join(ignored)})")
            return (f"{which} leave out {', '.join(dropped)}: the gradient arriving through "
                    f"{', '.join(dropped)[1:]} is never added")
    return None


def mask_forward_hint(reference, names, arrays, outs) -> str | None:
    """A forward that ignores a boolean input (computes as if it were all True)."""
    for k, (name, a) in enumerate(zip(names, arrays, strict=True)):
        if a.dtype != np.bool_ or a.all():
            continue
        trial = list(arrays)
        trial[k] = np.ones_like(a)
        with no_grad():
            theirs = _outputs(reference.forward(*trial))
        if all(_matches(o, t) for o, t in zip(outs, theirs, strict=True)):
            return (f"your forward ignores {name}: its outputs equal the reference's with "
                    f"every entry of {name} True")
    return None


def output_factor_hint(name: str, mine, theirs, context: HintContext) -> str | None:
    """A forward output that is c times the reference's, with c's likely source."""
    a = np.asarray(mine, dtype=np.float64).reshape(-1)
    b = np.asarray(theirs, dtype=np.float64).reshape(-1)
    if not np.any(b) or not np.any(a):
        return None
    c = float(a @ b / (b @ b))
    if abs(c - 1) < 1e-9 or not _matches(a, c * b):
        return None
    no_dout = HintContext(context.N, context.T, context.masks, context.indices)
    return (f"forward output {name} is {ratio_text(c)} times the reference's"
            + factor_cause(c, no_dout).replace("expected gradient", "reference"))
