"""Numerical faults and interruptions: NaN/Inf in the data is pinned on the op and timestep
that made it (``detect_anomaly``); a non-finite loss stops training with a message and the
last good checkpoint; Ctrl-C (KeyboardInterrupt), even in the middle of writing a checkpoint,
leaves a checkpoint that resumes to exactly the parameters of an uninterrupted run."""

from __future__ import annotations

import numpy as np
import pytest

import autograd_rnn as ar
from autograd_rnn import files
from autograd_rnn.cli.main import main
from autograd_rnn.train import (
    NonFiniteLossError,
    SineTask,
    TrainConfig,
    Trainer,
    TrainingError,
    mse_loss,
    tbptt,
)

TRAIN = ["train", "--task", "sine", "--seq-len", "6", "--hidden", "4", "--batch", "2", "--quiet"]


def _rnn_loss(x, target=None, cell="rnn", **options):
    model = ar.nn.SequenceModel(cell, 2, 3, 1, seed=0, **options)
    y, _ = model(x)
    return mse_loss(y, np.zeros(y.shape) if target is None else target)


def _x(T=5, B=2):
    return np.random.default_rng(0).standard_normal((T, B, 2))


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_anomaly_in_input_names_the_op_and_the_timestep(bad, cell):
    x = _x()
    x[2, 1, 0] = bad  # t=3
    with (
        ar.detect_anomaly(),
        pytest.raises(
            ar.AnomalyError, match=rf"'matmul' in scope '{cell}/layer0/t=3'.*NaN/Inf in forward"
        ),
    ):
        _rnn_loss(x, cell=cell, num_layers=2, bidirectional=True)


def test_anomaly_in_target_names_the_loss_op():
    target = np.zeros((5, 2, 1))
    target[4, 0, 0] = np.nan
    with ar.detect_anomaly(), pytest.raises(ar.AnomalyError, match="'subtract'.*forward"):
        _rnn_loss(_x(), target)


def test_anomaly_in_backward_names_the_op_and_its_input():
    w = ar.tensor([0.0, 4.0], requires_grad=True, name="w")
    with ar.detect_anomaly(), np.errstate(divide="ignore"):
        y = w.sqrt().sum()  # finite forward, infinite derivative at 0
        with pytest.raises(ar.AnomalyError, match=r"'power'.*backward.*input 'w"):
            y.backward()


def test_without_anomaly_mode_nan_input_gives_nan_loss_not_an_error():
    x = _x()
    x[0, 0, 0] = np.nan
    assert np.isnan(float(_rnn_loss(x).data))


def test_tbptt_refuses_to_step_on_a_nan_loss():
    model = ar.nn.SequenceModel("lstm", 2, 3, 1, seed=0)
    before = model.state_dict()
    x = _x()
    x[3, 0, 1] = np.nan
    with pytest.raises(NonFiniteLossError, match=r"loss is nan on steps 0\.\.4"):
        tbptt(
            model,
            x,
            np.zeros((5, 2, 1)),
            mse_loss,
            optimizer=ar.optim.SGD(model.parameters(), lr=0.1),
        )
    for name, value in model.state_dict().items():
        np.testing.assert_array_equal(value, before[name], err_msg=name)


def test_exploding_training_stops_with_a_message_and_keeps_the_last_good_checkpoint(
    tmp_path, capsys
):
    path = tmp_path / "run.npz"
    code = main(
        TRAIN
        + [
            "--optimizer",
            "sgd",
            "--lr",
            "1e4",
            "--clip",
            "0",
            "--steps",
            "200",
            "--checkpoint-every",
            "1",
            "--checkpoint",
            str(path),
        ]
    )
    out = capsys.readouterr()
    text = out.out + out.err
    assert code == 1, text
    assert "stopped at step" in text and "smaller learning rate" in text, text
    assert "Traceback" not in text
    with np.load(path, allow_pickle=False) as data:
        step = int(data["meta/step"])
        params = {k: data[k] for k in data.files if k.startswith("param/")}
    assert 0 < step < 200, step
    assert f"parameters are back at step {step}" in text, text
    for name, value in params.items():
        assert np.all(np.isfinite(value)), name


def _interrupt_on_call(monkeypatch, owner, name, n):
    """Make ``owner.name`` raise KeyboardInterrupt on its n-th call (1-based)."""
    real = getattr(owner, name)
    calls = []

    def wrapper(*args, **kwargs):
        calls.append(1)
        if len(calls) == n:
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    monkeypatch.setattr(owner, name, wrapper)


def _params(path):
    with np.load(path, allow_pickle=False) as data:
        return int(data["meta/step"]), {k: data[k] for k in data.files if k.startswith("param/")}


def test_ctrl_c_mid_step_then_resume_equals_an_uninterrupted_run(tmp_path, capsys, monkeypatch):
    whole, cut = tmp_path / "whole.npz", tmp_path / "cut.npz"
    assert main(TRAIN + ["--steps", "6", "--checkpoint", str(whole)]) == 0
    with monkeypatch.context() as patch:
        _interrupt_on_call(patch, Trainer, "train_step", 4)
        assert main(TRAIN + ["--steps", "6", "--checkpoint", str(cut)]) == 130
    assert "resume with --resume" in capsys.readouterr().out
    assert _params(cut)[0] == 3
    assert main(TRAIN + ["--steps", "6", "--resume", "--checkpoint", str(cut)]) == 0
    step, resumed = _params(cut)
    assert step == 6
    for name, value in _params(whole)[1].items():
        np.testing.assert_array_equal(resumed[name], value, err_msg=name)


def test_ctrl_c_while_writing_a_checkpoint_still_leaves_a_resumable_one(
    tmp_path, capsys, monkeypatch
):
    path = tmp_path / "run.npz"
    with monkeypatch.context() as patch:
        # the third save, after step 3, as its file is moved into place
        _interrupt_on_call(patch, files, "_move_into_place", 3)
        assert (
            main(TRAIN + ["--steps", "6", "--checkpoint-every", "1", "--checkpoint", str(path)])
            == 130
        )
    assert [p.name for p in tmp_path.iterdir()] == ["run.npz"]  # no temporary left
    step, _ = _params(path)
    assert step == 3
    assert main(TRAIN + ["--steps", "6", "--resume", "--checkpoint", str(path)]) == 0
    assert _params(path)[0] == 6


class _SineWithNaN(SineTask):
    """The sine task whose ``bad_batch``-th batch (1-based) holds one NaN input."""

    def __init__(self, bad_batch: int) -> None:
        super().__init__()
        self.bad_batch, self.drawn = bad_batch, 0

    def batch(self, rng, batch_size, seq_len):
        b = super().batch(rng, batch_size, seq_len)
        self.drawn += 1
        if self.drawn == self.bad_batch:
            b.x[seq_len // 2, 0, 0] = np.nan
        return b


def test_nan_in_training_data_stops_the_run_and_saves_the_last_good_step(tmp_path):
    path = tmp_path / "run.npz"
    trainer = Trainer(TrainConfig(seq_len=6, hidden=4, batch=2), task=_SineWithNaN(4))
    with pytest.raises(TrainingError, match=r"stopped at step 4: loss is nan.*back at step 3"):
        trainer.run(10, checkpoint=path, checkpoint_every=1, progress=False)
    assert trainer.step == 3 and len(trainer.history["loss"]) == 3
    with np.load(path, allow_pickle=False) as data:
        assert int(data["meta/step"]) == 3
        for key in data.files:
            if key.startswith("param/"):
                assert np.all(np.isfinite(data[key])), key


def test_second_ctrl_c_during_the_emergency_save_keeps_the_previous_checkpoint(
    tmp_path, capsys, monkeypatch
):
    path = tmp_path / "run.npz"
    real = files._move_into_place
    calls = []

    def move(*args, **kwargs):
        calls.append(1)
        if len(calls) in (3, 4):  # the save after step 3, then the save in the handler
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    with monkeypatch.context() as patch:
        patch.setattr(files, "_move_into_place", move)
        code = main(TRAIN + ["--steps", "6", "--checkpoint-every", "1", "--checkpoint", str(path)])
    assert code == 130
    assert "interrupted" in capsys.readouterr().err
    assert [p.name for p in tmp_path.iterdir()] == ["run.npz"]
    assert _params(path)[0] == 2
    assert main(TRAIN + ["--steps", "6", "--resume", "--checkpoint", str(path)]) == 0
    assert _params(path)[0] == 6
