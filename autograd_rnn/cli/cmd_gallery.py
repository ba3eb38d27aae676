"""``autograd-rnn gallery``: regenerate the example diagrams in graphs/ (``make graphs``)."""

from __future__ import annotations

import sys

from autograd_rnn.cli import options

HELP = "regenerate the example diagrams (DOT + SVG, PNG for textbook views) in graphs/"
DESCRIPTION = """Write the gallery of example graphs: textbook views of RNN, LSTM, GRU,
truncated BPTT and a 2-layer stack, a 3-step RNN op by op, an LSTM and a GRU cell, 30-step
vanishing/exploding RNNs, a 100-step LSTM, truncated BPTT, a backward graph and a failing
per-node gradient check."""


def register(subparsers) -> None:
    parser = options.add_command(subparsers, "gallery", run, HELP, DESCRIPTION)
    parser.add_argument("--out", default="graphs", help="output folder (default graphs)")
    parser.add_argument("--check", action="store_true",
                        help="only compare the DOT files with what the code draws now "
                        "(exit 1 if any differ)")
    parser.add_argument("--dot-only", action="store_true",
                        help="write DOT files only (no Graphviz needed)")


def run(args) -> int:
    from autograd_rnn.viz.errors import GraphvizNotFoundError
    from autograd_rnn.viz.gallery import stale_gallery, write_gallery

    if args.check:
        stale = stale_gallery(args.out)
        if stale:
            print(f"out of date in {args.out}: {', '.join(stale)} "
                  f"(regenerate with `autograd-rnn gallery --out {args.out}`)")
            return 1
        print(f"{args.out}: all DOT files match the code")
        return 0
    formats = ("dot",) if args.dot_only else ("dot", "svg", "png")
    try:
        written = write_gallery(args.out, formats=formats)
    except GraphvizNotFoundError as error:
        print(f"autograd-rnn gallery: error: {error} (or pass --dot-only)", file=sys.stderr)
        return 1
    print(f"wrote {len(written)} files to {args.out}")
    return 0
