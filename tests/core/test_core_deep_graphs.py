"""Very deep graphs backpropagate without RecursionError (the sweep is iterative).

No timing assertions: these only prove depth is not limited by Python's recursion limit.
"""

from __future__ import annotations

import sys

import numpy as np

import autograd_rnn as ar

CHAIN_LENGTH = 20_000
RNN_STEPS = 10_000
HIDDEN = 4
EXACT = 1e-9
TAIL = 60  # steps of the truncated comparison graph
TRUNCATION_RTOL = 1e-6
TRUNCATION_ATOL = 1e-9


def test_chain_of_20000_ops_backpropagates():
    assert CHAIN_LENGTH > 10 * sys.getrecursionlimit()
    x = ar.tensor(0.5, requires_grad=True)
    y = x
    for _ in range(CHAIN_LENGTH // 2):
        y = y * 1.0001
        y = y - 0.00001
    y.backward()
    np.testing.assert_allclose(x.grad, 1.0001 ** (CHAIN_LENGTH // 2), rtol=EXACT)
    assert len(ar.reachable([y])) == CHAIN_LENGTH + 1
    # also through the create_graph path and ar.grad
    (g,) = ar.grad(y, [x], create_graph=True)
    np.testing.assert_allclose(g.data, x.grad, rtol=EXACT)


def _rnn_loss(params, xs, h):
    W_x, W_h, b_h = params
    for x_t in xs:
        h = ar.tanh(x_t @ W_x + h @ W_h + b_h)
    return (h * h).sum(), h


def test_rnn_unrolled_10000_steps_backpropagates():
    rng = np.random.default_rng(0)
    values = [rng.standard_normal((1, HIDDEN)) * 0.5,
              rng.standard_normal((HIDDEN, HIDDEN)) * 0.3, np.zeros(HIDDEN)]
    params = [ar.tensor(v, requires_grad=True) for v in values]
    xs = rng.standard_normal((RNN_STEPS, 1, 1))
    _, h_early = _rnn_loss(params, xs[:-TAIL], ar.tensor(np.zeros((1, HIDDEN))))
    loss, _ = _rnn_loss(params, xs[-TAIL:], h_early)
    with ar.record_gradients(False):
        loss.backward()
    for p in params:
        assert p.grad is not None and p.grad.shape == p.shape
        assert np.all(np.isfinite(p.grad)) and np.abs(p.grad).sum() > 0
    # this RNN is contractive, so steps before the last TAIL contribute ~0: the full
    # 10,000-step gradient equals the one of a graph cut (detached) TAIL steps from the end
    short = [ar.tensor(v, requires_grad=True) for v in values]
    loss_short, _ = _rnn_loss(short, xs[-TAIL:], h_early.detach())
    loss_short.backward()
    np.testing.assert_allclose(loss.data, loss_short.data, rtol=EXACT)
    for p, q in zip(params, short, strict=True):
        np.testing.assert_allclose(p.grad, q.grad, rtol=TRUNCATION_RTOL, atol=TRUNCATION_ATOL)
