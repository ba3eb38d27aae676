"""Compiled training steps (train/compiled.py) against the interpreter: the same losses and
gradient norms for 100 steps over every model the trainer builds, traces per window kind in
a bounded cache, and a one-line fallback (never a wrong update) when a step cannot be
compiled or its first step differs from the engine's."""

import numpy as np
import pytest

import autograd_rnn as ar
from autograd_rnn.core.tensor import value_of
from autograd_rnn.train import SineTask, TrainConfig, Trainer
from autograd_rnn.train import compiled as compiled_module
from autograd_rnn.train.compiled import CompiledSteps

SMALL = dict(seq_len=10, hidden=8, batch=3)
CASES = {
    "sine-rnn-adam": dict(task="sine", cell="rnn", optimizer="adam"),
    "sine-lstm-sgd-k1k2": dict(task="sine", cell="lstm", optimizer="sgd", k1=4, k2=4),
    "sine-rnn-k2<k1": dict(task="sine", cell="rnn", k1=5, k2=2),
    "adding-gru-rmsprop-k2>k1": dict(task="adding", cell="gru", optimizer="rmsprop", k1=3,
                                      k2=5, lr=0.003),
    "chars-lstm-stream-2layers-dropout": dict(task="chars", cell="lstm", stream=True, layers=2,
                                              dropout=0.3),
    "chars-gru-bidirectional-h0-clipvalue": dict(task="chars", cell="gru", bidirectional=True,
                                                 learn_h0=True, clip_value=0.5),
    "chars-rnn-adagrad-stream-b1": dict(task="chars", cell="rnn", optimizer="adagrad",
                                        lr=0.01, clip=None, clip_value=5.0, stream=True,
                                        batch=1),
}


def _run(steps: int, **settings) -> Trainer:
    trainer = Trainer(TrainConfig(**{**SMALL, **settings}))
    trainer.run(steps, progress=False)
    return trainer


def _relative(a, b) -> float:
    a, b = np.asarray(a), np.asarray(b)
    return float(np.max(np.abs(a - b) / np.maximum(np.abs(b), 1e-300)))


@pytest.mark.parametrize("name", list(CASES))
def test_compiled_run_gives_the_interpreters_losses_for_100_steps(name):
    compiled = _run(100, **CASES[name])
    interpreted = _run(100, compile=False, **CASES[name])
    assert compiled.step_kind == "compiled" and interpreted.step_kind == "interpreted"
    assert compiled.compiled.traces >= 1 and interpreted.compiled is None
    assert len(compiled.history["loss"]) == 100
    assert _relative(compiled.history["loss"], interpreted.history["loss"]) <= 1e-9
    assert _relative(compiled.history["grad_norm"], interpreted.history["grad_norm"]) <= 1e-9


def test_compiled_is_the_default_for_a_model_the_trainer_builds_only():
    assert Trainer(TrainConfig(**SMALL)).step_kind == "compiled"
    task = SineTask()
    model = ar.nn.SequenceModel("rnn", 1, 8, 1, seed=0)
    assert Trainer(TrainConfig(**SMALL), model=model, task=task).step_kind == "interpreted"
    assert Trainer(TrainConfig(compile=True, **SMALL), model=model,
                   task=task).step_kind == "compiled"


def test_chaotic_classic_setting_differs_no_more_than_the_interpreters_own_round_off():
    # Adagrad 0.1 on a hidden-100 char RNN amplifies round-off: one ulp on the weights moves
    # the interpreter's own losses by > 1e-9 within ~10 steps (one ulp on a single weight
    # can vanish: the first update, about 0.1 * sign(g), rounds it away). The compiled run
    # (round-off of a different summation order) must stay within that sensitivity.
    settings = dict(task="chars", stream=True, batch=1, hidden=100, seq_len=25,
                    optimizer="adagrad", lr=0.1, clip=None, clip_value=5.0)
    steps = 12
    reference = Trainer(TrainConfig(compile=False, **settings))
    reference.run(steps, progress=False)
    nudged = Trainer(TrainConfig(compile=False, **settings))
    value_of(nudged.params[1])[...] *= 1 + 2.0**-52  # one ulp on every entry of W_h
    nudged.run(steps, progress=False)
    compiled = Trainer(TrainConfig(**settings))
    compiled.run(steps, progress=False)
    assert compiled.step_kind == "compiled"
    ref = np.array(reference.history["loss"])
    own = np.abs(np.array(nudged.history["loss"]) - ref)
    ours = np.abs(np.array(compiled.history["loss"]) - ref)
    assert np.all(ours[:4] <= 1e-12 * ref[:4])  # before the chaos shows
    assert ours[-1] <= 1e3 * max(own[-1], 1e-15 * ref[-1])


def test_a_window_kind_is_traced_once_and_a_shorter_last_window_traces_again():
    # seq 10, k1 = k2 = 4: windows [0, 4) (no state), [4, 8) (a state), [8, 10) (shorter)
    trainer = _run(1, task="sine", cell="rnn", k1=4, k2=4)
    assert trainer.compiled.traces == 3
    trainer.run(6, progress=False)
    assert trainer.compiled.traces == 3  # later steps reuse the three traces
    assert len(trainer.compiled.entries) == 3


def test_the_trace_cache_stays_bounded_and_evicted_kinds_trace_again():
    trainer = Trainer(TrainConfig(task="sine", cell="rnn", k1=4, k2=4, **SMALL))
    trainer.compiled.max_entries = 2
    trainer.run(3, progress=False)
    assert len(trainer.compiled.entries) <= 2
    assert trainer.compiled.traces == 9  # three kinds, cycling through two places
    interpreted = _run(3, task="sine", cell="rnn", k1=4, k2=4, compile=False)
    assert _relative(trainer.history["loss"], interpreted.history["loss"]) <= 1e-9


def test_a_first_step_that_differs_from_the_engine_falls_back_with_one_line(
        monkeypatch, capsys):
    call = compiled_module._Entry.call

    def wrong(self, *args):
        value, grads, extras = call(self, *args)
        grads[0] = grads[0] * (1 + 1e-6)  # a compiled gradient off by 1e-6 relative
        return value, grads, extras

    monkeypatch.setattr(compiled_module._Entry, "call", wrong)
    trainer = _run(5, task="sine", cell="lstm")
    interpreted = _run(5, task="sine", cell="lstm", compile=False)
    lines = [line for line in capsys.readouterr().err.splitlines() if "compiled" in line]
    assert len(lines) == 1
    assert "differs from the engine's (max relative difference 1e-06)" in lines[0]
    assert "training with the interpreter" in lines[0]
    assert trainer.step_kind == "interpreted"
    # the update of the first step used the engine's gradients: no wrong update was made
    assert trainer.history["loss"] == interpreted.history["loss"]
    for p, q in zip(trainer.params, interpreted.params, strict=True):
        assert np.array_equal(value_of(p), value_of(q))


class _ReadsValues(ar.nn.SequenceModel):
    """A model that reads a value out of the graph (frozen by a trace)."""

    def forward(self, x, state=None, **kwargs):
        y, state = super().forward(x, state, **kwargs)
        return y + ar.tensor(y.data * 0.5), state


def test_a_model_that_cannot_be_compiled_trains_interpreted_with_one_line(capsys):
    task = SineTask()
    config = TrainConfig(task="sine", compile=True, **SMALL)
    trainer = Trainer(config, model=_ReadsValues("rnn", 1, 8, 1, seed=0), task=task)
    trainer.run(3, progress=False)
    reference = Trainer(config.__class__(**{**config.to_dict(), "compile": False}),
                        model=_ReadsValues("rnn", 1, 8, 1, seed=0), task=SineTask())
    reference.run(3, progress=False)
    lines = [line for line in capsys.readouterr().err.splitlines() if "compiled" in line]
    assert len(lines) == 1 and "cannot be compiled" in lines[0] and ".data" in lines[0]
    assert trainer.step_kind == "interpreted"
    assert trainer.history["loss"] == reference.history["loss"]


def test_compiled_steps_update_the_parameter_arrays_in_place():
    trainer = Trainer(TrainConfig(task="sine", cell="gru", **SMALL))
    trainer.run(2, progress=False)  # (the first step's engine check saved the parameters)
    arrays = [value_of(p) for p in trainer.params]
    before = [a.copy() for a in arrays]
    trainer.run(4, progress=False)
    assert all(value_of(p) is a for p, a in zip(trainer.params, arrays, strict=True))
    assert not all(np.array_equal(a, b) for a, b in zip(arrays, before, strict=True))


def test_compiled_steps_need_an_optimizer_in_tbptt():
    from autograd_rnn.train.tbptt import tbptt

    model = ar.nn.SequenceModel("rnn", 1, 4, 1, seed=0)
    steps = CompiledSteps(model, SineTask().loss, list(model.parameters()))
    x, target = np.zeros((5, 2, 1)), np.zeros((5, 2, 1))
    with pytest.raises(ValueError, match="compiled windows need an optimizer"):
        tbptt(model, x, target, SineTask().loss, compiled=steps)
