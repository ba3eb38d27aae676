"""Random inputs for the reference layers, drawn so that typical bugs cannot hide.

Sizes: N (batch), T (time), D (input), H (hidden), V (vocabulary), M (output size of affine /
temporal_affine, default V). All float inputs are float64 and well conditioned (weights scaled
by 0.4 so tanh / sigmoid stay away from saturation).

Guarantees, whatever the seed:
- ``mask`` (temporal_softmax_loss) holds exactly round(mask_density * N * T) True entries,
  and at least one of each value when 0 < mask_density < 1 and N * T >= 2, so a mask ignored
  in backward always shows;
- ``x`` of word_embedding has at least ``repeats`` entries that repeat an index used
  elsewhere (N * T minus the number of distinct indices), so ``dW[x] += dout`` always shows.
"""

from __future__ import annotations

import numpy as np

from autograd_rnn.check.backward_report import CheckUsageError

MASK_DENSITY = 0.7  # default fraction of True mask entries
REPEATS = 2  # default number of repeated word indices


def _w(rng, *shape, scale=0.4):
    return scale * rng.standard_normal(shape)


def step_inputs(gates: int, c: bool = False, two_biases: bool = False):
    """Inputs of a one-step cell: x (N, D), prev_h (N, H) [prev_c], Wx (D, G H), Wh, b."""
    def make(rng, N=3, T=4, D=5, H=6, V=7, **_):
        d = {"x": _w(rng, N, D, scale=1.0), "prev_h": _w(rng, N, H, scale=1.0)}
        if c:
            d["prev_c"] = _w(rng, N, H, scale=1.0)
        d["Wx"] = _w(rng, D, gates * H)
        d["Wh"] = _w(rng, H, gates * H)
        if two_biases:
            d["bx"], d["bh"] = _w(rng, gates * H), _w(rng, gates * H)
        else:
            d["b"] = _w(rng, gates * H)
        return d
    return make


def sequence_inputs(gates: int):
    """Inputs of a recurrent layer over a sequence: x (N, T, D), h0 (N, H), Wx, Wh, b."""
    def make(rng, N=3, T=4, D=5, H=6, V=7, **_):
        return {"x": _w(rng, N, T, D, scale=1.0), "h0": _w(rng, N, H, scale=1.0),
                "Wx": _w(rng, D, gates * H), "Wh": _w(rng, H, gates * H), "b": _w(rng, gates * H)}
    return make


def affine_inputs(rng, N=3, T=4, D=5, H=6, V=7, M=None, **_):
    """x (N, D), w (D, M), b (M,)."""
    M = V if M is None else M
    return {"x": _w(rng, N, D, scale=1.0), "w": _w(rng, D, M), "b": _w(rng, M)}


def temporal_affine_inputs(rng, N=3, T=4, D=5, H=6, V=7, M=None, **_):
    """x (N, T, D), w (D, M), b (M,)."""
    M = V if M is None else M
    return {"x": _w(rng, N, T, D, scale=1.0), "w": _w(rng, D, M), "b": _w(rng, M)}


def loss_inputs(rng, N=3, T=4, D=5, H=6, V=7, mask_density=MASK_DENSITY, **_):
    """x (N, T, V) scores, y (N, T) labels, mask (N, T) bool with both values."""
    return {"x": _w(rng, N, T, V, scale=1.0), "y": rng.integers(0, V, size=(N, T)),
            "mask": mask_with_density(rng, (N, T), mask_density)}


def embedding_inputs(rng, N=3, T=4, D=5, H=6, V=7, repeats=None, **_):
    """x (N, T) indices in [0, V) with at least ``repeats`` repeated entries (default
    min(REPEATS, N*T - 1)), W (V, D)."""
    repeats = min(REPEATS, N * T - 1) if repeats is None else repeats
    return {"x": indices_with_repeats(rng, (N, T), V, repeats), "W": _w(rng, V, D, scale=1.0)}


def mask_with_density(rng, shape, density: float) -> np.ndarray:
    """A bool mask with exactly round(density * size) True entries, at random places."""
    if not 0.0 <= density <= 1.0:
        raise CheckUsageError(f"mask density must be between 0 and 1, got {density}")
    size = int(np.prod(shape))
    k = int(round(density * size))
    if 0.0 < density < 1.0 and size >= 2:
        k = min(max(k, 1), size - 1)  # both values, so an ignored mask shows
    flat = np.zeros(size, dtype=bool)
    flat[rng.permutation(size)[:k]] = True
    return flat.reshape(shape)


def indices_with_repeats(rng, shape, V: int, repeats: int) -> np.ndarray:
    """Integer indices in [0, V) where size - (number of distinct values) >= ``repeats``."""
    size = int(np.prod(shape))
    if repeats < 0 or (repeats > 0 and repeats >= size):
        raise CheckUsageError(f"repeats must be between 0 and N*T - 1 = {size - 1} (an index "
                              f"can repeat at most N*T - 1 times), got {repeats}")
    distinct = min(V, size - repeats)
    values = rng.choice(V, size=distinct, replace=False)
    flat = np.concatenate([values, rng.choice(values, size=size - distinct)])
    return rng.permutation(flat).reshape(shape)
