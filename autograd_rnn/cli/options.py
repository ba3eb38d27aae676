"""Options shared by several subcommands (declared once so their help stays identical)."""

from __future__ import annotations

import argparse
import math


def add_check_options(parser, *, max_entries_default: int, what: str) -> None:
    """--max-entries, --eps, --atol, --rtol and --json of the gradient-checking commands."""
    parser.add_argument("--seed", type=SEED, default=0, help="random seed (default 0)")
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
