"""Composite ops (mean, softmax family), the public wrappers (ar.stack/concat/where,
operators, methods) and special values: ties in max, huge inputs to softmax."""

from __future__ import annotations

import numpy as np
import pytest

import autograd_rnn as ar
from tests.core.fd_helpers import assert_matches_finite_differences

HUGE = 1e4
EXACT = 1e-12  # tolerance for results that are exact up to rounding

_rng = np.random.default_rng(7)


@pytest.mark.parametrize("shape, axis", [((3,), -1), ((2, 3), -1), ((2, 3), 0), ((2, 3, 4), 1)])
@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
def test_softmax_family_gradients(name, shape, axis):
    fn = getattr(ar, name)
    assert_matches_finite_differences(lambda x: fn(x, axis=axis), [_rng.standard_normal(shape)])


@pytest.mark.parametrize("shape, axis, keepdims", [
    ((3,), -1, False), ((2, 3), -1, True), ((2, 3), 0, False), ((2, 3, 4), 1, False),
    ((2, 3), None, False), ((2, 3), None, True), ((2, 3, 4), (0, 2), False),
    ((2, 3, 4), (-1, 1), True), ((1, 3), 1, False),
])
def test_logsumexp_gradient(shape, axis, keepdims):
    x = _rng.standard_normal(shape)

    def fn(t):
        return ar.logsumexp(t, axis=axis, keepdims=keepdims)

    assert_matches_finite_differences(fn, [x])
    expected = np.log(np.sum(np.exp(x), axis=axis, keepdims=keepdims))
    np.testing.assert_allclose(fn(x).data, expected, rtol=EXACT)


@pytest.mark.parametrize("axis, keepdims", [(None, False), (0, False), (1, True), ((0, 1), False),
                                            ([0, 1], True)])
def test_mean_gradient_and_value(axis, keepdims):
    x = _rng.standard_normal((2, 3))
    assert_matches_finite_differences(lambda t: ar.mean(t, axis=axis, keepdims=keepdims), [x])
    np_axis = tuple(axis) if isinstance(axis, list) else axis
    t = ar.tensor(x, requires_grad=True)
    np.testing.assert_allclose(t.mean(axis=axis, keepdims=keepdims).data,
                               x.mean(axis=np_axis, keepdims=keepdims), rtol=EXACT)


def test_softmax_family_is_stable_for_huge_inputs():
    x = ar.tensor([[HUGE, 0.0, -HUGE], [HUGE, HUGE, HUGE - 1.0]], requires_grad=True)
    p = ar.softmax(x)
    lp = ar.log_softmax(x)
    lse = ar.logsumexp(x)
    for t in (p, lp, lse):
        assert np.all(np.isfinite(t.data)), t
    np.testing.assert_allclose(p.data.sum(axis=-1), 1.0, rtol=EXACT)
    np.testing.assert_allclose(p.data[0], [1.0, 0.0, 0.0], atol=EXACT)
    np.testing.assert_allclose(lse.data[0], HUGE, rtol=EXACT)
    np.testing.assert_allclose(lse.data[1], HUGE + np.log(2 + np.exp(-1.0)), rtol=EXACT)
    (lp[0, 0] + lse.sum() + (p * p).sum()).backward()
    assert np.all(np.isfinite(x.grad))
    # d logsumexp / dx = softmax(x), rows of it sum to 1
    lse_only = ar.tensor(x.data, requires_grad=True)
    ar.logsumexp(lse_only).sum().backward()
    np.testing.assert_allclose(lse_only.grad, p.data, atol=EXACT)


def test_sigmoid_is_stable_and_symmetric():
    x = ar.tensor([-HUGE, -30.0, 0.0, 30.0, HUGE], requires_grad=True)
    s = ar.sigmoid(x)
    assert np.all(np.isfinite(s.data))
    np.testing.assert_allclose(s.data, [0.0, 1 / (1 + np.exp(30.0)), 0.5, 1 / (1 + np.exp(-30.0)),
                                        1.0], atol=EXACT)
    s.sum().backward()
    assert np.all(np.isfinite(x.grad))
    assert x.grad[2] == pytest.approx(0.25)


def test_max_ties_share_the_gradient_equally():
    x = ar.tensor([[1.0, 3.0, 3.0, 3.0], [2.0, 2.0, 0.0, -1.0]], requires_grad=True)
    x.max(axis=1).sum().backward()
    np.testing.assert_allclose(x.grad, [[0, 1 / 3, 1 / 3, 1 / 3], [0.5, 0.5, 0, 0]])
    y = ar.tensor([5.0, 5.0, 1.0], requires_grad=True)
    (ar.max(y) * 4.0).backward()
    np.testing.assert_allclose(y.grad, [2.0, 2.0, 0.0])
    # with two tied entries central differences agree (each side moves the max by eps/2)
    assert_matches_finite_differences(lambda t: ar.max(t), [np.array([5.0, 5.0, 1.0])])


def test_max_keepdims_and_tuple_axis_values():
    x = _rng.standard_normal((2, 3, 4))
    t = ar.tensor(x, requires_grad=True)
    np.testing.assert_array_equal(t.max(axis=(0, 2), keepdims=True).data,
                                  x.max(axis=(0, 2), keepdims=True))
    np.testing.assert_array_equal(t.max(axis=[2, 0]).data, x.max(axis=(2, 0)))
    t.max(axis=(0, 2)).sum().backward()
    assert t.grad.sum() == pytest.approx(3.0)


def test_public_stack_and_concat_take_lists():
    a, b = (ar.tensor(_rng.standard_normal((2, 3)), requires_grad=True) for _ in range(2))
    s = ar.stack([a, b], axis=-1)
    c = ar.concat((a, b), axis=-2)
    assert s.shape == (2, 3, 2) and c.shape == (4, 3)
    (s * ar.tensor(np.arange(12.0).reshape(2, 3, 2))).sum().backward()
    np.testing.assert_allclose(a.grad, np.arange(0, 12, 2.0).reshape(2, 3))
    np.testing.assert_allclose(b.grad, np.arange(1, 12, 2.0).reshape(2, 3))
    with pytest.raises(ValueError, match="empty"):
        ar.stack([])
    with pytest.raises(ValueError, match="empty"):
        ar.concat([])


def test_public_where_accepts_tensor_condition_and_scalars():
    a = ar.tensor([1.0, -2.0, 3.0], requires_grad=True)
    w = ar.where(a > 0, a, 0.0)
    np.testing.assert_array_equal(w.data, [1.0, 0.0, 3.0])
    w.sum().backward()
    np.testing.assert_array_equal(a.grad, [1.0, 0.0, 1.0])
    b = ar.tensor([1.0, 2.0], requires_grad=True)
    ar.where(ar.tensor([1.0, 0.0]), 2.0, b).sum().backward()
    np.testing.assert_array_equal(b.grad, [0.0, 1.0])


def test_comparisons_return_plain_boolean_arrays():
    x = ar.tensor([1.0, 2.0, 3.0], requires_grad=True)
    for result in (x < 2, x <= 2, x > 2, x >= 2, x == 2, x != 2, x > ar.tensor(1.5)):
        assert type(result) is np.ndarray and result.dtype == bool
    np.testing.assert_array_equal(x == 2, [False, True, False])


def test_operators_and_methods_match_numpy():
    a_np = _rng.uniform(0.5, 2.0, (2, 3))
    b_np = _rng.uniform(0.5, 2.0, (3,))
    a = ar.tensor(a_np, requires_grad=True)
    b = ar.tensor(b_np, requires_grad=True)
    pairs = [
        (a + b, a_np + b_np), (2.0 + a, 2.0 + a_np), (a - b, a_np - b_np), (1.0 - a, 1.0 - a_np),
        (a * b, a_np * b_np), (3.0 * a, 3.0 * a_np), (a / b, a_np / b_np),
        (1.0 / a, 1.0 / a_np), (a**1.5, a_np**1.5), (-a, -a_np), (a @ b, a_np @ b_np),
        (a_np.T @ a, a_np.T @ a_np), (a.sqrt(), np.sqrt(a_np)), (a.exp(), np.exp(a_np)),
        (a.log(), np.log(a_np)), (a.tanh(), np.tanh(a_np)), (a.relu(), a_np),
        (a.abs(), a_np), (a.sigmoid(), 1 / (1 + np.exp(-a_np))),
        (a.reshape(3, 2), a_np.reshape(3, 2)), (a.reshape((6,)), a_np.reshape(6)),
        (a.T, a_np.T), (a.transpose(1, 0), a_np.T), (a[1, ::-1], a_np[1, ::-1]),
        (a[[0, 0, 1]], a_np[[0, 0, 1]]), (a.sum(axis=[0, 1]), a_np.sum()),
    ]
    for result, expected in pairs:
        assert isinstance(result, ar.Tensor) and result.op is not None
        np.testing.assert_allclose(result.data, expected, rtol=EXACT)


def test_numpy_array_on_the_left_defers_to_tensor():
    x = ar.tensor([1.0, 2.0], requires_grad=True)
    y = np.array([3.0, 4.0]) * x + np.array([1.0, 1.0])
    assert isinstance(y, ar.Tensor)
    y.sum().backward()
    np.testing.assert_array_equal(x.grad, [3.0, 4.0])


def test_power_with_fractional_exponent_on_positive_inputs():
    x = _rng.uniform(0.3, 3.0, (2, 3))
    for p in (0.5, 1.0 / 3.0, -0.5, 2.7):
        assert_matches_finite_differences(lambda t, p=p: t**p, [x])
    with pytest.raises(TypeError, match="scalar exponent"):
        ar.tensor(x) ** ar.tensor(2.0)


def test_float_index_is_rejected():
    x = ar.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(IndexError, match="integers or booleans"):
        x[np.array([0.0])]


def test_power_zero_has_zero_gradient_even_at_zero():
    x = ar.tensor([0.0, 2.0, -1.0], requires_grad=True)
    (x**0).sum().backward()
    np.testing.assert_array_equal(x.grad, [0.0, 0.0, 0.0])
    assert_matches_finite_differences(lambda t: t**0 * t, [np.array([0.5, -2.0])])
