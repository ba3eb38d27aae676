"""The textbook view's model: boxes, rows, arrows and weight contributions from the graph."""

import re

import numpy as np
import pytest
from vizdot_parse import parse_dot

import autograd_rnn as ar
from autograd_rnn.viz import build_example, to_dot
from autograd_rnn.viz.textbook import build_textbook

WEIGHTS = ("W_x", "W_h", "W_y")


def _weight_sums(book):
    """{param id: sum of the contributions written on arrows}, each box counted once."""
    sums = {}
    for arrow in book.arrows:
        for w in arrow.weights:
            if w.contribution is not None:
                sums[id(w.param)] = sums.get(id(w.param), 0) + w.contribution
    return sums


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
@pytest.mark.parametrize("options", [{}, {"truncate": 2}, {"layers": 2},
                                     {"bidirectional": True}, {"loss_at": "last"}])
def test_arrow_contributions_sum_to_each_weights_gradient(cell, options):
    ex = build_example(cell, 4, **options)
    book = build_textbook(ex.losses)
    sums = _weight_sums(book)
    weights = [p for p in ex.params.values() if p.name in WEIGHTS]
    assert weights
    for p in weights:
        np.testing.assert_allclose(sums[id(p.node)], p.grad, rtol=1e-10, atol=1e-14)
    for row in book.params:  # the table: every parameter, its contributions add up too
        np.testing.assert_allclose(row.total, row.param.grad, rtol=1e-10, atol=1e-14)
        assert len(row.contributions) == row.uses


def test_boxes_rows_and_columns_of_an_lstm():
    ex = build_example("lstm", 3)
    book = build_textbook(ex.loss)
    assert book.rows == ["x", "lstm/layer0:c", "lstm/layer0:h", "y", "Lt", "loss"]
    assert book.columns == [0, 1, 2, 3]
    names = {(n.row, n.column): n.anchor.name for n in book.nodes}
    for t in (1, 2, 3):
        assert names[("x", t)] == f"x_{t}" and names[("y", t)] == f"y_{t}"
        assert names[("lstm/layer0:h", t)] == f"h_{t}"
        assert names[("lstm/layer0:c", t)] == f"c_{t}"
    assert names[("lstm/layer0:h", 0)] == "h_0" and names[("lstm/layer0:c", 0)] == "c_0"
    assert len([n for n in book.nodes if n.kind == "loss"]) == 1  # L once
    # the conveyor belt c_{t-1} -> c_t is its own arrow; the gates are named on W_x and W_h
    conveyor = [a for a in book.arrows if a.src.kind == a.dst.kind == "c"]
    assert len(conveyor) == 3
    gated = [w for a in book.arrows for w in a.weights if w.label in ("W_x", "W_h")]
    assert gated and all(w.gates == "i f g o" for w in gated)


def test_gru_gates_and_every_arrow_gradient_recorded():
    ex = build_example("gru", 3)
    book = build_textbook(ex.loss)
    assert {w.gates for a in book.arrows for w in a.weights if w.label == "W_h"} == {"r z n"}
    recurrent = [a for a in book.arrows if a.src.kind == a.dst.kind == "h"]
    assert [a.dst.column for a in recurrent] == [1, 2, 3]
    # the gradient on h_{t-1} -> h_t is what step t sent back to h_{t-1}
    for a in recurrent[1:]:
        assert a.grad_norm is not None and a.grad_norm > 0


def test_truncated_run_has_chunks_and_a_detached_arrow_per_state():
    ex = build_example("lstm", 6, truncate=3)
    book = build_textbook(ex.losses)
    assert book.chunks == [(0, 3), (4, 6)]
    cut = [a for a in book.arrows if a.kind == "detached"]
    assert sorted((a.src.anchor.name, a.dst.anchor.name) for a in cut) == [
        ("c_3", "c_4"), ("h_3", "c_4")]
    assert all(not a.grads for a in cut)  # no gradient crosses the cut
    assert len([n for n in book.nodes if n.kind == "loss"]) == 2  # one loss per chunk
    # only the second chunk drawn: its start is marked as coming from an earlier chunk
    later = build_textbook(ex.losses[1])
    assert [n.kind for n in later.nodes if n.kind == "cut"] == ["cut", "cut"]


def test_stacked_and_bidirectional_rows():
    ex = build_example("rnn", 3, layers=2)
    book = build_textbook(ex.loss)
    assert book.rows == ["x", "rnn/layer0:h", "rnn/layer1:h", "y", "Lt", "loss"]
    assert {r.label for r in book.params} >= {"W_x (layer0)", "W_x (layer1)"}
    bi = build_textbook(build_example("gru", 3, bidirectional=True).loss)
    assert bi.rows == ["gru/layer0_reverse:h", "x", "gru/layer0:h", "y", "Lt", "loss"]
    back = [a for a in bi.arrows if a.src.row == a.dst.row == "gru/layer0_reverse:h"]
    assert back and all(a.src.column > a.dst.column for a in back)  # right to left
    (h0,) = [n for n in bi.nodes if n.row == "gru/layer0_reverse:h" and n.anchor.name == "h_0"]
    assert h0.column == 4  # the reverse direction starts at the right edge


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_nn_models_draw_from_their_scopes(cell):
    model = ar.nn.SequenceModel(cell, 2, 3, 1, num_layers=2, seed=0)
    y, _ = model(np.random.default_rng(0).normal(size=(4, 1, 2)))
    loss = (y * y).sum()
    loss.backward()
    book = build_textbook(loss)
    layers = sorted({n.layer for n in book.nodes if n.kind == "h"})
    assert layers == [f"{cell}/layer0", f"{cell}/layer1"]
    assert [n.anchor.name for n in book.nodes if n.row == "y"] == ["y_1", "y_2", "y_3", "y_4"]
    sums = _weight_sums(book)
    for p in model.parameters():
        if p.name in WEIGHTS:
            np.testing.assert_allclose(sums[id(p.node)], p.grad, rtol=1e-10, atol=1e-14)


def test_labels_begin_with_the_names_and_show_the_numbers():
    ex = build_example("rnn", 3)
    dot = parse_dot(to_dot(ex.loss, detail="textbook").source)
    labels = [a.get("label", "") for a in dot.nodes.values()]
    for t in (1, 2, 3):
        (h,) = [label for label in labels if label.startswith(f"h_{t}\\n")]
        shown = float(re.search(r"\|dL/dh_\d\| = ([\d.e-]+)", h).group(1))
        np.testing.assert_allclose(shown, np.linalg.norm(ex.hidden[t].grad), rtol=5e-3)
        assert any(label == f"x_{t}" for label in labels)
        assert any(label.startswith(f"L_{t} = ") for label in labels)
    assert any(label.startswith("L = ") for label in labels)
    edge_labels = [e[2].get("label", "") for e in dot.edges]
    shown = sorted(float(m) for lab in edge_labels for m in re.findall(r"W_h: ([\d.e-]+)", lab))
    book = build_textbook(ex.loss)
    truth = sorted(np.linalg.norm(w.contribution) for a in book.arrows for w in a.weights
                   if w.label == "W_h")
    np.testing.assert_allclose(shown, truth, rtol=5e-3, atol=1e-12)
    table = dot.nodes["params"]["label"]
    assert f"|dL/dW_h| = {float(np.linalg.norm(ex.params['W_h'].grad)):.3g}" in table
    assert table.count("= sum of 3 contributions") == 5


def test_forward_only_and_errors():
    ex = build_example("rnn", 3, backward=False)
    dot = to_dot(ex.loss, detail="textbook").source
    assert "gradients not computed yet" in dot and "|g|" not in dot and "used at 3 steps" in dot
    x = ar.tensor([1.0, 2.0], requires_grad=True, name="x")
    with pytest.raises(ValueError, match="named h_1, h_2"):
        to_dot((x * x).sum(), detail="textbook")
    with pytest.raises(ValueError, match="detail must be one of"):
        to_dot((x * x).sum(), detail="book")


def test_auto_detail_picks_ops_for_short_graphs_and_textbook_for_longer():
    assert "subgraph cluster_" in to_dot(build_example("rnn", 2).loss).source  # ops
    three = to_dot(build_example("rnn", 3).loss).source
    assert "params [label=<" in three and "rankdir=BT" in three  # textbook
    rng = np.random.default_rng(0)
    W = ar.tensor(rng.normal(size=(2, 2)), requires_grad=True, name="W_h")
    h = ar.tensor(np.ones((1, 2)), name="h_0")
    for t in range(1, 5):  # a hand-written RNN, names but no scopes: still a textbook view
        x_t = ar.tensor(rng.normal(size=(1, 2)), name=f"x_{t}")
        h = (x_t + h @ W).tanh()
        h.name = f"h_{t}"
    loss = h.sum()
    loss.backward()
    book = build_textbook(loss)
    assert [n.anchor.name for n in book.nodes if n.kind == "h"] == [f"h_{t}" for t in range(5)]
    assert [n.column for n in book.nodes if n.kind == "x"] == [1, 2, 3, 4]
    assert "rankdir=BT" in to_dot(loss).source
    z = ar.tensor([1.0], requires_grad=True)
    for _ in range(50):  # no recurrent names at all: every op
        z = z * 1.01
    assert "rankdir=LR" in to_dot(z).source


def test_stacked_truncated_run_cuts_every_layer_in_its_own_rows():
    ex = build_example("lstm", 4, layers=2, truncate=2)
    book = build_textbook(ex.losses)
    states = [n for n in book.nodes if n.kind in ("h", "c")]
    assert all(n.layer in ("lstm/layer0", "lstm/layer1") for n in states)
    assert len(states) == 2 * 2 * 5  # h and c, two layers, t = 0..4
    cut = [a for a in book.arrows if a.kind == "detached"]
    assert len(cut) == 4 and all(a.src.layer == a.dst.layer for a in cut)
    assert all(a.src.anchor.grad is not None for a in cut)  # the boxes show the originals
