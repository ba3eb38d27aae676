"""A loop written out (``codegen.render_loop``): rows of per-step arrays bound once at the
top of the body are views, so reading one after the step writes it sees the new value;
a row of one number (a copy) is read in place. Found by compiling random programs as a
recurrent cell."""

from __future__ import annotations

import numpy as np
import pytest

import autograd_rnn as ar
from autograd_rnn.codegen import compile as compile_graph
from autograd_rnn.codegen import pipeline

OPTIONAL_BUT_LOOPS = frozenset(pipeline.OPTIONAL) - {"loops"}


@pytest.mark.parametrize("skipped", [frozenset(), OPTIONAL_BUT_LOOPS])
def test_a_scalar_row_written_then_read_twice_is_read_after_the_write(monkeypatch, skipped):
    """m = h * x[t - 1] (h a scalar carry) is stored per step and read twice: bound as
    ``m_t = m[t]`` before ``m[t] = ...`` it was a copy of the row before the write."""
    run = pipeline.run
    monkeypatch.setattr(pipeline, "run", lambda program, **_: run(program, skip=skipped))
    T = 5

    def loss(x, h):
        total = 0.0
        for t in range(1, T + 1):
            with ar.scope(f"net/t={t}"):
                m = h * x[t - 1]
                step = ar.log(m * m + 1.0) + m * 0.5
                h = h * 0.5 + step * 0.1
                total = total + step
        return total + h

    rng = np.random.default_rng(0)
    xs = [ar.tensor(rng.uniform(-1.2, 1.2, s), requires_grad=True) for s in ((T,), ())]
    compiled = compile_graph(loss, xs)
    assert "for t in range" in compiled.source
    out = loss(*xs)
    out.backward()
    value, grads = compiled(*[x.data for x in xs])
    np.testing.assert_allclose(value, out.data, rtol=1e-12)
    for name, x in zip(compiled.grad_names, xs, strict=True):
        np.testing.assert_allclose(grads[name], x.grad, rtol=1e-12, err_msg=name)
