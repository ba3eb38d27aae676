"""autograd-rnn: a NumPy reverse-mode autodiff engine that unrolls recurrent networks into an
explicit graph, so backpropagation through time emerges from generic backprop.

>>> import autograd_rnn as ar
>>> x = ar.tensor([1.0, 2.0], requires_grad=True, name="x")
>>> y = (x * x).sum()
>>> y.backward()
>>> x.grad
array([2., 4.])
"""

from autograd_rnn import nn, optim, train, viz
from autograd_rnn.check import gradcheck, gradgradcheck
from autograd_rnn.codegen import compile
from autograd_rnn.core.backward import reachable
from autograd_rnn.core.engine import backward, grad
from autograd_rnn.core.errors import (
    AnomalyError,
    AutogradError,
    GraphFreedError,
    InPlaceError,
    ShapeError,
)
from autograd_rnn.core.node import Node
from autograd_rnn.core.primitive import REGISTRY, Primitive, primitive
from autograd_rnn.core.state import (
    current_scope,
    detect_anomaly,
    enable_grad,
    is_grad_enabled,
    lean_graph,
    no_grad,
    record_gradients,
    scope,
)
from autograd_rnn.core.tensor import Tensor, tensor
from autograd_rnn.core.vjp import unbroadcast
from autograd_rnn.ops import (
    abs,
    concat,
    exp,
    log,
    log_softmax,
    logsumexp,
    matmul,
    max,
    mean,
    relu,
    sigmoid,
    softmax,
    sum,
    tanh,
)
from autograd_rnn.ops import stack as _stack
from autograd_rnn.ops import where as _where

__version__ = "0.1.0"


def stack(tensors, axis: int = 0) -> Tensor:
    """Join a sequence of equal-shaped tensors along a new axis: T x (B, H) -> (T, B, H)."""
    tensors = list(tensors)
    if not tensors:
        raise ValueError("stack needs at least one tensor, got an empty sequence")
    return _stack(*tensors, axis=axis)


def concat(tensors, axis: int = 0) -> Tensor:  # noqa: F811 (public signature takes a list)
    """Join tensors along an existing axis: [(B, H1), (B, H2)] with axis=1 -> (B, H1 + H2)."""
    from autograd_rnn.ops import concat as _concat

    tensors = list(tensors)
    if not tensors:
        raise ValueError("concat needs at least one tensor, got an empty sequence")
    return _concat(*tensors, axis=axis)


def where(condition, a, b) -> Tensor:
    """``a`` where ``condition`` (a boolean array) holds, else ``b``; differentiable in a, b."""
    cond = condition.data if isinstance(condition, Tensor) else condition
    return _where(cond.astype(bool) if hasattr(cond, "astype") else bool(cond), a, b)
