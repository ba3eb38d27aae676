"""RNN/LSTM/GRU layers: unrolling equals hand stepping, stacking, bidirectional, lengths,
initial states, dropout, scopes and names, errors."""

import numpy as np
import pytest

import autograd_rnn as ar
from autograd_rnn import nn

T, B, D, H = 5, 3, 2, 4
KINDS = ["rnn", "lstm", "gru"]


def _layer(kind, **kw):
    return nn.LAYERS[kind](D, H, seed=0, **kw)


def _x(seed=0, T=T):
    return np.random.default_rng(seed).standard_normal((T, B, D))


def _hand(cell, xs, state=None, reverse=False):
    """Step ``cell`` by hand over the list ``xs``; returns (outputs list, final state)."""
    order = range(len(xs) - 1, -1, -1) if reverse else range(len(xs))
    outs = [None] * len(xs)
    for t in order:
        state = cell(xs[t], state)
        outs[t] = state[0] if isinstance(state, tuple) else state
    return outs, state


def _h(state):
    return state[0] if isinstance(state, tuple) else state


@pytest.mark.parametrize("kind", KINDS)
def test_unrolled_layer_equals_cell_stepped_by_hand(kind):
    layer = _layer(kind)
    x = _x()
    out, final = layer(x)
    outs, last = _hand(layer.cells[0], list(x))
    np.testing.assert_allclose(out.data, np.stack([o.data for o in outs]))
    np.testing.assert_allclose(_h(final).data[0], _h(last).data)
    if kind == "lstm":
        np.testing.assert_allclose(final[1].data[0], last[1].data)


@pytest.mark.parametrize("kind", KINDS)
def test_two_layer_bidirectional_equals_hand_composition(kind):
    layer = _layer(kind, num_layers=2, bidirectional=True)
    x = _x(1)
    out, final = layer(x)
    assert out.shape == (T, B, 2 * H)
    inputs, finals = list(x), []
    for k in range(2):
        f, f_last = _hand(layer.cells[k], inputs)
        r, r_last = _hand(layer.cells_reverse[k], inputs, reverse=True)
        finals += [f_last, r_last]
        inputs = [ar.concat([a, b], axis=1) for a, b in zip(f, r, strict=True)]
    np.testing.assert_allclose(out.data, np.stack([i.data for i in inputs]))
    h_n = _h(final)
    assert h_n.shape == (4, B, H)
    for k, s in enumerate(finals):
        np.testing.assert_allclose(h_n.data[k], _h(s).data)


@pytest.mark.parametrize("kind", KINDS)
def test_layer_gradcheck_multilayer_bidirectional(kind):
    layer = _layer(kind, num_layers=2, bidirectional=True)
    x = ar.tensor(_x(2, T=3), requires_grad=True, name="x")

    def fn(*_):
        out, final = layer(x)
        return ar.concat([out.reshape(-1), _h(final).reshape(-1)])

    report = ar.gradcheck(fn, [x] + layer.parameters())
    assert report, str(report)


@pytest.mark.parametrize("kind", KINDS)
def test_input_forms_agree(kind):
    layer = _layer(kind)
    x = _x(3)
    ref, _ = layer(x)
    for form in (ar.tensor(x), list(x), [ar.tensor(s) for s in x]):
        out, _ = layer(form)
        np.testing.assert_array_equal(out.data, ref.data)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("bidirectional", [False, True])
def test_lengths_final_state_equals_shorter_sequence_alone(kind, bidirectional):
    layer = _layer(kind, num_layers=2, bidirectional=bidirectional)
    x = _x(4)
    lengths = np.array([5, 2, 3])
    out, final = layer(x, lengths=lengths)
    for b, n in enumerate(lengths):
        alone_out, alone_final = layer(x[:n, b : b + 1])
        np.testing.assert_allclose(out.data[:n, b], alone_out.data[:, 0], atol=1e-12)
        assert np.all(out.data[n:, b] == 0.0)  # padded outputs are zero
        for part, alone in zip(
            final if kind == "lstm" else (final,),
            alone_final if kind == "lstm" else (alone_final,),
            strict=True,
        ):
            np.testing.assert_allclose(part.data[:, b], alone.data[:, 0], atol=1e-12)


@pytest.mark.parametrize("kind", KINDS)
def test_mask_equals_lengths_and_padding_gets_no_gradient(kind):
    layer = _layer(kind)
    x = ar.tensor(_x(5), requires_grad=True)
    lengths = np.array([5, 1, 4])
    mask = np.arange(T)[:, None] < lengths[None, :]
    out_l, _ = layer(x, lengths=lengths)
    out_m, fin_m = layer(x, mask=mask.astype(float))
    np.testing.assert_array_equal(out_l.data, out_m.data)
    (out_m.sum() + _h(fin_m).sum()).backward()
    assert np.all(x.grad[~mask] == 0.0) and np.all(x.grad[mask] != 0.0)


def test_lengths_gradcheck():
    layer = _layer("lstm", bidirectional=True)
    x = ar.tensor(_x(6, T=4), requires_grad=True)

    def fn(*_):
        out, (h, c) = layer(x, lengths=[4, 2, 1])
        return ar.concat([out.reshape(-1), h.reshape(-1), c.reshape(-1)])

    assert ar.gradcheck(fn, [x] + layer.parameters())


@pytest.mark.parametrize("kind", KINDS)
def test_given_initial_state_is_used_and_gets_gradient(kind):
    layer = _layer(kind, num_layers=2)
    rng = np.random.default_rng(7)
    parts = [ar.tensor(rng.standard_normal((2, B, H)), requires_grad=True) for _ in range(2)]
    state = tuple(parts) if kind == "lstm" else parts[0]
    out, final = layer(_x(), state=state)
    ref, _ = layer(_x())
    assert not np.allclose(out.data, ref.data)
    x0 = list(_x())
    first = (parts[0][0], parts[1][0]) if kind == "lstm" else parts[0][0]
    outs, _ = _hand(layer.cells[0], x0, first)
    assert _h(final).shape == (2, B, H) and outs[0].shape == (B, H)
    out.sum().backward()
    assert parts[0].grad is not None and np.abs(parts[0].grad).sum() > 0


@pytest.mark.parametrize("kind", KINDS)
def test_learnable_initial_state(kind):
    layer = _layer(kind, num_layers=2, bidirectional=True, learn_initial_state=True)
    names = [n for n, _ in layer.named_parameters()]
    assert names[-2:] == ["h_0", "c_0"] if kind == "lstm" else names[-1] == "h_0"
    assert layer.h_0.shape == (4, H)
    layer.h_0.data[...] = np.arange(4 * H).reshape(4, H) / 10
    one = _layer(kind, bidirectional=True, learn_initial_state=True)
    one.h_0.data[...] = layer.h_0.data[:2]
    out1, _ = one(_x())
    outs, _ = _hand(one.cells_reverse[0], list(_x()), _broadcast(one, 1, kind), reverse=True)
    np.testing.assert_allclose(out1.data[:, :, H:], np.stack([o.data for o in outs]))
    out, _ = layer(_x())
    out.sum().backward()
    assert layer.h_0.grad.shape == (4, H) and np.all(np.abs(layer.h_0.grad).sum(axis=1) > 0)
    report = ar.gradcheck(lambda h0: layer(_x(T=2))[0], [layer.h_0])
    assert report, str(report)


def _broadcast(layer, k, kind):
    h = ar.tensor(np.broadcast_to(layer.h_0.data[k], (B, H)).copy())
    if kind == "lstm":
        return h, ar.tensor(np.broadcast_to(layer.c_0.data[k], (B, H)).copy())
    return h


def test_scopes_and_names_per_timestep():
    layer = nn.LSTM(D, H, bidirectional=True, name="enc", seed=0)
    out, _ = layer(ar.tensor(_x(), requires_grad=True))
    nodes = ar.reachable([out])
    scopes = {n.scope for n in nodes}
    for t in range(1, T + 1):
        assert f"enc/layer0/t={t}" in scopes and f"enc/layer0_reverse/t={t}" in scopes
    named = {(n.scope, n.name) for n in nodes}
    assert ("enc/layer0/t=3", "h_3") in named and ("enc/layer0/t=3", "c_3") in named
    assert ("enc/layer0_reverse/t=3", "h_3") in named
    assert ("enc/layer0/t=2", "x_2") in named
    cells = [n for n in nodes if n.scope.startswith("enc/layer0/t=4") and n.op is not None]
    assert {n.op.name for n in cells} >= {"matmul", "sigmoid", "tanh", "multiply"}


def test_dropout_between_layers_train_only_and_seeded():
    a = nn.GRU(D, H, num_layers=2, dropout=0.5, seed=3)
    b = nn.GRU(D, H, num_layers=2, dropout=0.5, seed=3)
    x = _x()
    out_a, _ = a(x)
    np.testing.assert_array_equal(out_a.data, b(x)[0].data)  # same seed, same masks
    assert not np.allclose(out_a.data, a(x)[0].data)  # fresh masks per call
    a.eval()
    no_drop = nn.GRU(D, H, num_layers=2, seed=3)
    np.testing.assert_allclose(a(x)[0].data, no_drop(x)[0].data)
    out_t = nn.GRU(D, H, num_layers=2, dropout=0.5, seed=3)(ar.tensor(x, requires_grad=True))[0]
    assert any(n.name == "dropout" for n in ar.reachable([out_t]))


def test_layer_errors_name_shapes():
    layer = nn.RNN(D, H)
    with pytest.raises(ValueError, match=r"\(T, B, 2\).*got \(5, 3, 7\)"):
        layer(np.zeros((5, 3, 7)))
    with pytest.raises(ValueError, match=r"T=0"):
        layer(np.zeros((0, 3, D)))
    with pytest.raises(ValueError, match="empty sequence"):
        layer([])
    with pytest.raises(ValueError, match=r"step 1 has shape \(2, 2\) but step 0 has shape"):
        layer([np.zeros((3, D)), np.zeros((2, D))])
    with pytest.raises(ValueError, match=r"lengths\[1\] = 9 is outside 0..5"):
        layer(np.zeros((5, 3, D)), lengths=[1, 9, 2])
    with pytest.raises(ValueError, match=r"mask must have shape"):
        layer(np.zeros((5, 3, D)), mask=np.ones((3, 5)))
    with pytest.raises(ValueError, match=r"\(1, 3, 4\), got \(2, 3, 4\)"):
        layer(np.zeros((5, 3, D)), state=np.zeros((2, 3, H)))
    with pytest.raises(TypeError, match="pair"):
        nn.LSTM(D, H)(np.zeros((5, 3, D)), state=np.zeros((1, 3, H)))
    with pytest.raises(ValueError, match="dropout"):
        nn.GRU(D, H, dropout=1.0)


def test_long_sequence_does_not_recurse():
    layer = nn.RNN(1, 2, seed=0)
    out, h = layer(np.ones((3000, 1, 1)) * 0.1)
    h.sum().backward()
    assert np.isfinite(layer.cells[0].W_h.grad).all()


@pytest.mark.parametrize("steps", [1, 2, 7])
@pytest.mark.parametrize("kind", KINDS)
def test_single_layer_gradcheck_over_lengths_of_time(kind, steps):
    layer = _layer(kind, learn_initial_state=True)
    x = ar.tensor(_x(8, T=steps), requires_grad=True)
    lengths = [steps, max(1, steps - 1), 1]
    report = ar.gradcheck(lambda *_: layer(x, lengths=lengths)[0], [x] + layer.parameters())
    assert report, str(report)
