"""Parameter initialisation shared by the layers: seeded uniform(-k, k) like PyTorch."""

from __future__ import annotations

import numpy as np


def make_rng(
    rng: np.random.Generator | None = None, seed: int | None = None
) -> np.random.Generator:
    """The generator to draw from: ``rng`` if given, else ``default_rng(seed)``.

    Passing both is an error (it would be ambiguous which one decides the values).
    """
    if rng is not None and seed is not None:
        raise ValueError("pass either rng or seed, not both")
    if rng is not None:
        if not isinstance(rng, np.random.Generator):
            raise TypeError(f"rng must be a numpy.random.Generator, got {type(rng).__name__}")
        return rng
    return np.random.default_rng(seed)


def uniform(rng: np.random.Generator, shape: tuple[int, ...], bound: float) -> np.ndarray:
    """float64 array of ``shape`` drawn from uniform(-bound, bound)."""
    return rng.uniform(-bound, bound, size=shape).astype(np.float64)


def check_size(value: int, what: str, minimum: int = 1) -> int:
    """``value`` as an int, or a ValueError naming ``what`` when it is not an int >= minimum."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"{what} must be an integer >= {minimum}, got {value!r}")
    return int(value)
