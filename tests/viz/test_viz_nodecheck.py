"""Per-node VJP check: passes on the engine's ops, finds a wrong custom op in the picture."""

import numpy as np
import pytest
from vizdot_parse import parse_dot

import autograd_rnn as ar
from autograd_rnn.viz import build_example, check_nodes, to_dot


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_every_node_of_the_unrolled_cells_passes(cell):
    ex = build_example(cell, 2, batch=2)
    report = check_nodes(ex.loss)
    assert report, str(report)
    ops = {r.op for r in report.results}
    assert {"matmul", "add", "tanh"} <= ops
    assert len(report.results) > 20


def _wrong_cube_graph():
    cube = ar.Primitive(lambda x: x**3, name="cube_wrong_for_test", register=False)
    cube.defvjp(lambda g, out, x: g * 2 * x)  # wrong on purpose: should be 3 x^2
    x = ar.tensor(np.array([0.5, -1.2, 2.0]), requires_grad=True, name="x")
    w = ar.tensor(np.array([0.3, 0.8, -0.4]), requires_grad=True, name="w")
    with ar.scope("model"):
        product = x * w
        loss = cube(product).tanh().sum()
    loss.backward()
    return loss, product


def test_a_wrong_custom_op_fails_and_only_it():
    loss, product = _wrong_cube_graph()
    report = check_nodes(loss)
    assert not report
    (failure,) = report.failed
    assert failure.op == "cube_wrong_for_test" and failure.scope == "model"
    assert failure.parent_id == product.id
    # the numeric slope is 3x^2-based, the analytic one 2x-based: far apart
    assert failure.abs_error > 1e-2
    assert "FAILED cube_wrong_for_test in model" in str(report)


def test_failures_are_coloured_in_the_export():
    loss, product = _wrong_cube_graph()
    report = check_nodes(loss)
    dot = parse_dot(to_dot(loss, node_check=report).source)
    bad = [k for k, a in dot.nodes.items() if "VJP CHECK FAILED" in a.get("label", "")]
    assert len(bad) == 1
    assert dot.nodes[bad[0]]["label"].startswith("cube_wrong_for_test")
    assert dot.nodes[bad[0]]["color"] == "#D55E00"
    failed_edges = [e for e in dot.edges if "VJP CHECK FAILED" in e[2].get("label", "")]
    assert len(failed_edges) == 1 and failed_edges[0][1] == bad[0]
    clean = parse_dot(to_dot(loss).source)
    assert not any("FAILED" in a.get("label", "") for a in clean.nodes.values())


def test_kinks_are_reported_not_failed():
    x = ar.tensor(np.array([0.0, 1.0]), requires_grad=True)
    loss = x.relu().sum()
    report = check_nodes(loss)
    assert report
    assert any(r.kink for r in report.results)
    assert "kinks" in str(report)


def test_only_selected_ops_and_reproducible():
    ex = build_example("rnn", 2)
    a = check_nodes(ex.loss, ops={"tanh"}, seed=3)
    b = check_nodes(ex.loss, ops={"tanh"}, seed=3)
    assert {r.op for r in a.results} == {"tanh"}
    assert [r.numeric for r in a.results] == [r.numeric for r in b.results]
