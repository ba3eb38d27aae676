"""``autograd-rnn codegen``: write the compiled NumPy source of an unrolled RNN/LSTM/GRU."""

from __future__ import annotations

from autograd_rnn.cli import options

HELP = "write the forward + backward (BPTT) of an unrolled network as plain NumPy source"
DESCRIPTION = """Unroll a recurrent network for --steps timesteps with a softmax cross-entropy
loss, compile its graph and write the generated Python/NumPy source: the forward pass, then the
gradients in reverse topological order."""


def register(subparsers) -> None:
    parser = options.add_command(subparsers, "codegen", run, HELP, DESCRIPTION)
    options.add_cell_option(parser)
    options.add_unroll_sizes(parser, steps=3, hidden=4, input=3, batch=2)
    parser.add_argument("--output", type=options.SIZE, default=None,
                        help="output size V (default: the input size)")
    parser.add_argument("--no-loops", action="store_true",
                        help="straight-line code even for many timesteps")
    parser.add_argument("-o", "--out", required=True, help="file to write (.py)")
    options.add_write_options(parser)


def run(args) -> int:
    from autograd_rnn.codegen.cli_source import model_source
    from autograd_rnn.files import atomic_write_text, check_writable
    from autograd_rnn.limits import require_memory
    from autograd_rnn.nn.footprint import unrolled_estimate

    check_writable(args.out, args.overwrite)  # refused before compiling, not after
    V = args.output or args.input
    require_memory(unrolled_estimate(
        "codegen", args.cell, steps=args.steps, batch=args.batch, input_size=args.input,
        hidden=args.hidden, output_size=V, graph="compile", parameter_copies=2,
        names={"output_size": "--output" if args.output else "--input"}), force=args.force)
    source = model_source(args.cell, args.steps, args.hidden, args.input, args.batch,
                          args.output, loops=not args.no_loops)
    # atomic, with the usual file mode; a file that appeared meanwhile is not clobbered
    # unless --overwrite
    atomic_write_text(args.out, source, overwrite=args.overwrite)
    print(f"wrote {args.out} ({source.count(chr(10))} lines)")
    return 0
