"""The backward sweep: broadcasting, accumulation, per-node/edge gradients, modes, grad()."""

from __future__ import annotations

import numpy as np
import pytest

import autograd_rnn as ar
from tests.core.fd_helpers import assert_matches_finite_differences

EXACT = 1e-12

_rng = np.random.default_rng(3)


def test_broadcast_gradients_reduce_to_input_shapes():
    a = ar.tensor(_rng.standard_normal((2, 1, 3)), requires_grad=True)
    b = ar.tensor(_rng.standard_normal((4, 1)), requires_grad=True)
    c = ar.tensor(2.0, requires_grad=True)
    ((a * b + c) ** 2).sum().backward()
    assert a.grad.shape == (2, 1, 3) and b.grad.shape == (4, 1) and c.grad.shape == ()
    z = a.data * b.data + c.data
    np.testing.assert_allclose(a.grad, (2 * z * b.data).sum(axis=1, keepdims=True), rtol=EXACT)
    np.testing.assert_allclose(b.grad, (2 * z * a.data).sum(axis=(0, 2))[:, None], rtol=EXACT)
    np.testing.assert_allclose(c.grad, (2 * z).sum(), rtol=EXACT)


def test_unbroadcast_sums_leading_and_size_one_axes():
    g = np.ones((5, 2, 3))
    assert ar.unbroadcast(g, (2, 1)).shape == (2, 1)
    np.testing.assert_array_equal(ar.unbroadcast(g, (1, 3)), np.full((1, 3), 10.0))
    np.testing.assert_array_equal(ar.unbroadcast(g, ()), 30.0)


def test_leaf_grad_accumulates_across_fan_out_and_backward_calls():
    x = ar.tensor([1.0, 2.0], requires_grad=True)
    y = (x * x + 3.0 * x).sum()  # x used three times
    y.backward()
    np.testing.assert_array_equal(x.grad, 2 * x.data + 3.0)
    y.backward()  # the graph is retained by default
    np.testing.assert_array_equal(x.grad, 2 * (2 * x.data + 3.0))
    (x * 5.0).sum().backward()
    np.testing.assert_array_equal(x.grad, 2 * (2 * x.data + 3.0) + 5.0)
    x.zero_grad()
    assert x.grad is None


def test_backward_does_not_alias_leaf_grad_with_upstream_arrays():
    x = ar.tensor([1.0, 2.0], requires_grad=True)
    seed = np.array([1.0, 1.0])
    (x + 0.0).backward(grad=seed)
    x.grad += 10.0  # an optimizer updating in place must not corrupt other buffers
    np.testing.assert_array_equal(seed, [1.0, 1.0])
    y = x * 1.0
    y.backward(grad=seed)
    np.testing.assert_array_equal(y.grad, [1.0, 1.0])


def test_self_product_reuses_a_node():
    a = ar.tensor([3.0, -1.0], requires_grad=True)
    b = a * a
    assert b.parents == (a.node, a.node)  # parents are graph nodes
    b.sum().backward()
    np.testing.assert_array_equal(a.grad, [6.0, -2.0])
    np.testing.assert_array_equal(b.edge_grads[0], a.data)
    np.testing.assert_array_equal(b.edge_grads[1], a.data)


def test_non_leaf_grads_and_edge_grads_are_recorded():
    x = ar.tensor([1.0, 2.0, 3.0], requires_grad=True, name="x")
    c = np.array([1.0, 0.0, -1.0])
    h = ar.tanh(x)
    y = h * c
    loss = y.sum()
    loss.backward()
    np.testing.assert_array_equal(loss.grad, 1.0)
    np.testing.assert_array_equal(y.grad, np.ones(3))
    np.testing.assert_allclose(h.grad, c, rtol=EXACT)
    assert y.parents[0] is h.node and y.parents[1] is None
    np.testing.assert_allclose(y.edge_grads[0], c, rtol=EXACT)
    assert y.edge_grads[1] is None  # a constant gets no edge gradient
    np.testing.assert_allclose(h.edge_grads[0], c * (1 - np.tanh(x.data) ** 2), rtol=EXACT)
    np.testing.assert_allclose(x.grad, h.edge_grads[0], rtol=EXACT)


def test_edge_grads_of_shared_weight_sum_to_its_grad():
    W_h = ar.tensor(_rng.standard_normal((3, 3)) * 0.5, requires_grad=True, name="W_h")
    h = ar.tensor(_rng.standard_normal((1, 3)), name="h_0")
    matmuls = []
    for t in range(1, 4):
        with ar.scope(f"t={t}"):
            m = h @ W_h
            matmuls.append(m)
            h = ar.tanh(m)
    h.sum().backward()
    assert [m.scope for m in matmuls] == ["t=1", "t=2", "t=3"]
    assert all(m.parents[1] is W_h.node for m in matmuls)
    edges = [m.edge_grads[1] for m in matmuls]
    assert matmuls[0].edge_grads[0] is None  # h_0 does not require grad
    assert all(e.shape == (3, 3) for e in edges)
    np.testing.assert_allclose(sum(edges), W_h.grad, rtol=EXACT, atol=EXACT)
    assert not np.allclose(edges[0], edges[2])  # each step contributed its own part


def test_record_gradients_off_keeps_leaf_grads_only():
    def run(record):
        w = ar.tensor([[0.5, -0.3], [0.2, 0.1]], requires_grad=True)
        x = ar.tensor([[1.0, 2.0]])
        hidden = ar.tanh(x @ w)
        loss = (hidden * hidden + hidden).sum()
        with ar.record_gradients(record):
            loss.backward()
        return w, hidden, loss

    w_on, hidden_on, _ = run(True)
    w_off, hidden_off, loss_off = run(False)
    np.testing.assert_array_equal(w_on.grad, w_off.grad)
    assert hidden_on.grad is not None and hidden_on.edge_grads is not None
    assert hidden_off.grad is None and loss_off.grad is None and hidden_off.edge_grads is None


def test_reachable_is_topological_and_iterative():
    x = ar.tensor(1.0, requires_grad=True)
    c = ar.tensor(2.0)
    y = ar.exp(x * c) + x
    order = ar.reachable([y])
    assert order[0] is x.node and order[-1] is y.node
    assert [n.id for n in order] == sorted(n.id for n in order)
    assert all(n is not c.node for n in order)
    assert any(n is c.node for n in ar.reachable([y], only_requires_grad=False))


def test_no_grad_records_nothing():
    x = ar.tensor([1.0, 2.0], requires_grad=True)
    with ar.no_grad():
        y = ar.tanh(x * 2.0).sum()
        assert not ar.is_grad_enabled()
        with ar.enable_grad():
            z = x * 3.0
    assert ar.is_grad_enabled()
    assert y.op is None and not y.requires_grad and y.parents == ()
    assert z.op is not None and z.requires_grad
    with pytest.raises(ar.AutogradError, match="does not require grad"):
        y.backward()


def test_detach_cuts_the_graph():
    x = ar.tensor([1.0, 2.0], requires_grad=True, name="x")
    h = x * 2.0
    d = h.detach()
    assert d.is_leaf and not d.requires_grad and d.detached_from() is h.node
    np.testing.assert_array_equal(d.data, h.data)
    y = (d * x).sum()
    y.backward()
    np.testing.assert_array_equal(x.grad, h.data)  # no gradient through d
    assert h.grad is None


def test_ops_on_constants_only_return_leaves():
    a = ar.tensor([1.0, 2.0])
    y = a * 2.0
    assert y.op is None and not y.requires_grad
    assert isinstance(ar.ops.add(np.ones(2), np.ones(2)), np.ndarray)


def test_grad_function_returns_tensors_without_touching_dot_grad():
    x = ar.tensor([1.0, 2.0], requires_grad=True)
    w = ar.tensor([3.0, 4.0], requires_grad=True)
    unused = ar.tensor([5.0], requires_grad=True)
    y = (x * w).sum()
    gx, gw, gu = ar.grad(y, [x, w, unused])
    np.testing.assert_array_equal(gx.data, w.data)
    np.testing.assert_array_equal(gw.data, x.data)
    np.testing.assert_array_equal(gu.data, [0.0])
    assert x.grad is None and w.grad is None
    (single,) = ar.grad(y, x)
    np.testing.assert_array_equal(single.data, w.data)


def test_grad_of_several_outputs_sums_them():
    x = ar.tensor([1.0, 2.0], requires_grad=True)
    a = (x * x).sum()
    b = (3.0 * x).sum()
    (g,) = ar.grad([a, b], [x])
    np.testing.assert_array_equal(g.data, 2 * x.data + 3.0)


def test_grad_of_an_intermediate_node():
    x = ar.tensor([0.5, -0.5], requires_grad=True)
    h = ar.tanh(x)
    y = (h * h).sum()
    (gh,) = ar.grad(y, [h])
    np.testing.assert_allclose(gh.data, 2 * h.data, rtol=EXACT)


def test_backward_with_explicit_grad():
    x = ar.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    y = x * x
    y.backward(grad=np.array([[1.0, 0.0], [0.0, 2.0]]))
    np.testing.assert_array_equal(x.grad, [[2.0, 0.0], [0.0, 16.0]])
    x.zero_grad()
    (x * 1.0).backward(grad=ar.tensor(np.ones((2, 2))))
    np.testing.assert_array_equal(x.grad, np.ones((2, 2)))


def test_size_one_non_scalar_output_needs_no_grad():
    x = ar.tensor([[2.0]], requires_grad=True)
    (x * x).backward()
    np.testing.assert_array_equal(x.grad, [[4.0]])


def test_retain_graph_false_frees_buffers():
    x = ar.tensor([1.0, 2.0], requires_grad=True)
    y = (ar.exp(x) * x).sum()
    y.backward(retain_graph=False)
    np.testing.assert_allclose(x.grad, np.exp(x.data) * (1 + x.data), rtol=EXACT)


def test_scopes_nest_and_restore():
    x = ar.tensor(1.0, requires_grad=True)
    with ar.scope("rnn"):
        with ar.scope("layer0") as path:
            assert path == "rnn/layer0" == ar.current_scope()
            with ar.scope("t=3"):
                y = x * 2.0
        z = y + 1.0
    w = z * 1.0
    assert (y.scope, z.scope, w.scope, ar.current_scope()) == ("rnn/layer0/t=3", "rnn", "", "")
    with pytest.raises(ValueError, match="non-empty"):
        with ar.scope(""):
            pass


def test_labels_and_ids():
    x = ar.tensor(np.ones((2, 3)), requires_grad=True, name="x")
    y = ar.tanh(x)
    assert x.label == "x (2, 3)" and y.label == "tanh (2, 3)"
    assert y.id > x.id and x.is_leaf and not y.is_leaf
    assert "op=tanh" in repr(y)


def test_composite_expression_matches_finite_differences():
    def fn(x, w, b):
        h = ar.tanh(x @ w + b)
        return ar.log_softmax(h * h + h, axis=-1).sum(axis=0)

    assert_matches_finite_differences(
        fn, [_rng.standard_normal((2, 3)), _rng.standard_normal((3, 4)), _rng.standard_normal(4)]
    )


def _shared_weight_loss(W, v, x2, x1, x3):
    h = ar.tanh(x2 @ W)  # (2, 4)
    u = ar.tanh(x1 @ W)  # (4,)
    z = ar.tanh(x3 @ W)  # (5, 2, 4), batched
    w = W.T @ x1  # W as the left operand: (4,)
    s = ar.sigmoid(h @ W.T @ W)  # W twice more, inside a chain
    return (h * h).sum() + (u * w).sum() + z.mean() + s.sum() + (W * W).sum() + (x2 @ v).sum()


def test_record_gradients_off_gives_identical_leaf_grads_with_shared_weights():
    """With recording off the engine may sum a shared weight's matmul VJPs differently;
    the leaf gradients must not change (and must match finite differences)."""
    values = [_rng.standard_normal(s) for s in [(3, 4), (3,), (2, 3), (3,), (5, 2, 3)]]
    grads = {}
    for record in (True, False):
        leaves = [ar.tensor(v.copy(), requires_grad=True) for v in values]
        loss = _shared_weight_loss(*leaves)
        with ar.record_gradients(record):
            loss.backward()
        grads[record] = [leaf.grad for leaf in leaves]
    for on, off in zip(grads[True], grads[False], strict=True):
        np.testing.assert_allclose(off, on, rtol=EXACT, atol=EXACT)
    assert_matches_finite_differences(_shared_weight_loss, values)
