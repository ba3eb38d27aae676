"""Options shared by several subcommands (declared once so their help stays identical),
the numeric option types that refuse a bad value while parsing, and ``add_command``, which
every ``cmd_<name>.py`` starts its ``register`` with."""

from __future__ import annotations

import argparse
import math

CELLS = ("rnn", "lstm", "gru")

# what each size option of an unrolled network counts (shape letters of STYLE.md)
_SIZE_HELP = {"steps": "timesteps T", "hidden": "hidden size H", "input": "input size D",
              "batch": "batch size B", "layers": "stacked layers",
              "input_size": "input size D", "output_size": "output size V"}


def add_command(subparsers, name: str, run, help: str,
                description: str | None = None) -> argparse.ArgumentParser:
    """The parser of subcommand ``name``, calling ``run(args)`` when chosen. ``help`` is its
    line in ``autograd-rnn --help``, ``description`` the text over its own options (both are
    re-wrapped: line breaks in them do not show)."""
    parser = subparsers.add_parser(name, help=help, description=description)
    parser.set_defaults(run=run)
    return parser


def add_cell_option(parser, help: str | None = None) -> None:
    """--cell rnn|lstm|gru (default rnn)."""
    parser.add_argument("--cell", choices=CELLS, default="rnn", help=help)


def add_unroll_sizes(parser, **defaults: int) -> None:
    """Size options of an unrolled network, in the order given: ``add_unroll_sizes(parser,
    steps=3, hidden=4)`` adds ``--steps`` ("timesteps T (default 3)") and ``--hidden``;
    ``input_size`` becomes ``--input-size``. Each takes an integer >= 1."""
    for name, default in defaults.items():
        parser.add_argument(f"--{name.replace('_', '-')}", type=SIZE, default=default,
                            help=f"{_SIZE_HELP[name]} (default {default})")


def add_seed_option(parser) -> None:
    """--seed, an integer >= 0 (default 0)."""
    parser.add_argument("--seed", type=SEED, default=0, help="random seed (default 0)")


def add_write_options(parser) -> None:
    """--overwrite/--no-overwrite of the file a command writes, and --force."""
    parser.add_argument("--overwrite", action=argparse.BooleanOptionalAction, default=False,
                        help="replace an existing file (--no-overwrite, the default, refuses)")
    add_force_option(parser)


def add_check_options(parser, *, max_entries_default: int, what: str) -> None:
    """--max-entries, --eps, --atol, --rtol and --json of the gradient-checking commands."""
    add_seed_option(parser)
    all_note = " (default)" if max_entries_default == 0 else f" (default {max_entries_default})"
    parser.add_argument("--max-entries", type=count(0), default=max_entries_default,
                        help=f"random entries checked per {what}; 0 = all{all_note}")
    parser.add_argument("--eps", type=POSITIVE, default=1e-6, help="finite-difference step")
    parser.add_argument("--atol", type=NON_NEGATIVE, default=1e-5, help="absolute tolerance")
    parser.add_argument("--rtol", type=NON_NEGATIVE, default=1e-4, help="relative tolerance")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")


# ----- numeric option types: a bad value is refused while parsing, naming the option --------
# argparse reports ArgumentTypeError("must be ...") as "argument --steps: must be ..."; the
# parser in cli/main.py prints that on one line as "--steps must be ...".

def count(minimum: int = 1):
    """An argparse ``type``: an integer >= ``minimum`` (sizes, steps, seeds, counts)."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"must be an integer >= {minimum}, got {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be >= {minimum}, got {text}")
        return value

    parse.__name__ = f"integer >= {minimum}"
    return parse


def number(minimum: float, *, strict: bool):
    """An argparse ``type``: a finite float > ``minimum`` (``strict``) or >= it; NaN and
    infinities are refused (they would silently propagate through every computation)."""
    relation = ">" if strict else ">="

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be a number {relation} {minimum:g}, "
                                             f"got {text!r}") from None
        if not math.isfinite(value) or value < minimum or (strict and value == minimum):
            raise argparse.ArgumentTypeError(f"must be a finite number {relation} {minimum:g}, "
                                             f"got {text}")
        return value

    parse.__name__ = f"number {relation} {minimum:g}"
    return parse


SIZE = count(1)
SEED = count(0)
POSITIVE = number(0.0, strict=True)
NON_NEGATIVE = number(0.0, strict=False)


def add_force_option(parser) -> None:
    """--force: run even when the memory estimate exceeds the memory available."""
    parser.add_argument("--force", action="store_true",
                        help="start even when the estimated memory exceeds the memory "
                        "available (otherwise the run is refused up front, with the numbers)")
