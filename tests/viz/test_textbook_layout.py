"""The textbook view as Graphviz lays it out (``dot -Tjson``, ``dot -v``): columns in time
order, x_t below h_t below L_t, no crossings, a slide-sized 3-step RNN, readable fonts."""

import re

import numpy as np
import pytest
from layout_parse import check_textbook, column, laid_out, needs_dot

import autograd_rnn as ar
from autograd_rnn.viz import build_example, to_dot

pytestmark = needs_dot
CELLS = ("rnn", "lstm", "gru")


def _layout(cell, steps, wrap=None, **options):
    ex = build_example(cell, steps, **options)
    return laid_out(to_dot(ex.losses, detail="textbook", wrap=wrap).source)


_column = column


@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize("steps", range(3, 11))
def test_no_crossings_and_time_order(cell, steps):
    layout = _layout(cell, steps, wrap=0)  # one band (auto wraps from 6-8 steps)
    assert layout.crossings == 0
    _check_columns_and_rows(layout, steps)


@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize("steps,chunk", [(3, 2), (4, 2), (6, 3), (7, 3), (10, 4)])
def test_no_crossings_with_truncation(cell, steps, chunk):
    layout = _layout(cell, steps, truncate=chunk, wrap=0)
    assert layout.crossings == 0
    _check_columns_and_rows(layout, steps)


def _check_columns_and_rows(layout, steps):
    assert check_textbook(layout, steps) == [list(range(1, steps + 1))]  # one band
    hs, losses = _column(layout, "h"), _column(layout, "L")
    for t in range(steps - 1):
        assert hs[t].x + hs[t].width / 2 < hs[t + 1].x - hs[t + 1].width / 2
    for total in layout.find(r"L( = |$)"):
        assert total.y > max(n.y for n in losses)


def test_lstm_cell_state_is_its_own_row_with_a_horizontal_conveyor():
    layout = _layout("lstm", 4)
    cs, hs, xs = _column(layout, "c"), _column(layout, "h"), _column(layout, "x")
    assert all(x.y < c.y < h.y for x, c, h in zip(xs, cs, hs, strict=True))
    assert len({round(c.y) for c in cs}) == 1  # one horizontal row
    names = {n.name: n.first_line for n in layout.nodes.values()}
    conveyor = [e for e in layout.edges if re.fullmatch(r"c_\d", names.get(e["tail"], ""))
                and re.fullmatch(r"c_\d", names.get(e["head"], ""))]
    assert len(conveyor) == 4  # c_0 -> c_1 -> ... -> c_4


def test_three_step_rnn_fits_a_slide_and_no_font_is_below_10pt():
    layout = _layout("rnn", 3)
    assert layout.width <= 1000 and layout.height <= 600, (layout.width, layout.height)
    assert layout.fontsizes and min(layout.fontsizes) >= 10
    table = layout.nodes["params"].label
    sizes = [float(v) for v in re.findall(r'point-size="([\d.]+)"', table)]
    assert all(v >= 10 for v in sizes)
    for cell in ("lstm", "gru"):
        other = _layout(cell, 3)
        assert other.width <= 1000 and other.height <= 700
        assert min(other.fontsizes) >= 10


def test_truncation_cut_is_drawn_broken_across_the_chunk_boxes():
    layout = _layout("rnn", 6, truncate=3)
    chunks = sorted((c for c in layout.clusters if "chunk" in c["label"]),
                    key=lambda c: c["bb"][0])
    assert [c["label"].split(" (")[0] for c in chunks] == ["chunk 1", "chunk 2"]
    assert chunks[0]["bb"][2] < chunks[1]["bb"][0]  # side by side, in time order
    (text,) = layout.find(r"detached:")
    assert "no gradient" in text.label and "flows back" in text.label
    assert chunks[0]["bb"][0] < text.x < chunks[0]["bb"][2]
    h3, h4 = layout.one(r"h_3$"), layout.one(r"h_4$")
    bar = [e for e in layout.edges if e["tail"] == h3.name and e["head"] == text.name]
    assert bar and bar[0]["attrs"]["style"] == "dashed" and bar[0]["attrs"]["arrowhead"] == "tee"
    assert float(bar[0]["attrs"]["penwidth"]) >= 3  # the thickest line in the figure
    (copy,) = layout.find(r"h_3 \(detached\)")
    assert chunks[1]["bb"][0] < copy.x < h4.x
    widths = [float(e["attrs"].get("penwidth", 1)) for e in layout.edges
              if e["attrs"].get("style") != "invis"]
    assert max(widths) <= 4


def test_stacked_layers_are_rows_and_the_reverse_direction_runs_right_to_left():
    layout = _layout("rnn", 3, layers=2)
    first = [n for n in layout.find(r"h_\d") if "layer0" in n.first_line]
    second = [n for n in layout.find(r"h_\d") if "layer1" in n.first_line]
    assert len(first) == len(second) == 4
    assert max(n.y for n in first) < min(n.y for n in second)
    bi = laid_out(to_dot(build_example("gru", 3, bidirectional=True).loss,
                         detail="textbook").source)
    forward = {n.first_line.split()[0]: n for n in bi.find(r"h_\d  \(layer0\)")}
    reverse = {n.first_line.split()[0]: n for n in bi.find(r"h_\d  \(layer0_reverse\)")}
    assert len({round(n.y) for n in reverse.values()}) == 1 != round(forward["h_1"].y)
    assert reverse["h_1"].x < reverse["h_2"].x < reverse["h_3"].x < reverse["h_0"].x
    names = {n.name: n for n in reverse.values()}
    back = [e for e in bi.edges if e["tail"] in names and e["head"] in names
            and e["attrs"].get("style") != "invis"]
    assert back and all(e["attrs"].get("dir") == "back" for e in back)  # drawn right to left


@pytest.mark.parametrize("cell", CELLS)
def test_nn_model_layout(cell):
    model = ar.nn.SequenceModel(cell, 2, 3, 1, seed=0)
    y, _ = model(np.random.default_rng(0).normal(size=(5, 1, 2)))
    loss = (y * y).sum()
    loss.backward()
    layout = laid_out(to_dot(loss, detail="textbook").source)
    assert layout.crossings == 0
    hs = _column(layout, "h")
    assert [n.x for n in hs] == sorted(n.x for n in hs) and len(hs) == 5
