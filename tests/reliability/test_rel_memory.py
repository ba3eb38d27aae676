"""A graph is freed as soon as the last reference to it goes: no reference cycles (so no
wait for Python's cyclic garbage collector, which matters for 10,000-step graphs in a
training loop) and nothing global (listeners, caches, detached states) keeps it alive."""

from __future__ import annotations

import gc
import weakref

import numpy as np
import pytest

import autograd_rnn as ar
from autograd_rnn.train import mse_loss


@pytest.fixture
def no_cyclic_gc():
    gc.collect()
    gc.disable()
    yield
    gc.enable()


def _weak_graph(record: bool, create_graph: bool, model):
    x = np.random.default_rng(0).standard_normal((6, 2, 2))
    with ar.record_gradients(record):
        y, state = model(x)
        loss = mse_loss(y, np.zeros((6, 2, 1)))
        if create_graph:
            grads = ar.grad(loss, list(model.parameters()), create_graph=True)
            refs = [weakref.ref(g) for g in grads]
        else:
            loss.backward()
            refs = []
    refs += [
        weakref.ref(t) for t in ar.reachable([loss], only_requires_grad=False) if t.op is not None
    ]
    return refs


@pytest.mark.parametrize("record", [True, False], ids=["recording", "training-mode"])
@pytest.mark.parametrize("create_graph", [False, True], ids=["backward", "create_graph"])
@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_graph_is_freed_by_reference_counting(no_cyclic_gc, record, create_graph, cell):
    model = ar.nn.SequenceModel(cell, 2, 3, 1, seed=0)
    refs = _weak_graph(record, create_graph, model)
    assert len(refs) > 30
    alive = [r() for r in refs if r() is not None]
    assert not alive, f"{len(alive)} graph nodes still alive, e.g. {alive[0].label}"


def test_a_detached_state_does_not_keep_its_graph_alive(no_cyclic_gc):
    model = ar.nn.RNN(2, 3)
    out, h = model(np.ones((4, 1, 2)))
    carried = h.detach()
    ref = weakref.ref(h)
    del out, h
    assert ref() is None
    assert carried.detached_from() is None  # the weak link reports the graph is gone


def test_parameters_hold_no_graph_after_zero_grad(no_cyclic_gc):
    model = ar.nn.SequenceModel("lstm", 2, 3, 1)
    y, _ = model(np.ones((4, 1, 2)))
    (y * y).sum().backward()
    ref = weakref.ref(y)
    del y
    model.zero_grad()
    assert ref() is None
    for name, p in model.named_parameters():
        assert p.grad is None and p.grad_tensor is None, name


def test_contexts_restore_global_state_when_interrupted():
    import autograd_rnn.viz as viz
    from autograd_rnn.core.state import STATE

    before = (
        STATE.grad_enabled,
        STATE.scope,
        STATE.anomaly,
        STATE.record_gradients,
        list(STATE.listeners),
    )
    with pytest.raises(KeyboardInterrupt):
        with viz.trace(), ar.detect_anomaly(), ar.scope("a"), ar.record_gradients(False):
            with ar.no_grad():
                raise KeyboardInterrupt
    after = (
        STATE.grad_enabled,
        STATE.scope,
        STATE.anomaly,
        STATE.record_gradients,
        list(STATE.listeners),
    )
    assert after == before
