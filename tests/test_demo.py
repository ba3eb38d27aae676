"""The main demo trains, checks gradients and writes every file it announces."""

from pathlib import Path

from autograd_rnn.cli.main import main
from autograd_rnn.demo import run_demo


def test_demo_writes_every_file(tmp_path, capsys):
    out = tmp_path / "demo"
    assert run_demo(out_dir=str(out), seed=1, steps=150, progress=False)
    printed = capsys.readouterr().out
    assert "PASSED" in printed and "demo succeeded" in printed
    names = ("rnn_textbook.svg", "rnn_textbook.png", "rnn_unrolled.svg", "rnn_unrolled.dot",
             "rnn_30_steps_cells.svg", "steps.html", "training_loss.svg", "gradient_norms.svg",
             "rnn_bptt.py")
    for name in names:
        path = out / name
        assert path.stat().st_size > 1000
        assert str(path.resolve()) in printed
    files = printed.split("== Files")[1]
    assert files.index("rnn_textbook.svg") < files.index("rnn_unrolled.svg")  # textbook first
    textbook = (out / "rnn_textbook.svg").read_text()
    assert "<svg" in textbook and "x_4" in textbook and "W_h: " in textbook
    assert "= sum of 4 contributions" in textbook
    assert (out / "rnn_textbook.png").read_bytes().startswith(b"\x89PNG")
    assert "<svg" in (out / "rnn_unrolled.svg").read_text()
    assert "|g|" in (out / "rnn_unrolled.dot").read_text()
    compile((out / "rnn_bptt.py").read_text(), "rnn_bptt.py", "exec")  # valid Python source


def test_demo_cli_rejects_bad_steps(capsys):
    assert main(["demo", "--steps", "0"]) == 2
    assert "--steps must be >= 1" in capsys.readouterr().err


def test_demo_replaces_only_its_own_folder(tmp_path):
    keep = tmp_path / "keep.txt"
    keep.write_text("mine")
    out = tmp_path / "demo"
    out.mkdir()
    (out / "stale.svg").write_text("from an earlier demo run")
    (out / ".autograd-rnn-demo").write_text("")  # the marker an earlier run leaves
    run_demo(out_dir=str(out), seed=0, steps=30, progress=False)
    assert not (out / "stale.svg").exists()  # the demo's own folder is replaced
    assert (out / "steps.html").exists()
    assert Path(keep).read_text() == "mine"  # nothing outside it is touched
