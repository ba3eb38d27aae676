"""A full disk while saving is one line on stderr, and the previous checkpoint survives."""

from __future__ import annotations

import os

from autograd_rnn.cli.main import main


def test_disk_full_during_checkpoint_save_is_one_line(tmp_path, capsys, monkeypatch):
    import errno

    real, calls = os.replace, []

    def replace(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(*args, **kwargs)

    monkeypatch.setattr(os, "replace", replace)
    path = tmp_path / "c.npz"
    code = main(["train", "--seq-len", "6", "--hidden", "4", "--batch", "2", "--quiet",
                 "--steps", "6", "--checkpoint-every", "1", "--checkpoint", str(path)])
    err = capsys.readouterr().err
    assert code != 0 and "Traceback" not in err and "No space left" in err
    assert [p.name for p in tmp_path.iterdir()] == ["c.npz"]
