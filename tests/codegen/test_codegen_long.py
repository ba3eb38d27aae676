"""Long unrolls (generation is linear in T; no timing is asserted) stay exact: a 3,000-step
RNN and LSTM in loop form, a 1,000-step straight-line RNN, all against the engine
(1e-12); dead-code removal keeps exactly what the returned values need."""

from __future__ import annotations

import numpy as np
import pytest

from autograd_rnn.codegen import compile as compile_graph
from autograd_rnn.codegen.dce import remove_dead
from autograd_rnn.codegen.ir import Argument, Carry, Const, Loop, Program, Stmt, Var, at
from autograd_rnn.codegen.models import PARAMS, example_inputs, make_loss
from autograd_rnn.core.primitive import REGISTRY
from tests.codegen.codegen_engine import engine_loss_and_grads

TOL = 1e-12


def _assert_matchesengine_loss_and_grads(cell, compiled, inputs):
    value, grads = compiled(*inputs)
    expected, expected_grads = engine_loss_and_grads(cell, inputs)
    np.testing.assert_allclose(value, expected, rtol=TOL, atol=TOL)
    assert list(grads) == list(PARAMS[cell])
    for name, g in grads.items():
        assert np.all(np.isfinite(g)), name
        np.testing.assert_allclose(g, expected_grads[name], rtol=1e-10, atol=TOL,
                                   err_msg=name)


@pytest.mark.parametrize("cell", ["rnn", "lstm"])
def test_three_thousand_step_unroll_is_one_loop_and_matchesengine_loss_and_grads(cell):
    inputs = example_inputs(cell, 3000, input_size=2, hidden=3, batch=1, seed=3)
    compiled = compile_graph(make_loss(cell), inputs)
    src = compiled.source
    assert src.count("for t in range(") == 2  # one forward loop, one backward loop
    assert "for t in range(1, 3001)" in src and "for t in range(3000, 0, -1)" in src
    assert len(src.splitlines()) < 200
    _assert_matchesengine_loss_and_grads(cell, compiled, inputs)
    # new data of the same shape through the same compiled code
    rng = np.random.default_rng(7)
    inputs[0].data = rng.standard_normal(inputs[0].shape)
    _assert_matchesengine_loss_and_grads(cell, compiled, inputs)


def test_thousand_step_straight_line_matchesengine_loss_and_grads():
    inputs = example_inputs("rnn", 1000, input_size=2, hidden=3, batch=1, seed=5)
    compiled = compile_graph(make_loss("rnn"), inputs, loops=False)
    assert "for t in range(" not in compiled.source
    assert "h_1000" in compiled.source and "g_h_1" in compiled.source
    _assert_matchesengine_loss_and_grads("rnn", compiled, inputs)


def _dce_program():
    """x -> a = x * 2 (returned), b = a + 1 (dead), a loop whose carry is only read by the
    next iteration (kept) and a per-step value nothing reads (dropped)."""
    x = Var((2,), np.dtype(np.float64), "x")
    a, b = Var((2,), x.dtype, "a"), Var((2,), x.dtype, "b")
    c, dead, h0 = Var((2,), x.dtype, "c"), Var((2,), x.dtype, "dead"), Var((2,), x.dtype, "h0")
    body = [Stmt(a, REGISTRY["multiply"], (x, Const(2.0))),
            Stmt(b, REGISTRY["add"], (a, Const(1.0))),
            Stmt(h0, REGISTRY["add"], (a, Const(0.0))),
            Loop("net/t=*", [1, 2, 3, 4],
                 [Stmt(c, REGISTRY["multiply"], (Carry(c), a)),
                  Stmt(dead, REGISTRY["tanh"], (c,))],
                 carries={c: h0}, stored={c: Var((6, 2), x.dtype, "c_rows")})]
    return Program([Argument(x, "input", 0)], body, at(body[3].stored[c], 4), []), body


def test_dead_code_removal_keeps_what_the_result_needs():
    program, body = _dce_program()
    remove_dead(program)
    assert program.body == [body[0], body[2], body[3]]  # b = a + 1 is dead
    loop = program.body[2]
    assert [s.out.hint for s in loop.body] == ["c"]  # tanh(c) is dead, the carry is not
    program.output = body[0].out  # now nothing reads the loop: it goes as a whole
    remove_dead(program)
    assert program.body == [body[0]]


def test_gradients_nobody_asked_for_are_removed():
    inputs = example_inputs("rnn", 6, 3, 4, 2)
    compiled = compile_graph(make_loss("rnn"), inputs)  # x is an input: no g_x wanted
    assert "g_x" not in compiled.source and "g_h_0" not in compiled.source
    everything = compile_graph(make_loss("rnn"), inputs, wrt=[0, *range(2, 7)])
    assert "g_x" in everything.source
    x = inputs[0]
    x.requires_grad = True
    try:
        value, grads = everything(*inputs)
        loss = make_loss("rnn")(*inputs)
        loss.backward()
        np.testing.assert_allclose(grads["x"], x.grad, rtol=0, atol=TOL)
    finally:
        x.requires_grad, x.grad = False, None
