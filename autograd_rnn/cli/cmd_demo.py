"""``autograd-rnn demo``: the whole mission in about a minute."""

from __future__ import annotations


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "demo",
        help="unroll an RNN, backprop through time, gradient-check it and write its graph",
    )
    parser.add_argument("--out", default="out/demo", help="folder for the files (default out/demo)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.set_defaults(run=run)


def run(args) -> int:
    from autograd_rnn.demo import run_demo

    return 0 if run_demo(out_dir=args.out, seed=args.seed) else 1
