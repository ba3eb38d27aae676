"""``autograd-rnn demo``: the whole mission in about a minute."""

from __future__ import annotations

from autograd_rnn.cli.options import SEED, SIZE, add_force_option


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "demo",
        help="train an RNN with BPTT, gradient-check it, draw its unrolled graph and "
        "write the step-through page",
    )
    parser.add_argument("--out", default="out/demo",
                        help="folder for the files, created, and replaced on each run; a "
                        "folder the demo did not make is refused unless empty (default "
                        "out/demo)")
    parser.add_argument("--seed", type=SEED, default=0, help="random seed (default 0)")
    parser.add_argument("--steps", type=SIZE, default=300, help="training steps (default 300)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    add_force_option(parser)
    parser.set_defaults(run=run)


def run(args) -> int:
    from autograd_rnn.demo import DEMO_SETTINGS, run_demo
    from autograd_rnn.limits import require_memory
    from autograd_rnn.train import TrainConfig
    from autograd_rnn.train.budget import training_estimate

    config = TrainConfig(**DEMO_SETTINGS)
    require_memory(training_estimate(config, 1, 1, args.steps, what="demo"), force=args.force)
    return 0 if run_demo(out_dir=args.out, seed=args.seed, steps=args.steps,
                         progress=not args.quiet) else 1
