"""``Linear``: an affine map y = x @ W + b (row-vector convention)."""

from __future__ import annotations

import math

import numpy as np

from autograd_rnn.core.tensor import Tensor
from autograd_rnn.nn.init import check_size, make_rng, uniform
from autograd_rnn.nn.module import Module, Parameter


class Linear(Module):
    """y = x @ W + b.

    Args:
        in_features, out_features: sizes of the last axis of x and y.
        bias: whether to add b.
        weight_name, bias_name: attribute/parameter names (e.g. "W_y", "b_y").
        rng, seed: where the initial values come from (uniform(-k, k), k = 1/sqrt(in)).

    Parameters: ``W`` (in_features, out_features), ``b`` (out_features,) by default.
    Shapes: x (..., in_features) -> y (..., out_features).
    """

    def __init__(
        self,
        in_features: int,
        out_features: int,
        bias: bool = True,
        weight_name: str = "W",
        bias_name: str = "b",
        *,
        rng: np.random.Generator | None = None,
        seed: int | None = None,
    ) -> None:
        super().__init__()
        self.in_features = check_size(in_features, "in_features")
        self.out_features = check_size(out_features, "out_features")
        self.weight_name = weight_name
        self.bias_name = bias_name if bias else None
        gen = make_rng(rng, seed)
        k = 1.0 / math.sqrt(self.in_features)
        shape = (self.in_features, self.out_features)
        self.register_parameter(weight_name, Parameter(uniform(gen, shape, k), name=weight_name))
        if bias:
            b = Parameter(uniform(gen, (self.out_features,), k), name=bias_name)
            self.register_parameter(bias_name, b)

    @property
    def weight(self) -> Parameter:
        return getattr(self, self.weight_name)

    @property
    def bias(self) -> Parameter | None:
        return getattr(self, self.bias_name) if self.bias_name else None

    def forward(self, x) -> Tensor:
        """x (..., in_features) -> x @ W + b (..., out_features)."""
        if np.shape(x)[-1:] != (self.in_features,):
            raise ValueError(
                f"Linear expects input of shape (..., {self.in_features}), got {np.shape(x)}"
            )
        y = x @ self.weight if isinstance(x, Tensor) else Tensor(x) @ self.weight
        if self.bias_name:
            y = y + self.bias
        return y

    def extra_repr(self) -> str:
        return f"{self.in_features}, {self.out_features}, bias={self.bias_name is not None}"
