"""Losses: values against NumPy, gradients against finite differences, masks, errors."""

import numpy as np
import pytest

import autograd_rnn as ar
from autograd_rnn.train.losses import cross_entropy, mse_loss

FD_OK = dict(eps=1e-6, atol=1e-6, rtol=1e-5)


def _np_log_softmax(z):
    z = z - z.max(axis=-1, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=-1, keepdims=True))


def test_mse_values_and_reductions():
    rng = np.random.default_rng(0)
    pred, target = rng.normal(size=(4, 3, 2)), rng.normal(size=(4, 3, 2))
    p = ar.tensor(pred, requires_grad=True)
    sq = (pred - target) ** 2
    assert mse_loss(p, target, reduction="sum").item() == pytest.approx(sq.sum())
    assert mse_loss(p, target).item() == pytest.approx(sq.mean())
    mask = np.zeros((4, 3))
    mask[-1] = 1.0  # many-to-one: the last step only
    assert mse_loss(p, target, mask, "sum").item() == pytest.approx(sq[-1].sum())
    assert mse_loss(p, target, mask, "mean").item() == pytest.approx(sq[-1].mean())


def test_mse_gradient_matches_finite_differences_with_mask():
    rng = np.random.default_rng(1)
    target = rng.normal(size=(3, 2, 2))
    mask = np.array([[1.0, 0.0], [0.5, 1.0], [0.0, 2.0]])
    p = ar.tensor(rng.normal(size=(3, 2, 2)), requires_grad=True)
    for reduction in ("sum", "mean"):
        report = ar.gradcheck(lambda x, r=reduction: mse_loss(x, target, mask, r), [p], **FD_OK)
        assert report, str(report)
    mse_loss(p, target, mask, "sum").backward()
    assert np.all(p.grad[0, 1] == 0) and np.all(p.grad[2, 0] == 0)  # masked entries


def test_cross_entropy_values_time_major_and_flat():
    rng = np.random.default_rng(2)
    logits = rng.normal(size=(5, 3, 4))
    targets = rng.integers(0, 4, size=(5, 3))
    ref = -np.take_along_axis(_np_log_softmax(logits), targets[..., None], axis=-1)[..., 0]
    z = ar.tensor(logits, requires_grad=True)
    assert cross_entropy(z, targets).item() == pytest.approx(ref.mean())
    assert cross_entropy(z, targets, reduction="sum").item() == pytest.approx(ref.sum())
    flat = ar.tensor(logits[0], requires_grad=True)  # (B, V)
    assert cross_entropy(flat, targets[0]).item() == pytest.approx(ref[0].mean())
    mask = (rng.random((5, 3)) > 0.5).astype(float)
    assert cross_entropy(z, targets, mask).item() == pytest.approx((ref * mask).sum() / mask.sum())


def test_cross_entropy_gradient_is_softmax_minus_one_hot_and_matches_fd():
    rng = np.random.default_rng(3)
    logits = rng.normal(size=(2, 3, 5))
    targets = rng.integers(0, 5, size=(2, 3))
    mask = np.array([[1.0, 1.0, 0.0], [0.0, 1.0, 1.0]])
    z = ar.tensor(logits, requires_grad=True)
    assert ar.gradcheck(lambda x: cross_entropy(x, targets, mask, "mean"), [z], **FD_OK)
    z.zero_grad()
    cross_entropy(z, targets, reduction="sum").backward()
    expected = np.exp(_np_log_softmax(logits)) - np.eye(5)[targets]
    assert np.allclose(z.grad, expected, atol=1e-12)


def test_cross_entropy_is_stable_for_huge_logits():
    z = ar.tensor(np.array([[1000.0, 0.0, -1000.0]]), requires_grad=True)
    loss = cross_entropy(z, np.array([1]))
    loss.backward()
    assert loss.item() == pytest.approx(1000.0)
    assert np.all(np.isfinite(z.grad))


def test_loss_errors_name_shapes_and_values():
    z = ar.tensor(np.zeros((2, 3, 4)), requires_grad=True)
    with pytest.raises(ValueError, match=r"need targets of shape \(2, 3\), got \(3, 2\)"):
        cross_entropy(z, np.zeros((3, 2), dtype=int))
    with pytest.raises(ValueError, match=r"in \[0, 4\), got values in \[4, 4\]"):
        cross_entropy(z, np.full((2, 3), 4))
    with pytest.raises(ValueError, match="must be integers"):
        cross_entropy(z, np.zeros((2, 3)))
    with pytest.raises(ValueError, match=r"pred has shape \(2, 3, 4\) but target has \(2, 3\)"):
        mse_loss(z, np.zeros((2, 3)))
    with pytest.raises(ValueError, match="mask of shape"):
        mse_loss(z, np.zeros((2, 3, 4)), mask=np.ones((3, 3)))
    with pytest.raises(ValueError, match="reduction must be"):
        mse_loss(z, np.zeros((2, 3, 4)), reduction="avg")
