"""Tensor operators and methods (``ops/methods.py``).

Operators call ``Primitive.apply`` directly (no ``__call__`` packing) and must record the
same node and value as calling the op; ``x[index]`` shares one read-only params dict per
distinct basic index (gate slices repeat every timestep), and must never confuse two
indices that differ only in type (a float slice bound is an error, ``True`` a mask axis).
"""

from __future__ import annotations

import numpy as np
import pytest

import autograd_rnn as ar
from autograd_rnn.core.node import FrozenParams
from autograd_rnn.ops import elementwise as ew
from autograd_rnn.ops import linalg
from tests.core.fd_helpers import numeric_gradients


def _sigmoid(x):
    return 1 / (1 + np.exp(-x))


OPERATORS = {  # the expression on tensors, the same on plain arrays, the op it must record
    "add": (lambda a, b: a + b, None, ew.add), "radd": (lambda a, b: 1.5 + a, None, ew.add),
    "sub": (lambda a, b: a - b, None, ew.subtract),
    "rsub": (lambda a, b: 1.5 - b, None, ew.subtract),
    "mul": (lambda a, b: a * b, None, ew.multiply),
    "rmul": (lambda a, b: 1.5 * b, None, ew.multiply),
    "div": (lambda a, b: a / b, None, ew.divide), "rdiv": (lambda a, b: 1.5 / b, None, ew.divide),
    "matmul": (lambda a, b: a @ b.T, None, linalg.matmul),
    "rmatmul": (lambda a, b: np.ones((2, 3)) @ a, None, linalg.matmul),
    "neg": (lambda a, b: -a, None, ew.negative),
    "tanh": (lambda a, b: a.tanh(), lambda a, b: np.tanh(a), ew.tanh),
    "sigmoid": (lambda a, b: a.sigmoid(), lambda a, b: _sigmoid(a), ew.sigmoid),
    "exp": (lambda a, b: a.exp(), lambda a, b: np.exp(a), ew.exp),
    "log": (lambda a, b: b.log(), lambda a, b: np.log(b), ew.log),
    "relu": (lambda a, b: a.relu(), lambda a, b: np.maximum(a, 0), ew.relu),
    "abs": (lambda a, b: a.abs(), lambda a, b: np.abs(a), ew.abs),
}


@pytest.mark.parametrize("name", OPERATORS)
def test_operators_record_the_op_and_its_gradients(name):
    rng = np.random.default_rng(0)
    data = [rng.standard_normal((3, 4)), rng.uniform(1, 2, (3, 4))]
    a, b = (ar.tensor(d, requires_grad=True) for d in data)
    expression, on_arrays, op = OPERATORS[name]
    on_arrays = on_arrays or expression  # operators work on arrays as they are
    assert op.defaults == {}  # operators pass no params: an op with defaults needs __call__
    out = expression(a, b)
    assert out.op is op and out.params == {} and out.requires_grad
    assert np.allclose(out.data, on_arrays(*data), rtol=1e-14, atol=0)
    v = rng.standard_normal(out.shape)
    out.backward(v)
    expected = numeric_gradients(on_arrays, data, v)
    for leaf, grad in zip((a, b), expected, strict=True):
        assert np.allclose(0.0 if leaf.grad is None else leaf.grad, grad, rtol=1e-6, atol=1e-8)


def test_operators_on_constants_only_return_plain_values():
    assert type(linalg.matmul.apply((np.eye(2), np.ones((2, 2))))) is np.ndarray
    assert type(ew.tanh.apply((np.zeros(3),))) is np.ndarray


def test_a_repeated_basic_index_shares_one_read_only_params_dict():
    x = ar.tensor(np.arange(24.0).reshape(3, 8), requires_grad=True)
    gates = [[x[:, k * 2:(k + 1) * 2] for k in range(4)] for _ in range(3)]
    for k in range(4):
        assert gates[0][k].params is gates[1][k].params is gates[2][k].params
        assert type(gates[0][k].params) is FrozenParams
    assert len({id(g.params) for g in gates[0]}) == 4
    assert x[1].params is x[1].params and x[..., None].params is x[..., None].params
    assert x[1].params is not x[(1,)].params  # x[1] and x[(1,)] are both fine, but kept apart


@pytest.mark.parametrize("index", [
    np.array([0, 2]), [0, 2], (slice(None), np.array([1, 1])), np.int64(1), True,
    (slice(np.int64(0), 2),),
])
def test_other_indices_get_params_of_their_own(index):
    x = ar.tensor(np.arange(24.0).reshape(3, 8), requires_grad=True)
    y = x[index]
    assert np.array_equal(y.data, x.data[index]) and type(y.params) is dict


def test_an_index_differing_only_in_type_is_never_reused():
    x = ar.tensor(np.arange(24.0).reshape(3, 8), requires_grad=True)
    assert x[1:3].shape == (2, 8)
    with pytest.raises(TypeError, match="slice indices"):
        x[1.0:3]  # equal to 1:3 as a tuple of bounds, an error all the same
    assert x[1:3].shape == (2, 8)
    assert x[True].shape == (1, 3, 8) and x[1].shape == (8,)


def test_gradients_through_shared_gate_slices():
    rng = np.random.default_rng(1)
    data = rng.standard_normal((2, 8))

    def loss(x):
        total = 0.0
        for t in range(3):  # the same four gate slices every step
            i, f = ar.sigmoid(x[:, :2]), ar.sigmoid(x[:, 2:4])
            g, o = ar.tanh(x[:, 4:6]), ar.sigmoid(x[:, 6:])
            total = total + (o * ar.tanh(f * (t + 1.0) + i * g)).sum()
        return total

    x = ar.tensor(data, requires_grad=True)
    loss(x).backward()
    (expected,) = numeric_gradients(loss, [data], np.array(1.0))
    assert np.allclose(x.grad, expected, rtol=1e-6, atol=1e-9)
