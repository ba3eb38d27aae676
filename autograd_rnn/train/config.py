"""``TrainConfig``: every setting of a training run, stored as JSON in its checkpoints,
and ``build_model`` which turns a config and a task into an ``ar.nn.SequenceModel``."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any

TASK_NAMES = ("sine", "adding", "chars")
CELLS = ("rnn", "lstm", "gru")
OPTIMIZER_NAMES = ("sgd", "adagrad", "rmsprop", "adam")
DEFAULT_LR = {"sgd": 0.1, "adagrad": 0.1, "rmsprop": 0.01, "adam": 0.01}


@dataclass
class TrainConfig:
    """Settings of a run. ``lr=None`` means the optimizer's default in ``DEFAULT_LR``;
    ``k1``/``k2`` None mean the whole sequence (full BPTT); ``clip`` is a global-norm
    bound (None: no clipping), ``clip_value`` an element-wise bound. ``stream`` (task
    "chars" only): read the text as ``batch`` parallel streams with the hidden state carried
    from step to step (``autograd_rnn.train.stream``) instead of random windows.
    ``bidirectional``, ``dropout`` (between stacked layers) and ``learn_h0`` (a trained
    initial state) shape the model. ``compile``: run each training step as generated NumPy
    code (``autograd_rnn.train.compiled``); None (the default) compiles when the trainer
    builds the model and the task is a built-in one, False always interprets the graph."""

    task: str = "sine"
    cell: str = "rnn"
    seq_len: int = 50
    hidden: int = 32
    layers: int = 1
    batch: int = 16
    optimizer: str = "adam"
    lr: float | None = None
    clip: float | None = 1.0
    clip_value: float | None = None
    k1: int | None = None
    k2: int | None = None
    seed: int = 0
    stream: bool = False
    bidirectional: bool = False
    dropout: float = 0.0
    learn_h0: bool = False
    compile: bool | None = None

    def __post_init__(self) -> None:
        for name, choices in (("task", TASK_NAMES), ("cell", CELLS),
                              ("optimizer", OPTIMIZER_NAMES)):
            if getattr(self, name) not in choices:
                raise ValueError(f"{name} must be one of {list(choices)}, "
                                 f"got {getattr(self, name)!r}")
        for name in ("seq_len", "hidden", "layers", "batch"):
            _check_int(name, getattr(self, name))
        for name in ("k1", "k2"):
            if getattr(self, name) is not None:
                _check_int(name, getattr(self, name))
        for name in ("lr", "clip", "clip_value"):
            _check_positive(name, getattr(self, name))
        if isinstance(self.seed, bool) or not isinstance(self.seed, int) or self.seed < 0:
            raise ValueError(f"seed must be an integer >= 0, got {self.seed!r}")
        for name in ("stream", "bidirectional", "learn_h0"):
            if not isinstance(getattr(self, name), bool):
                raise ValueError(f"{name} must be True or False, got {getattr(self, name)!r}")
        if self.compile is not None and not isinstance(self.compile, bool):
            raise ValueError(f"compile must be True, False or None, got {self.compile!r}")
        if isinstance(self.dropout, bool) or not isinstance(self.dropout, (int, float)) \
                or not 0.0 <= self.dropout < 1.0:
            raise ValueError(f"dropout must be a number in [0, 1), got {self.dropout!r}")
        if self.stream and self.task != "chars":
            raise ValueError(f"stream applies to task='chars' only (a text read as parallel "
                             f"streams), not {self.task!r}")
        if self.task == "adding" and self.seq_len < 2:  # one marker in each half
            raise ValueError(f"seq_len must be >= 2 for the adding task, got {self.seq_len}")

    @property
    def learning_rate(self) -> float:
        return DEFAULT_LR[self.optimizer] if self.lr is None else float(self.lr)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TrainConfig:
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"unknown training settings {unknown}")
        return cls(**data)


def _check_int(name: str, value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{name} must be an integer >= 1, got {value!r}")


def _check_positive(name: str, value: Any) -> None:
    if value is not None and not value > 0:
        raise ValueError(f"{name} must be > 0, got {value!r}")
    if value is not None and value == float("inf"):
        raise ValueError(f"{name} must be finite, got {value!r}")


def build_model(config: TrainConfig, task: Any):
    """``ar.nn.SequenceModel(cell, task.input_size, hidden, task.output_size)`` seeded by
    ``config.seed`` (the same seed gives the same initial weights)."""
    from autograd_rnn.nn import SequenceModel

    return SequenceModel(
        config.cell,
        task.input_size,
        config.hidden,
        task.output_size,
        num_layers=config.layers,
        bidirectional=config.bidirectional,
        dropout=float(config.dropout),
        learn_initial_state=config.learn_h0,
        seed=config.seed,
    )
