"""``autograd-rnn export``: draw an unrolled example network to SVG/PNG/PDF/DOT."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from autograd_rnn.cli import options
from autograd_rnn.cli.main import UsageError

FORMATS = ("svg", "png", "pdf", "dot")

HELP = "draw an unrolled RNN/LSTM/GRU graph with the gradient on every edge"
DESCRIPTION = """Unroll a small random network, backpropagate, and draw its graph (Graphviz).
Example: autograd-rnn export --cell lstm --steps 4 --detail textbook -o lstm.svg"""


def register(subparsers) -> None:
    parser = options.add_command(subparsers, "export", run, HELP, DESCRIPTION)
    options.add_cell_option(parser)
    options.add_unroll_sizes(parser, steps=3, hidden=3, batch=1, layers=1)
    parser.add_argument("--bidirectional", action="store_true",
                        help="add a reverse direction to every layer")
    parser.add_argument("--detail", choices=("auto", "textbook", "ops", "cells"),
                        default="auto",
                        help="textbook (one column per timestep, weights on the arrows), ops "
                        "(every op), cells (one node per cell per timestep), or auto (the "
                        "default: ops up to 2 steps, else textbook)")
    parser.add_argument("--format", choices=FORMATS, default=None,
                        help="output format (default: from the -o suffix, else svg)")
    parser.add_argument("-o", "--output", default=None,
                        help="output file (default <cell>_<steps>step.<format>)")
    parser.add_argument("--rankdir", choices=("LR", "TB"), default="LR",
                        help="ops and cells views: one column per timestep, time left to "
                        "right, ops flowing up (LR, default) or down (TB)")
    parser.add_argument("--no-group", action="store_true",
                        help="do not draw timestep/layer clusters")
    parser.add_argument("--no-grads", action="store_true",
                        help="draw the forward graph only (no backward, no gradient labels)")
    parser.add_argument("--show-values", action="store_true", help="print values in nodes")
    parser.add_argument("--show-shapes", action="store_true",
                        help="add tensor shapes to the arrow labels (ops and cells views)")
    parser.add_argument("--show-grad-values", action="store_true",
                        help="write each gradient's first entries on the arrows, not only its "
                        "norm (ops and cells views)")
    parser.add_argument("--fan-out", action="store_true",
                        help="draw an arrow from a shared weight to every use instead of a "
                        "bus line (ops and cells views)")
    parser.add_argument("--wrap", type=options.count(0), default=None, metavar="N",
                        help="textbook and cells views: lay the unroll out in bands of at most "
                        "N steps, read like lines of text (default: what fits a 16:9 slide "
                        "best; 0: one band)")
    parser.add_argument("--compact", action=argparse.BooleanOptionalAction, default=None,
                        help="textbook view: draw only the recurrent states and their "
                        "gradient norms (default: beyond 40 steps)")
    parser.add_argument("--loss-at", choices=("all", "last"), default="all",
                        help="loss on every step (default) or on the last step only")
    parser.add_argument("--truncate", type=options.SIZE, default=None, metavar="K",
                        help="truncated BPTT: detach the hidden state every K steps")
    parser.add_argument("--weight-scale", type=options.POSITIVE, default=None,
                        help="W_h = scale x orthogonal (< 1 vanishing, > 1 exploding)")
    parser.add_argument("--max-nodes", type=options.SIZE, default=1000,
                        help="refuse to lay out larger graphs (default 1000)")
    options.add_seed_option(parser)
    options.add_write_options(parser)


def run(args) -> int:
    from autograd_rnn.files import check_writable
    from autograd_rnn.limits import require_memory
    from autograd_rnn.viz.budget import export_estimate
    from autograd_rnn.viz.errors import GraphTooLargeError, GraphvizNotFoundError
    from autograd_rnn.viz.examples import build_example
    from autograd_rnn.viz.render import render

    if args.truncate is not None and args.bidirectional:
        raise UsageError("--truncate needs a forward-only network: the reverse direction of "
                         "--bidirectional reads the whole sequence")
    fmt = args.format
    if args.output is None:
        output = Path(f"{args.cell}_{args.steps}step.{fmt or 'svg'}")
    else:
        output = Path(args.output)
        suffix = output.suffix.lstrip(".").lower()
        if fmt is None:
            if suffix not in FORMATS:
                raise UsageError(f"cannot tell the format of {output}: add --format "
                                 f"({'|'.join(FORMATS)}) or use one of these suffixes")
            fmt = suffix
    check_writable(output, args.overwrite)
    require_memory(export_estimate(args.cell, args.steps, args.batch, args.hidden,
                                   args.layers, args.bidirectional), force=args.force)
    example = build_example(
        args.cell, args.steps, batch=args.batch, hidden_size=args.hidden, seed=args.seed,
        loss_at=args.loss_at, truncate=args.truncate, weight_scale=args.weight_scale,
        backward=not args.no_grads, layers=args.layers, bidirectional=args.bidirectional,
    )
    try:
        path = render(
            example.losses, output, format=fmt or "svg", overwrite=args.overwrite,
            detail=args.detail, group=not args.no_group, rankdir=args.rankdir,
            show_values=args.show_values, show_grads=not args.no_grads,
            show_shapes=args.show_shapes, show_grad_values=args.show_grad_values,
            bus=not args.fan_out, wrap=args.wrap, compact=args.compact,
            max_nodes=args.max_nodes if fmt != "dot" else None,
        )
    except GraphTooLargeError as error:
        raise UsageError(f"{error} (here: --detail cells, --format dot, a larger --max-nodes "
                         "or fewer --steps)") from None
    except GraphvizNotFoundError as error:
        print(f"autograd-rnn export: error: {error}", file=sys.stderr)
        return 1
    print(f"wrote {path}")
    return 0
