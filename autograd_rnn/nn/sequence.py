"""Input plumbing for the recurrent layers: sequences as per-step tensors, lengths as masks.

A sequence arrives as an array/Tensor (T, B, D) or a list of T tensors/arrays (B, D);
variable lengths arrive as ``lengths`` (B,) or a 0/1 ``mask`` (T, B).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from autograd_rnn.core.tensor import Tensor, value_of


def sequence_steps(x, input_size: int, where: str) -> tuple[int, int, Callable[[int], Any]]:
    """Check ``x`` and return (T, B, step) where ``step(t)`` gives step t, shape (B, D).

    Array steps stay plain arrays (the layer wraps them into named constant tensors);
    a Tensor (T, B, D) is indexed when ``step(t)`` is called, so the caller decides the
    scope the indexing node lands in, and gradients reach the Tensor.

    Raises:
        ValueError: T = 0, wrong rank, a last axis different from ``input_size``, or list
            items of different shapes (all named in the message).
    """
    if isinstance(x, (list, tuple)):
        steps = list(x)
        if not steps:
            raise ValueError(f"{where}: got an empty sequence (T=0); need at least one step")
        first = np.shape(steps[0])
        for t, step in enumerate(steps):
            shape = np.shape(step)
            if len(shape) != 2 or shape[1] != input_size:
                raise ValueError(f"{where}: step {t} has shape {shape}, expected (B, {input_size})")
            if shape != first:
                raise ValueError(
                    f"{where}: step {t} has shape {shape} but step 0 has shape {first}"
                )
        return len(steps), first[0], steps.__getitem__
    if not isinstance(x, Tensor):
        x = np.asarray(x)
        if x.dtype.kind in "iub":
            x = x.astype(np.float64)
        elif x.dtype.kind != "f":
            raise TypeError(f"{where}: input must be numeric, got dtype {x.dtype}")
    shape = tuple(x.shape)
    if len(shape) != 3 or shape[2] != input_size:
        raise ValueError(
            f"{where}: input must have shape (T, B, {input_size}) (time-major), got {shape}"
        )
    if shape[0] == 0:
        raise ValueError(f"{where}: got an empty sequence (T=0), input shape {shape}")
    return shape[0], shape[1], x.__getitem__


def step_masks(lengths, mask, T: int, B: int, where: str) -> list:
    """Per-step boolean masks (B, 1), or None for a step where every sequence is valid.

    ``lengths`` (B,) with 0 <= lengths[b] <= T marks steps t < lengths[b] valid; ``mask``
    (T, B) of 0/1 values gives them directly. Passing neither gives [None] * T.
    """
    if lengths is not None and mask is not None:
        raise ValueError(f"{where}: pass lengths or mask, not both")
    if lengths is None and mask is None:
        return [None] * T
    if lengths is not None:
        lengths = np.asarray(value_of(lengths) if isinstance(lengths, Tensor) else lengths)
        if lengths.shape != (B,):
            raise ValueError(f"{where}: lengths must have shape ({B},), got {lengths.shape}")
        if lengths.dtype.kind == "f" and np.all(lengths == np.round(lengths)):
            lengths = lengths.astype(np.int64)
        if lengths.dtype.kind not in "iu":
            raise TypeError(f"{where}: lengths must be integers, got dtype {lengths.dtype}")
        bad = (lengths < 0) | (lengths > T)
        if np.any(bad):
            b = int(np.argmax(bad))
            raise ValueError(f"{where}: lengths[{b}] = {int(lengths[b])} is outside 0..{T} (T={T})")
        full = np.arange(T)[:, None] < lengths[None, :]
    else:
        full = np.asarray(value_of(mask) if isinstance(mask, Tensor) else mask)
        if full.shape != (T, B):
            raise ValueError(f"{where}: mask must have shape (T, B) = ({T}, {B}), got {full.shape}")
        if not np.all((full == 0) | (full == 1)):
            raise ValueError(f"{where}: mask must hold only 0/1 (or booleans)")
        full = full.astype(bool)
    return [None if full[t].all() else full[t][:, None] for t in range(T)]
