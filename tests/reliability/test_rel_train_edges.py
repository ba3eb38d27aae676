"""Edge cases of losses, checkpoints and the trainer that used to crash with a bare NumPy,
JSON or KeyError message (or a traceback from the CLI), kept fixed here: each gets one
error naming what is wrong, and sensible sizes (an empty batch) give a sensible answer."""

from __future__ import annotations

import numpy as np
import pytest

import autograd_rnn as ar
from autograd_rnn.cli.main import main
from autograd_rnn.train import (
    CheckpointError,
    SineTask,
    TrainConfig,
    Trainer,
    TrainingError,
    cross_entropy,
    load_trained,
    mse_loss,
)


@pytest.fixture(scope="module")
def good(tmp_path_factory):
    path = tmp_path_factory.mktemp("ckpt") / "good.npz"
    config = TrainConfig(task="sine", cell="rnn", seq_len=4, hidden=3, batch=2)
    Trainer(config).run(2, checkpoint=path, progress=False)
    return path


def _arrays(path):
    with np.load(path, allow_pickle=False) as data:
        return {k: data[k] for k in data.files}


def _saved(tmp_path, arrays, name="edited.npz"):
    path = tmp_path / name
    np.savez(path, **arrays)
    return path


# ----- losses -------------------------------------------------------------------------------
def test_mse_of_an_empty_batch_is_zero_like_cross_entropy():
    pred = ar.tensor(np.zeros((5, 0, 1)), requires_grad=True)
    with np.errstate(all="raise"):
        loss = mse_loss(pred, np.zeros((5, 0, 1)))
        loss.backward()
    assert float(loss.data) == 0.0 and pred.grad.shape == (5, 0, 1)


def test_cross_entropy_of_scalar_logits():
    with pytest.raises(ValueError, match=r"logits must have shape \(\.\.\., V\), got a scalar"):
        cross_entropy(ar.tensor(0.0, requires_grad=True), np.array(1))


def test_mse_object_target():
    pred = ar.tensor(np.zeros(2), requires_grad=True)
    with pytest.raises(TypeError, match="target must be numeric, got dtype object"):
        mse_loss(pred, np.array([1.0, None], dtype=object))


@pytest.mark.parametrize("which", ["mse", "cross_entropy"])
def test_masked_loss_keeps_float32(which):
    pred = ar.tensor(np.ones((3, 2, 4), np.float32), requires_grad=True)
    mask = np.array([[1, 1], [1, 0], [0, 0]])
    if which == "mse":
        loss = mse_loss(pred, np.zeros((3, 2, 4), np.float32), mask=mask)
    else:
        loss = cross_entropy(pred, np.zeros((3, 2), int), mask=mask)
    assert loss.dtype == np.float32
    loss.backward()
    assert pred.grad.dtype == np.float32


# ----- checkpoints --------------------------------------------------------------------------
def test_npy_array_named_npz(tmp_path):
    path = tmp_path / "plain.npz"
    with open(path, "wb") as handle:
        np.save(handle, np.zeros(3))
    with pytest.raises(CheckpointError, match="plain.npz.*not a readable .npz checkpoint"):
        load_trained(path)


def test_cli_npy_array_named_npz_is_one_line(tmp_path, capsys):
    path = tmp_path / "plain.npz"
    with open(path, "wb") as handle:
        np.save(handle, np.zeros(3))
    assert main(["sample", "--checkpoint", str(path)]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and err.count("\n") == 1 and "plain.npz" in err


@pytest.mark.parametrize("key", ["meta/config", "meta/step", "meta/rng"])
def test_checkpoint_missing_a_meta_entry(tmp_path, good, key):
    arrays = _arrays(good)
    del arrays[key]
    with pytest.raises(CheckpointError, match=f"incomplete: no \\['{key}'\\]"):
        Trainer.from_checkpoint(_saved(tmp_path, arrays))


@pytest.mark.parametrize("text", ["{not json", "[1, 2]"])
def test_checkpoint_config_not_a_json_object(tmp_path, good, text):
    arrays = _arrays(good)
    arrays["meta/config"] = np.array(text)
    with pytest.raises(CheckpointError, match="meta/config is not valid JSON"):
        load_trained(_saved(tmp_path, arrays))


def test_checkpoint_path_is_a_folder(tmp_path, capsys):
    with pytest.raises(IsADirectoryError, match="is a directory"):
        load_trained(tmp_path)
    assert main(["sample", "--checkpoint", str(tmp_path)]) == 2
    assert "is a directory" in capsys.readouterr().err


# ----- settings -----------------------------------------------------------------------------
def test_cli_adding_task_with_one_step(capsys):
    assert main(["train", "--task", "adding", "--seq-len", "1", "--steps", "1", "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and "seq_len must be >= 2 for the adding task" in err


def test_cli_negative_seed_names_the_option(capsys):
    assert main(["train", "--seed", "-1", "--steps", "1", "--quiet"]) == 2
    assert "--seed must be >= 0, got -1" in capsys.readouterr().err


def test_trainer_checkpoint_every_zero(tmp_path):
    trainer = Trainer(TrainConfig(seq_len=3, batch=1, hidden=2))
    with pytest.raises(ValueError, match="checkpoint_every must be an integer >= 1, got 0"):
        trainer.run(2, checkpoint=tmp_path / "c.npz", checkpoint_every=0, progress=False)
    assert list(tmp_path.iterdir()) == []


# ----- an update that overflows ---------------------------------------------------------------
class _BigTargets(SineTask):
    def batch(self, rng, batch_size, seq_len):
        b = super().batch(rng, batch_size, seq_len)
        b.target = b.target * 1e4  # gradients ~1e4: lr * g overflows float64
        return b


def test_overflowing_update_is_not_kept_as_the_last_good_state(tmp_path):
    config = TrainConfig(seq_len=6, hidden=4, batch=2, optimizer="sgd", lr=1e306, clip=None)
    trainer = Trainer(config, task=_BigTargets())
    with np.errstate(all="ignore"), pytest.raises(TrainingError, match="non-finite"):
        trainer.run(5, checkpoint=tmp_path / "c.npz", checkpoint_every=1, progress=False)
    for name, p in trainer.model.named_parameters():
        assert np.all(np.isfinite(p.data)), name
    for key, value in _arrays(tmp_path / "c.npz").items():
        if key.startswith("param/"):
            assert np.all(np.isfinite(value)), key
