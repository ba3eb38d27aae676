"""Atomic writes: complete files only, no overwrite without consent, temp files cleaned up."""

import pytest

from autograd_rnn.files import FileExistsRefusal, atomic_write_bytes, atomic_write_text


def test_write_and_replace(tmp_path):
    target = tmp_path / "a.txt"
    atomic_write_text(target, "one")
    atomic_write_text(target, "two", overwrite=True)
    assert target.read_text() == "two"
    assert [p.name for p in tmp_path.iterdir()] == ["a.txt"]


def test_refuses_to_overwrite(tmp_path):
    target = tmp_path / "a.txt"
    target.write_text("precious")
    with pytest.raises(FileExistsRefusal, match="already exists"):
        atomic_write_text(target, "new", overwrite=False)
    assert target.read_text() == "precious"


def test_failure_leaves_old_file_and_no_temp(tmp_path):
    target = tmp_path / "a.bin"
    target.write_bytes(b"old")


    with pytest.raises(TypeError):
        atomic_write_bytes(target, object())  # not bytes: fails while writing
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["a.bin"]


def test_missing_folder_and_directory_target(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        atomic_write_text(tmp_path / "nope" / "a.txt", "x")
    with pytest.raises(IsADirectoryError):
        atomic_write_text(tmp_path, "x")


def test_new_file_gets_umask_permissions(tmp_path):
    import os

    umask = os.umask(0o022)
    try:
        target = atomic_write_text(tmp_path / "p.txt", "x")
    finally:
        os.umask(umask)
    assert target.stat().st_mode & 0o777 == 0o644
