"""Checkpoints: exact resume, atomic writes, refusing to overwrite, clear errors for other
architectures, NaN stops and Ctrl-C saves."""

import numpy as np
import pytest

from autograd_rnn.files import FileExistsRefusal
from autograd_rnn.train import (
    CheckpointError,
    SineTask,
    TrainConfig,
    Trainer,
    TrainingError,
    load_npz,
)
from autograd_rnn.train import checkpoint as ckpt

SMALL = dict(seq_len=8, hidden=6, batch=3)
CASES = [
    TrainConfig(task="sine", cell="rnn", optimizer="adam", **SMALL),
    TrainConfig(task="chars", cell="lstm", optimizer="adagrad", clip_value=5.0, clip=None,
                **SMALL),
    TrainConfig(task="adding", cell="gru", optimizer="sgd", k1=3, k2=5, seed=3, **SMALL),
    TrainConfig(task="chars", cell="gru", optimizer="rmsprop", stream=True, layers=2, **SMALL),
]


def _same_state(a: Trainer, b: Trainer) -> None:
    for (name, x), (_, y) in zip(a.model.named_parameters(), b.model.named_parameters(),
                                 strict=True):
        assert np.array_equal(x.data, y.data), name  # bit-identical, not merely close
    sa, sb = a.optimizer.state_dict(), b.optimizer.state_dict()
    assert sa.keys() == sb.keys() and all(np.array_equal(sa[k], sb[k]) for k in sa)
    assert a.history == b.history and a.step == b.step


@pytest.mark.parametrize("config", CASES, ids=lambda c: f"{c.task}-{c.cell}-{c.optimizer}")
def test_resume_is_bit_identical_to_an_uninterrupted_run(tmp_path, config):
    straight = Trainer(config)
    straight.run(10, progress=False)
    path = tmp_path / "run.npz"
    first = Trainer(config)
    first.run(4, checkpoint=path, progress=False)
    resumed = Trainer.from_checkpoint(path)
    assert resumed.step == 4
    resumed.run(10, checkpoint=path, progress=False)
    _same_state(straight, resumed)
    assert int(load_npz(path)["meta/step"]) == 10


def test_checkpoint_is_plain_npz_without_pickles(tmp_path):
    path = tmp_path / "c.npz"
    Trainer(CASES[1]).run(2, checkpoint=path, progress=False)
    with np.load(path, allow_pickle=False) as data:
        assert "param/rnn.cells.0.W_h" in data.files and "optim/sum_sq.0" in data.files
        assert "history/loss" in data.files and data["history/loss"].shape == (2,)
    assert ckpt.text_of(load_npz(path)).startswith("The river")


def test_atomic_write_leaves_old_file_and_no_temporary_on_failure(tmp_path, monkeypatch):
    path = tmp_path / "c.npz"
    trainer = Trainer(CASES[0])
    trainer.save(path)
    before = path.read_bytes()

    def broken_replace(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr("os.replace", broken_replace)
    trainer.run(1, progress=False)
    with pytest.raises(OSError, match="disk full"):
        trainer.save(path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["c.npz"]


def test_refuses_to_overwrite_unless_asked(tmp_path):
    path = tmp_path / "c.npz"
    path.write_bytes(b"precious")
    with pytest.raises(FileExistsRefusal, match="already exists"):
        Trainer(CASES[0]).run(2, checkpoint=path, progress=False)
    assert path.read_bytes() == b"precious"
    with pytest.raises(FileExistsRefusal):
        Trainer(CASES[0]).save(path)
    Trainer(CASES[0]).run(2, checkpoint=path, overwrite=True, progress=False)
    assert int(load_npz(path)["meta/step"]) == 2


def test_other_architecture_gives_one_clear_error(tmp_path):
    path = tmp_path / "c.npz"
    Trainer(CASES[0]).save(path)
    wider = Trainer(TrainConfig(task="sine", cell="rnn", seq_len=8, hidden=7))
    with pytest.raises(CheckpointError, match=r"'rnn.cells.0.W_x' has shape \(1, 6\) in the "
                       r"file but \(1, 7\) in the model"):
        wider.load_state(load_npz(path), str(path))
    other_cell = Trainer(TrainConfig(task="sine", cell="gru", seq_len=8, hidden=6))
    with pytest.raises(CheckpointError, match="does not fit this model"):
        other_cell.load_state(load_npz(path), str(path))
    with pytest.raises(CheckpointError, match="trained with hidden=6, not 16"):
        Trainer.from_checkpoint(path, hidden=16)


def test_not_a_checkpoint(tmp_path):
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"not a zip")
    with pytest.raises(CheckpointError, match="not a readable .npz"):
        load_npz(bad)
    other = tmp_path / "other.npz"
    np.savez(other, a=np.zeros(2))
    with pytest.raises(CheckpointError, match="not an autograd-rnn checkpoint"):
        load_npz(other)
    with pytest.raises(FileNotFoundError):
        load_npz(tmp_path / "missing.npz")


class _PoisonedSine(SineTask):
    """Sine batches whose target turns NaN from the ``bad_call``-th batch on."""

    def __init__(self, bad_call):
        super().__init__()
        self.calls, self.bad_call = 0, bad_call

    def batch(self, rng, batch_size, seq_len):
        self.calls += 1
        b = super().batch(rng, batch_size, seq_len)
        if self.calls >= self.bad_call:
            b.target[-1] = np.nan
        return b


def test_non_finite_loss_stops_and_keeps_the_last_good_state(tmp_path):
    path = tmp_path / "c.npz"
    config = CASES[0]
    reference = Trainer(config)
    reference.run(2, progress=False)
    trainer = Trainer(config, task=_PoisonedSine(bad_call=3))
    with pytest.raises(TrainingError, match=r"stopped at step 3: loss is nan.*back at step 2"):
        trainer.run(5, checkpoint=path, progress=False)
    _same_state(reference, trainer)
    assert int(load_npz(path)["meta/step"]) == 2
    assert np.all(np.isfinite(load_npz(path)["param/W_y"]))


def test_a_diverging_run_stops_with_a_message(tmp_path):
    path = tmp_path / "boom.npz"
    config = TrainConfig(task="adding", cell="rnn", seq_len=10, hidden=8, batch=8,
                         optimizer="sgd", lr=1e6, seed=0)
    trainer = Trainer(config)
    with np.errstate(all="ignore"), pytest.raises(TrainingError, match="training diverged"):
        trainer.run(50, checkpoint=path, progress=False)
    saved = load_npz(path)
    assert int(saved["meta/step"]) == trainer.step < 50
    assert all(np.all(np.isfinite(saved[k])) for k in saved if k.startswith("param/"))


class _InterruptingSine(SineTask):
    """Raises KeyboardInterrupt inside the ``at``-th loss call (mid-step with k1 < T)."""

    def __init__(self, at):
        super().__init__()
        self.calls, self.at = 0, at

    def loss(self, y, target, mask=None):
        self.calls += 1
        if self.calls == self.at:
            raise KeyboardInterrupt
        return super().loss(y, target, mask)


def test_ctrl_c_mid_step_saves_a_resumable_checkpoint(tmp_path):
    # 2 updates per step; interpreted: the interrupt comes from inside the loss, which
    # compiled steps call only while tracing (tests/train/test_train_compiled_runs.py
    # interrupts a compiled step)
    config = TrainConfig(task="sine", cell="lstm", k1=4, k2=4, compile=False, **SMALL)
    straight = Trainer(config)
    straight.run(5, progress=False)
    path = tmp_path / "c.npz"
    trainer = Trainer(config, task=_InterruptingSine(at=6))  # 2nd window of step 3
    result = trainer.run(5, checkpoint=path, progress=False)
    assert result.interrupted and result.step == 2
    assert int(load_npz(path)["meta/step"]) == 2
    resumed = Trainer.from_checkpoint(path)
    resumed.run(5, progress=False)
    _same_state(straight, resumed)


def test_text_file_is_reported_as_not_an_npz_archive(tmp_path):
    from autograd_rnn.train.checkpoint import CheckpointError, load_npz

    path = tmp_path / "notes.npz"
    path.write_text("these are my notes, not a checkpoint")
    with pytest.raises(CheckpointError, match="not a zip archive"):
        load_npz(path)
    assert path.read_text().startswith("these are my notes")


def test_infinite_learning_rate_is_refused_by_name():
    with pytest.raises(ValueError, match="lr must be finite, got inf"):
        TrainConfig(lr=float("inf"))
