"""Held-out evaluation: the task loss on fresh batches, full BPTT forward, no graph."""

from __future__ import annotations

from typing import Any

import numpy as np

import autograd_rnn as ar
from autograd_rnn.train.tasks import Task

EVAL_BATCH = 256


def evaluate(model: Any, task: Task, seq_len: int, batch: int = EVAL_BATCH,
             seed: int = 12345) -> float:
    """Mean task loss of ``model`` on one fresh batch of ``batch`` sequences drawn with
    ``seed`` (independent of the training stream). Compare with ``task.baseline``."""
    data = task.batch(np.random.default_rng(seed), batch, seq_len)
    was_training = getattr(model, "training", None)
    if was_training is not None:
        model.eval()
    try:
        # a diverged model's loss is inf: the answer, not a reason for overflow warnings
        with ar.no_grad(), np.errstate(over="ignore", invalid="ignore"):
            y, _ = model(data.x, None)
            return float(task.loss(y, data.target, data.mask).data)
    finally:
        if was_training:
            model.train()
