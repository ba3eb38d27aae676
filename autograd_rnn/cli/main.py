"""Entry point of the ``autograd-rnn`` console script.

Exit codes, the same for every command (README, "Exit codes"):
0 success; 1 the run or the check failed (gradient mismatch, divergence, a disk that fails
while writing, memory running out after all); 2 bad usage or input (options out of range,
paths that cannot be read or written, a run that would not fit in memory, a checkpoint in use
by another run); 130 interrupted (Ctrl-C or SIGTERM). Errors are one line, never a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import re
import sys

import autograd_rnn.cli as cli_package


class UsageError(Exception):
    """Bad input from the command line: printed as one line, exit code 2."""


class Parser(argparse.ArgumentParser):
    """argparse with one-line errors: "autograd-rnn train: error: --lr must be ..."."""

    def error(self, message: str):
        option = re.match(r"argument (?:\S+/)?(\S+): (must .*)", message)
        if option:  # a value refused by a type of cli/options.py
            message = f"{option[1]} {option[2]}"
        else:
            message = f"{message} (see {self.prog} --help)"
        self.exit(2, f"{self.prog}: error: {message}\n")


def _exit_code(error: BaseException) -> int | None:
    """2 for bad input (refused before or instead of the work), 1 for a failed run, None
    for exceptions that are bugs (they keep their traceback)."""
    from autograd_rnn.files import NotARegularFileError, WriteFailedError
    from autograd_rnn.limits import MemoryLimitError
    from autograd_rnn.viz.errors import LayoutFailedError

    if isinstance(error, (WriteFailedError, LayoutFailedError)):
        return 1
    if isinstance(error, (UsageError, MemoryLimitError, NotARegularFileError, FileExistsError,
                          FileNotFoundError, IsADirectoryError, NotADirectoryError,
                          PermissionError)):
        return 2
    if isinstance(error, (OSError, MemoryError)):
        return 1
    return None


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="autograd-rnn",
        description="Unroll, train, check and draw recurrent networks with an explicit "
        "autodiff graph (backpropagation through time you can see).",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for info in sorted(pkgutil.iter_modules(cli_package.__path__), key=lambda m: m.name):
        if info.name.startswith("cmd_"):
            module = importlib.import_module(f"autograd_rnn.cli.{info.name}")
            module.register(subparsers)
    for command_parser in subparsers.choices.values():  # reports errors under its own name
        command_parser.set_defaults(command_parser=command_parser)
    return parser


def main(argv: list[str] | None = None) -> int:
    from autograd_rnn.interrupts import Terminated, terminate_as_interrupt

    parser = build_parser()
    try:
        args, extra = parser.parse_known_args(argv)
        if extra:
            getattr(args, "command_parser", parser).error(
                f"unrecognized arguments: {' '.join(extra)}")
    except SystemExit as stop:  # --help (0), or a usage error already printed on one line
        return stop.code if isinstance(stop.code, int) else 2
    if not getattr(args, "run", None):
        parser.print_help()
        return 2
    try:
        with terminate_as_interrupt():
            return int(args.run(args) or 0)
    except KeyboardInterrupt as stop:
        what = "terminated (SIGTERM)" if isinstance(stop, Terminated) else "interrupted"
        print(f"autograd-rnn {args.command}: {what}", file=sys.stderr)
        return 130
    except Exception as error:  # noqa: BLE001 (bugs are re-raised below)
        code = _exit_code(error)
        if code is None:
            raise
        message = str(error) or type(error).__name__
        if isinstance(error, MemoryError):
            message = (f"out of memory: {message}; the run needed more than the machine "
                       "could give (try smaller sizes)")
        print(f"autograd-rnn {args.command}: error: {message}", file=sys.stderr)
        return code


if __name__ == "__main__":
    # run the imported module's main, so UsageError is the class the commands raise
    from autograd_rnn.cli.main import main as _main

    sys.exit(_main())
