"""Optimizers (SGD with momentum, Adagrad, RMSprop, Adam) and gradient clipping.

>>> import autograd_rnn as ar
>>> w = ar.tensor([1.0, -2.0], requires_grad=True)
>>> opt = ar.optim.SGD([w], lr=0.1)
>>> (w * w).sum().backward(); opt.step(); w.data          # w - 0.1 * 2w
array([ 0.8, -1.6])
"""

from autograd_rnn.optim.adaptive import Adagrad, Adam, RMSprop
from autograd_rnn.optim.base import Optimizer
from autograd_rnn.optim.clip import (
    clip_grad_norm,
    clip_grad_value,
    clip_norm_,
    clip_value_,
    global_norm,
    grad_norm,
)
from autograd_rnn.optim.sgd import SGD

OPTIMIZERS = {"sgd": SGD, "adagrad": Adagrad, "rmsprop": RMSprop, "adam": Adam}


def make_optimizer(name: str, params, lr: float | None = None, **kwargs) -> Optimizer:
    """Build an optimizer by name ("sgd", "adagrad", "rmsprop", "adam"); ``lr=None`` keeps
    the class default."""
    key = name.lower()
    if key not in OPTIMIZERS:
        raise ValueError(f"unknown optimizer {name!r}; choose one of {sorted(OPTIMIZERS)}")
    if lr is not None:
        kwargs["lr"] = lr
    return OPTIMIZERS[key](params, **kwargs)


__all__ = [
    "OPTIMIZERS", "SGD", "Adagrad", "Adam", "Optimizer", "RMSprop", "clip_grad_norm",
    "clip_grad_value", "clip_norm_", "clip_value_", "global_norm", "grad_norm", "make_optimizer",
]
