"""Adaptive-step optimizers: Adagrad, RMSprop and Adam (per-coordinate step sizes)."""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np

from autograd_rnn.core.tensor import Tensor
from autograd_rnn.optim.base import Optimizer


class Adagrad(Optimizer):
    """Adagrad (Duchi et al. 2011), the optimizer of min-char-rnn.

    G <- G + g^2;  p <- p - lr * g / (sqrt(G) + eps)
    """

    slots = ("sum_sq",)

    def __init__(self, params: Iterable[Tensor], lr: float = 0.1, eps: float = 1e-8,
                 weight_decay: float = 0.0) -> None:
        super().__init__(params, lr=lr, eps=eps, weight_decay=weight_decay)

    def _rule(self, g: np.ndarray, slots: list, out: np.ndarray) -> np.ndarray:
        (sum_sq,) = slots
        sum_sq += np.multiply(g, g, out=out)  # G + g^2
        return _scaled_step(self, g, sum_sq, out)


def _scaled_step(opt, g: np.ndarray, square: np.ndarray, out: np.ndarray):
    """g / (sqrt(square) + eps) * lr, written into ``out`` (the amount buffer: one scratch
    array per parameter keeps the update's working set that of a hand-written loop)."""
    np.sqrt(square, out=out)
    out += opt.hyper["eps"]
    np.divide(g, out, out=out)
    out *= opt.hyper["lr"]
    return out


def _decay_into(avg: np.ndarray, beta: float, g: np.ndarray, tmp: np.ndarray,
                squared: bool) -> None:
    """avg <- beta * avg + (1 - beta) * g (times g again when ``squared``), in place."""
    avg *= beta
    np.multiply(g, 1 - beta, out=tmp)
    if squared:
        tmp *= g
    avg += tmp


class RMSprop(Optimizer):
    """RMSprop (Hinton's lecture 6e), PyTorch's form.

    E <- alpha * E + (1 - alpha) * g^2;  p <- p - lr * g / (sqrt(E) + eps)
    """

    slots = ("square_avg",)

    def __init__(self, params: Iterable[Tensor], lr: float = 0.01, alpha: float = 0.99,
                 eps: float = 1e-8, weight_decay: float = 0.0) -> None:
        if not 0 <= alpha < 1:
            raise ValueError(f"RMSprop: alpha must be in [0, 1), got {alpha!r}")
        super().__init__(params, lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay)

    def _rule(self, g: np.ndarray, slots: list, out: np.ndarray) -> np.ndarray:
        (avg,) = slots
        _decay_into(avg, self.hyper["alpha"], g, out, squared=True)
        return _scaled_step(self, g, avg, out)


class Adam(Optimizer):
    """Adam (Kingma & Ba 2015) with bias correction; t counts ``step()`` calls.

    m <- b1 m + (1 - b1) g;  v <- b2 v + (1 - b2) g^2
    p <- p - lr * (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps)

    computed as PyTorch does, in the algebraically equal form with one pass over the arrays
    fewer: p <- p - c m / (sqrt(v) + eps sqrt(1 - b2^t)), c = lr sqrt(1 - b2^t) / (1 - b1^t).
    """

    slots = ("m", "v")

    def __init__(self, params: Iterable[Tensor], lr: float = 0.001,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0.0) -> None:
        b1, b2 = betas
        for name, b in (("beta1", b1), ("beta2", b2)):
            if not 0 <= b < 1:
                raise ValueError(f"Adam: {name} must be in [0, 1), got {b!r}")
        super().__init__(params, lr=lr, beta1=b1, beta2=b2, eps=eps, weight_decay=weight_decay)

    def _rule(self, g: np.ndarray, slots: list, out: np.ndarray) -> np.ndarray:
        hyper, t = self.hyper, self.step_count
        b1, b2 = hyper["beta1"], hyper["beta2"]
        m, v = slots
        m *= b1
        m += np.multiply(g, 1 - b1, out=out)
        v *= b2
        np.multiply(g, 1 - b2, out=out)
        out *= g
        v += out
        root = math.sqrt(1 - b2**t)
        np.sqrt(v, out=out)
        out += hyper["eps"] * root  # sqrt(v) + eps sqrt(1 - b2^t)
        np.divide(m, out, out=out)
        out *= hyper["lr"] * root / (1 - b1**t)
        return out
