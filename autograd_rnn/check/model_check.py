"""``check_model``: every named parameter of a model against central differences.

The model's outputs (every tensor in what ``model(*args)`` returns, e.g. ``(y, final_state)``)
are projected on a fixed random upstream gradient, or reduced by ``loss_fn`` when given;
the engine's gradient of that scalar is compared entry by entry with central differences
(the engine's ``gradcheck`` perturbing each parameter in place). Large parameters are
sampled: at most ``max_entries`` random entries each.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np

from autograd_rnn.check.gradcheck import gradcheck
from autograd_rnn.check.report import GradcheckReport
from autograd_rnn.core.tensor import Tensor
from autograd_rnn.ops import concat


def named_parameters(model) -> list[tuple[str, Tensor]]:
    """``model.named_parameters()`` as a list of (name, Tensor), checked."""
    if not hasattr(model, "named_parameters"):
        raise TypeError(f"{type(model).__name__} has no named_parameters(): pass an ar.nn "
                        "Module or an object exposing named_parameters()")
    items = model.named_parameters()
    items = list(items.items()) if isinstance(items, Mapping) else list(items)
    for entry in items:
        if (not isinstance(entry, tuple) or len(entry) != 2
                or not isinstance(entry[1], Tensor)):
            raise TypeError(f"named_parameters() must yield (name, Tensor) pairs, got {entry!r}")
    if not items:
        raise ValueError(f"{type(model).__name__} has no parameters to check")
    return items


def _tensors(value) -> list[Tensor]:
    """Every tensor in a nested tuple/list/dict output, in order."""
    found, stack = [], [value]
    while stack:
        v = stack.pop()
        if isinstance(v, Tensor):
            found.append(v)
        elif isinstance(v, (tuple, list)):
            stack.extend(reversed(v))
        elif isinstance(v, Mapping):
            stack.extend(reversed(list(v.values())))
    return found


def check_model(
    model,
    *args,
    loss_fn: Callable | None = None,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-4,
    seed: int = 0,
    max_entries: int | None = 20,
    **kwargs,
) -> GradcheckReport:
    """Gradient-check every named parameter of ``model`` when called as ``model(*args,
    **kwargs)``; ``loss_fn(outputs) -> scalar Tensor`` replaces the random projection.

    Returns a ``GradcheckReport`` with one row per parameter (dotted names), truthy on pass,
    with gradcheck's warnings (non-float64 parameters, eps badly chosen for their magnitude,
    relu/abs/max inputs within ~eps of a kink). Dropout is switched off (``eval()``) meanwhile.
    """
    items = named_parameters(model)
    names = [n for n, _ in items]
    params = [p for _, p in items]
    was_training = getattr(model, "training", None)
    if was_training and hasattr(model, "eval"):
        model.eval()
    try:
        def fn(*_params) -> Tensor:
            out = model(*args, **kwargs)
            if loss_fn is not None:
                return loss_fn(out)
            tensors = _tensors(out)
            if not tensors:
                raise ValueError("the model returned no tensor to check")
            return concat(*[t.reshape(-1) for t in tensors], axis=0)

        report = gradcheck(fn, params, eps, atol, rtol, seed=seed, max_entries=max_entries,
                           names=names)
    finally:
        if was_training and hasattr(model, "train"):
            model.train()
    report.title = f"model check {type(model).__name__}"
    return report


def check_engine_model(
    cell: str = "rnn",
    steps: int = 5,
    *,
    batch: int = 2,
    input_size: int = 3,
    hidden_size: int = 4,
    output_size: int = 2,
    num_layers: int = 1,
    seed: int = 0,
    max_entries: int | None = 20,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-4,
) -> GradcheckReport:
    """Build ``ar.nn.SequenceModel(cell, ...)`` with float64 parameters, unroll it over a
    random input (steps, batch, input_size) and ``check_model`` it (BPTT vs finite
    differences). ``cell`` is "rnn", "lstm" or "gru"."""
    from autograd_rnn.nn import SequenceModel  # nn depends on check's siblings, not on us

    for name, n in [("steps", steps), ("batch", batch), ("input_size", input_size),
                    ("hidden_size", hidden_size), ("output_size", output_size),
                    ("num_layers", num_layers)]:
        if n < 1:
            raise ValueError(f"{name} must be >= 1, got {n}")
    model = SequenceModel(cell, input_size, hidden_size, output_size, num_layers, seed=seed)
    x = np.random.default_rng(seed + 1).standard_normal((steps, batch, input_size))
    report = check_model(model, x, eps=eps, atol=atol, rtol=rtol, seed=seed,
                         max_entries=max_entries)
    report.title = (f"gradcheck {cell} (steps={steps}, batch={batch}, input={input_size}, "
                    f"hidden={hidden_size}, output={output_size}, layers={num_layers})")
    return report
