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

    def _update(self, i: int, g: np.ndarray) -> np.ndarray:
        momentum = self.hyper["momentum"]
        if momentum == 0:
            return self.lr * g
        v = momentum * self.state["velocity"][i] + g
        self.state["velocity"][i] = v
        direction = g + momentum * v if self.hyper["nesterov"] else v
        return self.lr * direction
