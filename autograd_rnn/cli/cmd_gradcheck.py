"""``autograd-rnn gradcheck``: check the engine's own recurrent models (BPTT) against
finite differences. Exit 0 when every parameter passes, 1 on a mismatch."""

from __future__ import annotations

from autograd_rnn.cli import options

HELP = "check BPTT gradients of an RNN/LSTM/GRU sequence model against finite differences"


def register(subparsers) -> None:
    parser = options.add_command(subparsers, "gradcheck", run, HELP)
    options.add_cell_option(parser, help="recurrent cell (default rnn)")
    options.add_unroll_sizes(parser, steps=5, hidden=4, batch=2, input_size=3, output_size=2,
                             layers=1)
    options.add_check_options(parser, max_entries_default=20, what="parameter")
    options.add_force_option(parser)


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
