"""The compiler's passes, in the order data flows through them (see ``codegen/__init__``).

Each optional pass can be switched off by name (``run(program, skip={"gates"})``); the
tests compile with and without each one and compare.
"""

from __future__ import annotations

from autograd_rnn.codegen.buffers import allocate
from autograd_rnn.codegen.dce import remove_dead
from autograd_rnn.codegen.gates import fuse_gates
from autograd_rnn.codegen.hoist import optimise_loops
from autograd_rnn.codegen.ir import Program
from autograd_rnn.codegen.loops import find_loops
from autograd_rnn.codegen.names import name_program
from autograd_rnn.codegen.render import render_program
from autograd_rnn.codegen.reuse import reuse_dead_arrays
from autograd_rnn.codegen.sums import lower_sums
from autograd_rnn.codegen.vectorize import vectorize
from autograd_rnn.codegen.xent import fuse_cross_entropy

OPTIONAL = ("xent", "loops", "hoist", "gates", "vectorize", "buffers", "reuse")


def run(program: Program, skip=frozenset()) -> str:
    """Transform ``program`` pass by pass and return the generated module's source."""
    unknown = set(skip) - set(OPTIONAL)
    if unknown:
        raise ValueError(f"unknown passes {sorted(unknown)}: optional passes are {OPTIONAL}")
    if "xent" not in skip:
        fuse_cross_entropy(program)
    if "loops" not in skip:
        find_loops(program)
    remove_dead(program)
    lower_sums(program)
    remove_dead(program)
    if "loops" not in skip:
        if "hoist" not in skip:
            optimise_loops(program)
        if "gates" not in skip:
            fuse_gates(program)
        if "vectorize" not in skip:
            vectorize(program)
            remove_dead(program)
        if "buffers" not in skip:
            allocate(program)
        if "reuse" not in skip:
            reuse_dead_arrays(program)
    name_program(program)
    return render_program(program)
