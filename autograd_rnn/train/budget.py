"""The memory a training run needs, from its settings (``autograd_rnn.limits``): the model
with its gradients, optimizer state and the last-good-step snapshot, the lean graph of one
(TBPTT window of a) sequence, one batch of data, and the loss/gradient-norm history."""

from __future__ import annotations

from autograd_rnn.limits import Estimate
from autograd_rnn.nn.footprint import FLOAT, TYPICAL, unrolled_estimate
from autograd_rnn.train.config import TrainConfig
from autograd_rnn.train.evaluate import EVAL_BATCH

OPTIMIZER_SLOTS = {"sgd": 0, "adagrad": 1, "rmsprop": 1, "adam": 2}  # arrays per parameter
HISTORY_BYTES = 48  # a Python float in a list, plus its share of the checkpoint's arrays
BATCH_COPIES = 4  # inputs, targets, the one-hot or signal they are made from, a slice
EVAL_COPIES = 1.5  # measured 1.0-1.2 x (inputs, outputs and states of every step)
# the first compiled step traces the window with its loss and checks it against the engine:
# beyond the traced graph ("compile" in nn.footprint), measured up to this share of it more
TRACE_EXTRA = {"rnn": 0.5, "lstm": 1.2, "gru": 1.8}


def training_estimate(config: TrainConfig, input_size: int, output_size: int,
                      steps: int, what: str = "train") -> Estimate:
    """Estimate for ``steps`` training steps of ``config`` on a task with these sizes."""
    c = config
    slots = OPTIMIZER_SLOTS[c.optimizer]
    window = c.seq_len if c.k2 is None else min(c.seq_len, c.k2)  # graph kept at once
    # compiled steps trace the window once (a full graph and its recorded backward); the
    # interpreter keeps a lean graph per step
    estimate = unrolled_estimate(
        what, c.cell, steps=window, batch=c.batch, input_size=input_size, hidden=c.hidden,
        output_size=output_size, layers=c.layers * (2 if c.bidirectional else 1),
        graph="lean" if c.compile is False else "compile",
        # parameters, gradients and temporaries (7), the optimizer's slots, and the
        # snapshot of the last good step (parameters and slots again)
        parameter_copies=7 + 2 * slots + 1,
        # the task's input and output sizes (a text's vocabulary) have no option
        names={"steps": "--seq-len" if window == c.seq_len else "--k2", "input_size": None,
               "output_size": None},
    )
    if c.compile is not False:
        graph, option = estimate.parts["graph of one sequence"]
        estimate.add("tracing the compiled step", TRACE_EXTRA[c.cell] * graph, option)
    longer = c.seq_len / TYPICAL["steps"] > c.batch / TYPICAL["batch"]
    estimate.add("one batch of data", BATCH_COPIES * FLOAT * c.seq_len * c.batch
                 * (input_size + output_size), "--seq-len" if longer else "--batch")
    updates = 1 if c.k1 is None else -(-c.seq_len // c.k1)
    estimate.add("loss history", HISTORY_BYTES * steps * (1 + updates), "--steps")
    return estimate


def evaluation_estimate(config: TrainConfig, input_size: int, output_size: int) -> Estimate:
    """``evaluate()`` after a run (the training graph is gone by then): EVAL_BATCH fresh
    sequences of ``seq_len`` steps, no graph, but every step's input, state and output."""
    return Estimate("the held-out evaluation after training").add(
        "inputs, states and outputs of 256 sequences", EVAL_COPIES * FLOAT * config.seq_len
        * EVAL_BATCH * (input_size + output_size + config.layers * config.hidden), "--seq-len")


SAMPLE_BYTES_PER_STEP = 600  # measured: ~320 per character, ~510 per sine value


def sampling_estimate(length: int) -> Estimate:
    """``sample``: the generated ids or values, kept until the end (``generate``)."""
    return Estimate("sample").add("generated sequence", SAMPLE_BYTES_PER_STEP * length,
                                  "--length")
