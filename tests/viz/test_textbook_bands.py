"""The textbook view of long unrolls, wrapped into bands (``wrap``), and the compact view of
very long ones, as Graphviz lays them out (``dot -Tjson``, ``dot -v``)."""

import re

import numpy as np
import pytest
from layout_parse import bands, check_textbook, column, laid_out, needs_dot

from autograd_rnn.viz import build_example, to_dot
from autograd_rnn.viz.textbook import build_textbook
from autograd_rnn.viz.textbook_bands import Grid

pytestmark = needs_dot
CELLS = ("rnn", "lstm", "gru")


def _layout(cell, steps, wrap=None, compact=None, **options):
    ex = build_example(cell, steps, **options)
    return laid_out(to_dot(ex.losses, detail="textbook", wrap=wrap, compact=compact).source)


@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize("steps", [12, 20, 30])
@pytest.mark.parametrize("truncate", [None, 5])
def test_wrapped_long_unrolls_have_no_crossings_and_read_band_by_band(cell, steps, truncate):
    layout = _layout(cell, steps, truncate=truncate)
    assert layout.crossings == 0
    found = check_textbook(layout, steps)
    assert len(found) >= 2
    widths = [len(b) for b in found]
    assert max(widths) <= 14, widths
    if not truncate:  # balanced bands
        assert max(widths) - min(widths) <= 1, widths
    # the figure is close to a slide's 16:9, not a 12:1 strip
    assert 1.0 <= layout.width / layout.height <= (3.0 if truncate else 2.2), (
        layout.width, layout.height)
    assert min(layout.fontsizes) >= 10


def test_short_chunks_fill_whole_bands_which_end_at_the_cuts():
    layout = _layout("lstm", 30, truncate=5)
    assert check_textbook(layout, 30) == [list(range(a, a + 10)) for a in (1, 11, 21)]
    for t in (10, 20):  # the band ends with the cut's bar, the next starts from the copy
        bar = [e for e in layout.edges if e["tail"] == layout.one(rf"h_{t}$").name
               and e["attrs"].get("arrowhead") == "tee"]
        assert len(bar) == 1
        (copy,) = layout.find(rf"h_{t} \(detached\)")
        assert copy.x < layout.one(rf"h_{t + 1}$").x and copy.y < layout.one(rf"h_{t}$").y


@pytest.mark.parametrize("cell", CELLS)
def test_chunks_across_bands_and_explicit_width(cell):
    layout = _layout(cell, 20, wrap=6, truncate=7)
    assert layout.crossings == 0
    assert check_textbook(layout, 20) == [list(range(a, min(a + 6, 21))) for a in (1, 7, 13, 19)]
    # without chunk boxes, each chunk's loss says which steps it sums
    assert {n.label.split("\\n")[-1] for n in layout.find(r"L = ")} == {
        "chunk 1: t = 1..7", "chunk 2: t = 8..14", "chunk 3: t = 15..20"}


def test_one_continuation_arrow_per_state_row_labelled_like_the_others():
    ex = build_example("rnn", 12)
    source = to_dot(ex.losses, detail="textbook", wrap=6).source
    layout = laid_out(source)
    assert check_textbook(layout, 12) == [list(range(1, 7)), list(range(7, 13))]
    h6, h7 = layout.one(r"h_6$"), layout.one(r"h_7$")
    names = {n.name: n for n in layout.nodes.values()}
    # h_6 leaves its band to the right through an invisible point, labelled with W_h ...
    (out,) = [e for e in layout.edges if e["tail"] == h6.name and e["head"] in names
              and names[e["head"]].label == "" and "invis" not in e["attrs"].get("style", "")]
    stub = names[out["head"]]
    assert stub.x > h6.x and abs(stub.y - h6.y) < 2 and out["attrs"]["arrowhead"] == "none"
    book = build_textbook(ex.losses)
    (arrow,) = [a for a in book.arrows if a.src.anchor is ex.hidden[6].node
                and a.dst.anchor is ex.hidden[7].node]
    share = float(re.search(r"W_h: ([\d.e-]+)", out["attrs"]["label"]).group(1))
    np.testing.assert_allclose(share, np.linalg.norm(arrow.weights[0].contribution), rtol=5e-3)
    assert f"|g| = {arrow.grad_norm:.3g}" in out["attrs"]["label"]
    # ... and one arrow sweeps down into h_7 from the left, the start of the next band
    (down,) = [e for e in layout.edges if {e["tail"], e["head"]} == {stub.name, h7.name}]
    assert down["attrs"].get("dir") == "back" and h7.x < h6.x and h7.y < h6.y
    # every W_h share is written once, the continuation's too
    shown = re.findall(r"W_h: [\d.e-]+", source)
    assert len(shown) == 12


def test_the_total_loss_once_and_one_junction_per_later_band():
    layout = _layout("rnn", 30, wrap=10)
    (total,) = layout.find(r"L = ")
    joins = sorted(layout.find(r"\+$"), key=lambda n: -n.y)
    assert len(joins) == 2
    steps = {int(n.first_line.split()[0][2:]): n for n in column(layout, "L", 30)}
    by_name = {n.name: n for n in layout.nodes.values()}
    for band, junction in enumerate(joins, start=1):
        into = sorted(int(by_name[e["tail"]].first_line.split()[0][2:]) for e in layout.edges
                      if e["head"] == junction.name and by_name[e["tail"]].first_line
                      .startswith("L_"))
        assert into == list(range(10 * band + 1, 10 * band + 11))
        assert junction.y > max(steps[t].y for t in into)  # on top of its band
    up = {(e["tail"], e["head"]) for e in layout.edges if e["attrs"].get("style") != "invis"}
    assert (joins[1].name, joins[0].name) in up and (joins[0].name, total.name) in up
    assert total.y > max(n.y for n in layout.nodes.values() if n is not total
                         and n.name != "params")


def test_wrap_option_and_its_errors():
    book = build_textbook(build_example("gru", 12).losses)
    assert Grid.plan(book, 0).bands == 1 and Grid.plan(book, 12).bands == 1
    assert Grid.plan(book, 4).bands == 3 and Grid.plan(book, None).bands == 2
    with pytest.raises(ValueError, match="wrap must be >= 0"):
        Grid.plan(book, -1)
    both = build_textbook(build_example("gru", 12, bidirectional=True).losses)
    assert Grid.plan(both, None).bands == 1  # never wrapped: the reverse row runs backwards
    with pytest.raises(ValueError, match="forward-only"):
        Grid.plan(both, 4)
    assert len(bands(column(_layout("gru", 12, wrap=4), "h", 12))) == 3


@pytest.mark.parametrize("cell", ["rnn", "lstm"])
def test_very_long_unrolls_are_drawn_compact(cell):
    ex = build_example(cell, 100, hidden_size=4, forget_bias=1.0 if cell == "lstm" else 0.0)
    source = to_dot(ex.losses, detail="textbook").source
    layout = laid_out(source)
    assert layout.crossings == 0
    assert not column(layout, "x", 100) and not column(layout, "y", 100)
    found = check_textbook(layout, 100, full=False)
    assert 5 <= len(found) <= 12
    for t in (1, 37, 100):  # the state and ||dL/dh_t||, nothing else
        (h,) = layout.find(rf"h_{t}$")
        np.testing.assert_allclose(float(h.label.split("\\n")[1]),
                                   np.linalg.norm(ex.hidden[t].grad), rtol=5e-3)
    if cell == "lstm":
        cs = column(layout, "c", 100)
        assert all(c.y < h.y for c, h in zip(cs, column(layout, "h", 100), strict=True))
    assert "inputs, outputs and losses not drawn; L = " in source
    assert layout.width <= 1700 and layout.height <= 1100 and min(layout.fontsizes) >= 10
    full = laid_out(to_dot(build_example("rnn", 12).losses, detail="textbook",
                           compact=True).source)
    assert not column(full, "x", 12) and full.crossings == 0
