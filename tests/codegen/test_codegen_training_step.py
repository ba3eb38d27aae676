"""A training step from the IR: a trainer (issue 14) appends an in-place optimizer update to
the lowered program of forward + backward; every pass keeps it after the gradients it reads,
and the generated function updates the parameter arrays it was given, allocating nothing for
the update but the scaled gradient."""

from __future__ import annotations

import numpy as np
import pytest

import autograd_rnn as ar
from autograd_rnn.codegen import extra_ops, pipeline
from autograd_rnn.codegen.ir import Const, Stmt, Var
from autograd_rnn.codegen.models import example_inputs, make_loss
from autograd_rnn.core.primitive import REGISTRY
from tests.codegen.codegen_engine import engine_loss_and_grads, program_of

LR = 0.1


def with_sgd_update(program, lr: float):
    """Append ``w -= lr * g_w`` for every differentiated argument ``w``."""
    for g, w in zip(program.grads, program.wrt_vars, strict=True):
        if g is None:
            continue
        step = Var(w.shape, w.dtype, f"step_{w.hint}", role="temp")
        program.body.append(Stmt(step, REGISTRY["multiply"], (g, Const(lr)), {}, "update"))
        program.body.append(Stmt(None, extra_ops.ISUB, (w, step), {}, "update"))
    return program


@pytest.mark.parametrize("cell", ["rnn", "lstm"])
@pytest.mark.parametrize("skip", [frozenset(), frozenset({"loops"}), frozenset({"reuse"})])
def test_appended_sgd_update_changes_the_parameters_in_place(cell, skip):
    inputs = example_inputs(cell, 6, 3, 4, 2)
    loss, grads = engine_loss_and_grads(cell, inputs)
    positions = range(2, len(inputs))
    program = with_sgd_update(program_of(make_loss(cell), inputs, positions), LR)
    source = pipeline.run(program, skip=skip)
    for name in grads:
        assert f"    {name} -= g_{name} * 0.1\n" in source
    arrays = [x.data.copy() if isinstance(x, ar.Tensor) else x for x in inputs]
    namespace: dict = {}
    exec(source, namespace)  # noqa: S102 (the generated module under test)
    value, returned = namespace["forward_backward"](*arrays)
    np.testing.assert_allclose(value, loss, rtol=1e-13)
    for k, x in enumerate(inputs[2:], start=2):
        np.testing.assert_allclose(returned[k - 2], grads[x.name], rtol=0, atol=1e-12)
        np.testing.assert_allclose(arrays[k], x.data - LR * grads[x.name], rtol=0, atol=1e-12)
