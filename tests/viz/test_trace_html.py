"""The step-through page: self-contained, one SVG per frame, atomic and overwrite-safe, clear
errors without Graphviz; and the ``autograd-rnn trace`` command."""

import importlib
import json
import re
import shutil

import pytest

import autograd_rnn as ar
from autograd_rnn.cli.main import main
from autograd_rnn.viz import html_page
from autograd_rnn.viz.errors import GraphvizNotFoundError
from autograd_rnn.viz.html_page import build_page, render_svg
from autograd_rnn.viz.trace import trace

viz_render = importlib.import_module("autograd_rnn.viz.render")  # the module, not ar.viz.render

needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz `dot` not installed")

EXTERNAL = re.compile(r"""(?:src|href)\s*=\s*["']?\s*(?:https?:|//)""", re.I)


def _frames_of(page: str) -> list[dict]:
    opening = '<script id="frames-data" type="application/json">'
    block = re.search(re.escape(opening) + "(.*?)</script>", page, re.S)
    assert block, "the page has no frames-data block"
    return json.loads(block.group(1))


def _tape():
    x = ar.tensor([1.0, 2.0], requires_grad=True, name="x")
    W = ar.tensor([[0.5, -1.0], [2.0, 0.1]], requires_grad=True, name="W")
    with trace() as tape:
        with ar.scope("rnn/t=1"):
            h = (x @ W).tanh()
        loss = (h * h).sum()
        loss.backward()
    return tape


@needs_dot
def test_page_is_self_contained_with_one_svg_per_frame(tmp_path):
    tape = _tape()
    path = tape.to_html(tmp_path / "steps.html", title="Two <ops> & a loss")
    page = path.read_text(encoding="utf-8")
    frames = _frames_of(page)
    assert len(frames) == len(tape) == tape.num_forward + tape.num_backward
    assert all(f["svg"].startswith("<svg") and f["svg"].endswith("</svg>") for f in frames)
    assert [f["caption"] for f in frames] == [f.caption for f in tape.frames()]
    assert not EXTERNAL.search(page), "the page links to an external resource"
    assert "<link" not in page and "<script src" not in page and "@import" not in page
    assert "<title>Two &lt;ops&gt; &amp; a loss</title>" in page
    for control in ('id="prev"', 'id="next"', 'id="slider"', 'id="counter"', 'id="caption"'):
        assert control in page
    assert f'max="{len(frames) - 1}"' in page


@needs_dot
def test_refuses_to_overwrite_unless_asked(tmp_path):
    tape = _tape()
    target = tmp_path / "steps.html"
    target.write_text("keep me")
    with pytest.raises(FileExistsError, match="already exists"):
        tape.to_html(target)
    assert target.read_text() == "keep me"
    tape.to_html(target, overwrite=True, max_frames=2)
    assert len(_frames_of(target.read_text())) == 2
    assert [p.name for p in tmp_path.iterdir()] == ["steps.html"]  # no temp files left


def test_missing_dot_gives_an_install_hint(tmp_path, monkeypatch):
    tape = _tape()
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    with pytest.raises(GraphvizNotFoundError, match="apt-get install graphviz"):
        tape.to_html(tmp_path / "steps.html")
    assert not (tmp_path / "steps.html").exists()
    assert all(f.source for f in tape.frames())  # DOT is still available


def test_bad_engine_and_empty_tape_are_rejected(tmp_path):
    with pytest.raises(ValueError, match="engine must be 'svg'"):
        _tape().to_html(tmp_path / "a.html", engine="png")
    with trace() as empty:
        pass
    with pytest.raises(ValueError, match="recorded no steps"):
        empty.to_html(tmp_path / "b.html")


def test_script_end_tags_in_captions_cannot_break_the_page():
    page = build_page("t", ["</script><script>alert(1)</script>"], ["<svg></svg>"])
    assert page.count("</script>") == 2  # the data block's and the code's, nothing injected
    assert _frames_of(page)[0]["caption"] == "</script><script>alert(1)</script>"
    with pytest.raises(ValueError, match="one caption per SVG"):
        build_page("t", ["a", "b"], ["<svg></svg>"])


@needs_dot
def test_cli_trace_writes_the_page_and_guards_the_file(tmp_path, capsys):
    out = tmp_path / "steps.html"
    argv = ["trace", "--cell", "gru", "--steps", "2", "--hidden", "2", "-o", str(out)]
    assert main(argv + ["--max-frames", "12"]) == 0
    assert "wrote" in capsys.readouterr().out
    frames = _frames_of(out.read_text())
    assert len(frames) == 12
    assert any("gru/layer0/t=2" in f["caption"] for f in frames)
    assert main(argv) == 2
    assert "--overwrite" in capsys.readouterr().err
    assert main(argv + ["--overwrite", "--max-frames", "0", "--every", "50"]) == 0
    assert main(["trace", "--steps", "0", "-o", str(tmp_path / "x.html")]) == 2
    assert "--steps must be >= 1" in capsys.readouterr().err


@needs_dot
def test_every_frame_of_a_partly_built_lstm_lays_out(tmp_path):
    # Graphviz 2.43 fails on some partial graphs of this op-by-op LSTM (clusters + group
    # hints + invisible chain edges); the page falls back to a simpler layout of the same
    # nodes and edges instead of failing.
    from autograd_rnn.viz.examples import build_example

    with trace() as tape:
        build_example("lstm", 2)
    page = tape.to_html(tmp_path / "lstm.html").read_text()
    svgs = [f["svg"] for f in _frames_of(page)]
    assert len(svgs) == len(tape)
    assert all('<g id="graph0"' in s for s in svgs)


def test_layout_failures_fall_back_to_simpler_graphs(monkeypatch):
    tried = []

    def fussy_layout(source, fmt, timeout=None):
        tried.append(source)
        if "group=" in source or "style=invis" in source:
            raise viz_render.LayoutFailedError(
                "dot -Tsvg failed (exit 1): Error: trouble in init_rank")
        return b'<?xml version="1.0"?><!-- dot --><svg>ok</svg>'

    monkeypatch.setattr(viz_render, "layout", fussy_layout)  # the fallbacks live in render
    source = "\n".join(
        [
            "digraph {",
            "\tsubgraph cluster_t1 {",
            "\t\th_1 [label=h_1 group=chain_h]",
            "\t}",
            '\th_0 [label=h_0 group="chain h" shape=box]',
            "\th_0 -> h_1",
            "\th_0 -> h_1 [style=invis weight=10]",
            "}",
        ]
    )
    assert html_page.render_svg(source) == "<svg>ok</svg>"
    assert len(tried) == 3  # as is, without groups, without groups and chain edges
    assert "cluster_t1" in tried[-1] and "h_0 -> h_1\n" in tried[-1]
    assert "[label=h_1]" in tried[-1] and "[label=h_0 shape=box]" in tried[-1]
    tried.clear()
    assert html_page.render_svgs([source, source], workers=1) == ["<svg>ok</svg>"] * 2
    assert len(tried) == 4  # the second frame starts from the simplification that worked


@needs_dot
def test_render_svg_reports_a_real_dot_error():
    with pytest.raises(RuntimeError, match="syntax error"):
        render_svg("digraph { a -> }")


def test_cli_trace_explains_a_graph_too_large_to_draw(tmp_path, capsys):
    out = tmp_path / "big.html"
    argv = ["trace", "--cell", "lstm", "--steps", "60", "--max-frames", "1", "-o", str(out)]
    assert main(argv) == 2  # bad input, as in export (exit-code table in the README)
    err = capsys.readouterr().err
    assert "more than max_nodes" in err and "--detail cells" in err
    assert not out.exists()
