"""The op-level and cells views as laid out by Graphviz: time order everywhere (timestep
boxes, inputs, states and losses in t order, never a staircase), few crossings, a small
legend that lists only what the figure uses."""

import re

import numpy as np
import pytest
from layout_parse import laid_out, needs_dot

import autograd_rnn as ar
from autograd_rnn.viz import build_example, to_dot

pytestmark = needs_dot


def _nodes(layout, pattern, steps):
    return [layout.one(pattern.format(t)) for t in range(1, steps + 1)]


def _boxes(layout, parent_label):
    """Timestep clusters ("t=k", k >= 1) inside the cluster labelled ``parent_label``."""
    parents = [c for c in layout.clusters if c["label"] == parent_label]
    found = []
    for parent in parents:
        x0, y0, x1, y1 = parent["bb"]
        for c in layout.clusters:
            m = re.fullmatch(r"t=(\d+)", c["label"] or "")
            bx0, by0, bx1, by1 = c["bb"]
            if m and int(m.group(1)) > 0 and x0 <= bx0 and bx1 <= x1 and y0 <= by0 \
                    and by1 <= y1:
                found.append((int(m.group(1)), c["bb"]))
    return sorted(found)


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_op_level_view_runs_left_to_right_in_time_order(cell):
    steps = 4
    layout = laid_out(to_dot(build_example(cell, steps).loss, detail="ops").source)
    xs = _nodes(layout, r"x_{} \(", steps)
    hs = _nodes(layout, r"h_{} = ", steps)
    losses = _nodes(layout, r"L_{} = ", steps)
    for column in (xs, hs, losses):
        assert [n.x for n in column] == sorted(n.x for n in column)
    for t in range(steps - 1):
        assert hs[t].x < xs[t + 1].x  # x_{t+1} comes after h_t: no inputs piled up left
    boxes = _boxes(layout, "layer0")
    assert [t for t, _ in boxes] == list(range(1, steps + 1))
    # one horizontal band: every box overlaps the first one vertically (no staircase)
    y0, y1 = boxes[0][1][1], boxes[0][1][3]
    assert all(bb[1] < y1 and bb[3] > y0 for _, bb in boxes)
    assert all(a[2] <= b[0] for (_, a), (_, b) in zip(boxes, boxes[1:], strict=False))


def test_four_step_rnn_op_level_has_at_most_100_crossings():
    layout = laid_out(to_dot(build_example("rnn", 4).losses, detail="ops").source)
    assert layout.crossings <= 100  # was 6,042 with the weights fanned out to every step


def test_top_to_bottom_keeps_time_order_too():
    layout = laid_out(to_dot(build_example("rnn", 3).loss, detail="ops", rankdir="TB").source)
    hs = _nodes(layout, r"h_{} = ", 3)
    xs = _nodes(layout, r"x_{} \(", 3)
    assert [n.y for n in hs] == sorted((n.y for n in hs), reverse=True)  # y grows upwards
    assert [n.y for n in xs] == sorted((n.y for n in xs), reverse=True)


def test_truncated_run_losses_and_cells_in_time_order():
    ex = build_example("rnn", 6, truncate=3)
    layout = laid_out(to_dot(ex.losses, detail="cells").source)
    cells = _nodes(layout, r"rnn/layer0 t={}$", 6)
    losses = _nodes(layout, r"loss t={}$", 6)
    xs = _nodes(layout, r"x_{} \(", 6)
    for row in (cells, losses, xs):
        assert [n.x for n in row] == sorted(n.x for n in row)
    assert all(x.x < c.x for x, c in zip(xs, cells, strict=True))  # x_t drawn, before its cell
    assert layout.crossings <= 100
    cut = [e for e in layout.edges if e["attrs"].get("style") == "dashed"]
    assert len(cut) == 1 and float(cut[0]["attrs"]["penwidth"]) >= 3


def test_nn_model_op_graph_is_in_time_order():
    model = ar.nn.SequenceModel("rnn", 1, 16, 1, seed=0)
    y, _ = model(np.random.default_rng(0).normal(size=(4, 1, 1)))
    loss = ((y - 1.0) ** 2).mean()
    loss.backward()
    layout = laid_out(to_dot(loss, detail="ops").source)
    ys = _nodes(layout, r"y_{} = ", 4)
    hs = _nodes(layout, r"h_{} = ", 4)
    assert [n.x for n in ys] == sorted(n.x for n in ys)
    assert all(h.x < y.x for h, y in zip(hs, ys, strict=True))  # each output after its h_t
    assert [t for t, _ in _boxes(layout, "output")] == [1, 2, 3, 4]
    assert layout.crossings <= 100


def test_shared_weights_use_a_bus_at_every_length_unless_fanned_out():
    ex = build_example("rnn", 3)
    bus = to_dot(ex.loss, detail="cells").source
    fan = to_dot(ex.loss, detail="cells", bus=False).source
    assert re.search(r"n\d+b0 \[", bus) and not re.search(r"n\d+b0 \[", fan)
    assert laid_out(bus).crossings <= laid_out(fan).crossings


def test_legend_lists_only_what_the_figure_uses():
    plain = to_dot(build_example("rnn", 2).loss, detail="ops").source
    legend = re.search(r"legend \[.*", plain).group(0)
    assert "detached" not in legend and "log scale" in legend
    assert legend.count("<tr>") <= 6  # a ramp and the keys used; was a 12-row table
    cut = to_dot(build_example("rnn", 4, truncate=2).losses, detail="ops").source
    assert "detached" in re.search(r"legend \[.*", cut).group(0)
