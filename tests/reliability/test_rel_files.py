"""Files: an existing file is never replaced without --overwrite (and --no-overwrite is
honoured), a failed write leaves the old file whole with no temporary left behind, and
atomically written files get the usual permissions (umask), not mkstemp's private 0600."""

from __future__ import annotations

import os
import stat

import numpy as np
import pytest

import autograd_rnn as ar
from autograd_rnn.cli.main import main
from autograd_rnn.files import FileExistsRefusal, atomic_write_bytes
from autograd_rnn.train import TrainConfig, Trainer, save_npz

OLD = b"old content\n"


@pytest.fixture
def umask_022():
    old = os.umask(0o022)
    yield
    os.umask(old)


def _mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def _old_file(tmp_path, name):
    path = tmp_path / name
    path.write_bytes(OLD)
    return path


def test_atomic_write_gives_umask_permissions(tmp_path, umask_022):
    path = atomic_write_bytes(tmp_path / "a.bin", b"x")
    assert _mode(path) == 0o644, oct(_mode(path))


def test_checkpoint_is_readable_by_others_like_any_file(tmp_path, umask_022):
    trainer = Trainer(TrainConfig(seq_len=4, hidden=3, batch=2))
    path = trainer.save(tmp_path / "run.npz")
    assert _mode(path) == 0o644, oct(_mode(path))


def test_dot_export_gets_umask_permissions(tmp_path, umask_022):
    import autograd_rnn.viz as viz

    x = ar.tensor([1.0, 2.0], requires_grad=True, name="x")
    path = viz.render((x * x).sum(), tmp_path / "g.dot")
    assert _mode(path) == 0o644, oct(_mode(path))


def test_save_npz_refuses_an_existing_file(tmp_path):
    path = _old_file(tmp_path, "c.npz")
    with pytest.raises(FileExistsError, match="already exists"):
        save_npz(path, {"a": np.zeros(2)})
    assert path.read_bytes() == OLD


def test_render_refuses_an_existing_file(tmp_path):
    import autograd_rnn.viz as viz

    path = _old_file(tmp_path, "g.dot")
    x = ar.tensor([1.0], requires_grad=True)
    with pytest.raises(FileExistsError, match="already exists"):
        viz.render((x * 2).sum(), path)
    assert path.read_bytes() == OLD


def test_failed_write_keeps_the_old_file_and_leaves_no_temporary(tmp_path, monkeypatch):
    path = _old_file(tmp_path, "c.npz")

    def crash(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(OSError, match="disk full"):
        save_npz(path, {"a": np.zeros(2)}, overwrite=True)
    assert path.read_bytes() == OLD
    assert os.listdir(tmp_path) == ["c.npz"]


def test_atomic_write_no_overwrite_refusal_names_the_flag(tmp_path):
    path = _old_file(tmp_path, "x.txt")
    with pytest.raises(FileExistsRefusal, match="--overwrite"):
        atomic_write_bytes(path, b"new", overwrite=False)
    assert path.read_bytes() == OLD


@pytest.mark.parametrize(
    "argv, name",
    [
        (["export", "--steps", "2", "-o"], "g.dot"),
        (["codegen", "-o"], "m.py"),
        (["trace", "-o"], "t.html"),
        (["export", "--steps", "2", "--no-overwrite", "-o"], "g.dot"),
        (["codegen", "--no-overwrite", "-o"], "m.py"),
        (["trace", "--no-overwrite", "-o"], "t.html"),
        (
            ["train", "--steps", "2", "--seq-len", "4", "--hidden", "3", "--quiet", "--checkpoint"],
            "c.npz",
        ),
        (
            [
                "train",
                "--steps",
                "2",
                "--seq-len",
                "4",
                "--hidden",
                "3",
                "--quiet",
                "--no-overwrite",
                "--checkpoint",
            ],
            "c.npz",
        ),
    ],
)
def test_cli_refuses_to_replace_an_existing_output(tmp_path, capsys, argv, name):
    path = _old_file(tmp_path, name)
    assert main(argv + [str(path)]) == 2
    err = capsys.readouterr().err
    assert "already exists" in err or "exists;" in err, err
    assert "--overwrite" in err and err.count("\n") == 1, err
    assert path.read_bytes() == OLD
    assert os.listdir(tmp_path) == [name]


def test_cli_overwrite_replaces_the_file_whole(tmp_path, capsys):
    path = _old_file(tmp_path, "g.dot")
    assert main(["export", "--steps", "2", "--overwrite", "-o", str(path)]) == 0
    assert path.read_text().startswith("digraph")
    assert os.listdir(tmp_path) == ["g.dot"]


def test_step_through_page_gets_umask_permissions(tmp_path, umask_022, capsys):
    path = tmp_path / "steps.html"
    assert main(["trace", "--steps", "1", "--hidden", "2", "-o", str(path)]) == 0
    assert _mode(path) == 0o644, oct(_mode(path))
    assert os.listdir(tmp_path) == ["steps.html"]


def test_generated_code_gets_umask_permissions(tmp_path, umask_022, capsys):
    path = tmp_path / "rnn_bptt.py"
    assert main(["codegen", "-o", str(path)]) == 0
    assert _mode(path) == 0o644, oct(_mode(path))
    assert os.listdir(tmp_path) == ["rnn_bptt.py"]
