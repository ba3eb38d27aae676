"""Options shared by ``check-backward`` and ``grade`` (sizes, isolation) and their output.

Exit codes of both commands: 0 passed, 1 the checked code is wrong (mismatch, wrong shape or
dtype, raised, timed out, crashed, exited, patched NumPy), 2 the command itself is wrong (bad
option, missing file or function), 130 interrupted. A closed stdout (``| head -1``) is not an
error: the exit code stays the verdict.
"""

from __future__ import annotations

import os
import sys


def add_size_options(parser) -> None:
    """Sizes of the inputs drawn for --layer(s); the defaults reveal batch, time, 1/N,
    repeated-index and mask bugs."""
    group = parser.add_argument_group(
        "input sizes (drawn for the layer; defaults reveal batch, time, 1/N, repeat and mask "
        "bugs)")
    group.add_argument("--batch", type=int, default=3, metavar="N",
                       help="batch size N (default 3; N=1 hides 1/N and batch-sum bugs)")
    group.add_argument("--steps", type=int, default=4, metavar="T",
                       help="timesteps T of sequence layers (default 4; T<3 hides carries)")
    group.add_argument("--input-size", type=int, default=5, metavar="D",
                       help="input size D (default 5)")
    group.add_argument("--hidden", type=int, default=6, metavar="H",
                       help="hidden size H (default 6)")
    group.add_argument("--vocab", type=int, default=7, metavar="V",
                       help="vocabulary size V: temporal_softmax_loss scores, word_embedding "
                            "rows (default 7)")
    group.add_argument("--output-size", type=int, default=None, metavar="M",
                       help="output size M of affine and temporal_affine (default: --vocab)")
    group.add_argument("--mask-density", type=float, default=None, metavar="P",
                       help="fraction of True entries in temporal_softmax_loss's mask "
                            "(default 0.7; both values always present when 0 < P < 1)")
    group.add_argument("--repeats", type=int, default=None, metavar="R",
                       help="word_embedding: at least R entries of x repeat an index "
                            "(default 2; 0 hides dW[x] += dout bugs)")


def add_isolation_options(parser) -> None:
    """--timeout, --memory-limit and --allow-float32."""
    parser.add_argument("--timeout", type=float, default=60.0, metavar="SECONDS",
                        help="time limit of each check (default 60)")
    parser.add_argument("--memory-limit", type=int, default=1024, metavar="MB",
                        help="memory the checked code may allocate (default 1024)")
    parser.add_argument("--allow-float32", action="store_true",
                        help="accept float32 gradients and forward outputs (a warning instead "
                             "of a failure)")


def add_grading_options(parser) -> None:
    """Everything ``check-backward`` and ``grade`` share: sizes, isolation, tolerances."""
    from autograd_rnn.cli.options import add_check_options

    add_size_options(parser)
    add_isolation_options(parser)
    add_check_options(parser, max_entries_default=0, what="input")


def sizes(args) -> dict:
    return {"N": args.batch, "T": args.steps, "D": args.input_size, "H": args.hidden,
            "V": args.vocab, "M": args.output_size}


def emit(text: str) -> None:
    """Print ``text``; a reader that closed stdout (``| head -1``) is not an error."""
    try:
        print(text, flush=True)
    except BrokenPipeError:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())  # so the flush at exit does not fail again
