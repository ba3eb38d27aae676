"""``autograd-rnn codegen``: write the compiled NumPy source of an unrolled RNN/LSTM/GRU."""

from __future__ import annotations

import argparse
import os


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "codegen",
        help="write the forward + backward (BPTT) of an unrolled network as plain NumPy source",
        description="Unroll a recurrent network for --steps timesteps with a softmax "
        "cross-entropy loss, compile its graph and write the generated Python/NumPy source: "
        "the forward pass, then the gradients in reverse topological order.",
    )
    parser.add_argument("--cell", choices=("rnn", "lstm", "gru"), default="rnn")
    parser.add_argument("--steps", type=int, default=3, help="timesteps T (default 3)")
    parser.add_argument("--hidden", type=int, default=4, help="hidden size H (default 4)")
    parser.add_argument("--input", type=int, default=3, help="input size D (default 3)")
    parser.add_argument("--batch", type=int, default=2, help="batch size B (default 2)")
    parser.add_argument("--output", type=int, default=None,
                        help="output size V (default: the input size)")
    parser.add_argument("--no-loops", action="store_true",
                        help="straight-line code even for many timesteps")
    parser.add_argument("-o", "--out", required=True, help="file to write (.py)")
    parser.add_argument("--overwrite", action=argparse.BooleanOptionalAction, default=False,
                        help="replace an existing file (--no-overwrite, the default, refuses)")
    parser.set_defaults(run=run)


def run(args) -> int:
    from autograd_rnn.cli.main import UsageError
    from autograd_rnn.codegen.cli_source import model_source
    from autograd_rnn.files import atomic_write_text

    for flag in ("steps", "hidden", "input", "batch"):
        if getattr(args, flag) < 1:
            raise UsageError(f"--{flag} must be >= 1, got {getattr(args, flag)}")
    if args.output is not None and args.output < 1:
        raise UsageError(f"--output must be >= 1, got {args.output}")
    if os.path.isdir(args.out):
        raise UsageError(f"{args.out} is a directory; give a file name such as rnn_bptt.py")
    if os.path.exists(args.out) and not args.overwrite:
        raise UsageError(f"{args.out} exists; pass --overwrite to replace it")
    source = model_source(args.cell, args.steps, args.hidden, args.input, args.batch,
                          args.output, loops=not args.no_loops)
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    # atomic (temporary file + os.replace) with the usual file mode, never clobbering a file
    # that appeared meanwhile unless --overwrite
    atomic_write_text(args.out, source, overwrite=args.overwrite)
    print(f"wrote {args.out} ({source.count(chr(10))} lines)")
    return 0
