"""The source the ``codegen`` command writes (also used for ``graphs/rnn_bptt_2steps.py``)."""

from __future__ import annotations

from autograd_rnn.codegen.compiler import compile as compile_graph
from autograd_rnn.codegen.models import example_inputs, make_loss


def model_source(cell: str, steps: int, hidden: int, input_size: int, batch: int,
                 output_size: int | None = None, loops: bool = True) -> str:
    """Generated module for ``cell`` unrolled ``steps`` times (see ``codegen.models``).

    The function is ``forward_backward(x, targets, <params>) -> (loss, grads)``; x
    (T, B, D), targets (T*B,) ints; the gradients come in the order of the parameters.
    """
    V = output_size or input_size
    command = (f"autograd-rnn codegen --cell {cell} --steps {steps} --hidden {hidden} "
               f"--input {input_size} --batch {batch} --output {V}")
    title = (f"{cell.upper()} unrolled {steps} steps (T={steps}, B={batch}, D={input_size}, "
             f"H={hidden}, V={V}): loss and BPTT gradients.\n\nRegenerate with: {command}")
    inputs = example_inputs(cell, steps, input_size, hidden, batch, V)
    return compile_graph(make_loss(cell), inputs, loops=loops, title=title).source
