"""Random mixed graphs (the programs of test_rel_prop_graphs) through the other consumers
of a graph: code generation computes what the engine computes on fresh inputs (also with
the program as a recurrent cell unrolled in timestep scopes, with any optional compiler
passes switched off); DOT export
is byte-for-byte deterministic in both detail modes; networkx has one node per reachable
tensor and one edge use per parent slot; and the per-edge gradients recorded by backward
add up to each leaf's ``.grad``."""

from __future__ import annotations

import contextlib
import os

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import autograd_rnn as ar
from autograd_rnn.codegen import pipeline
from tests.reliability.test_rel_prop_graphs import _inputs, programs, run

MAX_EXAMPLES = int(os.environ.get("REL_MAX_EXAMPLES", 20))
SETTINGS = settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
SAME_ARITHMETIC_RTOL = 1e-10  # the same float64 operations, possibly summed in another order


def _leaves(leaf_shapes, seed):
    return [
        ar.tensor(a, requires_grad=True, name=f"x{i}")
        for i, a in enumerate(_inputs(leaf_shapes, seed))
    ]


@contextlib.contextmanager
def _passes_skipped(skip):
    """Compile with the optional passes ``skip`` switched off (``codegen.pipeline``)."""
    run_passes = pipeline.run
    pipeline.run = lambda program, **_: run_passes(program, skip=skip)
    try:
        yield
    finally:
        pipeline.run = run_passes


def _assert_compiled_equals_engine(loss, leaf_shapes, seed, skip=frozenset()):
    """``loss`` compiled on inputs drawn with ``seed`` computes the engine's value and
    gradients on inputs drawn with ``seed + 1``."""
    import autograd_rnn.codegen as codegen

    with _passes_skipped(skip):
        compiled = codegen.compile(loss, _leaves(leaf_shapes, seed))
    fresh = _leaves(leaf_shapes, seed + 1)
    value, grads = compiled(*[x.data for x in fresh])
    out = loss(*fresh)
    out.backward()
    np.testing.assert_allclose(value, out.data, rtol=SAME_ARITHMETIC_RTOL, atol=1e-12)
    assert len(compiled.grad_names) == len(fresh)
    for name, x in zip(compiled.grad_names, fresh, strict=True):
        expected = np.zeros_like(x.data) if x.grad is None else x.grad
        np.testing.assert_allclose(
            grads[name], expected, rtol=SAME_ARITHMETIC_RTOL, atol=1e-12, err_msg=name
        )


@SETTINGS
@given(program=programs(), seed=st.integers(0, 2**16))
def test_compiled_code_equals_the_engine_on_fresh_inputs(program, seed):
    leaf_shapes, steps = program
    _assert_compiled_equals_engine(lambda *xs: run(steps, xs).sum(), leaf_shapes, seed)


@SETTINGS
@given(
    program=programs(),
    seed=st.integers(0, 2**16),
    steps_in_time=st.integers(1, 6),
    carry=st.sampled_from(["tanh", "linear", "truncated"]),
    skip=st.sets(st.sampled_from(pipeline.OPTIONAL)),
)
def test_compiled_recurrent_cell_equals_the_engine_with_any_passes_skipped(
    program, seed, steps_in_time, carry, skip
):
    """The program as a recurrent cell (leaf 0 is h times the step's input row, the other
    leaves are weights shared by every step; timestep scopes make the loop passes work),
    compiled with any optional passes switched off. ``truncated`` detaches h every 3 steps."""
    leaf_shapes, steps = program
    T, h_shape = steps_in_time, leaf_shapes[0]

    def loss(x, h, *weights):
        total = 0.0
        for t in range(1, T + 1):
            if carry == "truncated" and t % 3 == 1:
                h = h.detach()
            with ar.scope(f"net/t={t}"):
                step = run(steps, [h * x[t - 1], *weights]).sum()
                h = h * 0.5 + step * 0.1 if carry == "linear" else ar.tanh(h + step * 0.1)
                total = total + step
        return total + h.sum()

    shapes = [(T, *h_shape), h_shape, *leaf_shapes[1:]]
    _assert_compiled_equals_engine(loss, shapes, seed, frozenset(skip))


@SETTINGS
@given(
    program=programs(),
    seed=st.integers(0, 2**16),
    detail=st.sampled_from(["ops", "cells"]),
    backward=st.booleans(),
)
def test_dot_export_is_deterministic(program, seed, detail, backward):
    import autograd_rnn.viz as viz

    leaf_shapes, steps = program
    sources = []
    for _ in range(2):
        with ar.scope("program"):
            out = run(steps, _leaves(leaf_shapes, seed)).sum()
        if backward:
            out.backward()
        sources.append(viz.to_dot(out, detail=detail, max_nodes=None).source)
    assert sources[0] == sources[1]
    assert sources[0].startswith("digraph")


@SETTINGS
@given(program=programs(), seed=st.integers(0, 2**16))
def test_networkx_has_every_tensor_and_every_parent_slot(program, seed):
    import autograd_rnn.viz as viz

    leaf_shapes, steps = program
    out = run(steps, _leaves(leaf_shapes, seed)).sum()
    out.backward()
    nodes = ar.reachable([out], only_requires_grad=False)
    graph = viz.to_networkx(out)
    assert sorted(graph.nodes) == sorted(t.id for t in nodes)
    slots = sum(1 for t in nodes for p in t.parents if p is not None)
    assert sum(d["multiplicity"] for _, _, d in graph.edges(data=True)) == slots


@SETTINGS
@given(program=programs(), seed=st.integers(0, 2**16))
def test_edge_gradients_add_up_to_each_leaf_gradient(program, seed):
    import autograd_rnn.viz as viz

    leaf_shapes, steps = program
    leaves = _leaves(leaf_shapes, seed)
    out = run(steps, leaves).sum()
    out.backward()
    for leaf in leaves:
        if leaf.grad is None:  # not used on any path to the output
            continue
        total = viz.sum_of_edge_contributions(leaf, out)
        np.testing.assert_allclose(total, leaf.grad, rtol=1e-12, atol=1e-12, err_msg=leaf.name)


@pytest.mark.parametrize("shape, axis", [((2,), 0), ((2, 3), -1), ((2, 3, 4), 1)])
def test_compiled_logsumexp_without_keepdims_recomputes_its_shift(shape, axis):
    """logsumexp adds back its max shift squeezed (a view of the shift array): the compiled
    code must recompute it for new inputs, not freeze the trace-time value."""
    import autograd_rnn.codegen as codegen

    x = ar.tensor(np.random.default_rng(0).standard_normal(shape), requires_grad=True)

    def fn(t):
        return ar.logsumexp(t, axis=axis).sum()

    compiled = codegen.compile(fn, [x])
    new = np.random.default_rng(1).standard_normal(shape) * 3
    t = ar.tensor(new, requires_grad=True)
    expected = fn(t)
    expected.backward()
    value, grads = compiled(new)
    np.testing.assert_allclose(value, expected.data, rtol=SAME_ARITHMETIC_RTOL)
    np.testing.assert_allclose(grads[compiled.grad_names[0]], t.grad, rtol=SAME_ARITHMETIC_RTOL)
