"""SequenceModel, last_valid (many-to-one) and generate (one-to-many)."""

import numpy as np
import pytest

import autograd_rnn as ar
from autograd_rnn import nn

T, B, D, H, V = 4, 2, 3, 5, 3


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_sequence_model_is_layer_plus_output_layer(cell):
    model = nn.SequenceModel(cell, D, H, V, seed=0)
    names = [n for n, _ in model.named_parameters()]
    assert names[0] == "rnn.cells.0.W_x" and names[-2:] == ["W_y", "b_y"]
    assert model.W_y.shape == (H, V) and model.b_y.shape == (V,)
    x = np.random.default_rng(0).standard_normal((T, B, D))
    y, final = model(x)
    out, ref_final = model.rnn(x)
    assert y.shape == (T, B, V)
    np.testing.assert_allclose(y.data, out.data @ model.W_y.data + model.b_y.data)
    h = final[0] if cell == "lstm" else final
    np.testing.assert_array_equal(h.data, (ref_final[0] if cell == "lstm" else ref_final).data)
    named = {(n.scope, n.name) for n in ar.reachable([y])}
    assert ("output/t=2", "y_2") in named and (f"{cell}/layer0/t=2", "h_2") in named


def test_sequence_model_gradcheck_many_to_many_and_many_to_one():
    model = nn.SequenceModel("gru", D, H, V, num_layers=2, bidirectional=True, seed=1)
    assert model.W_y.shape == (2 * H, V)
    x = ar.tensor(np.random.default_rng(1).standard_normal((T, B, D)), requires_grad=True)
    params = model.parameters()
    assert ar.gradcheck(lambda *_: model(x)[0], [x] + params, max_entries=12)
    lengths = np.array([4, 2])
    assert ar.gradcheck(
        lambda *_: nn.last_valid(model(x, lengths=lengths)[0], lengths),
        [x] + params,
        max_entries=12,
    )


def test_last_valid_picks_step_per_sequence():
    y = ar.tensor(np.arange(T * B * V, dtype=float).reshape(T, B, V))
    np.testing.assert_array_equal(nn.last_valid(y).data, y.data[-1])
    picked = nn.last_valid(y, [2, 4]).data
    np.testing.assert_array_equal(picked, np.stack([y.data[1, 0], y.data[3, 1]]))
    with pytest.raises(ValueError, match="lengths"):
        nn.last_valid(y, [0, 4])


def test_sequence_model_options_and_errors():
    m = nn.SequenceModel("lstm", D, H, V, forget_bias=1.0, learn_initial_state=True, seed=0)
    np.testing.assert_array_equal(m.rnn.cells[0].b.data[H : 2 * H], 1.0)
    assert "rnn.h_0" in dict(m.named_parameters())
    assert nn.SequenceModel("rnn", D, H, V, nonlinearity="relu").rnn.cells[0].nonlinearity == "relu"
    with pytest.raises(ValueError, match="cell must be one of"):
        nn.SequenceModel("transformer", D, H, V)
    with pytest.raises(ValueError, match="forget_bias"):
        nn.SequenceModel("gru", D, H, V, forget_bias=1.0)
    a, b = nn.SequenceModel("gru", D, H, V, seed=5), nn.SequenceModel("gru", D, H, V, seed=5)
    for (na, pa), (nb, pb) in zip(a.named_parameters(), b.named_parameters(), strict=True):
        assert na == nb
        np.testing.assert_array_equal(pa.data, pb.data)


def test_generate_feeds_back_and_matches_manual_loop():
    model = nn.SequenceModel("lstm", V, H, V, seed=2)
    ids = nn.generate(model, 1, steps=6, feed_back="argmax")
    assert ids.shape == (6,) and ids.dtype.kind == "i"
    x, state, manual = nn.one_hot([1], V), None, []
    for _ in range(6):
        y, state = model(x[None], state)
        nxt = int(np.argmax(y.data[0, 0]))
        manual.append(nxt)
        x = nn.one_hot([nxt], V)
    assert ids.tolist() == manual


def test_generate_sampling_temperature_and_determinism():
    model = nn.SequenceModel("gru", V, H, V, seed=3)
    model.b_y.data[...] = [0.0, 0.5, 1.0]
    start = np.eye(V)[[0, 2]]
    a = nn.generate(model, start, 50, rng=np.random.default_rng(0))
    b = nn.generate(model, start, 50, rng=np.random.default_rng(0))
    assert a.shape == (50, 2) and np.array_equal(a, b)
    greedy = nn.generate(model, start, 50, feed_back="argmax")
    cold = nn.generate(model, start, 50, temperature=1e-4, rng=np.random.default_rng(1))
    np.testing.assert_array_equal(cold, greedy)  # temperature -> 0 is argmax
    hot = nn.generate(model, np.eye(V)[[0] * 40], 30, temperature=1e3, rng=np.random.default_rng(2))
    counts = np.bincount(hot.ravel(), minlength=V) / hot.size
    assert np.all(np.abs(counts - 1 / V) < 0.06)  # very hot -> close to uniform


def test_generate_value_feedback_for_regression():
    model = nn.SequenceModel("rnn", 1, H, 1, seed=4)
    values = nn.generate(model, np.array([[0.5]]), steps=5, feed_back="value")
    assert values.shape == (5, 1, 1)
    x, state = np.array([[0.5]]), None
    for t in range(5):
        y, state = model(x[None], state)
        np.testing.assert_allclose(values[t], y.data[0])
        x = y.data[0]


def test_generate_errors():
    model = nn.SequenceModel("rnn", 2, H, 3, seed=0)
    with pytest.raises(ValueError, match=r"output_size \(3\) must equal input_size \(2\)"):
        nn.generate(model, 0, 3)
    square = nn.SequenceModel("rnn", 3, H, 3, seed=0)
    with pytest.raises(ValueError, match="temperature"):
        nn.generate(square, 0, 3, temperature=0)
    with pytest.raises(IndexError, match="id 5"):
        nn.generate(square, 5, 3)
    with pytest.raises(ValueError, match="feed_back"):
        nn.generate(square, 0, 3, feed_back="beam")


def test_generate_runs_without_dropout_and_restores_mode():
    model = nn.SequenceModel("gru", V, H, V, num_layers=2, dropout=0.5, seed=6)
    a = nn.generate(model, 0, 20, feed_back="argmax")
    b = nn.generate(model, 0, 20, feed_back="argmax")
    np.testing.assert_array_equal(a, b)  # dropout would make the two runs differ
    assert all(m.training for m in model.modules())
