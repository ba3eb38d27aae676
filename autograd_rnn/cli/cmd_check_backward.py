"""``autograd-rnn check-backward FORWARD BACKWARD --layer L``: check a student's NumPy
backward pass (module:function or file.py:function) against finite differences of the
student's forward and against the engine's gradients of reference layer L.
Exit 0 pass, 1 mismatch, 2 usage error (bad names, signatures, return shapes)."""

from __future__ import annotations

import json

from autograd_rnn.cli.options import add_check_options


def register(subparsers) -> None:
    from autograd_rnn.check.references import REFERENCES

    parser = subparsers.add_parser(
        "check-backward",
        help="check hand-written forward/backward functions (coursework) against the engine",
        description="Convention: forward(*inputs) -> (out, cache); backward(dout, cache) -> "
        "tuple of input gradients in the order of the inputs. Sequences are batch-major "
        "(N, T, D) as in the classic coursework.",
    )
    parser.add_argument("forward", help="MODULE:FUNCTION or FILE.py:FUNCTION of the forward")
    parser.add_argument("backward", help="MODULE:FUNCTION or FILE.py:FUNCTION of the backward")
    parser.add_argument("--layer", choices=sorted(REFERENCES), default=None,
                        help="reference layer: draws inputs and compares with the engine")
    parser.add_argument("--inputs", default=None,
                        help=".npz file of inputs in order (default: drawn for --layer)")
    parser.add_argument("--batch", type=int, default=3, help="N (default 3)")
    parser.add_argument("--steps", type=int, default=4, help="T (default 4)")
    parser.add_argument("--input-size", type=int, default=5, help="D (default 5)")
    parser.add_argument("--hidden", type=int, default=6, help="H (default 6)")
    parser.add_argument("--vocab", type=int, default=7, help="V (default 7)")
    add_check_options(parser, max_entries_default=0, what="input")
    parser.set_defaults(run=run)


def run(args) -> int:
    from autograd_rnn.check.backward_check import check_backward
    from autograd_rnn.check.backward_report import CheckUsageError
    from autograd_rnn.check.loader import layer_inputs, load_function, load_inputs
    from autograd_rnn.cli.main import UsageError

    try:
        if args.layer is None and args.inputs is None:
            raise CheckUsageError("give --layer (to draw inputs and compare with the engine) "
                                  "or --inputs FILE.npz")
        if args.max_entries < 0:
            raise CheckUsageError(f"--max-entries must be >= 0, got {args.max_entries}")
        forward = load_function(args.forward)
        backward = load_function(args.backward)
        if args.inputs is not None:
            inputs = load_inputs(args.inputs)
        else:
            inputs = layer_inputs(args.layer, args.seed, N=args.batch, T=args.steps,
                                  D=args.input_size, H=args.hidden, V=args.vocab)
        report = check_backward(forward, backward, inputs, layer=args.layer, seed=args.seed,
                                eps=args.eps, atol=args.atol, rtol=args.rtol,
                                max_entries=args.max_entries or None)
    except CheckUsageError as error:
        if args.json:
            print(json.dumps({"passed": False, "error": str(error)}))
        raise UsageError(str(error)) from None
    print(report.to_json() if args.json else report)
    return 0 if report else 1
