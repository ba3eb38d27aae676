"""Streamed character training (``TrainConfig(stream=True)``): B parallel streams through the
text, the hidden state carried (detached) from one step to the next, epochs, checkpoints."""

from __future__ import annotations

import numpy as np
import pytest

import autograd_rnn as ar
from autograd_rnn.cli.main import main
from autograd_rnn.train import TrainConfig, Trainer
from autograd_rnn.train.stream import TextStream

TEXT = "the quick brown fox jumps over the lazy dog. " * 3  # 135 characters
EXACT = 1e-12


def test_windows_continue_each_stream_then_start_a_new_epoch():
    stream = TextStream(n_chars=41, batch=4, seq_len=3)  # segments of 10 characters
    assert stream.segment == 10 and stream.starts.tolist() == [0, 10, 20, 30]
    first, second, third = stream.next_window(), stream.next_window(), stream.next_window()
    assert first[:, 1].tolist() == [10, 11, 12, 13]
    assert np.array_equal(second[0], first[-1])  # a window starts where the last one ended
    assert np.array_equal(third[0], second[-1])
    stream.state = (np.ones((1, 4, 2)),)
    assert third.max() <= 40 and stream.position == 9
    again = stream.next_window()  # 9 + 3 > 10: a new epoch from every segment's start
    assert np.array_equal(again, first) and stream.state is None


def test_too_short_text_names_the_sizes():
    with pytest.raises(ValueError, match="at least batch \\* seq_len \\+ 1 = 41.*has 30"):
        TextStream(n_chars=30, batch=4, seq_len=10)


def test_stream_is_for_the_text_task_only():
    with pytest.raises(ValueError, match="stream applies to task='chars' only"):
        TrainConfig(task="sine", stream=True)


def test_each_step_starts_from_the_previous_steps_final_state():
    config = TrainConfig(task="chars", cell="lstm", seq_len=5, hidden=7, batch=3,
                         optimizer="sgd", stream=True)
    trainer = Trainer(config, text=TEXT)
    model, task, stream = trainer.model, trainer.task, trainer.stream
    x1 = task.window_batch(stream.starts[None, :] + np.arange(6)[:, None])
    with ar.no_grad():
        _, (h1, c1) = model(x1.x, None)  # the state the first step must carry forward
    trainer.train_step()
    np.testing.assert_allclose(stream.state[0], h1.data, rtol=EXACT, atol=EXACT)
    np.testing.assert_allclose(stream.state[1], c1.data, rtol=EXACT, atol=EXACT)

    x2 = task.window_batch(stream.starts[None, :] + 5 + np.arange(6)[:, None])
    with ar.no_grad():
        y2, _ = model(x2.x, (ar.tensor(h1.data), ar.tensor(c1.data)))
        carried = float(task.loss(y2, x2.target).data)
        y0, _ = model(x2.x, None)
        from_zero = float(task.loss(y0, x2.target).data)
    loss = trainer.train_step()
    assert loss == pytest.approx(carried, rel=EXACT)  # the loss of step 2 used the state
    assert abs(carried - from_zero) > 1e-6  # ... and the state made a difference


def test_streamed_resume_is_bit_identical_across_an_epoch(tmp_path):
    config = TrainConfig(task="chars", cell="rnn", seq_len=8, hidden=6, batch=4,
                         optimizer="adam", stream=True)  # segments of 33: 4 steps per epoch
    straight = Trainer(config, text=TEXT)
    straight.run(9, progress=False)
    path = tmp_path / "stream.npz"
    first = Trainer(config, text=TEXT)
    first.run(3, checkpoint=path, progress=False)
    resumed = Trainer.from_checkpoint(path)
    assert resumed.stream.position == first.stream.position == 24
    np.testing.assert_array_equal(resumed.stream.state[0], first.stream.state[0])
    resumed.run(9, checkpoint=path, progress=False)
    for (name, a), (_, b) in zip(straight.model.named_parameters(),
                                 resumed.model.named_parameters(), strict=True):
        assert np.array_equal(a.data, b.data), name
    assert straight.history == resumed.history
    assert resumed.stream.position == straight.stream.position


def test_cli_trains_streamed_text(tmp_path, capsys):
    text = tmp_path / "text.txt"
    text.write_text(TEXT, encoding="utf-8")
    code = main(["train", "--task", "chars", "--stream", "--text", str(text), "--steps", "3",
                 "--seq-len", "6", "--hidden", "5", "--batch", "2", "--quiet"])
    out, err = capsys.readouterr()
    assert code == 0 and "step 3" in out, err
    code = main(["train", "--task", "sine", "--stream", "--steps", "1", "--quiet"])
    assert code == 2 and "stream applies to task='chars' only" in capsys.readouterr().err
