"""Gradient sums (``codegen.sums``): a sum is read only once complete, whatever order its
parts arrive in and whichever optional passes run. Each case was found by the random-graph
property test (tests/reliability/test_rel_prop_exports.py) and is checked here against the
engine, with no optional pass and with all of them."""

from __future__ import annotations

import numpy as np
import pytest

import autograd_rnn as ar
from autograd_rnn.codegen import compile as compile_graph
from autograd_rnn.codegen import pipeline

SKIPS = [frozenset(), frozenset(pipeline.OPTIONAL)]


@pytest.fixture(params=SKIPS, ids=["all-passes", "no-optional-pass"])
def skipped(request, monkeypatch):
    """Compile with the optional passes ``request.param`` switched off."""
    run = pipeline.run
    monkeypatch.setattr(pipeline, "run",
                        lambda program, skip=frozenset(): run(program, request.param))
    return request.param


def _assert_compiled_equals_engine(loss, example, fresh):
    """Compile ``loss`` on the scalars ``example``; on ``fresh`` its value and gradients
    equal the engine's."""
    def leaves(values):
        return [ar.tensor(v, requires_grad=True, name=f"x{i}") for i, v in enumerate(values)]

    compiled = compile_graph(loss, leaves(example))
    xs = leaves(fresh)
    out = loss(*xs)
    out.backward()
    value, grads = compiled(*fresh)
    np.testing.assert_allclose(value, out.data, rtol=1e-12)
    for name, x in zip(compiled.grad_names, xs, strict=True):
        np.testing.assert_allclose(grads[name], x.grad, rtol=1e-12, err_msg=name)


def test_a_sum_is_read_after_its_last_part(skipped):
    """a = x0 + x1 is squared (multiply(a, a): two parts of a's gradient, arriving last) and
    also summed; x0's gradient reads a's. It read it after the first of the two squared
    parts, before the second was added (program ([(), ()], [leaf, add(0, 1), div(0, 2)]),
    seed 0: x0's gradient was 0.942, the engine's 0.936)."""
    def loss(x0, x1):
        a = x0 + x1
        return (x0 / (a * a + 1.0) + a.sum() * 0.5).sum()

    _assert_compiled_equals_engine(loss, [0.3, -0.7], [1.2, 0.4])
