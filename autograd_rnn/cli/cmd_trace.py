"""``autograd-rnn trace``: a step-through HTML page of an unrolled network being built and
backpropagated, one node or one edge per frame."""

from __future__ import annotations

import sys

from autograd_rnn.cli import options
from autograd_rnn.cli.main import UsageError

TOO_LARGE_HINT = " (here: --detail cells, or fewer --steps)"

HELP = "write a self-contained HTML page stepping through graph construction and backprop"
DESCRIPTION = """Unroll a small RNN/LSTM/GRU, backpropagate, and write an HTML page with one
frame per created node and per gradient sent along an edge (Previous/Next, slider, arrow keys).
Needs Graphviz's `dot`."""


def register(subparsers) -> None:
    parser = options.add_command(subparsers, "trace", run, HELP, DESCRIPTION)
    options.add_cell_option(parser, help="recurrent cell (default rnn)")
    options.add_unroll_sizes(parser, steps=2, hidden=3, input=2, batch=1)
    options.add_seed_option(parser)
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
        type=options.SIZE,
        default=1,
        help="keep every k-th frame (the last is always kept; default 1)",
    )
    parser.add_argument(
        "--max-frames",
        type=options.count(0),
        default=300,
        help="at most this many frames, spread evenly (default 300; 0 = all)",
    )
    parser.add_argument("--title", default=None, help="page title")
    parser.add_argument(
        "-o", "--out", default="steps.html", help="HTML file to write (default steps.html)"
    )
    options.add_write_options(parser)


def run(args) -> int:
    from autograd_rnn.files import check_writable
    from autograd_rnn.limits import require_memory
    from autograd_rnn.viz.budget import trace_estimate
    from autograd_rnn.viz.dot import to_dot
    from autograd_rnn.viz.errors import GraphTooLargeError, VizError
    from autograd_rnn.viz.trace_example import record_example

    check_writable(args.out, args.overwrite)
    require_memory(trace_estimate(args.cell, args.steps, args.batch, args.input, args.hidden,
                                  args.every, args.max_frames), force=args.force)
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
    try:  # the last frame shows the whole graph: refuse a too-large one before drawing any
        to_dot(tape.nodes[-1], detail=args.detail, rankdir=args.rankdir)
    except GraphTooLargeError as error:
        raise UsageError(f"{error}{TOO_LARGE_HINT}") from None
    title = args.title or (
        f"autograd-rnn: {args.cell.upper()} unrolled over {args.steps} steps, built and "
        "backpropagated"
    )
    try:
        path = tape.to_html(args.out, title=title, overwrite=args.overwrite)
    except GraphTooLargeError as error:  # a layout that timed out: bad input, as in export
        raise UsageError(f"{error}{TOO_LARGE_HINT}") from None
    except VizError as error:  # dot missing: the run failed (exit 1)
        print(f"autograd-rnn trace: error: {error}", file=sys.stderr)
        return 1
    shown = tape.count_frames()
    print(
        f"wrote {path}: {shown} of {len(tape)} steps as frames "
        f"({tape.num_forward} nodes created, {tape.num_backward} edges backpropagated)"
    )
    return 0
