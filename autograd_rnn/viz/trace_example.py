"""A ready-made step-through: a small unrolled RNN/LSTM/GRU traced from forward to backward
(used by ``autograd-rnn trace``, tutorials and tests)."""

from __future__ import annotations

import numpy as np

from autograd_rnn.core.state import scope
from autograd_rnn.viz.trace import Tape, trace


def record_example(
    cell: str = "rnn",
    steps: int = 2,
    *,
    hidden_size: int = 3,
    input_size: int = 2,
    batch: int = 1,
    output_size: int = 1,
    seed: int = 0,
    every: int = 1,
    max_frames: int | None = None,
    **dot_options,
) -> Tape:
    """Trace a small unrolled ``cell`` ("rnn", "lstm", "gru") over ``steps`` random inputs
    x (T, B, D): the forward pass, the loss L = sum_t sum((y_t - target_t)^2), its backward.

    The network is ``ar.nn.SequenceModel(cell, D, H, V, seed=seed)`` (scopes
    ``"{cell}/layer0/t={t}"``, tensors ``x_t``, ``h_t``, parameters ``W_x``, ``W_h``, ...);
    without ``ar.nn`` it is the op-by-op network of ``autograd_rnn.viz.examples``.
    """
    if cell not in ("rnn", "lstm", "gru"):
        raise ValueError(f"cell must be 'rnn', 'lstm' or 'gru', got {cell!r}")
    if steps < 1:
        raise ValueError(f"steps must be >= 1, got {steps}")
    tape = trace(every=every, max_frames=max_frames, **dot_options)
    try:
        from autograd_rnn.nn import SequenceModel
    except ImportError:
        from autograd_rnn.viz.examples import build_example

        with tape:
            build_example(
                cell,
                steps,
                batch=batch,
                input_size=input_size,
                hidden_size=hidden_size,
                output_size=output_size,
                seed=seed,
            )
        return tape
    model = SequenceModel(cell, input_size, hidden_size, output_size, seed=seed)
    rng = np.random.default_rng(seed + 1)
    x = rng.normal(size=(steps, batch, input_size))
    targets = rng.normal(size=(steps, batch, output_size))
    with tape:
        y, _ = model(x)
        with scope("loss"):
            loss = ((y - targets) ** 2).sum()
        loss.name = "loss"
        loss.backward()
    return tape
