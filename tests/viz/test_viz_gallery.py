"""graphs/ gallery is up to date, and the export/gallery CLI commands work."""

import shutil
from pathlib import Path

import pytest
from layout_parse import check_textbook, column, laid_out
from vizdot_parse import parse_dot

from autograd_rnn.cli.main import main
from autograd_rnn.viz.gallery import GALLERY, gallery_graphs, stale_gallery, wants_png

ROOT = Path(__file__).resolve().parents[2]
GRAPHS = ROOT / "graphs"
HAS_DOT = shutil.which("dot") is not None


def test_committed_dot_files_match_what_the_code_draws_today():
    stale = stale_gallery(GRAPHS)
    assert not stale, f"regenerate with `make graphs`: {stale}"
    for name in GALLERY:
        assert (GRAPHS / f"{name}.svg").exists(), name
    textbook = [name for name in GALLERY if wants_png(name)]
    assert sorted(textbook) == ["gru_textbook", "lstm_100step_textbook", "lstm_textbook",
                                "rnn_2layer_textbook", "rnn_30step_exploding",
                                "rnn_30step_vanishing", "rnn_textbook", "tbptt_textbook"]
    for name in textbook:  # for slides: PNG too
        assert (GRAPHS / f"{name}.png").read_bytes().startswith(b"\x89PNG"), name


def test_gallery_covers_the_required_diagrams():
    graphs = {name: parse_dot(g.source) for name, g in gallery_graphs().items()}
    rnn3 = graphs["rnn_3step_ops"]
    assert [c["label"] for c in rnn3.clusters] == ["t=1", "t=2", "t=3"]  # one per column
    vanishing = graphs["rnn_30step_vanishing"]
    states = [a for a in vanishing.nodes.values() if a.get("label", "").startswith("h_")]
    assert len(states) == 31 and "rankdir=BT" in gallery_graphs(["rnn_30step_vanishing"])[
        "rnn_30step_vanishing"].source  # the textbook view, h_0 .. h_30
    long = graphs["lstm_100step_textbook"]
    assert len([a for a in long.nodes.values() if a.get("label", "").startswith("c_")]) == 101
    assert not any(a.get("label", "").startswith("x_") for a in long.nodes.values())
    assert any(c["label"] == "backward" for c in graphs["backward_graph"].clusters)
    assert any(e[2].get("style") == "dashed" for e in graphs["tbptt_truncated"].edges)
    assert any("FAILED" in a.get("label", "") for a in graphs["nodecheck_bad_op"].nodes.values())
    stack = graphs["rnn_2layer_textbook"]
    assert {a.get("label", "").split("\\n")[0] for a in stack.nodes.values()} >= {
        "h_3  (layer0)", "h_3  (layer1)"}
    assert any(c["label"].startswith("chunk 2") for c in graphs["tbptt_textbook"].clusters)


def _grad(label):
    """||dL/dh_t|| from a wrapped textbook box "h_t\\n|dL/dh_t|\\n= v"."""
    return float(label.split("\\n= ")[1])


@pytest.mark.skipif(not HAS_DOT, reason="Graphviz `dot` is not installed")
def test_vanishing_and_exploding_go_opposite_ways_band_by_band():
    graphs = gallery_graphs(["rnn_30step_vanishing", "rnn_30step_exploding"])
    for name, grows_back in (("rnn_30step_vanishing", False), ("rnn_30step_exploding", True)):
        layout = laid_out(graphs[name].source)
        assert layout.crossings == 0
        found = check_textbook(layout, 30, full=False)
        assert 3 <= len(found) <= 5
        by_t = {t + 1: _grad(n.label) for t, n in enumerate(column(layout, "h", 30))}
        ratio = by_t[1] / by_t[30]
        assert (ratio > 10) if grows_back else (ratio < 1e-6), (name, ratio)
        # band by band: the first box of each band is further from |dL/dh_30| than the last
        firsts = [by_t[band[0]] for band in found]
        assert firsts == sorted(firsts, reverse=grows_back), (name, firsts)


def test_gallery_cli_check_and_write(tmp_path, capsys):
    assert main(["gallery", "--out", str(tmp_path), "--check"]) == 1
    assert "out of date" in capsys.readouterr().out
    assert main(["gallery", "--out", str(tmp_path), "--dot-only"]) == 0
    assert main(["gallery", "--out", str(tmp_path), "--check"]) == 0
    assert sorted(p.stem for p in tmp_path.glob("*.dot")) == sorted(GALLERY)


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_export_cli_dot(tmp_path, cell, capsys):
    out = tmp_path / f"{cell}.dot"
    args = ["export", "--cell", cell, "--steps", "4", "--detail", "cells", "-o", str(out)]
    assert main(args) == 0
    dot = parse_dot(out.read_text())
    assert sum(1 for a in dot.nodes.values()
               if a.get("label", "").startswith(f"{cell}/layer0 t=")) == 4
    assert main(args) == 2  # refuses to overwrite
    assert "--overwrite" in capsys.readouterr().err
    assert main(args + ["--overwrite", "--no-grads", "--rankdir", "TB", "--seed", "3"]) == 0
    dot = parse_dot(out.read_text())
    assert dot.graph["rankdir"] == "TB"  # the columns upside down: ops flow down
    assert not any("|g|" in e[2].get("label", "") for e in dot.edges)


@pytest.mark.skipif(not HAS_DOT, reason="Graphviz `dot` is not installed")
def test_export_cli_svg(tmp_path):
    out = tmp_path / "lstm.svg"
    assert main(["export", "--cell", "lstm", "--steps", "2", "--format", "svg",
                 "-o", str(out)]) == 0
    assert "<svg" in out.read_text()


def test_export_cli_usage_errors(tmp_path, capsys):
    assert main(["export", "--steps", "0", "-o", str(tmp_path / "a.svg")]) == 2
    assert main(["export", "-o", str(tmp_path / "a.bmp")]) == 2
    assert main(["export", "--steps", "60", "--max-nodes", "50", "--detail", "ops",
                 "-o", str(tmp_path / "a.svg")]) == 2
    assert main(["export", "--steps", "60", "--max-nodes", "50",
                 "-o", str(tmp_path / "a.svg")]) == 2
    assert main(["export", "--truncate", "2", "--bidirectional", "-o",
                 str(tmp_path / "a.svg")]) == 2
    assert main(["export", "--wrap", "-1", "-o", str(tmp_path / "a.svg")]) == 2
    err = capsys.readouterr().err
    assert "--steps must be >= 1" in err and "--format" in err and "cells" in err
    assert "textbook view has" in err and "forward-only" in err and "--wrap must be" in err
    assert "Traceback" not in err


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_export_cli_textbook_with_every_option(tmp_path, cell):
    out = tmp_path / f"{cell}.dot"
    base = ["export", "--cell", cell, "--detail", "textbook", "-o", str(out), "--overwrite"]
    assert main(base + ["--steps", "5", "--layers", "2", "--truncate", "2"]) == 0
    dot = parse_dot(out.read_text())
    rows = [sub["nodes"] for sub in dot.subgraphs if sub["attrs"].get("rank") == "same"]
    labels = {k: a.get("label", "") for k, a in dot.nodes.items()}
    h_rows = [r for r in rows if any(labels[n].startswith("h_1  (layer") for n in r)]
    assert len(h_rows) == 2  # two stacked layers, one row each
    assert len([c for c in dot.clusters if c["label"].startswith("chunk ")]) == 3
    assert sum("detached:" in v for v in labels.values()) == 2  # rows cut: layer0, layer1
    assert main(base + ["--steps", "4", "--no-grads"]) == 0
    text = out.read_text()
    assert "|g|" not in text and "used at 4 steps" in text
    assert main(base + ["--steps", "4", "--loss-at", "last"]) == 0
    labels = [a.get("label", "") for a in parse_dot(out.read_text()).nodes.values()]
    assert not any(v.startswith("L_1 ") for v in labels)  # the only loss is at t = 4
    assert main(base + ["--steps", "3", "--bidirectional"]) == 0
    assert "layer0_reverse" in out.read_text()
    assert main(base + ["--steps", "12", "--wrap", "4"]) == 0  # three bands of 4 steps
    names = [k for k in parse_dot(out.read_text()).nodes if k.startswith("band_stand")]
    assert sorted(names) == ["band_stand0", "band_stand1", "band_stand2"]
    assert main(base + ["--steps", "12", "--wrap", "0"]) == 0
    assert "band_stand" not in out.read_text()
    assert main(base + ["--steps", "6", "--compact"]) == 0
    labels = [a.get("label", "") for a in parse_dot(out.read_text()).nodes.values()]
    assert not any(v.startswith(("x_", "y_", "L_")) for v in labels)
    assert any(v.startswith("h_6\\n") for v in labels)


def test_export_cli_ops_options(tmp_path):
    out = tmp_path / "ops.dot"
    args = ["export", "--steps", "2", "--hidden", "5", "--detail", "ops", "-o", str(out)]
    assert main(args + ["--show-shapes", "--show-grad-values", "--fan-out"]) == 0
    text = out.read_text()
    assert "(1, 5)" in text and ", ...]" in text and "bus_bottom1 [" not in text
    assert main(args + ["--overwrite"]) == 0
    text = out.read_text()
    assert "bus_bottom1 [" in text and ", ...]" not in text  # a bus, norms only


@pytest.mark.skipif(not HAS_DOT, reason="Graphviz `dot` is not installed")
def test_gallery_writes_pngs_of_the_textbook_views_for_slides(tmp_path):
    from autograd_rnn.viz.gallery import write_gallery

    written = write_gallery(tmp_path, formats=("png",), plot=False)
    assert sorted(p.name for p in written) == sorted(
        f"{n}.png" for n in GALLERY if wants_png(n))
    width = int.from_bytes((tmp_path / "rnn_textbook.png").read_bytes()[16:20], "big")
    assert 1200 <= width <= 2 * 1000  # 144 dpi: about twice the figure's size in points
