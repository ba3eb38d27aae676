"""Random state across resume and rollback: ``from_checkpoint`` restores the legacy global
``np.random`` state saved with the checkpoint, and a rollback (Ctrl-C mid-step, or a NaN loss)
resets the trainer's Generator, so training on in the same process gives exactly the
parameters of an uninterrupted run (the resume tests elsewhere go through a file)."""

from __future__ import annotations

import numpy as np
import pytest

from autograd_rnn.train import SineTask, TrainConfig, Trainer, TrainingError
from tests.reliability.test_rel_training_faults import _SineWithNaN

CONFIG = TrainConfig(seq_len=5, hidden=3, batch=2, seed=3)
STEPS = 6


def _params(trainer) -> dict[str, np.ndarray]:
    return {k: v.copy() for k, v in trainer.model.state_dict().items()}


def _assert_same(got, expected) -> None:
    assert got.keys() == expected.keys()
    for name, value in expected.items():
        np.testing.assert_array_equal(got[name], value, err_msg=name)


@pytest.fixture(scope="module")
def uninterrupted() -> dict[str, np.ndarray]:
    trainer = Trainer(CONFIG)
    trainer.run(STEPS, progress=False)
    return _params(trainer)


def test_from_checkpoint_restores_the_legacy_np_random_state(tmp_path):
    path = tmp_path / "run.npz"
    np.random.seed(7)
    Trainer(CONFIG).run(3, checkpoint=path, progress=False)
    expected = np.random.rand()  # the next draw after the state the checkpoint saved
    np.random.seed(12345)  # another program's draws in between
    Trainer.from_checkpoint(path)
    assert np.random.rand() == expected


class _InterruptedTask(SineTask):
    """Ctrl-C arrives while step ``at`` runs, right after its batch was drawn (so the
    trainer's Generator has already moved on)."""

    def __init__(self, at: int) -> None:
        super().__init__()
        self.at, self.drawn = at, 0

    def batch(self, rng, batch_size, seq_len):
        b = super().batch(rng, batch_size, seq_len)
        self.drawn += 1
        if self.drawn == self.at:
            raise KeyboardInterrupt
        return b


def test_continuing_after_ctrl_c_in_the_same_process_matches(uninterrupted):
    trainer = Trainer(CONFIG, task=_InterruptedTask(at=4))
    result = trainer.run(STEPS, progress=False)
    assert result.interrupted and trainer.step == 3
    trainer.run(STEPS, progress=False)
    _assert_same(_params(trainer), uninterrupted)


def test_continuing_after_a_nan_rollback_in_the_same_process_matches(uninterrupted):
    trainer = Trainer(CONFIG, task=_SineWithNaN(4))  # batch 4 holds a NaN
    with pytest.raises(TrainingError, match="back at step 3"):
        trainer.run(STEPS, progress=False)
    trainer.run(STEPS, progress=False)
    _assert_same(_params(trainer), uninterrupted)
