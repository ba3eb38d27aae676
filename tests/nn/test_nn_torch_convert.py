"""Converters to/from PyTorch's nn.RNN/LSTM/GRU layout (NumPy only), and, when torch is
installed, equality of outputs and gradients with torch for identical weights."""

import numpy as np
import pytest

import autograd_rnn as ar
from autograd_rnn import nn

T, B, D, H, V = 4, 3, 2, 3, 5
KINDS = ["rnn", "lstm", "gru"]
CONFIGS = [(1, False), (2, True)]


def _h(state):
    return state[0] if isinstance(state, tuple) else state


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("layers,bi", CONFIGS)
def test_to_torch_names_shapes_and_round_trip(kind, layers, bi):
    layer = nn.LAYERS[kind](D, H, num_layers=layers, bidirectional=bi, seed=0)
    torch_sd = nn.to_torch_state_dict(layer)
    G = {"rnn": 1, "lstm": 4, "gru": 3}[kind]
    expected = []
    for k in range(layers):
        for s in ("", "_reverse") if bi else ("",):
            size = D if k == 0 else H * (2 if bi else 1)
            expected += [
                (f"weight_ih_l{k}{s}", (G * H, size)),
                (f"weight_hh_l{k}{s}", (G * H, H)),
                (f"bias_ih_l{k}{s}", (G * H,)),
                (f"bias_hh_l{k}{s}", (G * H,)),
            ]
    assert [(k, v.shape) for k, v in torch_sd.items()] == expected
    np.testing.assert_array_equal(torch_sd["weight_ih_l0"], layer.cells[0].W_x.data.T)
    back = nn.from_torch_state_dict(torch_sd, kind)
    own = layer.state_dict()
    assert list(back) == list(own)
    for key in own:
        np.testing.assert_array_equal(back[key], own[key])
    fresh = nn.LAYERS[kind](D, H, num_layers=layers, bidirectional=bi, seed=1)
    fresh.load_state_dict(back)
    np.testing.assert_array_equal(
        fresh(np.ones((T, B, D)))[0].data, layer(np.ones((T, B, D)))[0].data
    )


def test_bias_mapping_rules():
    lstm = nn.LSTM(D, H, seed=0)
    sd = nn.to_torch_state_dict(lstm)
    np.testing.assert_array_equal(sd["bias_ih_l0"], lstm.cells[0].b.data)
    assert np.all(sd["bias_hh_l0"] == 0)
    sd["bias_hh_l0"] = np.full(4 * H, 0.25)
    np.testing.assert_allclose(
        nn.from_torch_state_dict(sd, "lstm")["cells.0.b"], lstm.cells[0].b.data + 0.25
    )
    gru = nn.GRU(D, H, seed=0)
    gsd = nn.to_torch_state_dict(gru)
    np.testing.assert_array_equal(gsd["bias_ih_l0"], gru.cells[0].b_x.data)
    np.testing.assert_array_equal(gsd["bias_hh_l0"], gru.cells[0].b_h.data)
    del sd["bias_hh_l0"]
    with pytest.raises(ValueError, match="needs both bias_ih and bias_hh"):
        nn.from_torch_state_dict(sd, "lstm")


def test_sequence_model_and_plain_dict_conversion():
    model = nn.SequenceModel("gru", D, H, V, learn_initial_state=True, seed=0)
    sd = nn.to_torch_state_dict(model, linear_name="fc")
    assert "rnn.weight_ih_l0" in sd and sd["fc.weight"].shape == (V, H)
    np.testing.assert_array_equal(sd["fc.weight"], model.W_y.data.T)
    np.testing.assert_array_equal(sd["fc.bias"], model.b_y.data)
    assert "rnn.h_0" in sd  # no torch counterpart: passed through
    back = nn.from_torch_state_dict(sd, "gru", linear_name="fc")
    assert set(back) == set(model.state_dict())
    assert nn.to_torch_state_dict(model.state_dict(), "gru", linear_name="fc").keys() == sd.keys()
    with pytest.raises(ValueError, match="kind must be one of"):
        nn.to_torch_state_dict(model.state_dict())
    with pytest.raises(ValueError, match="does not match"):
        nn.to_torch_state_dict(model, "lstm")
    with pytest.raises(TypeError, match="Linear"):
        nn.to_torch_state_dict(nn.Linear(2, 2))


# ----- cross-checks with PyTorch (optional) -----------------------------------------------


def _torch_layer(torch, kind, layers, bi, ours):
    cls = {"rnn": torch.nn.RNN, "lstm": torch.nn.LSTM, "gru": torch.nn.GRU}[kind]
    layer = cls(D, H, num_layers=layers, bidirectional=bi).double()
    sd = {k: torch.tensor(v) for k, v in nn.to_torch_state_dict(ours).items()}
    layer.load_state_dict(sd)
    return layer


@pytest.mark.torch
@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("layers,bi", CONFIGS)
def test_outputs_and_gradients_equal_torch(kind, layers, bi):
    torch = pytest.importorskip("torch")
    ours = nn.LAYERS[kind](D, H, num_layers=layers, bidirectional=bi, seed=3)
    theirs = _torch_layer(torch, kind, layers, bi, ours)
    rng = np.random.default_rng(0)
    x_np = rng.standard_normal((T, B, D))
    n = layers * (2 if bi else 1)
    h0_np, c0_np = rng.standard_normal((n, B, H)), rng.standard_normal((n, B, H))
    v = rng.standard_normal((T, B, H * (2 if bi else 1)))
    w = rng.standard_normal((n, B, H))

    x = ar.tensor(x_np, requires_grad=True)
    h0 = ar.tensor(h0_np, requires_grad=True)
    c0 = ar.tensor(c0_np, requires_grad=True)
    out, final = ours(x, (h0, c0) if kind == "lstm" else h0)
    ((out * v).sum() + (_h(final) * w).sum()).backward()

    tx = torch.tensor(x_np, requires_grad=True)
    th0 = torch.tensor(h0_np, requires_grad=True)
    tc0 = torch.tensor(c0_np, requires_grad=True)
    tout, tfinal = theirs(tx, (th0, tc0) if kind == "lstm" else th0)
    th = tfinal[0] if kind == "lstm" else tfinal
    ((tout * torch.tensor(v)).sum() + (th * torch.tensor(w)).sum()).backward()

    np.testing.assert_allclose(out.data, tout.detach().numpy(), atol=1e-12)
    np.testing.assert_allclose(_h(final).data, th.detach().numpy(), atol=1e-12)
    np.testing.assert_allclose(x.grad, tx.grad.numpy(), atol=1e-10)
    np.testing.assert_allclose(h0.grad, th0.grad.numpy(), atol=1e-10)
    if kind == "lstm":
        np.testing.assert_allclose(c0.grad, tc0.grad.numpy(), atol=1e-10)
    grads = nn.to_torch_state_dict({k: p.grad for k, p in ours.named_parameters()}, kind)
    for name, p in theirs.named_parameters():
        expected = p.grad.numpy()
        got = grads[name]
        if kind != "gru" and name.startswith("bias_hh"):
            got = grads[name.replace("bias_hh", "bias_ih")]  # d/d bias_hh = d/d b too
        np.testing.assert_allclose(got, expected, atol=1e-10, err_msg=name)


@pytest.mark.torch
@pytest.mark.parametrize("kind", KINDS)
def test_lengths_equal_torch_packed_sequences(kind):
    torch = pytest.importorskip("torch")
    ours = nn.LAYERS[kind](D, H, num_layers=2, bidirectional=True, seed=4)
    theirs = _torch_layer(torch, kind, 2, True, ours)
    x_np = np.random.default_rng(1).standard_normal((T, B, D))
    lengths = [4, 1, 3]
    out, final = ours(x_np, lengths=lengths)
    packed = torch.nn.utils.rnn.pack_padded_sequence(
        torch.tensor(x_np), torch.tensor(lengths), enforce_sorted=False
    )
    tpacked, tfinal = theirs(packed)
    tout, _ = torch.nn.utils.rnn.pad_packed_sequence(tpacked, total_length=T)
    np.testing.assert_allclose(out.data, tout.detach().numpy(), atol=1e-12)
    th = tfinal[0] if kind == "lstm" else tfinal
    np.testing.assert_allclose(_h(final).data, th.detach().numpy(), atol=1e-12)
    if kind == "lstm":
        np.testing.assert_allclose(final[1].data, tfinal[1].detach().numpy(), atol=1e-12)


@pytest.mark.torch
def test_from_torch_loads_torch_initialised_weights():
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    theirs = torch.nn.LSTM(D, H).double()
    with torch.no_grad():
        theirs.bias_hh_l0.add_(0.3)
    ours = nn.LSTM(D, H)
    ours.load_state_dict(nn.from_torch_state_dict(theirs.state_dict(), "lstm"))
    x_np = np.random.default_rng(2).standard_normal((T, B, D))
    np.testing.assert_allclose(
        ours(x_np)[0].data, theirs(torch.tensor(x_np))[0].detach().numpy(), atol=1e-12
    )
