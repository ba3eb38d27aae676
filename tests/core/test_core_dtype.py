"""float32 stays float32 through forward and backward; Python scalars never upcast it."""

from __future__ import annotations

import numpy as np
import pytest

import autograd_rnn as ar

F32_RTOL = 1e-5
F32_EPS = 1e-2  # a step (and tolerance) float32 can resolve

_rng = np.random.default_rng(5)


def _f32(*shape):
    return ar.tensor(_rng.standard_normal(shape).astype(np.float32), requires_grad=True)


def _expression(x, W, b):
    h = ar.tanh(x @ W + b) * 2.0 - 1
    p = ar.softmax(h, axis=-1)
    s = ar.sigmoid(h).relu().abs() + h.exp() / 3 + (h * h + 1.0).log() + (h * h + 0.5) ** 0.5
    m = h.max(axis=1, keepdims=True) + ar.logsumexp(h).reshape(2, 1) + h.mean()
    parts = ar.stack([h, p], axis=0).sum(axis=0) + ar.concat([s, m], axis=1)[:, :4]
    picked = parts[np.array([0, 0, 1])].T[1:, :]
    return (ar.where(picked.data > 0, picked, 0.5 * picked) - 3).sum() * 0.25


def test_float32_forward_and_backward_stay_float32():
    x, W, b = _f32(2, 3), _f32(3, 4), _f32(4)
    loss = _expression(x, W, b)
    assert loss.dtype == np.float32
    loss.backward()
    nodes = ar.reachable([loss])
    assert len(nodes) > 30
    for node in nodes:
        assert node.data.dtype == np.float32, node.label
        assert node.grad is not None and node.grad.dtype == np.float32, node.label
        for edge in node.edge_grads or ():
            assert edge is None or edge.dtype == np.float32, node.label


def test_float32_gradients_match_float64():
    x, W, b = _f32(2, 3), _f32(3, 4), _f32(4)
    _expression(x, W, b).backward()
    x64, W64, b64 = (ar.tensor(t.data.astype(np.float64), requires_grad=True) for t in (x, W, b))
    _expression(x64, W64, b64).backward()
    for lo, hi in ((x, x64), (W, W64), (b, b64)):
        np.testing.assert_allclose(lo.grad, hi.grad, rtol=F32_RTOL, atol=F32_RTOL)


@pytest.mark.parametrize("op", [
    lambda t: t * 2.0, lambda t: 2.0 * t, lambda t: t + 1, lambda t: 1 - t, lambda t: t / 3.0,
    lambda t: 3.0 / t, lambda t: t**2, lambda t: t**0.5, lambda t: -t,
])
def test_python_scalars_do_not_upcast(op):
    t = ar.tensor(np.array([1.0, 2.0], dtype=np.float32), requires_grad=True)
    y = op(t)
    assert y.dtype == np.float32
    y.sum().backward()
    assert t.grad.dtype == np.float32


def test_float32_second_order_stays_float32():
    t = ar.tensor(np.array([0.5, -1.0], dtype=np.float32), requires_grad=True)
    (g,) = ar.grad(ar.tanh(t).sum(), [t], create_graph=True)
    (gg,) = ar.grad(g.sum(), [t])
    assert g.dtype == np.float32 and gg.dtype == np.float32


def test_explicit_dtype_and_default_dtype():
    assert ar.tensor([1.0, 2.0]).dtype == np.float64
    assert ar.tensor(np.ones(2, np.float32)).dtype == np.float32
    assert ar.tensor([1.0], dtype=np.float32).dtype == np.float32
    assert ar.tensor(np.ones(2, np.float32), dtype=np.float64).dtype == np.float64


def test_gradcheck_warns_about_float32():
    t = ar.tensor(np.array([0.5, 1.0], dtype=np.float32), requires_grad=True, name="x")
    report = ar.gradcheck(lambda v: v * 2.0, [t], eps=F32_EPS, atol=F32_EPS, rtol=F32_EPS)
    assert any("x is float32" in w for w in report.warnings)


def test_float32_leaf_grads_with_recording_off_and_float64_constants():
    W = _f32(3, 4)
    x = np.ones((5, 3))  # a float64 constant input, as data often is
    h = ar.tensor(np.zeros((5, 4), np.float32))
    for _ in range(3):  # W reused: with recording off its matmul VJPs may be summed lazily
        h = ar.tanh(ar.tensor(x, dtype=np.float32) @ W + h @ ar.tensor(np.eye(4, dtype=np.float32)))
    with ar.record_gradients(False):
        h.sum().backward()
    assert W.grad.dtype == np.float32
    mixed = _f32(3, 4)
    with ar.record_gradients(False):
        (x @ mixed).sum().backward()  # float64 @ float32 promotes the output (NumPy rules)
    assert mixed.grad.dtype == np.float32  # but the leaf's gradient keeps its dtype
