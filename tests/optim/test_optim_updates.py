"""Optimizers against updates computed by hand, state dicts, and gradient clipping."""

import numpy as np
import pytest

import autograd_rnn as ar
from autograd_rnn.optim import (
    SGD,
    Adagrad,
    Adam,
    RMSprop,
    clip_grad_norm,
    clip_grad_value,
    grad_norm,
    make_optimizer,
)

EXACT = 1e-12


def _param(values):
    return ar.tensor(np.array(values, dtype=np.float64), requires_grad=True)


def _run(opt, p, grads):
    """Feed a fixed sequence of gradients; return the parameter after each step."""
    out = []
    for g in grads:
        p.grad = np.array(g, dtype=np.float64)
        opt.step()
        out.append(p.data.copy())
    return out


GRADS = [[1.0, -2.0], [0.5, 0.5], [-1.0, 3.0]]


def test_sgd_plain_momentum_nesterov():
    p = _param([1.0, 1.0])
    got = _run(SGD([p], lr=0.1), p, GRADS)
    assert np.allclose(got[0], [0.9, 1.2], atol=EXACT)
    assert np.allclose(got[2], [1 - 0.1 * 0.5, 1 - 0.1 * 1.5], atol=EXACT)

    p = _param([1.0, 1.0])
    got = _run(SGD([p], lr=0.1, momentum=0.9), p, GRADS)
    v1 = np.array(GRADS[0])
    v2 = 0.9 * v1 + GRADS[1]
    assert np.allclose(got[1], 1 - 0.1 * v1 - 0.1 * v2, atol=EXACT)

    p = _param([1.0, 1.0])
    got = _run(SGD([p], lr=0.1, momentum=0.9, nesterov=True), p, GRADS[:1])
    g = np.array(GRADS[0])
    assert np.allclose(got[0], 1 - 0.1 * (g + 0.9 * g), atol=EXACT)


def test_adagrad_rmsprop_by_hand():
    p = _param([1.0, 1.0])
    got = _run(Adagrad([p], lr=0.5, eps=0.0), p, GRADS[:2])
    g1, g2 = np.array(GRADS[0]), np.array(GRADS[1])
    after1 = 1 - 0.5 * g1 / np.abs(g1)
    assert np.allclose(got[0], after1, atol=EXACT)
    assert np.allclose(got[1], after1 - 0.5 * g2 / np.sqrt(g1**2 + g2**2), atol=EXACT)

    p = _param([1.0, 1.0])
    got = _run(RMSprop([p], lr=0.01, alpha=0.9, eps=0.0), p, GRADS[:2])
    e1 = 0.1 * g1**2
    e2 = 0.9 * e1 + 0.1 * g2**2
    after1 = 1 - 0.01 * g1 / np.sqrt(e1)
    assert np.allclose(got[0], after1, atol=EXACT)
    assert np.allclose(got[1], after1 - 0.01 * g2 / np.sqrt(e2), atol=EXACT)


@pytest.mark.parametrize("eps", [1e-8, 0.5])
def test_adagrad_rmsprop_eps_by_hand(eps):
    # eps is added to the square root (not under it); a zero gradient entry makes the
    # denominator eps alone, and eps = 0.5 is large enough to tell the variants apart
    grads = [[1.0, 0.0], [0.5, -2.0], [-1.0, 3.0]]
    p = _param([1.0, 1.0])
    got = _run(Adagrad([p], lr=0.5, eps=eps), p, grads)
    x, G = np.ones(2), np.zeros(2)
    for step, g in zip(got, grads, strict=True):
        G = G + np.square(g)
        x = x - 0.5 * np.array(g) / (np.sqrt(G) + eps)
        assert np.allclose(step, x, rtol=0, atol=EXACT)

    p = _param([1.0, 1.0])
    got = _run(RMSprop([p], lr=0.01, alpha=0.9, eps=eps), p, grads)
    x, E = np.ones(2), np.zeros(2)
    for step, g in zip(got, grads, strict=True):
        E = 0.9 * E + 0.1 * np.square(g)
        x = x - 0.01 * np.array(g) / (np.sqrt(E) + eps)
        assert np.allclose(step, x, rtol=0, atol=EXACT)


def test_adam_by_hand():
    p = _param([1.0, 1.0])
    got = _run(Adam([p], lr=0.1, betas=(0.9, 0.99), eps=1e-8), p, GRADS)
    m = v = np.zeros(2)
    x = np.ones(2)
    for t, g in enumerate(GRADS, start=1):
        g = np.array(g)
        m = 0.9 * m + 0.1 * g
        v = 0.99 * v + 0.01 * g * g
        x = x - 0.1 * (m / (1 - 0.9**t)) / (np.sqrt(v / (1 - 0.99**t)) + 1e-8)
        assert np.allclose(got[t - 1], x, atol=EXACT)
    # the first Adam step moves every coordinate by about lr, whatever the gradient scale
    q = _param([0.0, 0.0])
    _run(Adam([q], lr=0.1), q, [[1e-3, 1e3]])
    assert np.allclose(q.data, [-0.1, -0.1], atol=1e-6)


def test_parameters_without_grad_are_left_alone_and_zero_grad_clears():
    a, b = _param([1.0]), _param([2.0])
    opt = SGD([a, b], lr=1.0)
    a.grad = np.array([1.0])
    opt.step()
    assert a.data[0] == 0.0 and b.data[0] == 2.0
    opt.zero_grad()
    assert a.grad is None and b.grad is None


def test_update_rebinds_data_so_saved_graph_values_survive():
    p = _param([1.0, 2.0])
    before = p.data
    p.grad = np.array([1.0, 1.0])
    SGD([p], lr=1.0).step()
    assert np.array_equal(before, [1.0, 2.0]) and np.array_equal(p.data, [0.0, 1.0])


@pytest.mark.parametrize("name", ["sgd", "adagrad", "rmsprop", "adam"])
def test_state_dict_round_trip_continues_identically(name):
    kwargs = {"momentum": 0.9} if name == "sgd" else {}
    p1, p2 = _param([1.0, -1.0]), _param([1.0, -1.0])
    opt1 = make_optimizer(name, [p1], lr=0.05, **kwargs)
    _run(opt1, p1, GRADS[:2])
    state = opt1.state_dict()
    assert all(isinstance(v, np.ndarray) for v in state.values())
    p2.data = p1.data.copy()
    opt2 = make_optimizer(name, [p2], lr=0.7, **kwargs)
    opt2.load_state_dict(state)
    assert opt2.lr == 0.05 and opt2.step_count == 2
    assert np.array_equal(_run(opt1, p1, GRADS[2:])[0], _run(opt2, p2, GRADS[2:])[0])


def test_load_state_dict_errors_name_the_problem():
    p = _param([1.0, 2.0])
    state = Adam([p]).state_dict()
    with pytest.raises(ValueError, match="for 'Adam', not SGD"):
        SGD([p]).load_state_dict(state)
    q = _param([1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match=r"'m.0' has shape \(2,\) but parameter 0 has shape"):
        Adam([q]).load_state_dict(state)
    with pytest.raises(ValueError, match="does not fit 2 parameters"):
        Adam([p, q]).load_state_dict(state)


def test_constructor_errors():
    with pytest.raises(ValueError, match="empty parameter list"):
        SGD([])
    with pytest.raises(TypeError, match="requires_grad=True"):
        SGD([ar.tensor([1.0])])
    with pytest.raises(ValueError, match="lr must be > 0"):
        Adam([_param([1.0])], lr=0.0)
    with pytest.raises(ValueError, match="unknown optimizer 'lbfgs'"):
        make_optimizer("lbfgs", [_param([1.0])])


def test_clip_grad_norm_returns_pre_clip_norm_and_rescales():
    a, b = _param([0.0, 0.0]), _param([0.0])
    a.grad, b.grad = np.array([3.0, 0.0]), np.array([4.0])
    assert grad_norm([a, b]) == pytest.approx(5.0)
    assert clip_grad_norm([a, b], 1.0) == pytest.approx(5.0)
    assert np.allclose(a.grad, [0.6, 0.0]) and np.allclose(b.grad, [0.8])
    assert grad_norm([a, b]) == pytest.approx(1.0)
    # below the bound: unchanged
    assert clip_grad_norm([a, b], 10.0) == pytest.approx(1.0)
    assert np.allclose(a.grad, [0.6, 0.0])


def test_clip_grad_value_returns_pre_clip_norm_and_clamps():
    a = _param([0.0, 0.0, 0.0])
    a.grad = np.array([-10.0, 0.5, 7.0])
    norm = clip_grad_value([a], 5.0)
    assert norm == pytest.approx(np.sqrt(100 + 0.25 + 49))
    assert np.array_equal(a.grad, [-5.0, 0.5, 5.0])
    with pytest.raises(ValueError, match="clip must be > 0"):
        clip_grad_value([a], 0.0)


def test_clip_with_non_finite_gradient_reports_it_and_changes_nothing():
    a = _param([0.0, 0.0])
    a.grad = np.array([np.inf, 1.0])
    assert not np.isfinite(clip_grad_norm([a], 1.0))
    assert a.grad[1] == 1.0


def test_sgd_minimises_a_quadratic_through_the_engine():
    w = _param([3.0, -2.0])
    opt = SGD([w], lr=0.1, momentum=0.5)
    for _ in range(100):
        opt.zero_grad()
        ((w - 1.0) * (w - 1.0)).sum().backward()
        opt.step()
    assert np.allclose(w.data, [1.0, 1.0], atol=1e-6)
