"""The compiler's passes in the order data flows through them (see ``codegen/__init__``)."""

from __future__ import annotations

from autograd_rnn.codegen.buffers import allocate
from autograd_rnn.codegen.dce import remove_dead
from autograd_rnn.codegen.gates import fuse_gates
from autograd_rnn.codegen.hoist import optimise_loops
from autograd_rnn.codegen.ir import Program
from autograd_rnn.codegen.loops import find_loops
from autograd_rnn.codegen.names import name_program
from autograd_rnn.codegen.render import render_program
from autograd_rnn.codegen.sums import lower_sums
from autograd_rnn.codegen.xent import fuse_cross_entropy


def run(program: Program, wrt_vars: list, *, loops: bool = True, inplace: bool = True) -> str:
    fuse_cross_entropy(program)
    if loops:
        find_loops(program)
    remove_dead(program)
    lower_sums(program)
    remove_dead(program)
    if loops and inplace:
        optimise_loops(program)
        fuse_gates(program)
        allocate(program)
    name_program(program)
    return render_program(program, wrt_vars)
