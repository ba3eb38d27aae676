"""Edge gradients recorded lazily (``core/lazy_edges.py``): what the bulk paths skip is
computed on first read of ``node.edge_grads``, equal to the eager VJP call, holding no more
memory than the eager gradient, and guarded against in-place changes."""

from __future__ import annotations

import gc

import numpy as np
import pytest

import autograd_rnn as ar
from autograd_rnn import nn
from autograd_rnn.core.backward import reachable
from autograd_rnn.core.errors import InPlaceError
from autograd_rnn.core.lazy_edges import LazyEdge, LazyEdges
from autograd_rnn.core.state import STATE
from autograd_rnn.core.vjp import input_gradients
from bench import engine_models
from bench.run import problem

ROUND_OFF = 1e-12


def _lazy_entries(nodes) -> list[LazyEdge]:
    """The lazy entries of ``nodes`` not read yet (reading ``edge_grads`` resolves them)."""
    return [e for n in nodes if type(n._edge_grads) is LazyEdges
            for e in n._edge_grads if type(e) is LazyEdge]


def _per_step_graph(kind: str):
    params, x, targets = problem(kind, (5, 3, 4, 6, 7))
    leaves = engine_models.make_leaves(kind, params)
    return engine_models.per_step_forward(kind, leaves, x, targets)


def _sequence_graph(cell: str):
    rng = np.random.default_rng(3)
    model = nn.SequenceModel(cell, 4, 6, 3, num_layers=2, bidirectional=True, seed=5)
    y, _ = model(rng.standard_normal((5, 3, 4)), lengths=[5, 2, 4])
    return ar.train.cross_entropy(y, rng.integers(0, 3, (5, 3)))


GRAPHS = {f"per-step {k}": (lambda k=k: _per_step_graph(k)) for k in ("rnn", "lstm")}
GRAPHS.update({f"sequence {c}": (lambda c=c: _sequence_graph(c)) for c in ("rnn", "lstm", "gru")})


@pytest.mark.parametrize("name", GRAPHS)
def test_recording_keeps_bulk_edges_lazy_and_reads_them_as_the_eager_vjp(name):
    out = GRAPHS[name]()
    out.backward()
    nodes = reachable([out])
    lazy = _lazy_entries(nodes)
    assert lazy, "no edge was left to the bulk paths"
    expected = {n: input_gradients(n, n.grad) for n in nodes if n.op is not None}
    for node, want in expected.items():
        edges = node.edge_grads
        assert type(edges) is tuple and node.edge_grads is edges  # resolved once, kept
        for edge, w in zip(edges, want, strict=True):
            assert (edge is None) == (w is None)
            if w is not None:
                assert edge.dtype == w.dtype
                np.testing.assert_array_equal(edge, w, err_msg=node.label)
    assert not _lazy_entries(nodes)


@pytest.mark.parametrize("name", GRAPHS)
def test_a_freed_recorded_graph_reads_the_same_edges_as_an_eager_sweep(name):
    """``retain_graph=False`` frees the nodes' inputs: lazy edges keep (copies of) what
    they need. The eager sweep (anomaly checks on) records the same gradients."""
    recorded = []
    for eager in (False, True):
        out = GRAPHS[name]()
        nodes = reachable([out])  # (backward cuts the parent links)
        with ar.detect_anomaly(eager):
            out.backward(retain_graph=False)
        assert bool(_lazy_entries(nodes)) is not eager
        recorded.append([(n.grad, n.edge_grads) for n in nodes])
    for (grad, edges), (eager_grad, eager_edges) in zip(*recorded, strict=True):
        np.testing.assert_allclose(grad, eager_grad, rtol=ROUND_OFF, atol=ROUND_OFF)
        assert (edges is None) == (eager_edges is None)
        for edge, want in zip(edges or (), eager_edges or (), strict=True):
            assert (edge is None) == (want is None)
            if want is not None:
                np.testing.assert_allclose(edge, want, rtol=ROUND_OFF, atol=ROUND_OFF)


def _weight_use(batch: int, retain: bool, x=None):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((batch, 3)) if x is None else x
    w = ar.tensor(rng.standard_normal((3, 2)), requires_grad=True, name="W")
    y = x @ w
    (y * y).sum().backward(retain_graph=retain)
    return y.node, x, w


def test_a_lazy_edge_holds_no_more_than_the_eager_gradient_once_the_graph_is_freed():
    small, _, _ = _weight_use(batch=2, retain=False)  # input (2, 3): smaller than W (3, 2)
    big, _, _ = _weight_use(batch=8, retain=False)  # input (8, 3): larger
    assert type(small._edge_grads[1]) is LazyEdge
    assert type(big._edge_grads) is tuple and type(big._edge_grads[1]) is np.ndarray


def test_a_constant_input_changed_after_backward_does_not_change_the_edge():
    node, x, _ = _weight_use(batch=2, retain=True)
    want = x.T @ node.grad
    x[...] = 0.0  # a NumPy array passed to the op: copied by the lazy edge
    np.testing.assert_array_equal(node.edge_grads[1], want)


def test_an_input_changed_in_place_after_backward_is_caught_when_the_edge_is_read():
    x = ar.tensor(np.random.default_rng(1).standard_normal((2, 3)), name="x")
    node, _, w = _weight_use(batch=2, retain=True, x=x)
    w.data -= 0.1 * w.grad  # an in-place update of the weight: no lazy edge reads it
    x.data[...] += 1.0  # the input the lazy edge for W reads
    with pytest.raises(InPlaceError, match="reading edge_grads.*'x"):
        node.edge_grads  # noqa: B018


def test_an_in_place_weight_update_leaves_the_recorded_edges_readable():
    x = ar.tensor(np.random.default_rng(1).standard_normal((2, 3)), name="x")
    node, _, w = _weight_use(batch=2, retain=True, x=x)
    want = x.data.T @ node.grad
    w.data -= 0.1 * w.grad
    np.testing.assert_array_equal(node.edge_grads[1], want)


@pytest.mark.parametrize("mode", ["anomaly", "trace", "create_graph"])
def test_sweeps_observing_every_contribution_record_eager_edges(mode):
    with ar.detect_anomaly(mode == "anomaly"):
        if mode == "trace":
            with ar.viz.trace() as tape:
                out = _per_step_graph("lstm")
            tape.backward(out)
        else:
            out = _per_step_graph("lstm")
            out.backward(create_graph=mode == "create_graph")
    nodes = [n for n in reachable([out]) if n.op is not None]
    assert all(type(n._edge_grads) is tuple for n in nodes)
    assert all(type(e) is np.ndarray for n in nodes for e in n._edge_grads if e is not None)


@pytest.mark.parametrize("enabled", [True, False])
def test_backward_pauses_the_garbage_collector_and_restores_it(enabled):
    seen = []
    was = gc.isenabled()
    try:
        gc.enable() if enabled else gc.disable()
        _per_step_graph("rnn").backward()  # the bulk sweep
        assert gc.isenabled() is enabled
        out = _per_step_graph("rnn")
        STATE.listeners.append(lambda *event: seen.append(gc.isenabled()))
        try:
            out.backward()  # the eager sweep, observed from inside
        finally:
            STATE.listeners.pop()
        assert gc.isenabled() is enabled
    finally:
        gc.enable() if was else gc.disable()
    assert seen and not any(seen)
