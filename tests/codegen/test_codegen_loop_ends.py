"""The timesteps at the ends of a run made alike (``codegen.loop_ends``): when the first
step differs from the others, the last step is padded only with what maps onto the step
before it. Found by compiling random programs as a recurrent cell."""

from __future__ import annotations

import numpy as np
import pytest

import autograd_rnn as ar
from autograd_rnn.codegen import compile as compile_graph


def _loss(T):
    def loss(x, h):
        total = 0.0  # (step 1 adds to a number: its statements differ from the others')
        for t in range(1, T + 1):
            with ar.scope(f"net/t={t}"):
                step = (ar.tanh(h * x[t - 1]) ** 3).sum()
                h = ar.tanh(h + step * 0.1)
                total = total + step
        return total + h.sum()
    return loss


@pytest.mark.parametrize("T", [3, 4, 6])
def test_a_first_step_unlike_the_others_still_compiles(T):
    """T=3: padding the last step mapped the values of step 1 onto step 2 by position,
    and step 1 has fewer statements (IndexError while compiling)."""
    rng = np.random.default_rng(T)
    xs = [ar.tensor(rng.uniform(-1, 1, shape), requires_grad=True) for shape in ((T,), ())]
    compiled = compile_graph(_loss(T), xs)
    out = _loss(T)(*xs)
    out.backward()
    value, grads = compiled(*[x.data for x in xs])
    np.testing.assert_allclose(value, out.data, rtol=1e-12)
    for name, x in zip(compiled.grad_names, xs, strict=True):
        np.testing.assert_allclose(grads[name], x.grad, rtol=1e-12, err_msg=name)
