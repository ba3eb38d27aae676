"""``autograd-rnn check-backward FORWARD [BACKWARD] --layer L``: check a student's NumPy
backward pass (module:function or file.py:function) against finite differences of the
student's forward and the engine's gradients of reference layer L. The student's code runs
in a separate process with a time and memory limit; this process decides the verdict.
Exit codes: see ``grading_options``."""

from __future__ import annotations

import json

from autograd_rnn.cli import options
from autograd_rnn.cli.grading_options import add_grading_options, emit, sizes

HELP = "check hand-written forward/backward functions (coursework) against the engine"
DESCRIPTION = """Convention (cs231n): forward(*inputs) -> (out, cache); backward(dout, cache) ->
tuple of input gradients in the order of the inputs; or one loss function returning (loss, dx),
e.g. temporal_softmax_loss(x, y, mask) (omit BACKWARD). Sequences are batch-major (N, T, D).
Exit 0 passed, 1 the checked code is wrong (mismatch, wrong shape or dtype, raised, timed out,
crashed), 2 bad invocation (option, file, function), 130 interrupted."""


def register(subparsers) -> None:
    from autograd_rnn.check.references import REFERENCES

    parser = options.add_command(subparsers, "check-backward", run, HELP, DESCRIPTION)
    parser.add_argument("forward", help="MODULE:FUNCTION or FILE.py:FUNCTION of the forward")
    parser.add_argument("backward", nargs="?", default=None,
                        help="MODULE:FUNCTION or FILE.py:FUNCTION of the backward (omit when "
                             "FORWARD returns (loss, grads))")
    parser.add_argument("--layer", choices=sorted(REFERENCES), default=None,
                        help="reference layer: draws inputs and compares with the engine")
    parser.add_argument("--inputs", default=None,
                        help=".npz file of inputs in order (default: drawn for --layer)")
    add_grading_options(parser)


def run(args) -> int:
    from autograd_rnn.check.backward_report import CheckUsageError
    from autograd_rnn.check.isolated import check_backward_isolated
    from autograd_rnn.check.loader import layer_inputs, load_inputs
    from autograd_rnn.cli.main import UsageError

    try:
        if args.layer is None and args.inputs is None:
            raise CheckUsageError("give --layer (to draw inputs and compare with the engine) "
                                  "or --inputs FILE.npz")
        if args.max_entries < 0:
            raise CheckUsageError(f"--max-entries must be >= 0, got {args.max_entries}")
        if args.inputs is not None:
            inputs = load_inputs(args.inputs)
        else:
            inputs = layer_inputs(args.layer, args.seed, mask_density=args.mask_density,
                                  repeats=args.repeats, **sizes(args))
        report = check_backward_isolated(
            args.forward, args.backward, inputs, layer=args.layer, seed=args.seed,
            eps=args.eps, atol=args.atol, rtol=args.rtol, max_entries=args.max_entries or None,
            allow_float32=args.allow_float32, timeout=args.timeout,
            memory_mb=args.memory_limit)
    except CheckUsageError as error:
        if args.json:
            emit(json.dumps({"passed": False, "status": "usage", "error": str(error)}))
        raise UsageError(str(error)) from None
    emit(report.to_json() if args.json else str(report))
    return 0 if report else 1
