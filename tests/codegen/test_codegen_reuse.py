"""The reuse pass (``codegen/reuse.py``) on hand-built programs: a loop's ``pre`` statements
write into operands that die there, never into what the loop body still reads, and the
rewritten program computes the same numbers."""

from __future__ import annotations

import numpy as np
import pytest

from autograd_rnn.codegen.ir import Argument, Carry, Const, Loop, Program, Stmt, Var
from autograd_rnn.codegen.names import name_program
from autograd_rnn.codegen.render import FUNCTION, render_program
from autograd_rnn.codegen.reuse import reuse_dead_arrays
from autograd_rnn.core.primitive import REGISTRY

F64 = np.dtype(np.float64)


def _program(body_reads_square: bool):
    """x (3,) -> before the loop: sq = x * x (a temporary), w = 1 - sq; a loop
    c_t = c_{t-1} * w (+ sq when ``body_reads_square``) over 4 steps from c_0 = x; after
    it: e = exp(c_4 * 2) (a temporary dying at the exp). Returns (program, the loop)."""
    x = Var((3,), F64, "x")
    # (sq is a temporary, written inside its one reader, unless the loop reads it too)
    sq = Var((3,), F64, "sq", role="value" if body_reads_square else "temp")
    w = Var((3,), F64, "w")
    c, c0, scaled = Var((3,), F64, "c"), Var((3,), F64, "c0"), Var((3,), F64, "scaled")
    e, last = Var((3,), F64, "e"), Var((3,), F64, "last")
    body = [Stmt(c, REGISTRY["multiply"], (Carry(c), w))]
    if body_reads_square:
        stepped = Var((3,), F64, "stepped")
        body = [Stmt(stepped, REGISTRY["multiply"], (Carry(c), w)),
                Stmt(c, REGISTRY["add"], (stepped, sq))]
    rows = Var((6, 3), F64, "c_rows")
    loop = Loop("net/t=*", [1, 2, 3, 4], body, carries={c: c0}, stored={c: rows},
                pre=[Stmt(sq, REGISTRY["multiply"], (x, x)),
                     Stmt(w, REGISTRY["subtract"], (Const(1.0), sq))],
                post=[Stmt(last, REGISTRY["getitem"], (rows,), {"index": (4,)}),
                      Stmt(scaled, REGISTRY["multiply"], (last, Const(2.0))),
                      Stmt(e, REGISTRY["exp"], (scaled,))])
    top = [Stmt(c0, REGISTRY["add"], (x, Const(0.0))), loop]
    return Program([Argument(x, "input", 0)], top, e, []), loop


def _run(program) -> np.ndarray:
    name_program(program)
    namespace: dict = {}
    exec(render_program(program), namespace)
    value, _ = namespace[FUNCTION](np.array([0.3, -0.5, 0.9]))
    return value


def _expected(body_reads_square: bool) -> np.ndarray:
    x = np.array([0.3, -0.5, 0.9])
    c, w = x + 0.0, 1 - x * x
    for _ in range(4):
        c = c * w + (x * x if body_reads_square else 0.0)
    return np.exp(c * 2.0)


@pytest.mark.parametrize("body_reads_square", [False, True])
def test_pre_and_post_statements_reuse_only_arrays_nothing_reads_later(body_reads_square):
    program, loop = _program(body_reads_square)
    reuse_dead_arrays(program)
    square, one_minus = loop.pre
    scaled, exp = loop.post[1:]
    if body_reads_square:  # the loop reads sq at every step: w gets an array of its own
        assert one_minus.dest is None
    else:  # w is computed into sq's array (sq, a temporary, gets a line of its own)
        assert one_minus.dest is square.out and square.out.role == "value"
    assert exp.dest is scaled.out  # after the loop: the exp overwrites 2 c_4
    np.testing.assert_allclose(_run(program), _expected(body_reads_square), rtol=1e-15)
