"""Built-in tasks: data generators are right, and small models learn them (thresholds are
generous; each run is seeded, so the outcome is reproducible)."""

import numpy as np
import pytest

from autograd_rnn.train import (
    AddingTask,
    CharTask,
    SineTask,
    TrainConfig,
    Trainer,
    continue_sine,
    evaluate,
    make_task,
    sample_text,
)


def test_adding_batches_have_two_markers_one_per_half_and_the_right_target():
    task = AddingTask()
    b = task.batch(np.random.default_rng(0), 64, 12)
    assert b.x.shape == (12, 64, 2) and b.target.shape == (12, 64, 1) and b.mask.shape == (12, 64)
    markers = b.x[..., 1]
    assert np.all(markers.sum(axis=0) == 2)
    assert np.all(markers[:6].sum(axis=0) == 1) and np.all(markers[6:].sum(axis=0) == 1)
    assert np.allclose(b.target[-1, :, 0], (b.x[..., 0] * markers).sum(axis=0))
    assert np.all(b.mask[:-1] == 0) and np.all(b.mask[-1] == 1)
    # always predicting 1.0 scores Var(U1 + U2) = 1/6
    big = task.batch(np.random.default_rng(1), 20000, 4)
    assert np.mean((big.target[-1] - 1.0) ** 2) == pytest.approx(task.baseline, abs=0.01)


def test_sine_targets_are_the_next_inputs():
    b = SineTask().batch(np.random.default_rng(0), 3, 10)
    assert b.x.shape == b.target.shape == (10, 3, 1)
    assert np.array_equal(b.x[1:], b.target[:-1])


def test_char_task_vocabulary_and_batches():
    task = CharTask("abcabd")
    assert task.vocab == "abcd" and task.input_size == 4
    assert task.decode(task.encode("dab")) == "dab"
    with pytest.raises(ValueError, match="not in the training vocabulary: 'xz'"):
        task.encode("axz")
    b = task.batch(np.random.default_rng(0), 2, 3)
    assert b.x.shape == (3, 2, 4) and b.target.shape == (3, 2)
    assert np.array_equal(b.x[1:].argmax(-1), b.target[:-1])
    with pytest.raises(ValueError, match="at least 7 characters, got 6"):
        task.batch(np.random.default_rng(0), 2, 6)
    default = make_task("chars")
    assert len(default.text) > 2000
    assert default.baseline == pytest.approx(np.log(len(default.vocab)))
    with pytest.raises(ValueError, match="unknown task 'parity'"):
        make_task("parity")


def test_vanilla_rnn_learns_the_sine_wave():
    trainer = Trainer(TrainConfig(task="sine", cell="rnn", seq_len=20, hidden=16, batch=8))
    trainer.run(150, progress=False)
    mse = evaluate(trainer.model, trainer.task, 20)
    assert mse < 0.02 < trainer.task.baseline  # baseline (repeat the input) ~ 0.04
    assert trainer.history["loss"][0] > 5 * mse
    predicted, true = continue_sine(trainer.model, trainer.task, 20, 3)
    assert np.max(np.abs(predicted - true)) < 0.3


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_gated_cells_beat_the_adding_baseline_at_small_T(cell):
    trainer = Trainer(TrainConfig(task="adding", cell=cell, seq_len=10, hidden=16, batch=16))
    trainer.run(300, progress=False)
    mse = evaluate(trainer.model, trainer.task, 10)
    assert mse < 0.05  # the baseline is 0.167


def test_char_model_learns_and_samples():
    trainer = Trainer(TrainConfig(task="chars", cell="gru", seq_len=16, hidden=24, batch=8))
    trainer.run(80, progress=False)
    loss = evaluate(trainer.model, trainer.task, 16, batch=64)
    assert loss < 0.8 * trainer.task.baseline  # ln(V) = 3.74 nats for the default text
    text = sample_text(trainer.model, trainer.task, 40, temperature=0.8, prime="The ", seed=1)
    assert text.startswith("The ") and len(text) == 44 and set(text) <= set(trainer.task.vocab)
    assert text == sample_text(trainer.model, trainer.task, 40, 0.8, "The ", seed=1)
    greedy = sample_text(trainer.model, trainer.task, 10, temperature=0, prime="the")
    assert greedy == sample_text(trainer.model, trainer.task, 10, temperature=0, prime="the",
                                 seed=99)
