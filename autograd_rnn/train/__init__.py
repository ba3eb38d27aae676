"""Training: losses, truncated BPTT, the training loop, checkpoints and built-in tasks.

>>> from autograd_rnn.train import Trainer, TrainConfig
>>> trainer = Trainer(TrainConfig(task="adding", cell="lstm", seq_len=20))
>>> result = trainer.run(300, progress=False)          # doctest: +SKIP
"""

from autograd_rnn.train.allocator import keep_freed_memory
from autograd_rnn.train.checkpoint import CheckpointError, load_npz, save_npz
from autograd_rnn.train.config import DEFAULT_LR, TrainConfig, build_model
from autograd_rnn.train.evaluate import evaluate
from autograd_rnn.train.losses import cross_entropy, mse_loss
from autograd_rnn.train.sampling import continue_sine, sample_text
from autograd_rnn.train.tasks import (
    TASKS,
    AddingTask,
    Batch,
    CharTask,
    SineTask,
    Task,
    default_text,
    make_task,
)
from autograd_rnn.train.tbptt import NonFiniteLossError, TBPTTResult, detach_state, tbptt
from autograd_rnn.train.trainer import RunResult, Trainer, TrainingError, load_trained

__all__ = [
    "DEFAULT_LR", "TASKS", "AddingTask", "Batch", "CharTask", "CheckpointError",
    "NonFiniteLossError", "RunResult", "SineTask", "TBPTTResult", "Task", "TrainConfig",
    "Trainer", "TrainingError", "build_model", "continue_sine", "cross_entropy",
    "default_text", "detach_state", "evaluate", "keep_freed_memory", "load_npz", "load_trained",
    "make_task", "mse_loss",
    "sample_text", "save_npz", "tbptt",
]
