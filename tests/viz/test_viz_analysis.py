"""Analysis numbers equal gradients computed directly."""

import networkx as nx
import numpy as np
import pytest

import autograd_rnn as ar
from autograd_rnn.viz import (
    build_example,
    count_paths,
    depth_from_loss,
    hidden_state_grad_norms,
    to_networkx,
    vanishing_curves,
)


def _probed_rnn(T=6, seed=0):
    """A tanh RNN where h_t = tanh(...) + p_t with zero probes p_t: dL/dp_t = dL/dh_t."""
    rng = np.random.default_rng(seed)
    W_x = ar.tensor(rng.normal(0, 0.5, (2, 3)), requires_grad=True, name="W_x")
    W_h = ar.tensor(rng.normal(0, 0.5, (3, 3)), requires_grad=True, name="W_h")
    probes = [ar.tensor(np.zeros((1, 3)), requires_grad=True, name=f"p_{t}")
              for t in range(1, T + 1)]
    h = ar.tensor(np.zeros((1, 3)), name="h_0")
    loss = 0.0
    for t in range(1, T + 1):
        with ar.scope(f"rnn/layer0/t={t}"):
            h = (ar.tensor(rng.normal(size=(1, 2))) @ W_x + h @ W_h).tanh() + probes[t - 1]
            h.name = f"h_{t}"
            loss = loss + (h * h).sum() * 0.5
    return loss, probes


def test_hidden_state_grad_norms_equal_probe_gradients_and_finite_differences():
    loss, probes = _probed_rnn()
    curve = hidden_state_grad_norms(loss)
    assert list(curve) == [1, 2, 3, 4, 5, 6]
    loss.backward()
    for t, p in enumerate(probes, start=1):
        np.testing.assert_allclose(curve[t], np.linalg.norm(p.grad), rtol=1e-12)
    # the graph path reads the recorded gradients and agrees
    from_graph = hidden_state_grad_norms(to_networkx(loss))
    for t in curve:
        np.testing.assert_allclose(from_graph[t], curve[t], rtol=1e-12)
    # and central differences of the loss in h_3 (through the probe) give the same norm
    eps, numeric = 1e-6, np.zeros((1, 3))
    for k in range(3):
        bump = np.zeros((1, 3))
        bump[0, k] = eps
        up = _probed_loss(3, bump).item()
        down = _probed_loss(3, -bump).item()
        numeric[0, k] = (up - down) / (2 * eps)
    np.testing.assert_allclose(np.linalg.norm(numeric), curve[3], rtol=1e-6)


def _probed_loss(step, value, T=6, seed=0):
    """The loss of ``_probed_rnn`` with probe ``step`` set to ``value`` (no graph needed)."""
    rng = np.random.default_rng(seed)
    W_x = rng.normal(0, 0.5, (2, 3))
    W_h = rng.normal(0, 0.5, (3, 3))
    h, loss = np.zeros((1, 3)), 0.0
    for t in range(1, T + 1):
        h = np.tanh(rng.normal(size=(1, 2)) @ W_x + h @ W_h) + (value if t == step else 0.0)
        loss = loss + 0.5 * (h * h).sum()
    return np.asarray(loss)


def test_vanishing_curve_shape():
    curves = vanishing_curves(steps=20, cells=("rnn",), hidden_size=4)
    rnn = curves["rnn"]
    assert len(rnn) == 20
    ex = build_example("rnn", 20, hidden_size=4, weight_scale=0.5, loss_at="last",
                       backward=False)
    small = hidden_state_grad_norms(ex.loss)
    assert small[1] < 1e-6 * small[20]  # spectral norm 0.5: the gradient vanishes


def test_scope_filter_and_ambiguity():
    ex = build_example("lstm", 3, backward=False)
    assert set(hidden_state_grad_norms(ex.loss, pattern=r"c_(\d+)")) == {1, 2, 3}
    assert hidden_state_grad_norms(ex.loss, scope="lstm/layer0")
    with pytest.raises(ValueError, match="no tensor"):
        hidden_state_grad_norms(ex.loss, scope="gru")
    h = ar.tensor([1.0], requires_grad=True)
    with ar.scope("a"):
        a = h * 2
        a.name = "h_1"
    with ar.scope("b"):
        b = h * 3
        b.name = "h_1"
    with pytest.raises(ValueError, match="scope="):
        hidden_state_grad_norms((a + b).sum())
    assert hidden_state_grad_norms((a + b).sum(), scope="b") == {1: 1.0}


def test_count_paths_matches_networkx_enumeration_and_closed_form():
    for T in (1, 3, 5):
        ex = build_example("rnn", T, backward=False)
        g = to_networkx(ex.loss)
        for name in ("W_h", "W_x", "b_y"):
            w = ex.params[name]
            brute = sum(1 for _ in nx.all_simple_paths(g, w.id, ex.loss.id))
            assert count_paths(w, ex.loss) == brute
        # W_h used at step k reaches the loss through the losses of steps k..T
        assert count_paths(ex.params["W_h"], ex.loss) == T * (T + 1) // 2
    a = ar.tensor(2.0, requires_grad=True)
    assert count_paths(a, a * a) == 2  # a used twice: two edges, two paths
    ex = build_example("lstm", 200, hidden_size=2, backward=False)
    big = count_paths(ex.params["W_h"], ex.loss)
    assert big > 10**30  # exponential, yet computed by dynamic programming


def test_depth_from_loss_matches_networkx():
    ex = build_example("gru", 3, backward=False)
    g = to_networkx(ex.loss)
    shortest = depth_from_loss(ex.loss)
    longest = depth_from_loss(ex.loss, longest=True)
    reverse = g.reverse()
    lengths = nx.single_source_shortest_path_length(reverse, ex.loss.id)
    assert shortest == dict(sorted(lengths.items()))
    assert shortest[ex.loss.id] == 0 and longest[ex.loss.id] == 0
    for node in (ex.params["W_h"].id, ex.inputs[0].id):
        assert longest[node] == nx.dag_longest_path_length(
            g.subgraph(nx.descendants(g, node) | {node}))
        assert longest[node] >= shortest[node]
