"""The training loop: batches from a task, TBPTT updates, a tqdm progress bar, loss and
gradient-norm history, and exact checkpoint/resume.

Determinism: the model's initial weights come from ``config.seed``, the data stream from a
``numpy.random.Generator`` seeded with it too; a checkpoint stores that generator's state
(and the dropout layers' ones), the optimizer state, the step and the history, so resuming
gives bit-identical parameters to an uninterrupted run. A training step is one batch (it may
hold several TBPTT updates).

The step runs as generated NumPy code (``train.compiled``) when ``config.compile`` allows it
(by default: the model is the one the trainer builds, the task a built-in one), else the
engine interprets the graph (``compile=False``). Both give the same numbers to round-off.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

import autograd_rnn as ar
from autograd_rnn.files import check_writable
from autograd_rnn.nn.unroll import RecurrentBase
from autograd_rnn.optim import make_optimizer
from autograd_rnn.train import checkpoint as ckpt
from autograd_rnn.train.compiled import CompiledSteps
from autograd_rnn.train.config import TrainConfig, build_model
from autograd_rnn.train.lock import checkpoint_lock
from autograd_rnn.train.stream import TextStream
from autograd_rnn.train.tasks import TASKS, CharTask, Task, make_task
from autograd_rnn.train.tbptt import NonFiniteLossError, tbptt

DIVERGENCE_FACTOR = 1e6  # a loss this many times the run's first (or 1.0) means divergence


class TrainingError(RuntimeError):
    """A run stopped: the loss or gradients became NaN/Inf."""


@dataclass
class RunResult:
    """Outcome of ``Trainer.run``: the step reached, seconds spent in this call, whether
    Ctrl-C stopped it, the checkpoint written (if any) and the mean loss of the last steps."""

    step: int
    seconds: float
    interrupted: bool = False
    checkpoint: str | None = None
    recent_loss: float = float("nan")
    history: dict[str, list[float]] = field(default_factory=dict)


class Trainer:
    """Train ``model`` on ``task`` with the settings in ``config``.

    >>> trainer = Trainer(TrainConfig(task="sine", cell="rnn", seq_len=20, hidden=16))
    >>> result = trainer.run(5, progress=False)            # doctest: +SKIP
    """

    def __init__(self, config: TrainConfig, *, task: Task | None = None, model: Any = None,
                 text: str | None = None) -> None:
        self.config = config
        self.task = task if task is not None else make_task(config.task, text)
        self.model = model if model is not None else build_model(config, self.task)
        self.params = list(self.model.parameters())
        self.optimizer = make_optimizer(config.optimizer, self.params, lr=config.learning_rate)
        self.rng = np.random.default_rng(config.seed)
        self.dropout_layers = [m for m in getattr(self.model, "modules", list)()
                               if isinstance(m, RecurrentBase) and m.dropout > 0]
        auto = model is None and _builtin_loss(self.task)
        self.compiled = None  # the compiled steps (None: interpreted)
        if config.compile or (config.compile is None and auto):
            self.compiled = CompiledSteps(self.model, self.task.loss, self.params,
                                          optimizer=self.optimizer, report=self._note)
        self.stream = None
        if config.stream:
            if not isinstance(self.task, CharTask):
                raise ValueError(f"stream=True needs a text task, got {type(self.task).__name__}")
            self.stream = TextStream(self.task.ids.size, config.batch, config.seq_len)
        self.step = 0
        self.history: dict[str, list[float]] = {"loss": [], "grad_norm": []}
        self._owned: set[str] = set()  # checkpoint files this trainer may overwrite

    # ----- one step ------------------------------------------------------------------------
    def train_step(self) -> float:
        """Draw a batch, run TBPTT(k1, k2) with optimizer updates; returns the batch loss."""
        c = self.config
        state = None
        if self.stream is not None:  # the next window of every stream, from its carried state
            batch = self.task.window_batch(self.stream.next_window())
            state = self.stream.initial_state()
        else:
            batch = self.task.batch(self.rng, c.batch, c.seq_len)
        # overflow is reported once, as a NonFiniteLossError, not as NumPy warnings; the
        # graph keeps only what backward needs (ar.lean_graph) and no per-edge gradients
        # (compiled steps enter that mode themselves, only when they interpret a window)
        if self.compiled is not None:
            with np.errstate(over="ignore", invalid="ignore"):
                result = self._tbptt(batch, state)
        else:
            with ar.record_gradients(False), ar.lean_graph(), \
                    np.errstate(over="ignore", invalid="ignore"):
                result = self._tbptt(batch, state)
        if self.stream is not None:
            self.stream.keep(result.state)
        self.step += 1
        self.history["loss"].append(result.loss)
        self.history["grad_norm"].extend(result.grad_norms)
        return result.loss

    def _tbptt(self, batch, state):
        c = self.config
        return tbptt(self.model, batch.x, batch.target, self.task.loss, k1=c.k1, k2=c.k2,
                     mask=batch.mask, optimizer=self.optimizer, clip_norm=c.clip,
                     clip_value=c.clip_value, state=state, compiled=self.compiled)

    @property
    def step_kind(self) -> str:
        """How steps run now: "compiled" or "interpreted" (after a fallback too)."""
        return "compiled" if self.compiled is not None and self.compiled.enabled \
            else "interpreted"

    def _note(self, line: str) -> None:
        """One line for the user (a compiled-step fallback), above any progress bar."""
        from tqdm import tqdm

        tqdm.write(f"autograd-rnn: {line}", file=sys.stderr)

    # ----- checkpoints ---------------------------------------------------------------------
    def snapshot(self) -> dict[str, Any]:
        """A cheap in-memory copy of the state after the last completed step."""
        return {"params": self.model.state_dict(), "optim": self.optimizer.state_dict(),
                "step": self.step, "rng": ckpt.rng_to_json(self.rng),
                "np_random": np.random.get_state(),
                "history": {k: len(v) for k, v in self.history.items()},
                "stream": None if self.stream is None else self.stream.arrays(),
                "dropout": [ckpt.rng_to_json(m._dropout_rng) for m in self.dropout_layers]}

    def state_arrays(self, snapshot: dict[str, Any] | None = None) -> dict[str, np.ndarray]:
        """The training state (now, or at ``snapshot``) in the checkpoint layout."""
        snap = self.snapshot() if snapshot is None else snapshot
        text = self.task.text if isinstance(self.task, CharTask) else None
        history = {k: self.history[k][:n] for k, n in snap["history"].items()}
        return ckpt.pack(params=snap["params"], optimizer_state=snap["optim"],
                         step=snap["step"], config=self.config.to_dict(), rng=snap["rng"],
                         history=history, text=text, np_random_state=snap["np_random"],
                         stream=snap.get("stream"), dropout_rngs=snap.get("dropout"))

    def save(self, path: str | os.PathLike, overwrite: bool = False,
             arrays: dict[str, np.ndarray] | None = None) -> Path:
        """Write a checkpoint atomically; refuses to replace an existing file unless
        ``overwrite`` (or this trainer wrote or resumed from that file)."""
        key = os.path.abspath(path)
        with checkpoint_lock(path):  # not while another run writes it
            out = ckpt.save_npz(path, self.state_arrays() if arrays is None else arrays,
                                overwrite=overwrite or key in self._owned)
        self._owned.add(key)
        return out

    def load_state(self, arrays: dict[str, np.ndarray], path: str = "<checkpoint>") -> None:
        """Restore parameters, optimizer state, step, generator states and history."""
        params = ckpt.section(arrays, "param")
        ckpt.check_params_fit(path, params, self.model)
        try:
            self.optimizer.load_state_dict(ckpt.section(arrays, "optim"))
        except ValueError as error:
            raise ckpt.CheckpointError(f"checkpoint {path!r}: {error}") from None
        self.model.load_state_dict(params)
        self.step = int(arrays["meta/step"])
        self.rng = ckpt.rng_from_json(str(arrays["meta/rng"]))
        ckpt.restore_np_random(arrays)
        self._restore_dropout(ckpt.dropout_rngs_of(arrays), path)
        self.history = {k: v.tolist() for k, v in ckpt.section(arrays, "history").items()}
        self.history.setdefault("loss", [])
        self.history.setdefault("grad_norm", [])
        if self.stream is not None:
            try:
                self.stream.load(ckpt.section(arrays, "stream"))
            except ValueError as error:
                raise ckpt.CheckpointError(f"checkpoint {path!r}: {error}") from None

    @classmethod
    def from_checkpoint(cls, path: str | os.PathLike, **overrides: Any) -> Trainer:
        """Rebuild the trainer a checkpoint came from and restore its state.

        ``overrides`` may change settings that do not alter the model's shape (e.g. lr);
        a different architecture is refused with a CheckpointError naming the setting.
        """
        arrays = ckpt.load_npz(path)
        saved = ckpt.config_of(arrays)
        fixed = ("task", "cell", "hidden", "layers", "optimizer", "seed", "bidirectional",
                 "dropout", "learn_h0")
        for name, value in overrides.items():
            if name in fixed and value != saved.get(name):
                raise ckpt.CheckpointError(
                    f"checkpoint {os.fspath(path)!r} was trained with {name}={saved.get(name)!r}, "
                    f"not {value!r}"
                )
        config = TrainConfig.from_dict({**saved, **overrides})
        trainer = cls(config, text=ckpt.text_of(arrays))
        trainer.load_state(arrays, os.fspath(path))
        if overrides.get("lr") is not None:
            trainer.optimizer.lr = float(overrides["lr"])  # the saved hyper.lr gives way
        trainer._owned.add(os.path.abspath(path))
        return trainer

    # ----- the loop ------------------------------------------------------------------------
    def run(self, steps: int, *, checkpoint: str | os.PathLike | None = None,
            overwrite: bool = False, checkpoint_every: int = 100, progress: bool = True,
            log_grad_norm: bool = False, callback: Callable[[Trainer], None] | None = None,
            ) -> RunResult:
        """Train until ``self.step == steps`` (a total, so a resumed run continues to it).

        Saves to ``checkpoint`` every ``checkpoint_every`` steps, at the end, and on Ctrl-C
        (the state after the last completed step, so it resumes exactly); meanwhile
        ``<checkpoint>.lock`` keeps other runs off that file (``train.lock``). On a NaN/Inf loss
        (or one over ``DIVERGENCE_FACTOR`` times the run's first loss, floored at 1.0)
        the parameters go back to the last good step, that state is saved, and
        ``TrainingError`` is raised. ``callback(trainer)`` runs after every step.
        """
        from tqdm import tqdm

        if isinstance(checkpoint_every, bool) or not isinstance(checkpoint_every, int) \
                or checkpoint_every < 1:
            raise ValueError(f"checkpoint_every must be an integer >= 1, got {checkpoint_every!r}")
        guard = ExitStack()
        if checkpoint is not None:
            owned = os.path.abspath(checkpoint) in self._owned
            check_writable(checkpoint, overwrite or owned)  # the folder, at least, up front
            guard.enter_context(checkpoint_lock(checkpoint))  # released in the finally below
            if overwrite:
                self._owned.add(os.path.abspath(checkpoint))
        start, began = self.step, time.perf_counter()
        good = self.snapshot()
        first_loss = None
        interrupted = False
        bar = tqdm(total=steps, initial=self.step, disable=not progress, unit="step",
                   desc=f"{self.config.task}/{self.config.cell}", dynamic_ncols=True)
        try:
            while self.step < steps:
                try:
                    loss = self.train_step()
                except NonFiniteLossError as error:
                    self._restore(good)
                    where = self._save_quietly(checkpoint, good)
                    raise TrainingError(
                        f"stopped at step {self.step + 1}: {error}; parameters are back at step "
                        f"{self.step}{where}. Try a smaller learning rate or gradient clipping"
                    ) from None
                if first_loss is None:
                    first_loss = loss
                elif loss > DIVERGENCE_FACTOR * max(first_loss, 1.0):
                    at = self.step
                    self._restore(good)
                    where = self._save_quietly(checkpoint, good)
                    raise TrainingError(
                        f"stopped at step {at}: the loss {loss:.3g} is over "
                        f"{DIVERGENCE_FACTOR:.0e} times the run's first loss {first_loss:.3g}, "
                        f"so training diverged; parameters are back at step {self.step}{where}. "
                        "Try a smaller learning rate or gradient clipping"
                    )
                good = self.snapshot()
                bar.update(1)
                bar.set_postfix(loss=f"{loss:.4g}")
                if log_grad_norm:
                    norms = self.history["grad_norm"][-1:]
                    bar.write(f"step {self.step} loss {loss:.6g} grad_norm "
                              f"{norms[0] if norms else float('nan'):.6g}")
                if checkpoint is not None and (self.step % checkpoint_every == 0
                                               or self.step == steps):
                    self.save(checkpoint, arrays=self.state_arrays(good))
                if callback is not None:
                    callback(self)
        except KeyboardInterrupt:
            interrupted = True
            self._restore(good)
            if checkpoint is not None:
                self.save(checkpoint, arrays=self.state_arrays(good))
        finally:
            bar.close()
            guard.close()
        recent = self.history["loss"][-max(1, min(50, self.step - start)):]
        return RunResult(step=self.step, seconds=time.perf_counter() - began,
                         interrupted=interrupted,
                         checkpoint=None if checkpoint is None else os.fspath(checkpoint),
                         recent_loss=float(np.mean(recent)) if recent else float("nan"),
                         history=self.history)

    def _restore_dropout(self, states: list[str], path: str) -> None:
        if len(states) != len(self.dropout_layers):
            raise ckpt.CheckpointError(
                f"checkpoint {path!r} holds {len(states)} dropout generator states, the model "
                f"has {len(self.dropout_layers)} layers with dropout")
        for layer, state in zip(self.dropout_layers, states, strict=True):
            layer._dropout_rng = ckpt.rng_from_json(state)

    def _restore(self, snap: dict[str, Any]) -> None:
        self.model.load_state_dict(snap["params"])
        self.optimizer.load_state_dict(snap["optim"])
        self.step = snap["step"]
        self.rng = ckpt.rng_from_json(snap["rng"])
        np.random.set_state(snap["np_random"])
        self._restore_dropout(snap["dropout"], "<snapshot>")
        for key, n in snap["history"].items():
            del self.history[key][n:]
        if self.stream is not None and snap.get("stream") is not None:
            self.stream.load(snap["stream"])

    def _save_quietly(self, checkpoint, snap) -> str:
        if checkpoint is None:
            return ""
        self.save(checkpoint, arrays=self.state_arrays(snap))
        return f", saved to {os.fspath(checkpoint)}"


def _builtin_loss(task: Task) -> bool:
    """The task's loss is a built-in task's (a subclass changing only its batches counts)."""
    return type(task).loss in {cls.loss for cls in (Task, *TASKS.values())}


def load_trained(path: str | os.PathLike) -> tuple[Any, Task, TrainConfig]:
    """(model, task, config) from a checkpoint, for sampling or evaluation; raises
    CheckpointError naming the first mismatching parameter when shapes do not fit."""
    arrays = ckpt.load_npz(path)
    config = TrainConfig.from_dict(ckpt.config_of(arrays))
    task = make_task(config.task, ckpt.text_of(arrays))
    model = build_model(config, task)
    params = ckpt.section(arrays, "param")
    ckpt.check_params_fit(os.fspath(path), params, model)
    model.load_state_dict(params)
    model.eval()
    return model, task, config
