"""Optional cross-check against PyTorch (skipped when torch is not installed)."""

from __future__ import annotations

import numpy as np
import pytest

import autograd_rnn as ar

torch = pytest.importorskip("torch")

pytestmark = pytest.mark.torch

TORCH_RTOL = 1e-10
TORCH_ATOL = 1e-12
T, B, D, H = 4, 2, 3, 5


def _rnn_like(lib, xs, W_x, W_h, b_h, W_y, targets):
    """An Elman RNN with a softmax cross-entropy readout, written for either library."""
    h = lib["zeros"]((B, H))
    total = 0.0
    for t in range(T):
        h = lib["tanh"](xs[t] @ W_x + h @ W_h + b_h)
        logits = h @ W_y
        logp = lib["log_softmax"](logits)
        total = total - (logp * targets[t]).sum() / B
    gate = lib["sigmoid"](h).max()  # reductions, ties excluded by random data
    return total + gate * lib["exp"]((h * h).mean()) + lib["logsumexp"](h * 3.0).sum()


AR = {
    "zeros": lambda s: ar.tensor(np.zeros(s)),
    "tanh": ar.tanh, "sigmoid": ar.sigmoid, "exp": ar.exp,
    "log_softmax": lambda x: ar.log_softmax(x, axis=-1),
    "logsumexp": lambda x: ar.logsumexp(x, axis=-1),
}
TORCH = {
    "zeros": lambda s: torch.zeros(s, dtype=torch.float64),
    "tanh": torch.tanh, "sigmoid": torch.sigmoid, "exp": torch.exp,
    "log_softmax": lambda x: torch.log_softmax(x, dim=-1),
    "logsumexp": lambda x: torch.logsumexp(x, dim=-1),
}


def test_rnn_like_expression_gradients_equal_torch():
    rng = np.random.default_rng(0)
    xs = rng.standard_normal((T, B, D))
    params = [rng.standard_normal(s) * 0.5 for s in [(D, H), (H, H), (H,), (H, 4)]]
    targets = np.eye(4)[rng.integers(0, 4, (T, B))]

    ours = [ar.tensor(p, requires_grad=True) for p in params]
    loss = _rnn_like(AR, xs, *ours, targets)
    loss.backward()

    theirs = [torch.tensor(p, requires_grad=True) for p in params]
    t_loss = _rnn_like(TORCH, torch.tensor(xs), *theirs, torch.tensor(targets))
    t_loss.backward()

    np.testing.assert_allclose(loss.data, t_loss.detach().numpy(), rtol=TORCH_RTOL)
    for a, b in zip(ours, theirs, strict=True):
        np.testing.assert_allclose(a.grad, b.grad.numpy(), rtol=TORCH_RTOL, atol=TORCH_ATOL)


def test_hessian_vector_product_equals_torch():
    rng = np.random.default_rng(1)
    x0, v = rng.standard_normal(4), rng.standard_normal(4)

    x = ar.tensor(x0, requires_grad=True)
    (g,) = ar.grad((ar.tanh(x) * x).sum() ** 2, [x], create_graph=True)
    (hv,) = ar.grad((g * v).sum(), [x])

    tx = torch.tensor(x0, requires_grad=True)
    (tg,) = torch.autograd.grad(((torch.tanh(tx) * tx).sum()) ** 2, tx, create_graph=True)
    (thv,) = torch.autograd.grad((tg * torch.tensor(v)).sum(), tx)
    np.testing.assert_allclose(hv.data, thv.numpy(), rtol=TORCH_RTOL, atol=TORCH_ATOL)
