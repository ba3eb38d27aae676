"""The op-level and cells views as laid out by Graphviz: one column per timestep like the
textbook (inputs at the bottom, states in one row in the middle, outputs and losses on top),
columns in time order left to right, never a staircase; few crossings; a small legend that
lists only what the figure uses."""

import re

import numpy as np
import pytest
from layout_parse import laid_out, needs_dot

import autograd_rnn as ar
from autograd_rnn.viz import build_example, to_dot

pytestmark = needs_dot


def _nodes(layout, pattern, steps):
    return [layout.one(pattern.format(t)) for t in range(1, steps + 1)]


def _boxes(layout):
    """The timestep boxes ("t=k") as (k, bounding box), in k order."""
    found = []
    for c in layout.clusters:
        m = re.fullmatch(r"t=(\d+)", c["label"] or "")
        if m:
            found.append((int(m.group(1)), c["bb"]))
    return sorted(found)


def _check_columns(layout, steps, state=r"h_{} = ", loss=r"L_{} = ", boxes=True):
    """x_t below h_t below L_t in every column; columns left to right in t; the states in
    one row; (ops view) one box per step, side by side, holding its column."""
    xs = _nodes(layout, r"x_{} \(", steps)
    hs = _nodes(layout, state, steps)
    losses = _nodes(layout, loss, steps)
    for row in (xs, hs, losses):
        assert [n.x for n in row] == sorted(n.x for n in row)
    assert len({round(n.y) for n in hs}) == 1 and len({round(n.y) for n in xs}) == 1
    for x, h, top in zip(xs, hs, losses, strict=True):
        assert x.y < h.y < top.y
    for t in range(steps - 1):  # column t+1 starts right of column t's state
        assert hs[t].x < xs[t + 1].x and hs[t].x < hs[t + 1].x
    if boxes:
        found = _boxes(layout)
        assert [t for t, _ in found] == list(range(1, steps + 1))
        assert all(a[2] <= b[0] for (_, a), (_, b) in zip(found, found[1:], strict=False))
        for (_, bb), x, h, top in zip(found, xs, hs, losses, strict=True):
            assert all(bb[0] <= n.x <= bb[2] and bb[1] <= n.y <= bb[3] for n in (x, h, top))


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_op_level_view_is_one_column_per_timestep_in_time_order(cell):
    steps = 4
    layout = laid_out(to_dot(build_example(cell, steps).loss, detail="ops").source)
    _check_columns(layout, steps)
    assert layout.crossings <= 30  # was 4,067 (a staircase), then 29 for the RNN
    assert min(layout.fontsizes) >= 10


def test_four_step_rnn_op_level_has_few_crossings_and_three_steps_fit_a_slide():
    layout = laid_out(to_dot(build_example("rnn", 4).losses, detail="ops").source)
    assert layout.crossings <= 10  # was 6,042 with the weights fanned out to every step
    three = laid_out(to_dot(build_example("rnn", 3).loss, detail="ops").source)
    assert three.width <= 1400 and three.height <= 1000, (three.width, three.height)
    assert min(three.fontsizes) >= 10  # was a 5,313 x 474 pt strip


def test_top_to_bottom_draws_the_columns_upside_down():
    layout = laid_out(to_dot(build_example("rnn", 3).loss, detail="ops", rankdir="TB").source)
    hs = _nodes(layout, r"h_{} = ", 3)
    xs = _nodes(layout, r"x_{} \(", 3)
    losses = _nodes(layout, r"L_{} = ", 3)
    assert [n.x for n in hs] == sorted(n.x for n in hs)  # time still left to right
    for x, h, top in zip(xs, hs, losses, strict=True):
        assert x.y > h.y > top.y  # each step's ops flow down (y grows upwards)


def test_truncated_run_losses_and_cells_in_time_order():
    ex = build_example("rnn", 6, truncate=3)
    layout = laid_out(to_dot(ex.losses, detail="cells", wrap=0).source)
    _check_columns(layout, 6, state=r"rnn/layer0 t={}$", loss=r"loss t={}$", boxes=False)
    assert layout.crossings == 0
    cut = [e for e in layout.edges if e["attrs"].get("style") == "dashed"]
    assert len(cut) == 1 and float(cut[0]["attrs"]["penwidth"]) >= 3
    (copy,) = layout.find(r"h_3 \(1, 3\)")  # the detached copy starts the second chunk
    c3, c4 = layout.one(r"rnn/layer0 t=3$"), layout.one(r"rnn/layer0 t=4$")
    assert c3.x < copy.x < c4.x and abs(copy.y - c4.y) < 2


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_cells_view_is_clean(cell):
    """The shared weights reach each cell through one labelled branch of a bus under the
    inputs (W_y, b_y over the losses): no wire crosses a cell or the loss row."""
    layout = laid_out(to_dot(build_example(cell, 3).loss, detail="cells").source)
    assert layout.crossings == 0  # the 3-step LSTM had 14 with the weights fanned out
    _check_columns(layout, 3, state=rf"{cell}/layer0 t={{}}$", loss=r"loss t={}", boxes=False)
    branches = [e for e in layout.edges if (e["tail"] or "").startswith("bus_bottom")
                and e["attrs"].get("arrowhead") != "none" and "invis" not in
                e["attrs"].get("style", "")]
    assert len(branches) == 3 and all("W_x: " in e["attrs"]["label"] for e in branches)


@pytest.mark.parametrize("truncate", [None, 5])
def test_long_cells_view_wraps_into_bands_without_crossings(truncate):
    from layout_parse import bands

    ex = build_example("rnn", 20, truncate=truncate)
    layout = laid_out(to_dot(ex.losses, detail="cells").source)
    assert layout.crossings == 0
    cells = _nodes(layout, r"rnn/layer0 t={}$", 20)
    found = bands(cells)
    assert len(found) >= 2 and [n for band in found for n in band] == cells  # t order
    for upper, lower in zip(found, found[1:], strict=False):
        assert max(n.y for n in lower) < min(n.y for n in upper)
    xs, losses = _nodes(layout, r"x_{} \(", 20), _nodes(layout, r"loss t={}$", 20)
    assert all(x.y < c.y < top.y for x, c, top in zip(xs, cells, losses, strict=True))
    # the weights: drawn once in a row over the figure, no wire; each cell's stub says
    # which weights it uses, with this step's shares
    params = [n for n in layout.nodes.values() if "grad = sum of 20 edges" in n.label]
    assert len(params) == 5 and min(p.y for p in params) > max(n.y for n in losses)
    drawn = {(e["tail"], e["head"]) for e in layout.edges
             if "invis" not in e["attrs"].get("style", "")}
    assert not any(p.name in pair for p in params for pair in drawn)
    stubs = [e for e in layout.edges if (e["tail"] or "").startswith("bus_bottom")
             and "invis" not in e["attrs"].get("style", "")]
    assert len(stubs) == 20 and all("W_h: " in e["attrs"]["label"] for e in stubs)


def test_nn_model_op_graph_is_in_time_order():
    model = ar.nn.SequenceModel("rnn", 1, 16, 1, seed=0)
    y, _ = model(np.random.default_rng(0).normal(size=(4, 1, 1)))
    loss = ((y - 1.0) ** 2).mean()
    loss.backward()
    layout = laid_out(to_dot(loss, detail="ops").source)
    ys = _nodes(layout, r"y_{} = ", 4)
    hs = _nodes(layout, r"h_{} = ", 4)
    assert [n.x for n in ys] == sorted(n.x for n in ys)
    assert all(h.y < y.y and abs(h.x - y.x) < 60 for h, y in zip(hs, ys, strict=True))
    assert [t for t, _ in _boxes(layout)] == [1, 2, 3, 4]
    assert layout.crossings <= 20


def test_shared_weights_use_a_bus_at_every_length_unless_fanned_out():
    ex = build_example("rnn", 3)
    bus = to_dot(ex.loss, detail="cells").source
    fan = to_dot(ex.loss, detail="cells", bus=False).source
    assert "bus_bottom1 [" in bus and "bus_top1 [" in bus and "bus_" not in fan
    assert laid_out(bus).crossings <= laid_out(fan).crossings


def test_legend_lists_only_what_the_figure_uses():
    plain = to_dot(build_example("rnn", 2).loss, detail="ops").source
    legend = re.search(r"legend \[.*", plain).group(0)
    assert "detached" not in legend and "log scale" in legend
    assert legend.count("<tr>") <= 6  # a ramp and the keys used; was a 12-row table
    cut = to_dot(build_example("rnn", 4, truncate=2).losses, detail="ops").source
    assert "detached" in re.search(r"legend \[.*", cut).group(0)


@pytest.mark.parametrize("cell", ["rnn", "gru"])
def test_bidirectional_cells_view_keeps_both_directions_in_each_column(cell):
    """Step t's forward cell (made first) holds the concat that reads step t's reverse cell:
    the column's levels still follow the edges (it raised KeyError): the reverse cell under
    the forward one, both rows in time order."""
    example = build_example(cell, 3, bidirectional=True)
    layout = laid_out(to_dot(example.loss, detail="cells").source)
    forward = _nodes(layout, rf"{cell}/layer0 t={{}}$", 3)
    reverse = _nodes(layout, rf"{cell}/layer0_reverse t={{}}$", 3)
    for row in (forward, reverse):
        assert [n.x for n in row] == sorted(n.x for n in row)
    assert all(r.y < f.y for f, r in zip(forward, reverse, strict=True))
