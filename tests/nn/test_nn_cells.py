"""Cells: formulas, gradients vs finite differences over T = 1, 2, 7 steps, init, errors."""

import numpy as np
import pytest

import autograd_rnn as ar
from autograd_rnn import nn

D, H, B = 3, 4, 2


def _sigmoid(a):
    return 1 / (1 + np.exp(-a))


def _unroll(cell, xs, h0, c0=None):
    """Step the cell by hand; returns the stacked hidden states (T, B, H)."""
    hs, h, c = [], h0, c0
    for x_t in xs:
        if isinstance(cell, nn.LSTMCell):
            h, c = cell(x_t, (h, c))
        else:
            h = cell(x_t, h)
        hs.append(h)
    return ar.stack(hs)


def _make(kind, seed=0, **kw):
    return {"rnn": nn.RNNCell, "lstm": nn.LSTMCell, "gru": nn.GRUCell}[kind](D, H, seed=seed, **kw)


CASES = [("rnn", {}), ("rnn", {"nonlinearity": "relu"}), ("lstm", {}), ("gru", {})]


@pytest.mark.parametrize("T", [1, 2, 7])
@pytest.mark.parametrize("kind,kw", CASES)
def test_cell_gradients_match_finite_differences(kind, kw, T):
    rng = np.random.default_rng(T)
    cell = _make(kind, seed=T, **kw)
    xs = ar.tensor(rng.standard_normal((T, B, D)), requires_grad=True, name="x")
    h0 = ar.tensor(rng.standard_normal((B, H)) * 0.5, requires_grad=True, name="h0")
    inputs = [xs, h0]
    c0 = None
    if kind == "lstm":
        c0 = ar.tensor(rng.standard_normal((B, H)) * 0.5, requires_grad=True, name="c0")
        inputs.append(c0)
    params = cell.parameters()
    report = ar.gradcheck(
        lambda *a: _unroll(cell, [xs[t] for t in range(T)], h0, c0), inputs + params
    )
    assert report, str(report)
    assert len(report.comparisons) == len(inputs) + len(params)


def test_rnn_cell_formula():
    cell = _make("rnn")
    rng = np.random.default_rng(0)
    x, h = rng.standard_normal((B, D)), rng.standard_normal((B, H))
    expected = np.tanh(x @ cell.W_x.data + h @ cell.W_h.data + cell.b_h.data)
    np.testing.assert_allclose(cell(x, ar.tensor(h)).data, expected)
    relu = _make("rnn", nonlinearity="relu")
    expected = np.maximum(x @ relu.W_x.data + h @ relu.W_h.data + relu.b_h.data, 0)
    np.testing.assert_allclose(relu(x, ar.tensor(h)).data, expected)


def test_lstm_cell_formula_gate_order_ifgo():
    cell = _make("lstm")
    rng = np.random.default_rng(1)
    x, h, c = rng.standard_normal((B, D)), rng.standard_normal((B, H)), rng.standard_normal((B, H))
    a = x @ cell.W_x.data + h @ cell.W_h.data + cell.b.data
    i, f, g, o = (a[:, k * H : (k + 1) * H] for k in range(4))
    c_t = _sigmoid(f) * c + _sigmoid(i) * np.tanh(g)
    h_t = _sigmoid(o) * np.tanh(c_t)
    got_h, got_c = cell(x, (ar.tensor(h), ar.tensor(c)))
    np.testing.assert_allclose(got_c.data, c_t)
    np.testing.assert_allclose(got_h.data, h_t)


def test_gru_cell_formula_pytorch_variant():
    cell = _make("gru")
    rng = np.random.default_rng(2)
    x, h = rng.standard_normal((B, D)), rng.standard_normal((B, H))
    gx = x @ cell.W_x.data + cell.b_x.data
    gh = h @ cell.W_h.data + cell.b_h.data
    r = _sigmoid(gx[:, :H] + gh[:, :H])
    z = _sigmoid(gx[:, H : 2 * H] + gh[:, H : 2 * H])
    n = np.tanh(gx[:, 2 * H :] + r * gh[:, 2 * H :])
    np.testing.assert_allclose(cell(x, ar.tensor(h)).data, (1 - z) * n + z * h)


@pytest.mark.parametrize("kind", ["rnn", "lstm", "gru"])
def test_cell_parameter_names_shapes_and_init(kind):
    cell = _make(kind)
    G = {"rnn": 1, "lstm": 4, "gru": 3}[kind]
    shapes = {n: p.shape for n, p in cell.named_parameters()}
    expected = {
        "rnn": {"W_x": (D, H), "W_h": (H, H), "b_h": (H,)},
        "lstm": {"W_x": (D, 4 * H), "W_h": (H, 4 * H), "b": (4 * H,)},
        "gru": {"W_x": (D, 3 * H), "W_h": (H, 3 * H), "b_x": (3 * H,), "b_h": (3 * H,)},
    }
    assert shapes == expected[kind]
    bound = 1 / np.sqrt(H)
    for p in cell.parameters():
        assert np.abs(p.data).max() <= bound and p.data.std() > 0
    assert cell.W_x.shape[1] == G * H
    again = _make(kind)
    for p, q in zip(cell.parameters(), again.parameters(), strict=True):
        np.testing.assert_array_equal(p.data, q.data)


def test_lstm_forget_bias_option():
    cell = _make("lstm", forget_bias=1.0)
    np.testing.assert_array_equal(cell.b.data[H : 2 * H], 1.0)
    assert not np.any(cell.b.data[:H] == 1.0)


@pytest.mark.parametrize("kind", ["rnn", "lstm", "gru"])
def test_cell_zero_state_default_and_shape_errors(kind):
    cell = _make(kind)
    x = np.ones((B, D))
    out = cell(x)
    zeros = ar.tensor(np.zeros((B, H)))
    ref = cell(x, (zeros, zeros)) if kind == "lstm" else cell(x, zeros)
    if kind == "lstm":
        np.testing.assert_array_equal(out[0].data, ref[0].data)
    else:
        np.testing.assert_array_equal(out.data, ref.data)
    with pytest.raises(ValueError, match=r"x_t must have shape \(B, 3\), got \(2, 5\)"):
        cell(np.ones((B, 5)))
    bad_h = np.ones((B + 1, H))
    with pytest.raises(ValueError, match=r"h_prev must have shape \(2, 4\).*got \(3, 4\)"):
        cell(x, (bad_h, bad_h)) if kind == "lstm" else cell(x, bad_h)


def test_cell_bad_arguments():
    with pytest.raises(ValueError, match="nonlinearity"):
        nn.RNNCell(2, 3, nonlinearity="sigmoid")
    with pytest.raises(ValueError, match="hidden_size"):
        nn.GRUCell(2, 0)
    with pytest.raises(ValueError, match="either rng or seed"):
        nn.RNNCell(2, 3, rng=np.random.default_rng(0), seed=1)


def test_no_cell_defines_its_own_backward():
    # BPTT must come from generic backprop: every node of a cell step is a registered primitive
    for kind in ("rnn", "lstm", "gru"):
        cell = _make(kind)
        out = cell(ar.tensor(np.ones((B, D)), requires_grad=True))
        out = out[0] if kind == "lstm" else out
        nodes = [n for n in ar.reachable([out]) if not n.is_leaf]
        assert nodes and all(ar.REGISTRY.get(n.op.name) is n.op for n in nodes)
