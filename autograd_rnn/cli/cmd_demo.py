"""``autograd-rnn demo``: the whole mission in about a minute."""

from __future__ import annotations

from autograd_rnn.cli import options

HELP = ("train an RNN with BPTT, gradient-check it, draw its unrolled graph and write the "
        "step-through page")


def register(subparsers) -> None:
    parser = options.add_command(subparsers, "demo", run, HELP)
    parser.add_argument("--out", default="out/demo",
                        help="folder for the files, created, and replaced on each run; a "
                        "folder the demo did not make is refused unless empty (default "
                        "out/demo)")
    options.add_seed_option(parser)
    parser.add_argument("--steps", type=options.SIZE, default=300,
                        help="training steps (default 300)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    options.add_force_option(parser)


def run(args) -> int:
    from autograd_rnn.demo import DEMO_SETTINGS, run_demo
    from autograd_rnn.limits import require_memory
    from autograd_rnn.train import TrainConfig
    from autograd_rnn.train.budget import training_estimate

    config = TrainConfig(**DEMO_SETTINGS)
    require_memory(training_estimate(config, 1, 1, args.steps, what="demo"), force=args.force)
    return 0 if run_demo(out_dir=args.out, seed=args.seed, steps=args.steps,
                         progress=not args.quiet) else 1
