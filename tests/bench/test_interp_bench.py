"""The interpreter benchmarks compare like with like: the per-step-output model's contenders
agree with the hand-written BPTT, and the per-node micro-benchmark's NumPy chains compute the
same forward values and gradients as the engine's."""

from __future__ import annotations

import numpy as np
import pytest

from bench import interp_compare, node_overhead


def test_per_step_contenders_match_the_hand_written_gradients():
    for kind in ("rnn", "lstm"):
        result = interp_compare.one_row(kind, "micro", repeats=1)
        assert {"hand-written", "engine", "rec on"} <= set(result["ms"])
        for name, error in result["errors"].items():
            assert error <= 1e-9, (kind, name, error)
        assert "| " + kind + " | micro |" in interp_compare.line(result)


@pytest.mark.parametrize("op", sorted(node_overhead.OPS))
def test_node_overhead_chains_compute_the_same_values_and_gradient(op):
    nodes = 7
    run, state = node_overhead.contenders(op, nodes)
    run["engine_forward"]()
    engine_out = state["graph"][0].data.copy()
    run["engine_backward"]()
    engine_grad = state["leaf"].grad.copy()
    run["numpy_forward"]()
    chain = state["graph"][0]
    np.testing.assert_allclose(chain[-1], engine_out, rtol=1e-12)
    _, _, numpy_vjp, c_shape = node_overhead.OPS[op]
    c = node_overhead._constant(op, c_shape)
    g = np.ones(node_overhead.SHAPE)
    for k in range(nodes, 0, -1):
        g = numpy_vjp(g, chain[k], chain[k - 1], c)
    np.testing.assert_allclose(g, engine_grad, rtol=1e-10)
    run["numpy_backward"]()
    assert state["graph"] == []


def test_trees_are_compared_row_by_row_in_turn(capsys):
    interp_compare.main(["--rows", "micro", "--kinds", "rnn", "--repeats", "1", "--no-torch",
                         "--tree", "one=.", "--tree", "two=."])
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("| model | row | tree |")
    assert [ln.split(" | ")[:3] for ln in lines[2:]] == [["| rnn", "micro", "one"],
                                                         ["| rnn", "micro", "two"]]
