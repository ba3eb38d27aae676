"""An Elman RNN unrolled with engine ops for T=1 and T=3: BPTT emerges from generic backprop.

Gradients are compared with an independent hand-written NumPy BPTT and with finite
differences; the graph's structure (one tanh per step, one W_h edge per step, edge
gradients summing to W_h.grad) is checked too.
"""

from __future__ import annotations

import numpy as np
import pytest

import autograd_rnn as ar
from tests.core.fd_helpers import assert_matches_finite_differences

BPTT_RTOL = 1e-10
BPTT_ATOL = 1e-12
B, D, H = 2, 3, 4


def _forward(xs, W_x, W_h, b_h, h_0):
    """h_t = tanh(x_t W_x + h_{t-1} W_h + b_h); loss = sum_t sum(h_t^2) / 2."""
    h = h_0
    loss = 0.0
    for t, x_t in enumerate(xs, start=1):
        with ar.scope(f"t={t}"):
            h = ar.tanh(x_t @ W_x + h @ W_h + b_h)
            loss = loss + (h * h).sum() * 0.5
    return loss


def _numpy_bptt(xs, W_x, W_h, b_h, h_0):
    """Hand-written backprop through time for the same loss (independent of the engine)."""
    hs = [h_0]
    for x_t in xs:
        hs.append(np.tanh(x_t @ W_x + hs[-1] @ W_h + b_h))
    g_W_x, g_W_h, g_b_h = np.zeros_like(W_x), np.zeros_like(W_h), np.zeros_like(b_h)
    g_h_next = np.zeros_like(h_0)
    for t in range(len(xs), 0, -1):
        g_h = hs[t] + g_h_next  # from the loss at step t and from step t+1
        g_a = g_h * (1 - hs[t] ** 2)
        g_W_x += xs[t - 1].T @ g_a
        g_W_h += hs[t - 1].T @ g_a
        g_b_h += g_a.sum(axis=0)
        g_h_next = g_a @ W_h.T
    return g_W_x, g_W_h, g_b_h, g_h_next


@pytest.mark.parametrize("T", [1, 3])
def test_unrolled_rnn_matches_hand_written_bptt(T):
    rng = np.random.default_rng(T)
    xs = rng.standard_normal((T, B, D))
    values = [rng.standard_normal((D, H)) * 0.5, rng.standard_normal((H, H)) * 0.5,
              rng.standard_normal(H) * 0.1, rng.standard_normal((B, H))]
    names = ["W_x", "W_h", "b_h", "h_0"]
    leaves = [ar.tensor(v, requires_grad=True, name=n) for v, n in zip(values, names, strict=True)]
    loss = _forward(xs, *leaves)
    loss.backward()
    expected = _numpy_bptt(xs, *values)
    for leaf, g in zip(leaves, expected, strict=True):
        np.testing.assert_allclose(leaf.grad, g, rtol=BPTT_RTOL, atol=BPTT_ATOL,
                                   err_msg=leaf.name)
    assert_matches_finite_differences(lambda *ps: _forward(xs, *ps), values)

    # structure: one tanh and one h @ W_h per step, each in its own scope
    nodes = ar.reachable([loss])
    tanhs = [n for n in nodes if n.op is not None and n.op.name == "tanh"]
    assert [n.scope for n in tanhs] == [f"t={t}" for t in range(1, T + 1)]
    W_h = leaves[1].node  # the graph is made of nodes; a tensor stands for one
    uses = [n for n in nodes if n.op is not None and any(p is W_h for p in n.parents)]
    assert len(uses) == T
    edge_sum = sum(n.edge_grads[[p is W_h for p in n.parents].index(True)] for n in uses)
    np.testing.assert_allclose(edge_sum, W_h.grad, rtol=BPTT_RTOL, atol=BPTT_ATOL)


def test_listeners_see_nodes_backward_and_edges():
    from autograd_rnn.core.state import STATE

    events = []
    listener = lambda *event: events.append(event)  # noqa: E731
    STATE.listeners.append(listener)
    try:
        x = ar.tensor([1.0, 2.0], requires_grad=True, name="x")
        h = ar.tanh(x)
        y = (h * h).sum()
        created = [e for e in events if e[0] == "node"]
        assert len(created) == 3 and created[0][1] is h.node and created[2][1] is y.node
        assert created[1][1].op.name == "multiply"
        events.clear()
        y.backward()
    finally:
        STATE.listeners.remove(listener)
    kinds = [e[0] for e in events]
    backward_nodes = [e[1] for e in events if e[0] == "backward"]
    assert backward_nodes[0] is y.node and backward_nodes[-1] is h.node  # reverse topological
    edges = [e for e in events if e[0] == "edge"]
    assert len(edges) == 4  # sum -> mul, mul -> h twice (a * a), tanh -> x
    assert kinds.index("backward") < kinds.index("edge")
    tanh_edge = [e for e in edges if e[1] is h.node][0]
    np.testing.assert_allclose(tanh_edge[3], x.grad)
    assert tanh_edge[2] == 0
