"""The engine's backward (``core/sweep.py``) equals the reference loop (``core/backward.py``)
on every op, model and mode.

The reference is the readable specification; the engine adds the training fast paths
(stacked weight gradients, in-place slices, owned buffers, freeing), gradient recording,
listeners and anomaly checks. Same graph, same seed: the leaf gradients (and under
``create_graph`` the gradient tensors and a second backward through them) must agree to
round-off (the fast paths sum in another order). With gradient recording on, every node's
gradient and every edge's (computed lazily where the bulk paths skipped it) is the
reference's too (``_check_recorded``).
"""

from __future__ import annotations

import numpy as np
import pytest

import autograd_rnn as ar
from autograd_rnn import nn
from autograd_rnn.core.backward import backward_pass, reachable
from autograd_rnn.core.vjp import input_gradients
from bench import engine_models
from bench.run import problem
from tests.ops.test_ops_gradients import ALL_CASES

ROUND_OFF = 1e-11

# name: (lean graph, gradient recording, retain graph, anomaly checks, a step-through trace)
MODES = {
    "recording": (False, True, True, False, False),
    "training": (True, False, False, False, False),
    "training-full-graph": (False, False, True, False, False),
    "lean-recording": (True, True, True, False, False),
    "anomaly": (False, True, True, True, False),
    "traced": (False, True, True, False, True),
}


def _engine(build, mode: str, seed):
    """Build and backpropagate in ``mode``; return the output tensor."""
    lean, record, retain, anomaly, traced = MODES[mode]
    with ar.lean_graph(lean), ar.detect_anomaly(anomaly):
        if traced:
            with ar.viz.trace() as tape:
                out = build()
            tape.backward(out, seed, retain_graph=retain)
            return out
        out = build()
        with ar.record_gradients(record):
            out.backward(seed, retain_graph=retain)
    return out


def _check_recorded(out, seed) -> None:
    """The recorded gradients are the reference loop's, node by node and edge by edge:
    the root holds the seed; every edge is the VJP the reference calls for that parent
    given the node's recorded gradient, bit for bit (``input_gradients``; lazy edges are
    computed on this first read); every node's gradient is the sum of the edges reaching
    it (round-off: the sweep sums in another order). By induction over the reverse
    topological order, every node's gradient is the reference's."""
    nodes = reachable([out])
    expected = {n: input_gradients(n, n.grad) for n in nodes if n.op is not None
                and n.grad is not None}  # before any edge is read
    root_seed = np.ones(out.shape) if seed is None else seed
    np.testing.assert_array_equal(out.node.grad, root_seed)
    arriving: dict = {}
    for node in nodes:
        if node not in expected:
            assert node.op is None or node.edge_grads is None, node.label
            continue
        edges = node.edge_grads
        assert type(edges) is tuple and len(edges) == len(node.parents), node.label
        for parent, edge, want in zip(node.parents, edges, expected[node], strict=True):
            assert (edge is None) == (want is None), node.label
            if edge is None:
                continue
            assert edge.shape == want.shape and edge.dtype == want.dtype, node.label
            np.testing.assert_array_equal(edge, want, err_msg=node.label)
            arriving[parent] = edge + arriving[parent] if parent in arriving else edge
    for node, total in arriving.items():
        np.testing.assert_allclose(node.grad, total, rtol=ROUND_OFF, atol=ROUND_OFF,
                                   err_msg=node.label)


def _compare(make_leaves, build, mode: str, seed=None) -> None:
    """Run ``build(leaves)`` on two fresh copies of the leaves: the reference on one, the
    engine in ``mode`` on the other; compare every leaf gradient."""
    ref_leaves, eng_leaves = make_leaves(), make_leaves()
    backward_pass(build(ref_leaves), seed)
    out = _engine(lambda: build(eng_leaves), mode, seed)
    if MODES[mode][1] and MODES[mode][2]:  # gradients recorded, graph kept
        _check_recorded(out, seed)
    for ref, eng in zip(ref_leaves, eng_leaves, strict=True):
        assert (ref.grad is None) == (eng.grad is None), ref.name
        if ref.grad is not None:
            assert eng.grad.shape == ref.grad.shape and eng.grad.dtype == ref.grad.dtype
            np.testing.assert_allclose(eng.grad, ref.grad, rtol=ROUND_OFF, atol=ROUND_OFF,
                                       err_msg=ref.name)


def _twice(fn):
    """fn used twice on the same leaves (fan-in: the engine adds into its own buffers)."""
    return lambda xs: fn(*[x + 0.0 for x in xs]) + 0.5 * fn(*[x * 1.5 for x in xs])


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("fn, inputs", ALL_CASES)
def test_every_op_in_every_mode_equals_the_reference(fn, inputs, mode):
    make = lambda: [ar.tensor(x.copy(), requires_grad=True, name=f"x{i}")  # noqa: E731
                    for i, x in enumerate(inputs)]
    shape = _twice(fn)(make()).shape
    seed = np.random.default_rng(0).standard_normal(shape)
    _compare(make, _twice(fn), mode, seed)


@pytest.mark.parametrize("fn, inputs", ALL_CASES[::3])
def test_create_graph_equals_the_reference_to_second_order(fn, inputs):
    rng = np.random.default_rng(1)
    results = []
    for engine in (False, True):
        xs = [ar.tensor(x.copy(), requires_grad=True) for x in inputs]
        out = _twice(fn)(xs)
        seed = rng.standard_normal(out.shape) if not results else results[0][2]
        if engine:
            out.backward(seed, create_graph=True)
        else:
            backward_pass(out, seed, create_graph=True)
        first = [x.grad.copy() for x in xs]
        np.testing.assert_array_equal(first[0], xs[0].grad_tensor.data)
        second = sum((x.grad_tensor * x.grad_tensor).sum() for x in xs)
        for x in xs:
            x.zero_grad()
        if not second.requires_grad:  # a linear op: its gradient is a constant
            results.append((first, [], seed))
            continue
        if engine:
            second.backward()
        else:
            backward_pass(second)
        results.append((first, [x.grad for x in xs], seed))
    (ref_1, ref_2, _), (eng_1, eng_2, _) = results
    for a, b in zip(ref_1 + ref_2, eng_1 + eng_2, strict=True):
        assert (a is None) == (b is None)  # (relu, abs, max: no second-order path to x)
        if a is not None:
            np.testing.assert_allclose(b, a, rtol=ROUND_OFF, atol=ROUND_OFF)


def _model_case(cell: str, **options):
    rng = np.random.default_rng(7)
    x = rng.standard_normal((5, 3, 4))
    targets = rng.integers(0, 3, (5, 3))
    models = []

    def make():
        model = nn.SequenceModel(cell, 4, 6, 3, seed=11, **options)
        models.append(model)
        return list(model.parameters())

    def build(params):
        model = next(m for m in models if next(iter(m.parameters())) is params[0])
        y, _ = model(x, lengths=[5, 2, 4])
        return ar.train.cross_entropy(y, targets)

    return make, build


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_every_model_in_every_mode_equals_the_reference(cell, mode):
    make, build = _model_case(cell, num_layers=2, bidirectional=True, dropout=0.2,
                              learn_initial_state=True)
    _compare(make, build, mode)


@pytest.mark.parametrize("mode", ["recording", "training"])
@pytest.mark.parametrize("kind", ["rnn", "lstm"])
def test_bench_training_step_equals_the_reference(kind, mode):
    params, x, targets = problem(kind, (6, 3, 4, 5, 7))

    def make():
        return list(engine_models.make_leaves(kind, params).values())

    def build(leaves):
        names = engine_models.KEYS[kind]
        return engine_models.forward(kind, dict(zip(names, leaves, strict=True)), x, targets)

    _compare(make, build, mode)


def test_reference_loop_fits_on_a_screen():
    import inspect

    source = inspect.getsource(backward_pass)
    body = source.split('"""')[2]  # after the docstring
    lines = [ln for ln in body.splitlines() if ln.strip()]
    assert len(lines) <= 30, len(lines)
