"""Second-order gradients: gradgradcheck, Hessian-vector products, backward(create_graph)."""

from __future__ import annotations

import numpy as np
import pytest

import autograd_rnn as ar
from autograd_rnn import ops

GG_EPS = 1e-6
GG_ATOL = 1e-5
GG_RTOL = 1e-4
HVP_EPS = 1e-5
HVP_ATOL = 1e-6
HVP_RTOL = 1e-5
EXACT = 1e-12
CLOSED_FORM_RTOL = 1e-10

_rng = np.random.default_rng(11)


def _n(*shape):
    return _rng.standard_normal(shape)


def _p(*shape):
    return _rng.uniform(0.5, 2.0, shape)


SECOND_ORDER_CASES = [
    pytest.param(lambda a, b: a * b + a / b, [_n(2, 3), _p(3)], id="mul-div-broadcast"),
    pytest.param(lambda a, b: a - b * b, [_n(2, 1), _n(1, 3)], id="sub-square-broadcast"),
    pytest.param(lambda x: ar.tanh(x), [_n(2, 3)], id="tanh"),
    pytest.param(lambda x: ar.sigmoid(x), [_n(3)], id="sigmoid"),
    pytest.param(lambda x: ar.exp(x) + ar.log(x), [_p(2, 3)], id="exp-log"),
    pytest.param(lambda x: x**2.5 + x**-1.0, [_p(3)], id="power"),
    pytest.param(lambda x: -x.abs() * x + x.relu() * x,
                 [_rng.uniform(0.3, 1.0, 4) * np.array([1, -1, 1, -1])], id="abs-relu"),
    pytest.param(lambda a, b: ar.tanh(a @ b), [_n(2, 3), _n(3, 4)], id="matmul-2d"),
    pytest.param(lambda a, b: (a @ b) ** 2, [_n(3), _n(2, 3, 4)], id="matmul-vec-batched"),
    pytest.param(lambda x: ar.sum(x * x, axis=0, keepdims=True) * x, [_n(2, 3)], id="sum"),
    pytest.param(lambda x: ar.max(x * x, axis=1) * x[:, 0], [np.array([[0.3, -1.2, 0.7],
                                                                     [1.1, 0.2, -0.4]])], id="max"),
    pytest.param(lambda x: x.mean(axis=1) * x.reshape(3, 2)[1:, 0], [_n(2, 3)], id="mean-reshape"),
    pytest.param(lambda x: (x.T * x.T)[np.array([0, 0, 2])], [_n(2, 3)], id="transpose-getitem"),
    pytest.param(lambda a, b: ar.stack([a * b, b], axis=-1) ** 2, [_n(2, 3), _n(2, 3)],
                 id="stack"),
    pytest.param(lambda a, b: ar.concat([a * a, b], axis=1) ** 3, [_n(2, 3), _n(2, 1)],
                 id="concat"),
    pytest.param(lambda a, b: ar.where(a.data > 0, a * b, b * b), [_n(2, 3), _n(3)], id="where"),
    pytest.param(lambda x: ar.softmax(x), [_n(2, 3)], id="softmax"),
    pytest.param(lambda x: ar.log_softmax(x, axis=0), [_n(2, 3)], id="log_softmax"),
    pytest.param(lambda x: ar.logsumexp(x * x), [_n(2, 3)], id="logsumexp"),
    pytest.param(lambda x: ops.broadcast_to(x * x, shape=(2, 3)) * x, [_n(3)], id="broadcast_to"),
    pytest.param(lambda x: (x * x)[:, ::-2] * x[np.array([[True, False, True],
                                                           [False, True, True]])].sum(),
                 [_n(2, 3)], id="getitem-slice-mask"),
    # linear functions: the first-order gradient is constant, so the second order is zero
    pytest.param(lambda a, b: (a + b).sum() * 2.0 - b.reshape(3, 1), [_n(3), _n(3)], id="linear"),
    pytest.param(lambda x: ar.stack([x, x.T.T])[0, 1:], [_n(2, 3)], id="linear-shape"),
]


@pytest.mark.parametrize("fn, inputs", SECOND_ORDER_CASES)
def test_gradgradcheck(fn, inputs):
    xs = [ar.tensor(x.copy(), requires_grad=True) for x in inputs]
    report = ar.gradgradcheck(fn, xs, eps=GG_EPS, atol=GG_ATOL, rtol=GG_RTOL)
    assert report, str(report)
    assert report.title == "second-order gradient check"


def test_gradgradcheck_rnn_composite():
    W_x, W_h, b_h = _n(2, 3) * 0.5, _n(3, 3) * 0.5, _n(3) * 0.1
    xs = _n(3, 1, 2)

    def loss(W_x, W_h, b_h):
        h = ar.tensor(np.zeros((1, 3)))
        for t in range(3):
            h = ar.tanh(xs[t] @ W_x + h @ W_h + b_h)
        return ar.log_softmax(h).sum()

    leaves = [ar.tensor(a.copy(), requires_grad=True) for a in (W_x, W_h, b_h)]
    assert ar.gradgradcheck(loss, leaves, eps=GG_EPS, atol=GG_ATOL, rtol=GG_RTOL)


def _rosenbrock_like(x):
    return (ar.tanh(x[1:] - x[:-1] * x[:-1]) ** 2).sum() + (ar.exp(x) * x).sum()


def test_hessian_vector_product_matches_finite_differences_of_the_gradient():
    x0 = _n(4) * 0.5
    v = _n(4)
    x = ar.tensor(x0.copy(), requires_grad=True)
    (g,) = ar.grad(_rosenbrock_like(x), [x], create_graph=True)
    assert g.requires_grad and g.op is not None  # the backward pass itself is a graph
    (hvp,) = ar.grad((g * v).sum(), [x])

    def gradient_at(values):
        t = ar.tensor(values, requires_grad=True)
        return ar.grad(_rosenbrock_like(t), [t])[0].data

    numeric = (gradient_at(x0 + HVP_EPS * v) - gradient_at(x0 - HVP_EPS * v)) / (2 * HVP_EPS)
    np.testing.assert_allclose(hvp.data, numeric, atol=HVP_ATOL, rtol=HVP_RTOL)


def test_backward_create_graph_sets_grad_tensor():
    x = ar.tensor([1.0, 2.0], requires_grad=True)
    (x * x * x).sum().backward(create_graph=True)
    np.testing.assert_allclose(x.grad, 3 * x.data**2, rtol=EXACT)
    assert isinstance(x.grad_tensor, ar.Tensor) and x.grad_tensor.requires_grad
    np.testing.assert_array_equal(x.grad_tensor.data, x.grad)
    gg = x.grad_tensor.sum()
    x.zero_grad()
    gg.backward()  # d/dx sum(3 x^2) = 6 x
    np.testing.assert_allclose(x.grad, 6 * x.data, rtol=EXACT)
    x.zero_grad()
    for _ in range(2):  # grad_tensor accumulates across backward calls like grad
        (x * x).sum().backward(create_graph=True)
    np.testing.assert_allclose(x.grad_tensor.data, 4 * x.data, rtol=EXACT)
    np.testing.assert_allclose(x.grad, 4 * x.data, rtol=EXACT)


def test_create_graph_records_nodes_for_the_backward_pass():
    x = ar.tensor([0.5], requires_grad=True)
    (g,) = ar.grad(ar.tanh(x).sum(), [x], create_graph=True)
    ops_in_backward = {n.op.name for n in ar.reachable([g]) if n.op is not None}
    assert "tanh" in ops_in_backward and "multiply" in ops_in_backward
    (g2,) = ar.grad(g.sum(), [x], create_graph=True)  # third order works too
    (g3,) = ar.grad(g2.sum(), [x])
    t = np.tanh(0.5)
    np.testing.assert_allclose(g2.data, -2 * t * (1 - t**2), rtol=CLOSED_FORM_RTOL)
    third = -2 * (1 - t**2) ** 2 + 4 * t**2 * (1 - t**2)  # d^3 tanh / dx^3
    np.testing.assert_allclose(g3.data, third, rtol=CLOSED_FORM_RTOL)
