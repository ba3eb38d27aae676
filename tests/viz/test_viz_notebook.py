"""Diagrams in Jupyter: readable at a ~900 px column (natural size, or scrolled, never
shrunk below 75 %), and the default view of a longer network fits the column."""

import base64
import re

from layout_parse import needs_dot

from autograd_rnn.viz import build_example, to_dot
from autograd_rnn.viz.notebook import COLUMN_PX, MIN_SCALE, Diagram, notebook_html


def _svg(width_pt: float) -> str:
    return (f'<svg width="{width_pt}pt" height="100pt" viewBox="0 0 {width_pt} 100" '
            'xmlns="http://www.w3.org/2000/svg"></svg>')


def _shown_px(html: str) -> float:
    return float(re.search(r"width:(\d+)px", html).group(1))


def test_small_figures_keep_their_size_and_wide_ones_scroll_instead_of_shrinking():
    assert _shown_px(notebook_html(_svg(300))) == 400  # 300 pt = 400 px
    wide = notebook_html(_svg(4000))
    assert _shown_px(wide) >= MIN_SCALE * 4000 * 96 / 72  # 10 pt labels stay >= 10 px
    assert "overflow-x:auto" in wide and "max-width:none" in wide
    middle = notebook_html(_svg(700))  # 933 px: fits the column at 96 %
    assert _shown_px(middle) == COLUMN_PX
    src = re.search(r'src="data:image/svg\+xml;base64,([^"]+)"', wide).group(1)
    assert base64.b64decode(src).decode().startswith("<svg")


@needs_dot
def test_to_dot_shows_html_and_svg_in_jupyter():
    dot = to_dot(build_example("rnn", 3).loss)
    assert isinstance(dot, Diagram)
    bundle = dot._repr_mimebundle_()
    assert set(bundle) == {"text/html", "image/svg+xml"}
    assert "<svg" in bundle["image/svg+xml"]
    # the default view of 3 steps is the textbook one, narrow enough for the column
    width_pt = float(re.search(r'width="([\d.]+)pt"', bundle["image/svg+xml"]).group(1))
    assert width_pt * 96 / 72 * 0.85 <= _shown_px(bundle["text/html"]) <= COLUMN_PX
    assert dot._repr_mimebundle_(include=["image/svg+xml"]).keys() == {"image/svg+xml"}
    assert dot._repr_mimebundle_(exclude=["text/html", "image/svg+xml"]) == {}
