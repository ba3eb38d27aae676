"""``t.detach()`` in compiled code: the detached value is never frozen at trace time, whatever
``t`` is (a value computed in ``fn`` that nothing else reads, an input, a captured
parameter). Found by compiling random programs as a recurrent cell with truncated BPTT."""

from __future__ import annotations

import numpy as np

import autograd_rnn as ar
from autograd_rnn.codegen import compile as compile_graph


def _leaves(seed, T=4):
    rng = np.random.default_rng(seed)
    return [ar.tensor(rng.uniform(-1.2, 1.2, (T,)), requires_grad=True, name="x"),
            ar.tensor(rng.uniform(-1.2, 1.2, ()), requires_grad=True, name="h0")]


def _assert_same(compiled, loss, xs):
    out = loss(*xs)
    out.backward()
    value, grads = compiled(*[x.data for x in xs])
    np.testing.assert_allclose(value, out.data, rtol=1e-12)
    for x in xs:
        expected = np.zeros_like(x.data) if x.grad is None else x.grad
        np.testing.assert_allclose(grads[x.name], expected, rtol=1e-12, atol=1e-15,
                                   err_msg=x.name)


def test_a_state_read_only_by_its_detach_is_recomputed():
    """h after step 3 is read by nothing but ``h.detach()`` at step 4: the graph holds it
    only weakly, it was gone when lowered and its trace-time value was frozen."""
    def loss(x, h0):
        h, total = h0, 0.0
        for t in range(1, 5):
            if t % 3 == 1:
                h = h.detach()
            with ar.scope(f"net/t={t}"):
                step = (ar.tanh(h * x[t - 1]) ** 3).sum()
                h = ar.tanh(h + step * 0.1)
                total = total + step
        return total + h.sum()

    compiled = compile_graph(loss, _leaves(0))
    assert "const" not in compiled.source
    _assert_same(compiled, loss, _leaves(1))


def test_detached_inputs_and_parameters_are_read_live():
    """``h0.detach()`` of an input and ``W.detach()`` of a captured parameter read the
    current arrays (both were frozen: values from before an update came out)."""
    W = ar.tensor(np.array(0.5), requires_grad=True, name="W")

    def loss(x, h0):
        return (ar.tanh(h0.detach() * x) + W.detach() * x).sum()

    compiled = compile_graph(loss, _leaves(0))
    W.data[...] = 2.0  # an optimizer step after compiling
    _assert_same(compiled, loss, _leaves(1))
    assert not compiled(*[x.data for x in _leaves(1)])[1]["W"].any()
