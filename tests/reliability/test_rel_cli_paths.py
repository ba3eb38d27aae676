"""CLI commands given paths that do not exist, are folders, or cannot be read: exit code 2
and one line on stderr naming the path, never a traceback.

Unreadable files are made with chmod 000; when the tests run as root (who may read
anything) the read is made to fail with PermissionError instead, as it would for a user.
"""

from __future__ import annotations

import builtins
import os

import numpy as np
import pytest

from autograd_rnn.cli.main import main

STUDENT = os.path.join(os.path.dirname(__file__), "..", "check", "coursework_student.py")


def _usage_error(capsys, argv, *fragments):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err, err
    for fragment in fragments:
        assert fragment in err, err
    return err


def _denying(real, denied: str):
    def wrapper(file, *args, **kwargs):
        if isinstance(file, (str, os.PathLike)) and os.fspath(file) == denied:
            raise PermissionError(13, "Permission denied", denied)
        return real(file, *args, **kwargs)

    return wrapper


@pytest.fixture
def unreadable(tmp_path, monkeypatch):
    """A file that cannot be read: chmod 000, plus a PermissionError on open/np.load for it
    when running as root."""

    def make(name: str, content: bytes) -> str:
        path = tmp_path / name
        path.write_bytes(content)
        path.chmod(0)
        if os.access(path, os.R_OK):  # root: simulate what any other user gets
            for owner, name in ((builtins, "open"), (np, "load")):
                monkeypatch.setattr(owner, name, _denying(getattr(owner, name), str(path)))
        return str(path)

    yield make
    for child in tmp_path.iterdir():
        child.chmod(0o644)


def test_sample_missing_checkpoint(tmp_path, capsys):
    _usage_error(
        capsys, ["sample", "--checkpoint", str(tmp_path / "nope.npz")], "nope.npz", "does not exist"
    )


def test_sample_unreadable_checkpoint(capsys, unreadable):
    path = unreadable("locked.npz", b"PK")
    _usage_error(capsys, ["sample", "--checkpoint", path], "locked.npz", "Permission denied")


def test_resume_missing_checkpoint(tmp_path, capsys):
    _usage_error(
        capsys,
        [
            "train",
            "--resume",
            "--checkpoint",
            str(tmp_path / "gone.npz"),
            "--steps",
            "3",
            "--quiet",
        ],
        "gone.npz",
        "does not exist",
    )


def test_train_missing_text_file(tmp_path, capsys):
    _usage_error(
        capsys,
        ["train", "--task", "chars", "--text", str(tmp_path / "t.txt"), "--steps", "2", "--quiet"],
        "t.txt",
        "does not exist",
    )


def test_train_unreadable_text_file(capsys, unreadable):
    path = unreadable("t.txt", b"hello world " * 20)
    _usage_error(
        capsys,
        ["train", "--task", "chars", "--text", path, "--steps", "2", "--quiet"],
        "t.txt",
        "Permission denied",
    )


def test_train_text_file_not_utf8(tmp_path, capsys):
    path = tmp_path / "latin.txt"
    path.write_bytes("caf\xe9 ".encode("latin-1") * 30)
    _usage_error(
        capsys,
        ["train", "--task", "chars", "--text", str(path), "--steps", "2", "--quiet"],
        "latin.txt",
        "not UTF-8",
    )


def test_train_checkpoint_in_a_missing_folder(tmp_path, capsys):
    _usage_error(
        capsys,
        ["train", "--checkpoint", str(tmp_path / "no" / "c.npz"), "--steps", "2", "--quiet"],
        "does not exist",
    )
    assert not (tmp_path / "no").exists()


def test_train_checkpoint_path_is_a_folder(tmp_path, capsys):
    _usage_error(
        capsys,
        ["train", "--checkpoint", str(tmp_path), "--steps", "2", "--quiet"],
        "is a directory",
    )


def test_trace_output_path_is_a_folder(tmp_path, capsys):
    _usage_error(capsys, ["trace", "-o", str(tmp_path)], "is a directory")


def test_codegen_output_path_is_a_folder(tmp_path, capsys):
    _usage_error(capsys, ["codegen", "-o", str(tmp_path)], "is a directory")


def test_check_backward_missing_module_file(tmp_path, capsys):
    f = str(tmp_path / "mine.py")
    _usage_error(capsys, ["check-backward", f"{f}:fwd", f"{f}:bwd", "--layer", "affine"], "mine.py")


def test_check_backward_missing_inputs_file(tmp_path, capsys):
    _usage_error(
        capsys,
        [
            "check-backward",
            f"{STUDENT}:affine_forward",
            f"{STUDENT}:affine_backward",
            "--inputs",
            str(tmp_path / "in.npz"),
        ],
        "in.npz",
    )


def test_check_backward_unreadable_inputs_file(capsys, unreadable):
    path = unreadable("in.npz", b"PK")
    _usage_error(
        capsys,
        [
            "check-backward",
            f"{STUDENT}:affine_forward",
            f"{STUDENT}:affine_backward",
            "--inputs",
            path,
        ],
        "in.npz",
        "Permission denied",
    )
