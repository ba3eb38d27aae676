"""``autograd-rnn sample``: generate from a trained checkpoint (parsing only)."""

from __future__ import annotations

from autograd_rnn.cli import options
from autograd_rnn.cli.main import UsageError

HELP = "generate text (chars task) or continue a sine wave from a training checkpoint"
DESCRIPTION = """One-to-many generation: each output is fed back as the next input. Example:
autograd-rnn sample --checkpoint chars.npz --length 300 --temperature 0.7 --prime 'The river'"""


def register(subparsers) -> None:
    parser = options.add_command(subparsers, "sample", run, HELP, DESCRIPTION)
    parser.add_argument("--checkpoint", required=True, metavar="PATH",
                        help="a .npz written by 'autograd-rnn train --checkpoint' "
                        "(task chars or sine)")
    parser.add_argument("--length", type=options.SIZE, default=200,
                        help="characters (or sine values) to generate [default: 200]")
    parser.add_argument("--temperature", type=options.NON_NEGATIVE, default=1.0,
                        help="sampling temperature: softmax(y / temperature); < 1 safer, > 1 "
                        "wilder, 0 always the most likely character [default: 1.0]")
    parser.add_argument("--seed", type=options.SEED, default=0,
                        help="random seed of the sampling [default: 0]")
    parser.add_argument("--prime", default="",
                        help="text to read before generating (chars; only characters seen in "
                        "training) [default: one character drawn by frequency]")
    options.add_force_option(parser)


def run(args) -> int:
    from autograd_rnn.limits import require_memory
    from autograd_rnn.train import CharTask, CheckpointError, SineTask, load_trained
    from autograd_rnn.train.budget import sampling_estimate
    from autograd_rnn.train.sampling import continue_sine, sample_text

    require_memory(sampling_estimate(args.length), force=args.force)
    try:
        model, task, config = load_trained(args.checkpoint)
    except (CheckpointError, ValueError) as error:
        raise UsageError(str(error)) from None
    if isinstance(task, CharTask):
        try:
            task.encode(args.prime)
        except ValueError as error:
            raise UsageError(f"--prime: {error}") from None
        print(sample_text(model, task, args.length, args.temperature, args.prime, args.seed))
        return 0
    if isinstance(task, SineTask):
        if args.prime:
            raise UsageError("--prime is for checkpoints of --task chars")
        predicted, true = continue_sine(model, task, config.seq_len, args.length, args.seed)
        print("step  predicted      true")
        for t, (p, y) in enumerate(zip(predicted, true, strict=True), start=1):
            print(f"{t:4d}  {p:9.5f}  {y:9.5f}")
        return 0
    raise UsageError(f"sample needs a checkpoint of --task chars or sine, this one is "
                     f"--task {config.task}")
