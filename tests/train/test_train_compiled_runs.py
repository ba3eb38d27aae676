"""Compiled training runs behave as interpreted ones: Ctrl-C and SIGTERM in the middle of a
compiled step save a checkpoint that resumes bit-identically, the diverging-run guard stops
at the same step with the same message, the CLI's --compile/--no-compile choose the path,
and sampling records no graph."""

import os
import signal
import time

import numpy as np
import pytest

from autograd_rnn.cli.main import main
from autograd_rnn.core.tensor import value_of
from autograd_rnn.interrupts import terminate_as_interrupt
from autograd_rnn.optim.base import Optimizer
from autograd_rnn.train import TrainConfig, Trainer, TrainingError, load_npz
from autograd_rnn.train.sampling import continue_sine, sample_text

SMALL = dict(seq_len=8, hidden=6, batch=3)


def _same_state(a: Trainer, b: Trainer) -> None:
    for p, q in zip(a.params, b.params, strict=True):
        assert np.array_equal(value_of(p), value_of(q)), p.name  # bit-identical
    sa, sb = a.optimizer.state_dict(), b.optimizer.state_dict()
    assert all(np.array_equal(sa[k], sb[k]) for k in sa)
    assert a.history == b.history and a.step == b.step


def _stop_at(monkeypatch, call: int, stop) -> None:
    """Make the ``call``-th in-place optimizer step run ``stop()`` first."""
    inplace, calls = Optimizer.step_inplace, []

    def counting(self, grads):
        calls.append(1)
        if len(calls) == call:
            stop()
        return inplace(self, grads)

    monkeypatch.setattr(Optimizer, "step_inplace", counting)


def _interrupt():
    raise KeyboardInterrupt


def _sigterm():
    os.kill(os.getpid(), signal.SIGTERM)
    time.sleep(1)  # the handler raises here


@pytest.mark.parametrize("stop", [_interrupt, _sigterm], ids=["ctrl-c", "sigterm"])
def test_a_stop_mid_compiled_step_saves_a_checkpoint_that_resumes_exactly(
        tmp_path, monkeypatch, stop):
    config = TrainConfig(task="chars", cell="lstm", k1=4, k2=4, layers=2, dropout=0.2,
                         **SMALL)  # 2 updates per step, dropout draws to restore
    straight = Trainer(config)
    straight.run(5, progress=False)
    assert straight.step_kind == "compiled"
    path = tmp_path / "c.npz"
    trainer = Trainer(config)
    _stop_at(monkeypatch, 6, stop)  # the 2nd update of step 3: step 2 is the last complete
    with terminate_as_interrupt():
        result = trainer.run(5, checkpoint=path, progress=False)
    monkeypatch.undo()
    assert result.interrupted and result.step == 2
    assert int(load_npz(path)["meta/step"]) == 2
    resumed = Trainer.from_checkpoint(path)
    assert resumed.step_kind == "compiled"
    resumed.run(5, progress=False)
    _same_state(straight, resumed)


def test_the_diverging_run_guard_stops_compiled_and_interpreted_runs_alike(tmp_path):
    outcomes = []
    for compile_ in (True, False):
        config = TrainConfig(task="adding", cell="rnn", seq_len=10, hidden=8, batch=8,
                             optimizer="sgd", lr=1e6, seed=0, compile=compile_)
        trainer = Trainer(config)
        (tmp_path / str(compile_)).mkdir()
        path = tmp_path / str(compile_) / "run.npz"
        with np.errstate(all="ignore"), pytest.raises(TrainingError) as error:
            trainer.run(50, checkpoint=path, progress=False)
        saved = load_npz(path)
        message = str(error.value).replace(str(compile_), "<dir>")
        outcomes.append((message, trainer.step, int(saved["meta/step"])))
        assert trainer.step_kind == ("compiled" if compile_ else "interpreted")
    assert "training diverged" in outcomes[0][0]
    assert outcomes[0] == outcomes[1]


@pytest.mark.parametrize("flag, kind", [([], "compiled"), (["--compile"], "compiled"),
                                        (["--no-compile"], "interpreted")])
def test_cli_compile_flags_choose_the_path(capsys, flag, kind):
    assert main(["train", "--steps", "3", "--seq-len", "5", "--hidden", "4", "--batch", "2",
                 "--quiet", *flag]) == 0
    assert f"(3 {kind} steps in" in capsys.readouterr().out


def test_cli_architecture_options_reach_the_model(tmp_path, capsys):
    path = tmp_path / "c.npz"
    assert main(["train", "--task", "chars", "--steps", "2", "--seq-len", "5", "--hidden",
                 "4", "--batch", "2", "--layers", "2", "--dropout", "0.25", "--bidirectional",
                 "--learn-h0", "--quiet", "--checkpoint", str(path)]) == 0
    config = Trainer.from_checkpoint(path).config
    assert (config.dropout, config.bidirectional, config.learn_h0) == (0.25, True, True)
    assert main(["train", "--dropout", "1", "--steps", "1"]) == 2
    assert "expected a number in [0, 1), got '1'" in capsys.readouterr().err


class _Recording:
    """Wraps a model; records whether each call's output has a graph behind it."""

    def __init__(self, model):
        self.model, self.graphs = model, []
        self.input_size, self.output_size = model.input_size, model.output_size

    def __call__(self, x, state=None):
        y, state = self.model(x, state)
        self.graphs.append(y.node.op is not None or bool(y.node.parents))
        return y, state

    def modules(self):
        return self.model.modules()

    def eval(self):
        return self.model.eval()


@pytest.mark.parametrize("task", ["chars", "sine"])
def test_sampling_records_no_graph(task):
    trainer = Trainer(TrainConfig(task=task, **SMALL))
    trainer.run(2, progress=False)
    model = _Recording(trainer.model)
    if task == "chars":
        text = sample_text(model, trainer.task, 20, prime="The ")
        assert len(text) == 24
    else:
        predicted, _ = continue_sine(model, trainer.task, 5, 7)
        assert predicted.shape == (7,)
    assert model.graphs and not any(model.graphs)
