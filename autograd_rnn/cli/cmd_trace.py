"""``autograd-rnn trace``: a step-through HTML page of an unrolled network being built and
backpropagated, one node or one edge per frame."""

from __future__ import annotations

import argparse
import sys

from autograd_rnn.cli.main import UsageError


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "trace",
        help="write a self-contained HTML page stepping through graph construction and backprop",
        description="Unroll a small RNN/LSTM/GRU, backpropagate, and write an HTML page with "
        "one frame per created node and per gradient sent along an edge (Previous/Next, "
        "slider, arrow keys). Needs Graphviz's `dot`.",
    )
    parser.add_argument(
        "--cell", choices=("rnn", "lstm", "gru"), default="rnn", help="recurrent cell (default rnn)"
    )
    parser.add_argument("--steps", type=int, default=2, help="timesteps T (default 2)")
    parser.add_argument("--hidden", type=int, default=3, help="hidden size H (default 3)")
    parser.add_argument("--input", type=int, default=2, help="input size D (default 2)")
    parser.add_argument("--batch", type=int, default=1, help="batch size B (default 1)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument(
        "--detail",
        choices=("ops", "cells"),
        default="ops",
        help="one node per op, or one per cell per timestep (default ops)",
    )
    parser.add_argument(
        "--rankdir", choices=("LR", "TB"), default="LR", help="layout direction (default LR)"
    )
    parser.add_argument(
        "--every",
        type=int,
        default=1,
        help="keep every k-th frame (the last is always kept; default 1)",
    )
    parser.add_argument(
        "--max-frames",
        type=int,
        default=300,
        help="at most this many frames, spread evenly (default 300; 0 = all)",
    )
    parser.add_argument("--title", default=None, help="page title")
    parser.add_argument(
        "-o", "--out", default="steps.html", help="HTML file to write (default steps.html)"
    )
    parser.add_argument("--overwrite", action=argparse.BooleanOptionalAction, default=False,
                        help="replace an existing file (--no-overwrite, the default, refuses)")
    parser.set_defaults(run=run)


def run(args) -> int:
    for option in ("steps", "hidden", "input", "batch", "every"):
        if getattr(args, option) < 1:
            raise UsageError(f"--{option} must be >= 1, got {getattr(args, option)}")
    if args.max_frames < 0:
        raise UsageError(f"--max-frames must be >= 0 (0 = all frames), got {args.max_frames}")
    from autograd_rnn.files import check_writable
    from autograd_rnn.viz.errors import GraphTooLargeError, VizError
    from autograd_rnn.viz.trace_example import record_example

    try:
        check_writable(args.out, args.overwrite)
    except FileExistsError as error:
        raise UsageError(str(error)) from None
    tape = record_example(
        args.cell,
        args.steps,
        hidden_size=args.hidden,
        input_size=args.input,
        batch=args.batch,
        seed=args.seed,
        every=args.every,
        max_frames=args.max_frames or None,
        detail=args.detail,
        rankdir=args.rankdir,
    )
    title = args.title or (
        f"autograd-rnn: {args.cell.upper()} unrolled over {args.steps} steps, built and "
        "backpropagated"
    )
    try:
        path = tape.to_html(args.out, title=title, overwrite=args.overwrite)
    except VizError as error:  # dot missing, or a graph too large to lay out
        hint = (
            " (here: --detail cells, or fewer --steps)"
            if isinstance(error, GraphTooLargeError)
            else ""
        )
        print(f"autograd-rnn trace: error: {error}{hint}", file=sys.stderr)
        return 1
    shown = tape.count_frames()
    print(
        f"wrote {path}: {shown} of {len(tape)} steps as frames "
        f"({tape.num_forward} nodes created, {tape.num_backward} edges backpropagated)"
    )
    return 0
