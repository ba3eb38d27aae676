"""Entry point of the ``autograd-rnn`` console script.

Exit codes: 0 success, 1 a check or run failed, 2 usage errors (bad options, missing files).
Errors are printed as one line, never as a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys

import autograd_rnn.cli as cli_package


class UsageError(Exception):
    """Bad input from the command line: printed as one line, exit code 2."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="autograd-rnn",
        description="Unroll, train, check and draw recurrent networks with an explicit "
        "autodiff graph (backpropagation through time you can see).",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for info in sorted(pkgutil.iter_modules(cli_package.__path__), key=lambda m: m.name):
        if info.name.startswith("cmd_"):
            module = importlib.import_module(f"autograd_rnn.cli.{info.name}")
            module.register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "run", None):
        parser.print_help()
        return 2
    try:
        return int(args.run(args) or 0)
    except UsageError as error:
        print(f"autograd-rnn {args.command}: error: {error}", file=sys.stderr)
        return 2
    except (FileNotFoundError, IsADirectoryError, PermissionError) as error:
        print(f"autograd-rnn {args.command}: error: {error}", file=sys.stderr)
        return 2
    except OSError as error:  # e.g. a full disk: files already there are intact (atomic writes)
        print(f"autograd-rnn {args.command}: error: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"autograd-rnn {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    # run the imported module's main, so UsageError is the class the commands raise
    from autograd_rnn.cli.main import main as _main

    sys.exit(_main())
