"""Options shared by several subcommands (declared once so their help stays identical)."""

from __future__ import annotations


def add_check_options(parser, *, max_entries_default: int, what: str) -> None:
    """--max-entries, --eps, --atol, --rtol and --json of the gradient-checking commands."""
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    all_note = " (default)" if max_entries_default == 0 else f" (default {max_entries_default})"
    parser.add_argument("--max-entries", type=int, default=max_entries_default,
                        help=f"random entries checked per {what}; 0 = all{all_note}")
    parser.add_argument("--eps", type=float, default=1e-6, help="finite-difference step")
    parser.add_argument("--atol", type=float, default=1e-5, help="absolute tolerance")
    parser.add_argument("--rtol", type=float, default=1e-4, help="relative tolerance")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
