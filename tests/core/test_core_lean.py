"""Lean graphs (``ar.lean_graph``): nodes keep only what their VJPs declare with ``saves``.

The declarations are checked against the truth: in a lean graph every undeclared value is the
explicit ``Dropped`` marker, so a VJP that reads one raises ``DroppedValueError`` and these
tests fail (first and second order, every primitive case of tests/ops).
"""

from __future__ import annotations

import gc
import weakref

import numpy as np
import pytest

import autograd_rnn as ar
from autograd_rnn import nn
from autograd_rnn.core.node import Dropped, DroppedValueError, dropped, is_dropped
from tests.ops.test_ops_gradients import ALL_CASES, _package_primitives

EXACT = 1e-13


def _grads(fn, inputs, seed_rng, lean: bool):
    """Output and input gradients of ``fn``; its inputs are outputs of ``x + 0`` (whose
    lean nodes keep no value), so every value a lean node drops is the Dropped marker."""
    xs = [ar.tensor(x.copy(), requires_grad=True) for x in inputs]
    with ar.lean_graph(lean):
        out = fn(*[x + 0.0 for x in xs])
    seed = seed_rng.standard_normal(out.shape)
    out.backward(seed)
    return out.data, [x.grad for x in xs]


def test_every_package_primitive_declares_what_it_saves():
    undeclared = sorted(n for n in _package_primitives() if ar.REGISTRY[n].saves is None)
    assert not undeclared, f"primitives without saves=: {undeclared}"


@pytest.mark.parametrize("fn, inputs", ALL_CASES)
def test_lean_gradients_equal_full_graph_gradients(fn, inputs):
    full_out, full = _grads(fn, inputs, np.random.default_rng(0), lean=False)
    lean_out, lean = _grads(fn, inputs, np.random.default_rng(0), lean=True)
    np.testing.assert_array_equal(lean_out, full_out)
    for g_lean, g_full in zip(lean, full, strict=True):
        assert g_lean is not None and np.all(np.isfinite(g_lean))
        np.testing.assert_allclose(g_lean, g_full, rtol=EXACT, atol=EXACT)


@pytest.mark.parametrize("fn, inputs", ALL_CASES)
def test_lean_graph_second_order_passes_gradgradcheck(fn, inputs):
    xs = [ar.tensor(x.copy(), requires_grad=True) for x in inputs]

    def squared(*ts):
        with ar.lean_graph():
            y = fn(*[t + 0.0 for t in ts])
            return y * y

    report = ar.gradgradcheck(squared, xs, atol=1e-5, rtol=1e-4)
    assert report, str(report)


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_lean_model_gradients_equal_full_graph(cell):
    rng = np.random.default_rng(3)
    x = rng.standard_normal((6, 2, 3))
    targets = rng.integers(0, 4, (6, 2))
    model = nn.SequenceModel(cell, 3, 5, 4, num_layers=2, seed=2)
    grads = {}
    for lean in (False, True):
        model.zero_grad()
        with ar.lean_graph(lean), ar.record_gradients(False):
            y, _ = model(x)
            loss = ar.train.cross_entropy(y, targets)
            loss.backward(retain_graph=False)
        grads[lean] = [p.grad.copy() for p in model.parameters()]
    for g_lean, g_full in zip(grads[True], grads[False], strict=True):
        np.testing.assert_allclose(g_lean, g_full, rtol=EXACT, atol=EXACT)


def test_values_nobody_holds_are_freed_during_the_forward():
    rng = np.random.default_rng(0)
    x = ar.tensor(rng.standard_normal((4, 3)), requires_grad=True)
    W = ar.tensor(rng.standard_normal((3, 5)), requires_grad=True)
    refs = {}
    for lean in (False, True):
        with ar.lean_graph(lean):
            pre = x @ W + 1.0  # add keeps nothing: pre's value is needed by no VJP
            h = ar.tanh(pre)  # tanh keeps its output
        refs[lean] = (weakref.ref(pre.data), weakref.ref(h.data), h)
        del pre, h
    gc.collect()
    assert refs[False][0]() is not None  # a full graph keeps every value
    assert refs[True][0]() is None  # lean: freed with the caller's tensor
    assert refs[True][1]() is not None  # saved by tanh's VJP
    out = refs[True][2].sum()
    out.backward()
    assert np.all(np.isfinite(W.grad)) and W.grad.shape == (3, 5)


def test_lean_output_is_a_tensor_with_its_graph_node_behind_it():
    x = ar.tensor([1.0, -2.0], requires_grad=True, name="x")
    with ar.lean_graph():
        y = x + 3.0
        z = ar.tanh(y)
    assert y.node is not None and y.node is not y
    assert y.op is y.node.op and y.parents == (x.node, None) and not y.is_leaf
    np.testing.assert_array_equal(y.data, [4.0, 1.0])
    assert is_dropped(y.node.data) and y.node.shape == (2,)  # add keeps nothing
    assert "value not kept by ar.lean_graph()" in repr(y.node) and "nan" not in repr(y.node)
    assert repr(y).startswith("tensor([4., 1.]")
    assert z.parents[0] is y.node  # later ops take the node, never the caller's tensor
    assert z.node.data is z.data  # tanh keeps its output
    z.name = "z"
    assert z.node.name == "z"  # names set afterwards reach the graph (diagrams, errors)
    assert 'label="z = tanh (2,)' in ar.viz.to_dot(z).source


def test_lean_backward_frees_the_graph_and_refuses_a_second_pass():
    x = ar.tensor(np.ones(3), requires_grad=True)
    with ar.lean_graph():
        loss = (ar.tanh(x * 2.0)).sum()
    loss.backward(retain_graph=False)
    assert loss.parents == (None,) and loss.args is None
    with pytest.raises(ar.GraphFreedError):
        loss.backward()


def test_lean_backward_twice_with_retain_graph():
    x = ar.tensor(np.array([0.5, -1.0]), requires_grad=True)
    with ar.lean_graph():
        loss = (ar.sigmoid(x) * x).sum()
    loss.backward()
    first = x.grad.copy()
    loss.backward()
    np.testing.assert_allclose(x.grad, 2 * first, rtol=EXACT)


def test_grad_of_lean_output_with_respect_to_lean_intermediate():
    x = ar.tensor(np.array([0.3, 0.7]), requires_grad=True)
    with ar.lean_graph():
        h = ar.tanh(x)
        loss = (h * h).sum()
    (g_h,) = ar.grad(loss, h)
    np.testing.assert_allclose(g_h.data, 2 * h.data, rtol=EXACT)


def test_lean_outputs_mix_with_full_graph_ops():
    x = ar.tensor(np.array([0.3, -0.2, 0.9]), requires_grad=True)
    with ar.lean_graph():
        h = ar.exp(x) + x
    y = (h * h).sum()  # recorded outside lean mode, on the lean tensor
    assert y.parents[0].parents[0] is h.node
    y.backward()
    expected = 2 * (np.exp(x.data) + x.data) * (np.exp(x.data) + 1)
    np.testing.assert_allclose(x.grad, expected, rtol=1e-12)


def test_custom_op_without_declaration_keeps_everything():
    cube = ar.Primitive(lambda v: v**3, name="lean_test_cube", register=False)
    cube.defvjp(lambda g, out, v: 3 * g * v * v)
    x = ar.tensor(np.array([1.0, 2.0]), requires_grad=True)
    with ar.lean_graph():
        y = cube(x)
    assert y.node.args[0] is x.data and y.node.data is y.data
    y.sum().backward()
    np.testing.assert_allclose(x.grad, [3.0, 12.0])


def test_declared_op_drops_undeclared_values():
    square = ar.Primitive(lambda v: v * v, name="lean_test_square", register=False)
    square.defvjp(lambda g, out, v: 2 * g * v, saves=(0,))
    x = ar.tensor(np.array([1.0, 3.0]), requires_grad=True)
    with ar.lean_graph():
        y = square(x)
    assert y.node.args[0] is x.data and is_dropped(y.node.data)
    y.sum().backward()
    np.testing.assert_allclose(x.grad, [2.0, 6.0])


@pytest.mark.parametrize("bad", [("output",), (-1,), (1.5,)])
def test_bad_saves_declaration_names_the_op(bad):
    op = ar.Primitive(lambda v: v, name="lean_test_identity", register=False)
    with pytest.raises(ValueError, match="lean_test_identity.*saves"):
        op.defvjp(lambda g, out, v: g, saves=bad)


def test_dropped_marker_keeps_shape_and_refuses_to_be_read():
    value = np.ones((1000, 100))
    marker = dropped(value)
    assert isinstance(marker, Dropped) and is_dropped(marker) and not is_dropped(value)
    assert marker.shape == value.shape and marker.dtype == value.dtype and marker.ndim == 2
    assert np.shape(marker) == (1000, 100) and dropped(np.zeros((1000, 100))) is marker
    with pytest.raises(DroppedValueError, match=r"saves="):
        value * marker
    assert dropped(2.5) == 2.5  # scalars cost nothing: kept


def test_an_undeclared_read_names_the_op():
    square = ar.Primitive(lambda v: v * v, name="lean_test_liar", register=False)
    square.defvjp(lambda g, out, v: 2 * g * v, saves=())  # wrong: the VJP reads v
    x = ar.tensor(np.array([1.0, 3.0]), requires_grad=True)
    with ar.lean_graph():
        y = square(x + 0.0)
    with pytest.raises(DroppedValueError, match="lean_test_liar"):
        y.sum().backward()


def test_a_nan_value_in_a_full_graph_is_a_value():
    # the misfire: a read-only zero-stride NaN array used to pass for a placeholder
    x = ar.tensor(np.array(np.nan), requires_grad=True)
    y = ar.ops.broadcast_to(x, shape=(3, 2)) * 2.0
    assert not is_dropped(y.parents[0].data) and "not kept" not in repr(y.parents[0])
    report = ar.viz.check_nodes(y.sum(), ops=["multiply"])  # not refused as a lean graph
    assert len(report.results) == 1


def test_node_check_refuses_a_lean_graph_with_a_clear_error():
    x = ar.tensor(np.array([0.2, 0.4]), requires_grad=True)
    with ar.lean_graph():
        loss = (x * 2.0 + 1.0).sum()
    with pytest.raises(ar.AutogradError, match="lean_graph"):
        ar.viz.check_nodes(loss)


def test_traces_and_compile_record_full_graphs_inside_lean_graph():
    x = ar.tensor(np.array([0.2, 0.4]), requires_grad=True)
    with ar.lean_graph(), ar.viz.trace() as tape:
        y = ar.tanh(x + 1.0)
    assert not is_dropped(y.node.data) and all(not is_dropped(n.data) for n in tape.nodes)
    with ar.lean_graph():
        compiled = ar.compile(lambda v: (ar.tanh(v * 3.0 + 1.0)).sum(), [x])
        value, grads = compiled(x)
    t = np.tanh(x.data * 3.0 + 1.0)
    np.testing.assert_allclose(value, t.sum(), rtol=1e-12)
    np.testing.assert_allclose(next(iter(grads.values())), 3.0 * (1 - t * t), rtol=1e-12)


@pytest.mark.parametrize("layer_cls", [nn.RNN, nn.LSTM, nn.GRU])
def test_lean_layers_with_every_option_equal_full_graph(layer_cls):
    """Two layers, bidirectional, dropout, a learned initial state and ragged lengths: two
    identical layers (same seed, so the same dropout masks), one recorded lean."""
    rng = np.random.default_rng(5)
    x = rng.standard_normal((5, 3, 4))
    weights = rng.standard_normal((5, 3, 12))
    grads = {}
    for lean in (False, True):
        layer = layer_cls(4, 6, num_layers=2, bidirectional=True, dropout=0.3,
                          learn_initial_state=True, seed=9)
        with ar.lean_graph(lean), ar.record_gradients(False):
            out, _ = layer(x, lengths=[5, 2, 4])
            loss = (out * weights).sum()
            loss.backward(retain_graph=False)
        grads[lean] = [p.grad for p in layer.parameters()]
    for g_lean, g_full in zip(grads[True], grads[False], strict=True):
        np.testing.assert_allclose(g_lean, g_full, rtol=EXACT, atol=EXACT)


def test_lean_truncated_bptt_equals_full_graph():
    rng = np.random.default_rng(6)
    x = rng.standard_normal((9, 2, 3))
    target = rng.standard_normal((9, 2, 2))
    grads = {}
    for lean in (False, True):
        model = nn.SequenceModel("lstm", 3, 5, 2, seed=4)
        with ar.lean_graph(lean), ar.record_gradients(False):
            result = ar.train.tbptt(model, x, target, lambda y, t, m: ar.train.mse_loss(y, t),
                                    k1=3, k2=2)
        grads[lean] = ([p.grad for p in model.parameters()], result.loss)
    assert grads[True][1] == grads[False][1]
    for g_lean, g_full in zip(grads[True][0], grads[False][0], strict=True):
        np.testing.assert_allclose(g_lean, g_full, rtol=EXACT, atol=EXACT)


def test_trainer_and_bench_training_steps_record_lean_graphs(monkeypatch):
    from autograd_rnn.core import primitive
    from autograd_rnn.core.state import STATE
    from bench import engine_models, run

    calls = []
    real = primitive.Primitive.apply

    def counting(self, inputs, params=primitive.NO_PARAMS):
        if STATE.lean and not STATE.listeners and STATE.grad_enabled:  # records a lean node
            calls.append(self.name)
        return real(self, inputs, params)

    monkeypatch.setattr(primitive.Primitive, "apply", counting)
    trainer = ar.train.Trainer(ar.train.TrainConfig(task="sine", seq_len=4, hidden=3, batch=2))
    trainer.train_step()
    assert "tanh" in calls and "matmul" in calls
    calls.clear()
    params, x, targets = run.problem("lstm", (3, 2, 4, 5, 6))
    engine_models.engine_step("lstm", params, x, targets, record_gradients=False)
    assert "sigmoid" in calls
    calls.clear()
    engine_models.engine_step("lstm", params, x, targets, record_gradients=True)
    assert not calls  # drawing needs the full graph


def test_backward_with_retain_graph_keeps_the_callers_lean_graph():
    # issue 17's planted bug: gradients right, but the result tensor lost its graph
    x = ar.tensor([0.5, -1.0], requires_grad=True, name="x")
    with ar.lean_graph():
        y = (ar.tanh(x) * 2.0).sum()
    assert ar.viz.to_networkx(y).number_of_nodes() == 4  # x, tanh, multiply, sum
    y.backward(retain_graph=True)
    assert ar.viz.to_networkx(y).number_of_nodes() == 4
    assert y.args is not None and y.parents[0] is not None and y.parents[0].args is not None
    y.backward()  # and the graph still backpropagates
    np.testing.assert_allclose(x.grad, 2 * 2.0 * (1 - np.tanh(x.data) ** 2), rtol=EXACT)


@pytest.mark.parametrize("detail", ["ops", "cells", "textbook"])
def test_lean_graphs_draw_with_values_not_kept_said_so(detail):
    model = nn.SequenceModel("lstm", 2, 3, 2, seed=0)
    x = np.random.default_rng(0).standard_normal((3, 1, 2))
    with ar.lean_graph():
        y, _ = model(x)
        loss = (y * y).sum()
    loss.name = "loss"
    loss.backward()
    source = ar.viz.to_dot(loss, detail=detail, show_values=True).source
    assert "nan" not in source.lower()
    if detail == "ops":
        assert "value not kept (lean graph)" in source
    graph = ar.viz.to_networkx(loss)
    assert graph.nodes[loss.id]["value_norm"] is None  # sum keeps no value


def test_dropped_markers_are_per_dtype_and_shape():
    a, b = dropped(np.ones((3, 2))), dropped(np.ones((3, 2), dtype=np.float32))
    assert a is not b and a.dtype == np.float64 and b.dtype == np.float32
    assert dropped(np.zeros((2, 3))) is not a and dropped(np.zeros((3, 2))) is a
    assert dropped(np.ones((3, 2), dtype=">f8")).dtype == np.dtype(">f8")


def test_lean_graph_pauses_the_cyclic_collector_and_restores_it():
    assert gc.isenabled()
    with ar.lean_graph():
        assert not gc.isenabled()
        with ar.lean_graph(False):  # a full graph inside: the collector stays as it was
            assert not gc.isenabled()
        with ar.lean_graph():
            assert not gc.isenabled()
        assert not gc.isenabled()
    assert gc.isenabled()
    with ar.lean_graph(False):
        assert gc.isenabled()
    gc.disable()
    try:
        with ar.lean_graph():
            pass
        assert not gc.isenabled()  # off before: left off
    finally:
        gc.enable()
    with pytest.raises(RuntimeError), ar.lean_graph():
        raise RuntimeError("restored on errors too")
    assert gc.isenabled()
