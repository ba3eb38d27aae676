"""``autograd-rnn demo``: the whole mission in about a minute."""

from __future__ import annotations


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "demo",
        help="train an RNN with BPTT, gradient-check it, draw its unrolled graph and "
        "write the step-through page",
    )
    parser.add_argument("--out", default="out/demo",
                        help="folder for the files, replaced on each run (default out/demo)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument("--steps", type=int, default=300, help="training steps (default 300)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.set_defaults(run=run)


def run(args) -> int:
    from autograd_rnn.cli.main import UsageError
    from autograd_rnn.demo import run_demo

    if args.steps < 1:
        raise UsageError(f"--steps must be >= 1, got {args.steps}")
    return 0 if run_demo(out_dir=args.out, seed=args.seed, steps=args.steps,
                         progress=not args.quiet) else 1
