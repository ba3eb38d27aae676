"""Out-of-range numbers on the command line: every command answers with exit code 2 and one
line naming the option and the value, before doing any work; nothing is written."""

from __future__ import annotations

import os

import pytest

from autograd_rnn.cli.main import main

STUDENT = os.path.join(os.path.dirname(__file__), "..", "check", "coursework_student.py")
CHECK_BACKWARD = [
    "check-backward",
    f"{STUDENT}:affine_forward",
    f"{STUDENT}:affine_backward",
    "--layer",
    "affine",
]

CASES = [
    (["export", "-o", "{out}/g.dot", "--steps", "0"], "--steps must be >= 1, got 0"),
    (["export", "-o", "{out}/g.dot", "--hidden", "0"], "--hidden must be >= 1, got 0"),
    (["export", "-o", "{out}/g.dot", "--batch", "0"], "--batch must be >= 1, got 0"),
    (["export", "-o", "{out}/g.dot", "--truncate", "0"], "--truncate must be >= 1, got 0"),
    (["trace", "-o", "{out}/t.html", "--steps", "0"], "--steps must be >= 1, got 0"),
    (["trace", "-o", "{out}/t.html", "--every", "0"], "--every must be >= 1, got 0"),
    (["trace", "-o", "{out}/t.html", "--max-frames", "-1"], "--max-frames must be >= 0"),
    (["codegen", "-o", "{out}/m.py", "--steps", "0"], "--steps must be >= 1, got 0"),
    (["codegen", "-o", "{out}/m.py", "--batch", "0"], "--batch must be >= 1, got 0"),
    (["gradcheck", "--steps", "0"], "--steps must be >= 1, got 0"),
    (["gradcheck", "--layers", "0"], "--layers must be >= 1, got 0"),
    (["gradcheck", "--max-entries", "-1"], "--max-entries must be >= 0, got -1"),
    (["gradcheck", "--eps", "0"], "--eps must be a finite number > 0, got 0"),
    (["gradcheck", "--eps=-1e-6"], "--eps must be a finite number > 0, got -1e-6"),
    (["gradcheck", "--rtol", "nan"], "--rtol must be a finite number >= 0, got nan"),
    (CHECK_BACKWARD + ["--eps", "0"], "--eps must be a finite number > 0, got 0"),
    (CHECK_BACKWARD + ["--atol", "-1"], "--atol must be a finite number >= 0, got -1"),
    (["train", "--steps", "0"], "--steps must be >= 1, got 0"),
    (["train", "--steps", "1", "--hidden", "0"], "--hidden must be >= 1, got 0"),
    (["train", "--steps", "1", "--batch", "0"], "--batch must be >= 1, got 0"),
    (["train", "--steps", "1", "--seq-len", "0"], "--seq-len must be >= 1, got 0"),
    (["train", "--steps", "1", "--lr", "-1"], "--lr must be a finite number > 0, got -1"),
    (["train", "--steps", "1", "--lr", "nan"], "--lr must be a finite number > 0, got nan"),
    (["train", "--steps", "1", "--k2", "0"], "--k2 must be >= 1, got 0"),
    (["train", "--steps", "1", "--checkpoint-every", "0"], "--checkpoint-every must be >= 1"),
    (["sample", "--checkpoint", "{out}/c.npz", "--length", "0"], "--length must be >= 1, got 0"),
]


@pytest.mark.parametrize("argv, message", CASES, ids=[" ".join(a[:1] + a[-2:]) for a, _ in CASES])
def test_out_of_range_option(tmp_path, capsys, argv, message):
    argv = [a.replace("{out}", str(tmp_path)) for a in argv]
    assert main(argv + (["--quiet"] if argv[0] == "train" else [])) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err, err
    assert message in err, err
    assert os.listdir(tmp_path) == []
