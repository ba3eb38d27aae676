"""Primitive ops (forward and VJP side by side), composites built from them, and the
Tensor operators and methods that call them (``methods.py``)."""

from autograd_rnn.ops import methods  # noqa: F401  (binds Tensor's operators)
from autograd_rnn.ops.elementwise import (
    abs,
    add,
    divide,
    exp,
    log,
    multiply,
    negative,
    power,
    relu,
    sigmoid,
    subtract,
    tanh,
    where,
)
from autograd_rnn.ops.linalg import matmul
from autograd_rnn.ops.reduce import max, mean, sum
from autograd_rnn.ops.shape import (
    broadcast_to,
    concat,
    getitem,
    reshape,
    scatter_add,
    stack,
    transpose,
)
from autograd_rnn.ops.softmax import log_softmax, logsumexp, softmax

__all__ = [
    "abs", "add", "broadcast_to", "concat", "divide", "exp", "getitem", "log",
    "log_softmax", "logsumexp", "matmul", "max", "mean", "multiply", "negative", "power",
    "relu", "reshape", "scatter_add", "sigmoid", "softmax", "stack", "subtract", "sum",
    "tanh", "transpose", "where",
]
