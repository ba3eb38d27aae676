"""Interrupt anywhere, resume, and get the uninterrupted run bit for bit: hypothesis draws the
task, cell, layers, optimizer, clipping, truncation (k1, k2), seed and the step at which a
KeyboardInterrupt arrives (mid-step, inside ``train_step``). Complements the three fixed
configurations of tests/train/test_train_checkpoint.py."""

from __future__ import annotations

import os

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from autograd_rnn.train import TrainConfig, Trainer

MAX_EXAMPLES = int(os.environ.get("REL_MAX_EXAMPLES", 10))
TOTAL = 5


@st.composite
def configs(draw):
    k2 = draw(st.none() | st.integers(1, 6))
    k1 = None if k2 is None else draw(st.integers(1, 6))
    clip = draw(st.none() | st.floats(0.1, 2.0))
    return TrainConfig(
        task=draw(st.sampled_from(["sine", "adding", "chars"])),
        cell=draw(st.sampled_from(["rnn", "lstm", "gru"])),
        seq_len=draw(st.integers(2, 6)),
        hidden=draw(st.integers(1, 4)),
        layers=draw(st.integers(1, 2)),
        batch=draw(st.integers(1, 3)),
        optimizer=draw(st.sampled_from(["sgd", "adagrad", "rmsprop", "adam"])),
        clip=clip,
        clip_value=draw(st.none() | st.floats(0.5, 5.0)),
        k1=k1,
        k2=k2,
        seed=draw(st.integers(0, 1000)),
    )


class _Interrupt:
    """Wraps Trainer.train_step: raises KeyboardInterrupt when step ``at`` starts."""

    def __init__(self, trainer: Trainer, at: int) -> None:
        self.real, self.at, self.trainer = trainer.train_step, at, trainer
        trainer.train_step = self

    def __call__(self):
        if self.trainer.step + 1 == self.at:
            self.real()  # the interrupted step may have changed everything; it must not count
            raise KeyboardInterrupt
        return self.real()


@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(config=configs(), at=st.integers(1, TOTAL))
def test_interrupt_anywhere_then_resume_is_bit_identical(tmp_path_factory, config, at):
    path = tmp_path_factory.mktemp("resume") / "run.npz"
    straight = Trainer(config)
    straight.run(TOTAL, progress=False)

    first = Trainer(config)
    _Interrupt(first, at)
    result = first.run(TOTAL, checkpoint=path, progress=False)
    assert result.interrupted and result.step == at - 1
    resumed = Trainer.from_checkpoint(path)
    assert resumed.step == at - 1
    resumed.run(TOTAL, checkpoint=path, progress=False)

    for (name, a), (_, b) in zip(
        straight.model.named_parameters(), resumed.model.named_parameters(), strict=True
    ):
        assert np.array_equal(a.data, b.data), name
    sa, sb = straight.optimizer.state_dict(), resumed.optimizer.state_dict()
    assert sa.keys() == sb.keys()
    for key in sa:
        assert np.array_equal(sa[key], sb[key]), key
    assert straight.history == resumed.history
