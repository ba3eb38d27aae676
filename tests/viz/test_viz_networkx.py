"""networkx export: acyclic, linear in T, attributes equal the recorded values."""

import networkx as nx
import numpy as np
import pytest

import autograd_rnn as ar
from autograd_rnn.viz import build_example, to_networkx


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_acyclic_and_node_count_linear_in_T(cell):
    sizes = {}
    for steps in (2, 4, 8):
        g = to_networkx(build_example(cell, steps).loss)
        assert nx.is_directed_acyclic_graph(g)
        sizes[steps] = g.number_of_nodes()
    per_step = sizes[4] - sizes[2]
    assert per_step > 0
    assert sizes[8] - sizes[4] == 2 * per_step  # exactly linear: a constant cost per step


def test_node_and_edge_attributes():
    ex = build_example("rnn", 3)
    g = to_networkx(ex.loss)
    W_h = ex.params["W_h"]
    attrs = g.nodes[W_h.id]
    assert attrs["kind"] == "param" and attrs["op"] == "leaf" and attrs["name"] == "W_h"
    assert attrs["shape"] == (3, 3)
    np.testing.assert_allclose(attrs["grad_norm"], np.linalg.norm(W_h.grad))
    h2 = ex.hidden[2]
    assert g.nodes[h2.id]["op"] == "tanh" and g.nodes[h2.id]["scope"] == "rnn/layer0/t=2"
    np.testing.assert_allclose(g.nodes[h2.id]["value_norm"], np.linalg.norm(h2.data))
    # an edge's gradient norm is the recorded contribution
    child = next(c for c in g.successors(W_h.id))
    i = [p is W_h.node for p in g.nodes[child]["tensor"].parents].index(True)
    expected = np.linalg.norm(g.nodes[child]["tensor"].edge_grads[i])
    np.testing.assert_allclose(g.edges[W_h.id, child]["grad_norm"], expected)
    assert nx.topological_sort(g)  # usable by networkx algorithms
    assert list(nx.topological_sort(g))[-1] == ex.loss.id


def test_repeated_parent_is_one_edge_with_multiplicity_and_summed_gradient():
    a = ar.tensor([1.0, -2.0], requires_grad=True, name="a")
    y = (a * a).sum()
    y.backward()
    g = to_networkx(y)
    square = y.parents[0]
    data = g.edges[a.id, square.id]
    assert data["multiplicity"] == 2
    np.testing.assert_allclose(data["grad_norm"], np.linalg.norm(2 * a.data))


def test_before_backward_grad_norms_are_none():
    g = to_networkx(build_example("gru", 2, backward=False).loss)
    assert all(d["grad_norm"] is None for _, d in g.nodes(data=True))
    assert all(d["grad_norm"] is None for _, _, d in g.edges(data=True))
