"""Bad input to the public Python API: one test per case, each asserting that the error
names what is wrong (the argument, the shape or dtype expected and the one received).
Also the edge sizes that must work: batch size 1, and batch size 0 (an empty result)."""

from __future__ import annotations

import re

import numpy as np
import pytest

import autograd_rnn as ar
from autograd_rnn.train import TrainConfig, cross_entropy, mse_loss

LAYERS = ["RNN", "LSTM", "GRU"]
CELLS = ["RNNCell", "LSTMCell", "GRUCell"]


def _state(kind: str, B: int, H: int):
    h = np.zeros((B, H))
    return (h, h.copy()) if kind == "LSTMCell" else h


# ----- wrong shapes -------------------------------------------------------------------------
@pytest.mark.parametrize("kind", LAYERS)
def test_layer_wrong_feature_size_names_expected_and_given_shape(kind):
    layer = getattr(ar.nn, kind)(3, 4)
    with pytest.raises(
        ValueError, match=re.escape("(T, B, 3)") + ".*got " + re.escape("(5, 2, 7)")
    ):
        layer(np.zeros((5, 2, 7)))


@pytest.mark.parametrize("kind", LAYERS)
def test_layer_batch_major_2d_input_is_refused(kind):
    with pytest.raises(ValueError, match=r"time-major.*got \(5, 3\)"):
        getattr(ar.nn, kind)(3, 4)(np.zeros((5, 3)))


@pytest.mark.parametrize("kind", ["RNN", "GRU"])
def test_layer_initial_state_of_wrong_hidden_size(kind):
    layer = getattr(ar.nn, kind)(3, 4)
    with pytest.raises(ValueError, match=r"\(1, 2, 4\), got \(1, 2, 5\)"):
        layer(np.zeros((4, 2, 3)), state=np.zeros((1, 2, 5)))


def test_lstm_layer_state_must_be_a_pair():
    with pytest.raises(TypeError, match=r"pair \(h, c\)"):
        ar.nn.LSTM(3, 4)(np.zeros((4, 2, 3)), state=np.zeros((1, 2, 4)))


@pytest.mark.parametrize("kind", LAYERS)
def test_layer_lengths_longer_than_the_sequence(kind):
    with pytest.raises(ValueError, match=r"lengths\[0\] = 5 is outside 0\.\.4"):
        getattr(ar.nn, kind)(3, 4)(np.zeros((4, 2, 3)), lengths=[5, 1])


@pytest.mark.parametrize("kind", LAYERS)
def test_layer_lengths_not_one_per_sequence(kind):
    with pytest.raises(ValueError, match=r"lengths must have shape \(2,\), got \(3,\)"):
        getattr(ar.nn, kind)(3, 4)(np.zeros((4, 2, 3)), lengths=[1, 2, 3])


@pytest.mark.parametrize("kind", CELLS)
def test_cell_input_of_wrong_size(kind):
    cell = getattr(ar.nn, kind)(3, 4)
    with pytest.raises(ValueError, match=r"x_t must have shape \(B, 3\), got \(2, 5\)"):
        cell(np.zeros((2, 5)), _state(kind, 2, 4))


@pytest.mark.parametrize("kind", CELLS)
def test_cell_previous_state_of_wrong_hidden_size(kind):
    cell = getattr(ar.nn, kind)(3, 4)
    with pytest.raises(ValueError, match=r"h_prev must have shape \(2, 4\).*got \(2, 5\)"):
        cell(np.zeros((2, 3)), _state(kind, 2, 5))


@pytest.mark.parametrize("kind", CELLS)
def test_cell_batch_of_state_and_input_differ(kind):
    cell = getattr(ar.nn, kind)(3, 4)
    with pytest.raises(ValueError, match=r"h_prev must have shape \(3, 4\).*got \(2, 4\)"):
        cell(np.zeros((3, 3)), _state(kind, 2, 4))


def test_linear_input_of_wrong_size():
    with pytest.raises(ValueError, match=r"\(\.\.\., 3\), got \(2, 5\)"):
        ar.nn.Linear(3, 4)(np.zeros((2, 5)))


def test_sequence_model_input_of_wrong_size():
    model = ar.nn.SequenceModel("gru", 3, 4, 2)
    with pytest.raises(ValueError, match=r"\(T, B, 3\).*got \(6, 1, 2\)"):
        model(np.zeros((6, 1, 2)))


def test_mse_target_of_other_shape():
    pred = ar.tensor(np.zeros((4, 2, 1)), requires_grad=True)
    with pytest.raises(ValueError, match=r"pred has shape \(4, 2, 1\) but target has \(4, 2\)"):
        mse_loss(pred, np.zeros((4, 2)))


def test_mse_mask_of_other_shape():
    pred = ar.tensor(np.zeros((4, 2, 1)), requires_grad=True)
    with pytest.raises(ValueError, match=r"mask of shape \(2, 4\)"):
        mse_loss(pred, np.zeros((4, 2, 1)), mask=np.ones((2, 4)))


def test_cross_entropy_targets_of_other_shape():
    logits = ar.tensor(np.zeros((4, 2, 5)), requires_grad=True)
    with pytest.raises(ValueError, match=r"targets of shape \(4, 2\), got \(2, 4\)"):
        cross_entropy(logits, np.zeros((2, 4), dtype=int))


def test_cross_entropy_target_outside_the_vocabulary():
    logits = ar.tensor(np.zeros((4, 2, 5)), requires_grad=True)
    with pytest.raises(ValueError, match=r"\[0, 5\), got values in \[0, 5\]"):
        cross_entropy(logits, np.array([[0, 1]] * 3 + [[5, 2]]))


def test_loss_reduction_misspelt():
    pred = ar.tensor(np.zeros(3), requires_grad=True)
    with pytest.raises(ValueError, match=r"'sum' or 'mean', got 'avg'"):
        mse_loss(pred, np.zeros(3), reduction="avg")


# ----- wrong dtypes -------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", [np.int64, np.int32, np.bool_])
def test_integer_data_cannot_require_grad(dtype):
    with pytest.raises(TypeError, match=f"only floating-point.*{np.dtype(dtype)}.*'W'"):
        ar.tensor(np.zeros(3, dtype=dtype), requires_grad=True, name="W")


def test_object_array_is_not_a_tensor():
    with pytest.raises(TypeError, match="dtype object"):
        ar.tensor(np.array([1.0, None], dtype=object))


@pytest.mark.parametrize("kind", LAYERS)
def test_object_array_into_a_layer(kind):
    data = np.empty((2, 1, 3), dtype=object)
    data[...] = 1.0
    with pytest.raises(TypeError, match="numeric, got dtype object"):
        getattr(ar.nn, kind)(3, 4)(data)


def test_integer_inputs_without_grad_are_promoted_to_float64():
    out, _ = ar.nn.RNN(3, 4)(np.ones((2, 1, 3), dtype=np.int64))
    assert out.dtype == np.float64


def test_cross_entropy_float_targets():
    logits = ar.tensor(np.zeros((2, 5)), requires_grad=True)
    with pytest.raises(ValueError, match="targets must be integers, got dtype float64"):
        cross_entropy(logits, np.array([1.0, 2.0]))


def test_float_index_into_a_tensor():
    with pytest.raises(IndexError, match="integers or booleans, got dtype float64"):
        ar.tensor(np.zeros(4))[np.array([0.0, 1.0])]


def test_embedding_id_outside_the_vocabulary():
    with pytest.raises(IndexError, match=r"id 7 .*vocabulary of size 5 .*0\.\.4"):
        ar.nn.Embedding(5, 3)(np.array([[1, 7]]))


def test_embedding_float_ids():
    with pytest.raises(TypeError, match="ids must be integers"):
        ar.nn.Embedding(5, 3)(np.array([1.5]))


# ----- empty sequences, batch sizes 0 and 1 -------------------------------------------------
@pytest.mark.parametrize("kind", LAYERS)
def test_layer_empty_sequence_array(kind):
    with pytest.raises(ValueError, match=r"empty sequence \(T=0\).*\(0, 2, 3\)"):
        getattr(ar.nn, kind)(3, 4)(np.zeros((0, 2, 3)))


@pytest.mark.parametrize("kind", LAYERS)
def test_layer_empty_list_of_steps(kind):
    with pytest.raises(ValueError, match=r"empty sequence \(T=0\)"):
        getattr(ar.nn, kind)(3, 4)([])


def test_sequence_model_empty_sequence():
    with pytest.raises(ValueError, match=r"T=0"):
        ar.nn.SequenceModel("lstm", 3, 4, 2)(np.zeros((0, 1, 3)))


def test_stack_of_nothing():
    with pytest.raises(ValueError, match="stack needs at least one tensor"):
        ar.stack([])


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_batch_size_one_gradients_are_right(cell):
    model = ar.nn.SequenceModel(cell, 2, 3, 2, seed=1)
    x = np.random.default_rng(0).standard_normal((4, 1, 2))
    targets = np.array([[0], [1], [1], [0]])
    report = ar.gradcheck(lambda *_: cross_entropy(model(x)[0], targets), list(model.parameters()))
    assert report, str(report)


@pytest.mark.parametrize("kind", LAYERS)
def test_batch_size_zero_gives_empty_outputs(kind):
    out, state = getattr(ar.nn, kind)(3, 4)(np.zeros((5, 0, 3)))
    h = state[0] if kind == "LSTM" else state
    assert out.shape == (5, 0, 4) and h.shape == (1, 0, 4)


def test_batch_size_zero_cross_entropy_is_zero_with_zero_gradients():
    model = ar.nn.SequenceModel("rnn", 3, 4, 2)
    y, _ = model(np.zeros((5, 0, 3)))
    loss = cross_entropy(y, np.zeros((5, 0), dtype=int))
    loss.backward()
    assert float(loss.data) == 0.0
    for name, p in model.named_parameters():
        assert p.grad is not None and not np.any(p.grad), name


# ----- bad settings -------------------------------------------------------------------------
@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"hidden": 0}, "hidden must be an integer >= 1, got 0"),
        ({"seq_len": -2}, "seq_len must be an integer >= 1, got -2"),
        ({"cell": "transformer"}, "cell must be one of"),
        ({"lr": -0.1}, "lr must be > 0, got -0.1"),
        ({"k2": 0}, "k2 must be an integer >= 1, got 0"),
    ],
)
def test_training_settings_out_of_range(kwargs, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        TrainConfig(**kwargs)


def test_optimizer_without_parameters():
    with pytest.raises(ValueError, match="empty parameter list"):
        ar.optim.Adam([])


def test_optimizer_parameter_that_does_not_require_grad():
    with pytest.raises(TypeError, match="parameter 0 must be a Tensor with requires_grad"):
        ar.optim.SGD([ar.tensor([1.0])], lr=0.1)


def test_clip_norm_must_be_positive():
    w = ar.tensor([1.0], requires_grad=True)
    with pytest.raises(ValueError, match="max_norm must be > 0, got 0"):
        ar.optim.clip_grad_norm([w], 0)


def test_gradcheck_accepts_an_empty_input():
    empty = ar.tensor(np.ones((0, 3)), requires_grad=True, name="empty")
    w = ar.tensor(np.ones(2), requires_grad=True, name="w")
    report = ar.gradcheck(lambda a, b: (a * 2).sum() + (b * b).sum(), [empty, w])
    assert report, str(report)
    assert [c.entries_checked for c in report.comparisons] == [0, 2]


@pytest.mark.parametrize("state", [None, [("W_y", np.zeros(2))]])
def test_load_state_dict_needs_a_mapping(state):
    model = ar.nn.SequenceModel("rnn", 2, 3, 1)
    with pytest.raises(TypeError, match=r"expects a mapping of parameter name -> array"):
        model.load_state_dict(state)
