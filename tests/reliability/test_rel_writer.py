"""The one writer (autograd_rnn.files) and every command that writes through it: a target
that is not a regular file is refused (exit 2, one line naming the path) and left as it
was; a symlink is followed and stays a link; errors name the caller's path, never the hidden
temporary; a missing folder is refused the same way by every command."""

from __future__ import annotations

import errno
import os
import socket
import stat

import pytest

import autograd_rnn as ar
from autograd_rnn import files
from autograd_rnn.cli.main import main
from autograd_rnn.files import (
    MissingFolderError,
    NotARegularFileError,
    WriteFailedError,
    atomic_write_text,
)

TRAIN = ["train", "--steps", "2", "--seq-len", "3", "--hidden", "2", "--batch", "2", "--quiet"]
WRITERS = {  # command line writing one file, given its path last
    "codegen": ["codegen", "--overwrite", "-o"],
    "export": ["export", "--steps", "1", "--format", "dot", "--overwrite", "-o"],
    "trace": ["trace", "--steps", "1", "--hidden", "1", "--overwrite", "-o"],
    "train": TRAIN + ["--overwrite", "--checkpoint"],
}


def _one_line_error(capsys, argv, code=2) -> str:
    assert main(argv) == code
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err, err
    assert ".tmp" not in err, err  # never the hidden temporary file
    return err


def _make(kind: str, path) -> None:
    if kind == "fifo":
        os.mkfifo(path)
    elif kind == "socket":
        server = socket.socket(socket.AF_UNIX)
        server.bind(os.fspath(path))
        server.close()  # the socket file stays
    elif kind == "character device":
        try:
            os.mknod(path, 0o644 | stat.S_IFCHR, os.makedev(1, 3))  # like /dev/null
        except PermissionError:
            pytest.skip("creating a device node needs root (CAP_MKNOD)")
    else:
        path.mkdir()


SPECIAL = {"fifo": "FIFO", "socket": "socket", "character device": "character device",
           "directory": "is a directory"}


@pytest.mark.parametrize("command", sorted(WRITERS))
@pytest.mark.parametrize("kind", sorted(SPECIAL))
def test_a_target_that_is_not_a_regular_file_is_refused_and_kept(tmp_path, capsys, command,
                                                                  kind):
    target = tmp_path / "target"
    _make(kind, target)
    before = os.lstat(target)
    err = _one_line_error(capsys, WRITERS[command] + [str(target)])
    assert str(target) in err and SPECIAL[kind] in err, err
    after = os.lstat(target)
    assert (after.st_mode, after.st_ino) == (before.st_mode, before.st_ino)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["target"]


@pytest.mark.parametrize("kind", ["fifo", "socket"])
def test_the_api_writer_refuses_special_files(tmp_path, kind):
    target = tmp_path / "target"
    _make(kind, target)
    with pytest.raises(NotARegularFileError, match=SPECIAL[kind]):
        atomic_write_text(target, "x", overwrite=True)
    assert not stat.S_ISREG(os.lstat(target).st_mode)


@pytest.mark.parametrize("command", sorted(WRITERS))
def test_a_symlink_is_followed_and_stays_a_link(tmp_path, capsys, command):
    real = tmp_path / "real.out"
    real.write_text("old")
    link = tmp_path / "link.out"
    link.symlink_to(real.name)
    assert main(WRITERS[command] + [str(link)]) == 0, capsys.readouterr().err
    assert link.is_symlink() and os.readlink(link) == real.name
    assert real.read_bytes() != b"old" and real.stat().st_size > 100
    assert sorted(p.name for p in tmp_path.iterdir()) == ["link.out", "real.out"]


def test_a_symlink_to_an_existing_file_needs_overwrite(tmp_path, capsys):
    real = tmp_path / "real.py"
    real.write_text("mine")
    (tmp_path / "link.py").symlink_to(real)
    err = _one_line_error(capsys, ["codegen", "-o", str(tmp_path / "link.py")])
    assert "already exists" in err and "--overwrite" in err
    assert real.read_text() == "mine"


def test_a_dangling_symlink_creates_its_target(tmp_path, capsys):
    link = tmp_path / "link.py"
    link.symlink_to("made.py")
    assert main(["codegen", "-o", str(link)]) == 0
    assert link.is_symlink() and (tmp_path / "made.py").read_text().startswith('"""')


def test_symlink_loop_and_link_to_a_folder_are_refused(tmp_path, capsys):
    loop = tmp_path / "loop.py"
    loop.symlink_to("loop.py")
    err = _one_line_error(capsys, ["codegen", "--overwrite", "-o", str(loop)])
    assert "symbolic link loop" in err and str(loop) in err
    (tmp_path / "folder").mkdir()
    (tmp_path / "to_folder.py").symlink_to("folder")
    err = _one_line_error(capsys, ["codegen", "--overwrite", "-o", str(tmp_path / "to_folder.py")])
    assert "is a directory" in err and "to_folder.py" in err


@pytest.mark.parametrize("fail_in", ["fsync", "replace", "mkstemp"])
def test_a_failing_disk_is_reported_with_the_users_path(tmp_path, capsys, monkeypatch, fail_in):
    path = tmp_path / "m.py"
    path.write_text("old")

    def broken(*args, **kwargs):
        raise OSError(errno.EIO, "Input/output error", str(tmp_path / ".m.py.abc123.tmp"))

    owner = files.tempfile if fail_in == "mkstemp" else os
    monkeypatch.setattr(owner, fail_in, broken)
    err = _one_line_error(capsys, ["codegen", "--overwrite", "-o", str(path)], code=1)
    assert f"cannot write {path}: Input/output error" in err, err
    assert path.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["m.py"]


def test_write_failed_error_keeps_the_errno(tmp_path, monkeypatch):
    def full(*args):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", full)
    with pytest.raises(WriteFailedError) as caught:
        atomic_write_text(tmp_path / "a.txt", "x")
    assert caught.value.errno == errno.ENOSPC and str(tmp_path / "a.txt") in str(caught.value)


def test_a_folder_that_cannot_be_written_is_refused_before_work(tmp_path, capsys, monkeypatch):
    real_access = os.access
    monkeypatch.setattr(os, "access", lambda p, mode, **kw: False if os.fspath(p) == str(
        tmp_path) and mode == os.W_OK else real_access(p, mode, **kw))
    monkeypatch.setattr("autograd_rnn.codegen.cli_source.model_source",
                        lambda *a, **k: pytest.fail("compiled before the refusal"))
    err = _one_line_error(capsys, ["codegen", "-o", str(tmp_path / "m.py")])
    assert f"cannot write {tmp_path / 'm.py'}: folder {tmp_path} is not writable" in err


@pytest.mark.parametrize("command", sorted(WRITERS))
def test_every_command_refuses_a_missing_folder(tmp_path, capsys, command):
    target = tmp_path / "new" / "sub" / "out.file"
    err = _one_line_error(capsys, WRITERS[command] + [str(target)])
    assert f"folder {target.parent} does not exist" in err
    assert os.listdir(tmp_path) == []


def test_the_python_api_follows_the_same_folder_rule(tmp_path):
    x = ar.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(MissingFolderError, match="does not exist"):
        ar.viz.render((x * x).sum(), tmp_path / "new" / "g.dot")
    with pytest.raises(MissingFolderError):
        ar.train.save_npz(tmp_path / "new" / "c.npz", {})
    assert os.listdir(tmp_path) == []


def test_folder_options_create_their_folder(tmp_path, capsys):
    out = tmp_path / "a" / "gallery"
    assert main(["gallery", "--dot-only", "--out", str(out)]) == 0
    assert any(p.suffix == ".dot" for p in out.iterdir())


def test_demo_never_deletes_a_folder_it_did_not_make(tmp_path, capsys):
    mine = tmp_path / "project"
    mine.mkdir()
    (mine / "notes.txt").write_text("keep me")
    err = _one_line_error(capsys, ["demo", "--quiet", "--out", str(mine)])
    assert "was not made by the demo" in err and str(mine) in err
    assert (mine / "notes.txt").read_text() == "keep me"


def test_a_file_appearing_meanwhile_is_not_clobbered(tmp_path, monkeypatch):
    path = tmp_path / "a.txt"
    real_fsync = os.fsync

    def someone_else_writes(fd):
        real_fsync(fd)
        path.write_text("theirs")

    monkeypatch.setattr(os, "fsync", someone_else_writes)
    with pytest.raises(FileExistsError, match="already exists"):
        atomic_write_text(path, "mine", overwrite=False)
    assert path.read_text() == "theirs"
    assert [p.name for p in tmp_path.iterdir()] == ["a.txt"]
