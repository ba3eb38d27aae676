"""``autograd-rnn train``: train a recurrent network on a built-in task (parsing only)."""

from __future__ import annotations

import argparse
import os
import sys

from autograd_rnn.cli import options
from autograd_rnn.cli.main import UsageError

# settings that map one-to-one onto TrainConfig fields; None means "not given"
_CONFIG_OPTIONS = ("task", "cell", "seq_len", "hidden", "layers", "batch", "optimizer", "lr",
                   "clip", "clip_value", "k1", "k2", "seed", "stream", "bidirectional",
                   "dropout", "learn_h0", "compile")

HELP = "train an RNN/LSTM/GRU on a built-in task (sine, adding problem, characters)"
DESCRIPTION = """Train a recurrent network with (truncated) backpropagation through time.
Examples: autograd-rnn train --task adding --cell lstm --seq-len 50 --steps 2000; autograd-rnn
train --task chars --cell lstm --hidden 64 --seq-len 25 --checkpoint chars.npz (then:
autograd-rnn sample --checkpoint chars.npz)."""


def register(subparsers) -> None:
    parser = options.add_command(subparsers, "train", run, HELP, DESCRIPTION)
    add = parser.add_argument
    add("--task", choices=["sine", "adding", "chars"], default=None,
        help="sine: next value of a sum of two sines (MSE); adding: sum of the two marked "
        "values, read at the last step (MSE, baseline 0.167); chars: character-level language "
        "model on --text (cross-entropy in nats per character) [default: sine]")
    add("--cell", choices=["rnn", "lstm", "gru"], default=None,
        help="recurrent cell: vanilla tanh RNN, LSTM or GRU [default: rnn]")
    add("--seq-len", type=options.SIZE, default=None, metavar="T",
        help="timesteps per training sequence [default: 50]")
    add("--hidden", type=options.SIZE, default=None, metavar="H", help="hidden units [default: 32]")
    add("--layers", type=options.SIZE, default=None, help="stacked recurrent layers [default: 1]")
    add("--batch", type=options.SIZE, default=None, metavar="B",
        help="sequences per training step [default: 16]")
    add("--steps", type=options.SIZE, default=1000,
        help="train until this many steps (batches) are done in total; with --resume the "
        "run continues up to this number [default: 1000]")
    add("--optimizer", choices=["sgd", "adagrad", "rmsprop", "adam"], default=None,
        help="update rule [default: adam]")
    add("--lr", type=options.POSITIVE, default=None,
        help="learning rate [default: 0.01 for adam/rmsprop, 0.1 for sgd/adagrad]")
    add("--clip", type=options.NON_NEGATIVE, default=None,
        help="clip gradients to this global L2 norm; 0 turns clipping off [default: 1.0]")
    add("--clip-value", type=options.POSITIVE, default=None,
        help="also clip every gradient entry to [-v, v] (min-char-rnn uses 5) [default: off]")
    add("--k1", type=options.SIZE, default=None,
        help="truncated BPTT: an update every k1 steps [default: the whole sequence]")
    add("--k2", type=options.SIZE, default=None,
        help="truncated BPTT: backpropagate through the last k2 steps; the hidden state is "
        "carried across chunks but detached [default: the whole sequence]")
    add("--seed", type=options.SEED, default=None,
        help="seed for the initial weights and the data stream [default: 0]")
    add("--stream", action="store_true", default=None,
        help="--task chars: read the text as --batch parallel streams, carrying the hidden "
        "state from one step to the next (min-char-rnn style) instead of random windows")
    add("--bidirectional", action="store_true", default=None,
        help="read each sequence in both directions (the outputs see past and future)")
    add("--dropout", type=_DROPOUT, default=None, metavar="P",
        help="dropout probability between stacked layers (--layers >= 2) [default: 0]")
    add("--learn-h0", action="store_true", default=None,
        help="learn the initial hidden state instead of starting from zeros")
    add("--compile", action=argparse.BooleanOptionalAction, default=None,
        help="run each training step as generated NumPy code (ar.compile, faster than the "
        "interpreter; its first step is checked against the interpreter, which takes over "
        "with one line saying why if they differ); --no-compile interprets the graph op by op "
        "[default: --compile]")
    add("--text", default=None, metavar="FILE",
        help="UTF-8 text file for --task chars [default: a short text shipped with the package]")
    add("--checkpoint", default=None, metavar="PATH",
        help="save parameters, optimizer state, step, random state and history to this .npz "
        "(atomically) every --checkpoint-every steps, at the end and on Ctrl-C or SIGTERM; "
        "PATH.lock keeps a second run off the same file while this one runs")
    add("--checkpoint-every", type=options.SIZE, default=100, metavar="N",
        help="steps between checkpoint saves [default: 100]")
    add("--resume", action="store_true",
        help="continue the run saved in --checkpoint exactly where it stopped (settings come "
        "from the checkpoint; architecture options that differ are refused)")
    add("--overwrite", action=argparse.BooleanOptionalAction, default=False,
        help="replace an existing --checkpoint file when not resuming; --no-overwrite (the "
        "default) refuses and changes nothing")
    add("--log-grad-norm", action="store_true",
        help="print the loss and the pre-clip global gradient norm after every step")
    add("--quiet", action="store_true", help="no progress bar")
    add("--keep-freed-memory", action="store_true",
        help="let glibc keep freed memory between steps instead of returning it to the OS "
        "(10-25%% faster steps on larger models; the process keeps its peak memory)")
    options.add_force_option(parser)


def _DROPOUT(text: str) -> float:  # noqa: N802 (an argparse type, named like the others)
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number in [0, 1), got {text!r}") from None
    if not 0.0 <= value < 1.0:
        raise argparse.ArgumentTypeError(f"expected a number in [0, 1), got {text!r}")
    return value


def _overrides(args) -> dict:
    given = {name: getattr(args, name) for name in _CONFIG_OPTIONS}
    given = {k: v for k, v in given.items() if v is not None}
    if given.get("clip") == 0:
        given["clip"] = None  # "--clip 0" turns clipping off
    return given


def run(args) -> int:
    from autograd_rnn.files import FileExistsRefusal
    from autograd_rnn.interrupts import received_sigterm
    from autograd_rnn.limits import require_memory
    from autograd_rnn.train import (
        CheckpointError,
        TrainConfig,
        Trainer,
        TrainingError,
        evaluate,
        keep_freed_memory,
        make_task,
    )
    from autograd_rnn.train.budget import evaluation_estimate, training_estimate
    from autograd_rnn.train.lock import CheckpointLockedError

    settings = _overrides(args)
    if args.keep_freed_memory:
        print(f"allocator: {keep_freed_memory()}")
    try:
        if args.resume:
            if args.checkpoint is None:
                raise UsageError("--resume needs --checkpoint PATH (the run to continue)")
            if args.text is not None:
                raise UsageError("--text cannot be given with --resume: the checkpoint stores "
                                 "its training text")
            trainer = Trainer.from_checkpoint(args.checkpoint, **settings)
            config, task = trainer.config, trainer.task
        else:
            config = TrainConfig(**settings)
            task = make_task(config.task, _read_text(args.text, config.task))
    except (ValueError, CheckpointError) as error:
        raise UsageError(str(error)) from None
    # limits before work: the model itself is allocated only after this
    sizes = (config, task.input_size, task.output_size)
    require_memory(training_estimate(*sizes, args.steps), force=args.force)
    require_memory(evaluation_estimate(*sizes), force=args.force)
    if not args.resume:
        try:
            trainer = Trainer(config, task=task)
        except ValueError as error:
            raise UsageError(str(error)) from None
    c, start = trainer.config, trainer.step
    if trainer.step >= args.steps:
        raise UsageError(f"the checkpoint is already at step {trainer.step} >= --steps "
                         f"{args.steps}; pass a larger --steps to train further")
    try:
        result = trainer.run(args.steps, checkpoint=args.checkpoint, overwrite=args.overwrite,
                             checkpoint_every=args.checkpoint_every, progress=not args.quiet,
                             log_grad_norm=args.log_grad_norm)
    except FileExistsRefusal as error:
        raise UsageError(f"{error} (or --resume to continue it)") from None
    except CheckpointLockedError as error:
        raise UsageError(str(error)) from None
    except TrainingError as error:
        print(f"autograd-rnn train: error: {error}", file=sys.stderr)
        return 1
    done = result.step - start
    print(f"{c.task}/{c.cell} hidden {c.hidden} seq-len {c.seq_len} batch {c.batch} "
          f"{c.optimizer} lr {trainer.optimizer.lr:g}: step {result.step} "
          f"({done} {trainer.step_kind} steps in {result.seconds:.1f} s, "
          f"{_ms(result.seconds / max(done, 1))} ms/step)")
    if result.interrupted:
        where = f"; checkpoint {args.checkpoint} (resume with --resume)" if args.checkpoint else ""
        how = "terminated (SIGTERM)" if received_sigterm() else "interrupted"
        print(f"{how} at step {result.step}{where}")
        return 130
    held_out = evaluate(trainer.model, trainer.task, c.seq_len)
    print(f"loss: train {result.recent_loss:.4g} (mean of the last steps), held-out "
          f"{held_out:.4g} on 256 fresh sequences; baseline {trainer.task.baseline:.4g} "
          f"({trainer.task.baseline_text})")
    if args.checkpoint:
        print(f"checkpoint: {args.checkpoint}")
    return 0


def _ms(seconds: float) -> str:
    ms = 1000 * seconds
    return f"{ms:.2f}" if ms < 10 else f"{ms:.0f}"


def _read_text(path: str | None, task: str) -> str | None:
    from autograd_rnn.files import file_kind

    if path is None:
        return None
    if task != "chars":
        raise UsageError(f"--text is for --task chars, not --task {task}")
    if not os.path.exists(path):
        raise UsageError(f"--text {path!r} does not exist")
    if os.path.isdir(path):
        raise UsageError(f"--text {path!r} is a directory, not a text file")
    if not os.path.isfile(path):
        kind = file_kind(os.stat(path).st_mode)
        raise UsageError(f"--text {path!r} is a {kind}, not a text file")
    try:
        with open(path, encoding="utf-8") as handle:
            return handle.read()
    except UnicodeDecodeError as error:
        raise UsageError(f"--text {path!r} is not UTF-8 text ({error.reason} at byte "
                         f"{error.start})") from None
