"""The engine's fast backward paths give the same gradients as the plain sweep.

With gradient recording off, backward sums a leaf's outer-product VJPs (matmul's
``a.T @ g``) lazily as stacked matmuls and skips per-edge bookkeeping; with recording on
it takes the plain per-edge path. Both must agree to round-off, whatever mix of uses a
leaf has (stacked form, ordinary VJPs, batched 3-D matmuls, float32, many chunks).
"""
import numpy as np
import pytest

import autograd_rnn as ar
from autograd_rnn.core.fastpaths import StackedSum

RTOL = 1e-12  # same sums in a different association order: round-off only


def _grads(build, leaves, record):
    for leaf in leaves:
        leaf.zero_grad()
    with ar.record_gradients(record):
        build().backward()
    return [leaf.grad.copy() for leaf in leaves]


def _compare(build, leaves, rtol=RTOL):
    slow = _grads(build, leaves, True)
    fast = _grads(build, leaves, False)
    for leaf, a, b in zip(leaves, slow, fast, strict=True):
        assert b.shape == leaf.shape and b.dtype == leaf.dtype, leaf.name
        np.testing.assert_allclose(b, a, rtol=rtol, atol=1e-12, err_msg=leaf.name)


def test_reused_weight_mixed_uses_matches_plain_sweep():
    rng = np.random.default_rng(0)
    W = ar.tensor(rng.standard_normal((4, 4)), requires_grad=True, name="W")
    b = ar.tensor(rng.standard_normal(4), requires_grad=True, name="b")
    xs = [rng.standard_normal((3, 4)) for _ in range(7)]

    def build():
        h = ar.tensor(np.zeros((3, 4)))
        total = 0.0
        for x in xs:
            h = ar.tanh(ar.matmul(x, W) + h @ W + b)  # stacked form for W (twice per step)
            total = total + (W @ h.T).sum()  # W as the left operand: ordinary VJP
        return total + (W * W).sum() + (h[:, :2] ** 2).sum()

    _compare(build, [W, b])


def test_many_uses_cross_chunk_boundaries():
    rng = np.random.default_rng(1)
    W = ar.tensor(rng.standard_normal((5, 2)), requires_grad=True, name="W")
    n = 3 * StackedSum.CHUNK_ROWS // 4 + 1  # rows per use 2 -> at least one full flush

    def build():
        total = 0.0
        for k in range(n):
            total = total + ar.tanh(np.full((2, 5), 0.01 * k) @ W).sum()
        return total

    _compare(build, [W])
    # and against the closed form: sum_k a_k^T (1 - tanh^2)
    expected = sum(
        np.full((2, 5), 0.01 * k).T @ (1 - np.tanh(np.full((2, 5), 0.01 * k) @ W.data) ** 2)
        for k in range(n)
    )
    np.testing.assert_allclose(W.grad, expected, rtol=1e-10)


def test_batched_and_vector_matmul_fall_back_to_plain_vjp():
    rng = np.random.default_rng(2)
    W = ar.tensor(rng.standard_normal((3, 2)), requires_grad=True, name="W")
    v = ar.tensor(rng.standard_normal(3), requires_grad=True, name="v")

    def build():
        batched = ar.matmul(rng_a, W)  # (2, 4, 3) @ (3, 2): no 2-D stacked form
        vector = v @ W  # (3,) @ (3, 2)
        return batched.sum() + (vector * vector).sum() + (np.ones((4, 3)) @ W).sum()

    rng_a = rng.standard_normal((2, 4, 3))
    _compare(build, [W, v])


def test_float32_leaf_keeps_its_dtype():
    rng = np.random.default_rng(3)
    W = ar.tensor(rng.standard_normal((3, 3)).astype(np.float32), requires_grad=True, name="W")
    x = rng.standard_normal((2, 3))  # float64 constant: contributions are float64

    def build():
        return (ar.matmul(x, W) + ar.matmul(2 * x, W)).sum()

    _compare(build, [W], rtol=1e-6)


@pytest.mark.parametrize("retain_graph", [True, False])
def test_retain_graph_false_frees_and_still_matches(retain_graph):
    rng = np.random.default_rng(4)
    W = ar.tensor(rng.standard_normal((3, 3)), requires_grad=True, name="W")
    x = rng.standard_normal((2, 3))
    with ar.record_gradients(False):
        loss = (ar.tanh(ar.matmul(x, W)) @ W).sum()
        loss.backward(retain_graph=retain_graph)
    expected_node = ar.tanh(ar.matmul(x, W)) @ W
    W.zero_grad()
    expected_node.sum().backward()
    expected = W.grad.copy()
    W.zero_grad()
    if retain_graph:
        with ar.record_gradients(False):
            loss.backward()
        np.testing.assert_allclose(W.grad, expected, rtol=RTOL)
    else:
        with pytest.raises(ar.GraphFreedError):
            loss.backward()


def test_broadcast_leaves_summed_at_once_match_plain_sweep():
    rng = np.random.default_rng(5)
    b = ar.tensor(rng.standard_normal(3), requires_grad=True, name="b")  # over rows
    s = ar.tensor(0.7, requires_grad=True, name="s")  # 0-d, broadcast over a vector
    col = ar.tensor(rng.standard_normal((2, 1)), requires_grad=True, name="col")  # keepdims
    xs = [rng.standard_normal((2, 3)) for _ in range(5)]

    def build():
        total = 0.0
        for x in xs:
            total = total + ar.tanh(x + b + col).sum() + (s + x[0]).sum() + (s * s)
        return total

    _compare(build, [b, s, col])


def test_slices_added_in_place_match_plain_sweep():
    rng = np.random.default_rng(6)
    W = ar.tensor(rng.standard_normal((3, 8)), requires_grad=True, name="W")
    v = ar.tensor(rng.standard_normal(6), requires_grad=True, name="v")

    def build():
        a = ar.tanh(W * 1.5)  # a node: its gradient starts as an aliased contribution
        total = (a * a).sum() + ar.sigmoid(a[:, :4]).sum() + (a[:, 2:6] * 3.0).sum()
        total = total + (a[1, 4:] * a[:, 4:][0]).sum() + a[[0, 0, 2], 1].sum()  # repeats add
        return total + (W[:, ::2] ** 2).sum() + (v[[1, 1, 5]] * v[:3]).sum()

    _compare(build, [W, v])


def test_slices_of_a_float32_node_with_mixed_consumers_match_plain_sweep():
    rng = np.random.default_rng(7)
    W = ar.tensor(rng.standard_normal((2, 6)).astype(np.float32), requires_grad=True, name="W")
    c64 = rng.standard_normal((2, 3))
    c32 = rng.standard_normal((2, 3)).astype(np.float32)

    def build():
        a = ar.tanh(W)  # float32 node
        return (a[:, :3] * c64).sum() + (a[:, 3:] * c32).sum() + a[1].sum()

    _compare(build, [W], rtol=1e-6)
