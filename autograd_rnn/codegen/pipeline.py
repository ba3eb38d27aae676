"""The compiler's passes in the order data flows through them (see ``codegen/__init__``)."""

from __future__ import annotations

from autograd_rnn.codegen.dce import remove_dead
from autograd_rnn.codegen.ir import Program
from autograd_rnn.codegen.names import name_program
from autograd_rnn.codegen.render import render_program
from autograd_rnn.codegen.sums import lower_sums


def run(program: Program, wrt_vars: list, *, loops: bool = True, inplace: bool = True) -> str:
    remove_dead(program)
    lower_sums(program)
    remove_dead(program)
    name_program(program)
    return render_program(program, wrt_vars)
