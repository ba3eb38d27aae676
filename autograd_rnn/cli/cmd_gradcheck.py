"""``autograd-rnn gradcheck``: check the engine's own recurrent models (BPTT) against
finite differences. Exit 0 when every parameter passes, 1 on a mismatch."""

from __future__ import annotations

from autograd_rnn.cli.options import SIZE, add_check_options, add_force_option


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "gradcheck",
        help="check BPTT gradients of an RNN/LSTM/GRU sequence model against finite differences",
    )
    parser.add_argument("--cell", choices=["rnn", "lstm", "gru"], default="rnn",
                        help="recurrent cell (default rnn)")
    parser.add_argument("--steps", type=SIZE, default=5, help="timesteps unrolled (default 5)")
    parser.add_argument("--hidden", type=SIZE, default=4, help="hidden size (default 4)")
    parser.add_argument("--batch", type=SIZE, default=2, help="batch size (default 2)")
    parser.add_argument("--input-size", type=SIZE, default=3, help="input size (default 3)")
    parser.add_argument("--output-size", type=SIZE, default=2, help="output size (default 2)")
    parser.add_argument("--layers", type=SIZE, default=1, help="stacked layers (default 1)")
    add_check_options(parser, max_entries_default=20, what="parameter")
    add_force_option(parser)
    parser.set_defaults(run=run)


def run(args) -> int:
    import numpy as np

    from autograd_rnn.check.model_check import check_engine_model
    from autograd_rnn.cli.main import UsageError
    from autograd_rnn.limits import require_memory
    from autograd_rnn.nn.footprint import unrolled_estimate

    require_memory(unrolled_estimate(
        "gradcheck", args.cell, steps=args.steps, batch=args.batch, input_size=args.input_size,
        hidden=args.hidden, output_size=args.output_size, layers=args.layers,
        names={"input_size": "--input-size", "output_size": "--output-size"}),
        force=args.force)
    # an extreme --eps may overflow: the report shows it as a failed check, not as warnings
    try:
        with np.errstate(all="ignore"):
            report = check_engine_model(
                args.cell, args.steps, batch=args.batch, input_size=args.input_size,
                hidden_size=args.hidden, output_size=args.output_size, num_layers=args.layers,
                seed=args.seed, max_entries=args.max_entries or None, eps=args.eps,
                atol=args.atol, rtol=args.rtol)
    except ValueError as error:
        raise UsageError(str(error)) from None
    print(report.to_json() if args.json else report)
    return 0 if report else 1
