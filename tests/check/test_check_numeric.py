"""Numerical gradients of NumPy functions, the safe relative error and kink detection."""

import numpy as np
import pytest

from autograd_rnn.check import (
    compare_gradient,
    numerical_gradient,
    numerical_gradient_details,
    rel_error,
    rel_errors,
    sample_entries,
)

RNG = np.random.default_rng(0)


def test_rel_error_safe_formula():
    assert rel_error(0.0, 0.0) == 0.0
    assert rel_error(1.0, 1.1) == pytest.approx(0.1 / 1.1)
    assert rel_error(-1.0, 1.0) == pytest.approx(2.0)  # opposite signs: up to 2
    assert 0.0 < rel_error(1e-320, 0.0) < 1e-10  # the tiny floor keeps it finite
    np.testing.assert_allclose(rel_errors([1.0, 2.0], [1.0, 4.0]), [0.0, 0.5])
    assert rel_error(np.ones((2, 3)), np.ones((2, 3)) * (1 + 1e-9)) < 1e-8


def test_scalar_function_gradient_matches_analytic():
    x = RNG.standard_normal((3, 4))
    g = numerical_gradient(lambda x: np.sum(np.tanh(x) ** 2), x)
    exact = 2 * np.tanh(x) * (1 - np.tanh(x) ** 2)
    assert rel_error(g, exact) < 1e-7


def test_array_function_is_projected_on_upstream():
    x, W = RNG.standard_normal((2, 3)), RNG.standard_normal((3, 4))
    dout = RNG.standard_normal((2, 4))
    gW = numerical_gradient(lambda W: x @ W, W, dout)
    assert rel_error(gW, x.T @ dout) < 1e-8
    gx = numerical_gradient(lambda x: x @ W, x, dout)
    assert rel_error(gx, dout @ W.T) < 1e-8


def test_input_is_restored_and_entries_subset():
    x = RNG.standard_normal(10)
    before = x.copy()
    entries = sample_entries(10, 3, np.random.default_rng(1))
    assert len(entries) == 3 and np.all(np.diff(entries) > 0)
    g = numerical_gradient(lambda x: np.sum(x ** 3), x, entries=entries)
    np.testing.assert_array_equal(x, before)
    mask = np.zeros(10, bool)
    mask[entries] = True
    assert np.all(g[~mask] == 0)
    np.testing.assert_allclose(g[mask], 3 * x[mask] ** 2, rtol=1e-7)
    assert len(sample_entries(5, 10, np.random.default_rng(0))) == 5
    sampled = numerical_gradient(lambda x: np.sum(x ** 3), x, max_entries=4, seed=1)
    assert np.count_nonzero(sampled) == 4
    np.testing.assert_array_equal(x, before)


def test_kinks_found_only_near_relu_zero():
    x = np.array([-1.0, 0.0, 3e-7, 2.0, 0.5])
    details = numerical_gradient_details(lambda x: np.sum(np.maximum(x, 0)), x)
    assert list(details.kinks) == [1, 2]
    smooth = numerical_gradient_details(lambda x: np.sum(np.sin(5 * x)), x)
    assert smooth.kinks.size == 0


def test_max_tie_is_a_kink():
    x = np.array([1.0, 1.0, 0.2])
    details = numerical_gradient_details(lambda x: np.max(x), x)
    assert set(details.kinks) == {0, 1}


def test_errors_are_clear():
    with pytest.raises(ValueError, match=r"pass upstream="):
        numerical_gradient(lambda x: x * 2, np.ones(3))
    with pytest.raises(ValueError, match=r"f returned shape \(3,\) but upstream has shape"):
        numerical_gradient(lambda x: x * 2, np.ones(3), np.ones(4))
    with pytest.raises(TypeError, match="floating-point"):
        numerical_gradient(lambda x: x.sum(), np.arange(3))


def test_compare_gradient_reports_worst_entry():
    numeric = np.array([[1.0, 2.0], [3.0, 4.0]])
    analytic = numeric.copy()
    analytic[1, 0] = 3.5
    c = compare_gradient("W", analytic, numeric)
    assert not c.passed and c.worst_index == (1, 0)
    assert c.max_abs_error == pytest.approx(0.5)
    assert c.max_rel_error == pytest.approx(0.5 / 3.5)
    assert compare_gradient("W", numeric, numeric).passed
    with pytest.raises(ValueError, match=r"shape \(4,\)"):
        compare_gradient("W", np.ones(4), numeric)
