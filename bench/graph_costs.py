"""Graph-side costs: construction time per node and exporting a large graph.

- construction: the forward pass alone (recording the graph), divided by the node count;
- export: ``ar.viz.to_dot`` (rendering the DOT source text, no Graphviz layout) and
  ``ar.viz.to_networkx`` of an unrolled RNN graph of at least ``nodes`` nodes, after a
  backward with gradient recording on (so edges carry gradients, as when drawing).
Exporters that the installed package does not provide are reported as "not available".
"""
from __future__ import annotations

import importlib
import time

import numpy as np

import autograd_rnn as ar
from bench import engine_models as em
from bench import handwritten as hw

NODES_PER_RNN_STEP = 5  # matmul, matmul, add, add, tanh


def construction_cost(kind: str, leaves: dict, x: np.ndarray, targets: np.ndarray,
                      repeats: int) -> dict:
    """Median forward (graph recording) CPU time, node count and microseconds per node."""
    times = []
    nodes = 0
    for _ in range(max(1, repeats)):
        start = time.process_time()
        loss = em.forward(kind, leaves, x, targets)
        times.append(time.process_time() - start)
        nodes = len(ar.reachable([loss], only_requires_grad=False))
        del loss
    median = float(np.median(times))
    return {"forward_s": median, "nodes": nodes, "us_per_node": median / nodes * 1e6}


def _exporter(name: str):
    try:
        viz = importlib.import_module("autograd_rnn.viz")
    except ImportError:
        return None
    return getattr(viz, name, None)


def _big_graph(nodes: int):
    """An RNN graph (B=2, D=H=V=8) unrolled long enough to hold at least ``nodes`` nodes."""
    T = max(2, nodes // NODES_PER_RNN_STEP)
    params = hw.rnn_params(8, 8, 8, seed=0)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((T, 2, 8))
    targets = rng.integers(0, 8, size=(T, 2))
    leaves = em.make_leaves("rnn", params)
    loss = em.forward("rnn", leaves, x, targets)
    with ar.record_gradients(True):
        loss.backward()
    return loss, len(ar.reachable([loss], only_requires_grad=False))


def export_costs(nodes: int = 10_000) -> dict:
    """CPU seconds to export a >= ``nodes``-node graph to DOT source and to networkx."""
    loss, count = _big_graph(nodes)
    result: dict = {"nodes": count}
    to_dot = _exporter("to_dot")
    if to_dot is None:
        result["dot_s"] = "not available"
    else:
        start = time.process_time()
        graph = to_dot(loss, max_nodes=None)
        source = getattr(graph, "source", graph)
        result["dot_s"] = time.process_time() - start
        result["dot_chars"] = len(source)
    to_networkx = _exporter("to_networkx")
    if to_networkx is None:
        result["networkx_s"] = "not available"
    else:
        start = time.process_time()
        try:
            g = to_networkx(loss, max_nodes=None)
        except TypeError:  # exporter without a size limit parameter
            g = to_networkx(loss)
        result["networkx_s"] = time.process_time() - start
        result["networkx_nodes"] = g.number_of_nodes()
    return result
