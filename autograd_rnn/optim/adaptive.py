"""Adaptive-step optimizers: Adagrad, RMSprop and Adam (per-coordinate step sizes)."""

from __future__ import annotations

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

    def _update(self, i: int, g: np.ndarray) -> np.ndarray:
        sum_sq = self.state["sum_sq"][i] + g * g
        self.state["sum_sq"][i] = sum_sq
        return self.lr * g / (np.sqrt(sum_sq) + self.hyper["eps"])


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

    def _update(self, i: int, g: np.ndarray) -> np.ndarray:
        alpha = self.hyper["alpha"]
        avg = alpha * self.state["square_avg"][i] + (1 - alpha) * g * g
        self.state["square_avg"][i] = avg
        return self.lr * g / (np.sqrt(avg) + self.hyper["eps"])


class Adam(Optimizer):
    """Adam (Kingma & Ba 2015) with bias correction; t counts ``step()`` calls.

    m <- b1 m + (1 - b1) g;  v <- b2 v + (1 - b2) g^2
    p <- p - lr * (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps)
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

    def _update(self, i: int, g: np.ndarray) -> np.ndarray:
        b1, b2, t = self.hyper["beta1"], self.hyper["beta2"], self.step_count
        m = b1 * self.state["m"][i] + (1 - b1) * g
        v = b2 * self.state["v"][i] + (1 - b2) * g * g
        self.state["m"][i], self.state["v"][i] = m, v
        m_hat = m / (1 - b1**t)
        v_hat = v / (1 - b2**t)
        return self.lr * m_hat / (np.sqrt(v_hat) + self.hyper["eps"])
