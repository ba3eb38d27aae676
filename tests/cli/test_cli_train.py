"""``autograd-rnn train`` and ``sample``: runs, resume, and one-line errors that change
nothing on disk."""

import numpy as np
import pytest

from autograd_rnn.cli.main import build_parser, main
from autograd_rnn.train import load_npz

FAST = ["--seq-len", "6", "--hidden", "5", "--batch", "2", "--quiet"]


def _run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return code, out, err


def test_train_resume_and_refusals(tmp_path, capsys):
    ck = str(tmp_path / "run.npz")
    code, out, _ = _run(capsys, "train", "--task", "sine", "--steps", "3", "--checkpoint", ck,
                        *FAST)
    assert code == 0 and "step 3" in out and "held-out" in out and "baseline" in out
    saved = (tmp_path / "run.npz").read_bytes()

    code, _, err = _run(capsys, "train", "--steps", "3", "--checkpoint", ck, *FAST)
    assert code == 2 and "already exists" in err and "--resume" in err
    assert len(err.strip().splitlines()) == 1

    code, _, err = _run(capsys, "train", "--resume", "--cell", "gru", "--steps", "5",
                        "--checkpoint", ck, "--quiet")
    assert code == 2 and "trained with cell='rnn', not 'gru'" in err
    assert (tmp_path / "run.npz").read_bytes() == saved  # nothing overwritten

    code, out, _ = _run(capsys, "train", "--resume", "--steps", "5", "--checkpoint", ck,
                        "--quiet")
    assert code == 0 and "step 5" in out and int(load_npz(ck)["meta/step"]) == 5

    code, _, err = _run(capsys, "train", "--resume", "--steps", "4", "--checkpoint", ck,
                        "--quiet")
    assert code == 2 and "already at step 5" in err

    code, out, _ = _run(capsys, "train", "--steps", "2", "--checkpoint", ck, "--overwrite",
                        *FAST)
    assert code == 0 and int(load_npz(ck)["meta/step"]) == 2


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--resume"], "--resume needs --checkpoint"),
        (["--task", "chars", "--text", "no/such/file.txt"], "does not exist"),
        (["--task", "sine", "--text", __file__], "--text is for --task chars"),
        (["--lr", "-1"], "--lr must be a finite number > 0"),
        (["--hidden", "0"], "--hidden must be >= 1"),
        (["--steps", "0"], "--steps must be >= 1"),
        (["--checkpoint", "no/such/folder/x.npz"], "does not exist"),
        (["--resume", "--checkpoint", "missing.npz"], "does not exist"),
    ],
)
def test_train_usage_errors_are_one_line(capsys, argv, message):
    code, _, err = _run(capsys, "train", *argv, "--quiet")
    assert code == 2 and message in err and len(err.strip().splitlines()) == 1


def test_incompatible_or_foreign_checkpoint_file(tmp_path, capsys):
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"junk")
    code, _, err = _run(capsys, "train", "--resume", "--checkpoint", str(bad), "--quiet")
    assert code == 2 and "not a readable .npz" in err
    assert bad.read_bytes() == b"junk"
    code, _, err = _run(capsys, "sample", "--checkpoint", str(bad))
    assert code == 2 and "not a readable .npz" in err


def test_chars_with_own_text_then_sample(tmp_path, capsys):
    text = tmp_path / "t.txt"
    text.write_text("hello world, hello rnn. " * 20, encoding="utf-8")
    ck = str(tmp_path / "c.npz")
    code, out, _ = _run(capsys, "train", "--task", "chars", "--cell", "lstm", "--text",
                        str(text), "--steps", "2", "--checkpoint", ck, "--log-grad-norm", *FAST)
    assert code == 0 and out.count("grad_norm") == 2  # one line per step
    code, out, _ = _run(capsys, "sample", "--checkpoint", ck, "--length", "15", "--prime",
                        "hello", "--temperature", "0.5")
    assert code == 0 and out.startswith("hello") and len(out.rstrip("\n")) == 20
    assert set(out.rstrip("\n")) <= set("hello world, rnn.")
    code, _, err = _run(capsys, "sample", "--checkpoint", ck, "--prime", "xyz")
    assert code == 2 and "not in the training vocabulary" in err
    code, _, err = _run(capsys, "sample", "--checkpoint", ck, "--temperature", "-1")
    assert code == 2 and "--temperature must be a finite number >= 0" in err


def test_sample_sine_and_refuse_adding(tmp_path, capsys):
    sine, adding = str(tmp_path / "s.npz"), str(tmp_path / "a.npz")
    assert _run(capsys, "train", "--steps", "1", "--checkpoint", sine, *FAST)[0] == 0
    code, out, _ = _run(capsys, "sample", "--checkpoint", sine, "--length", "4")
    assert code == 0 and len(out.strip().splitlines()) == 5 and "predicted" in out
    assert _run(capsys, "train", "--task", "adding", "--steps", "1", "--checkpoint", adding,
                *FAST)[0] == 0
    code, _, err = _run(capsys, "sample", "--checkpoint", adding)
    assert code == 2 and "--task chars or sine" in err
    code, _, err = _run(capsys, "sample", "--checkpoint", str(tmp_path / "none.npz"))
    assert code == 2 and "does not exist" in err


def test_every_option_has_help():
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    for name in ("train", "sample"):
        for action in sub.choices[name]._actions:
            assert action.help and len(action.help) > 10, (name, action.option_strings)


def test_ctrl_c_saves_a_checkpoint_and_exits_130(tmp_path, capsys, monkeypatch):
    from autograd_rnn.train import Trainer

    original = Trainer.train_step

    def interrupted_at_step_3(self):
        if self.step == 2:
            raise KeyboardInterrupt
        return original(self)

    monkeypatch.setattr(Trainer, "train_step", interrupted_at_step_3)
    ck = str(tmp_path / "c.npz")
    code, out, _ = _run(capsys, "train", "--steps", "10", "--checkpoint", ck, *FAST)
    assert code == 130 and "interrupted at step 2" in out and "--resume" in out
    assert int(load_npz(ck)["meta/step"]) == 2


def test_diverging_run_stops_with_one_line_and_keeps_a_finite_checkpoint(tmp_path, capsys):
    ck = str(tmp_path / "c.npz")
    code, _, err = _run(capsys, "train", "--optimizer", "sgd", "--lr", "1e8", "--clip", "0",
                        "--steps", "50", "--checkpoint", ck, *FAST)
    assert code == 1 and ("loss is" in err or "training diverged" in err) and "back at step" in err
    assert len(err.strip().splitlines()) == 1
    saved = load_npz(ck)
    assert 0 < int(saved["meta/step"]) < 50
    assert all(np.isfinite(v).all() for k, v in saved.items() if k.startswith("param/"))
