"""Stochastic gradient descent with optional (Nesterov) momentum."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from autograd_rnn.core.tensor import Tensor
from autograd_rnn.optim.base import Optimizer


class SGD(Optimizer):
    """SGD with momentum (PyTorch's formulation).

    v <- momentum * v + g;  p <- p - lr * v            (plain momentum)
    p <- p - lr * (g + momentum * v)                   (nesterov=True)
    With momentum=0 this is p <- p - lr * g.
    """

    slots = ("velocity",)

    def __init__(
        self,
        params: Iterable[Tensor],
        lr: float = 0.1,
        momentum: float = 0.0,
        nesterov: bool = False,
        weight_decay: float = 0.0,
    ) -> None:
        if nesterov and momentum <= 0:
            raise ValueError("SGD: nesterov=True needs momentum > 0")
        super().__init__(params, lr=lr, momentum=momentum, weight_decay=weight_decay,
                         nesterov=float(bool(nesterov)))

    def _rule(self, g: np.ndarray, slots: list, out: np.ndarray) -> np.ndarray:
        momentum = self.hyper["momentum"]
        if momentum == 0:
            return np.multiply(g, self.lr, out=out)
        (v,) = slots
        v *= momentum
        v += g
        if not self.hyper["nesterov"]:
            return np.multiply(v, self.lr, out=out)
        np.multiply(v, momentum, out=out)  # direction g + momentum * v
        out += g
        out *= self.lr
        return out
