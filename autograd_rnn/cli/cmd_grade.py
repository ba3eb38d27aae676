"""``autograd-rnn grade SUBMISSIONS_DIR --layers rnn_step,rnn,...``: check every student's
backward passes for every layer, each in its own process, in parallel; print a table and
write one row per student and layer (CSV, JSON) or Gradescope's results.json.
Exit 0 when every check passed, 1 when one failed, 2 bad invocation, 130 interrupted."""

from __future__ import annotations

import sys

from autograd_rnn.cli import options
from autograd_rnn.cli.grading_options import add_grading_options, emit, sizes

HELP = "grade a folder of students' backward passes (CSV, JSON, Gradescope)"
DESCRIPTION = """Layouts: one sub-folder per student, one .py file per student, or one
submission (Gradescope's /autograder/submission). Functions are found by cs231n's names
(rnn_step_forward/rnn_step_backward, temporal_softmax_loss, ...). Exit 0 when every check
passed, 1 when one failed, 2 bad invocation, 130 interrupted."""


def register(subparsers) -> None:
    parser = options.add_command(subparsers, "grade", run, HELP, DESCRIPTION)
    parser.add_argument("submissions", metavar="SUBMISSIONS_DIR",
                        help="folder of submissions")
    parser.add_argument("--layers", required=True,
                        help="comma-separated reference layers, e.g. rnn_step,rnn,lstm_step")
    parser.add_argument("--workers", type=int, default=None,
                        help="checks run at once (default: min(4, CPUs))")
    parser.add_argument("-o", "--output", action="append", default=[], metavar="FILE",
                        help="write the results to FILE (.csv or .json; repeatable)")
    parser.add_argument("--gradescope", action="store_true",
                        help="write .json outputs in Gradescope's results.json format (one "
                             "object for one submission, a list of one per student)")
    parser.add_argument("--overwrite", action="store_true", help="replace existing outputs")
    parser.add_argument("--layout", choices=("auto", "folders", "files", "single"),
                        default="auto", help="how submissions are laid out (default: auto)")
    parser.add_argument("--points", default=None, metavar="LAYER=P,...",
                        help="max score per layer (default 1 each)")
    add_grading_options(parser)


def _points(text: str | None) -> dict[str, float]:
    from autograd_rnn.cli.main import UsageError

    points = {}
    for item in (text or "").split(","):
        if not item.strip():
            continue
        layer, sep, value = item.partition("=")
        try:
            points[layer.strip()] = float(value)
        except ValueError:
            raise UsageError(f"--points takes LAYER=POINTS,..., got {item!r}") from None
        if not sep:
            raise UsageError(f"--points takes LAYER=POINTS,..., got {item!r}")
    return points


def _outputs(args) -> list[tuple[str, str]]:
    from autograd_rnn.check.grade_report import FORMATS
    from autograd_rnn.cli.main import UsageError
    from autograd_rnn.files import check_writable

    outputs = []
    for path in args.output:
        fmt = FORMATS.get(path[path.rfind("."):].lower()) if "." in path else None
        if fmt is None:
            raise UsageError(f"-o {path}: name the file .csv or .json")
        if fmt == "json" and args.gradescope:
            fmt = "gradescope"
        try:
            check_writable(path, args.overwrite)
        except FileExistsError as error:
            raise UsageError(str(error)) from None
        outputs.append((path, fmt))
    if args.gradescope and not any(fmt == "gradescope" for _, fmt in outputs):
        raise UsageError("--gradescope writes a .json output: add -o results.json")
    return outputs


def run(args) -> int:
    from autograd_rnn.check.backward_report import CheckUsageError
    from autograd_rnn.check.grading import grade
    from autograd_rnn.cli.main import UsageError

    if args.max_entries < 0:
        raise UsageError(f"--max-entries must be >= 0, got {args.max_entries}")
    outputs = _outputs(args)

    def progress(done: int, total: int) -> None:
        if sys.stderr.isatty():
            print(f"\rgraded {done}/{total}", end="" if done < total else "\n",
                  file=sys.stderr, flush=True)

    try:
        result = grade(args.submissions, args.layers, workers=args.workers,
                       timeout=args.timeout, memory_mb=args.memory_limit, seed=args.seed,
                       eps=args.eps, atol=args.atol, rtol=args.rtol,
                       max_entries=args.max_entries or None, allow_float32=args.allow_float32,
                       sizes=sizes(args), mask_density=args.mask_density,
                       repeats=args.repeats, points=_points(args.points), layout=args.layout,
                       progress=progress)
    except CheckUsageError as error:
        raise UsageError(str(error)) from None
    for path, fmt in outputs:
        result.write(path, fmt=fmt, overwrite=args.overwrite)
    emit(result.to_json() if args.json else str(result))
    return 0 if result else 1
