"""One exit-code table for every command (README, "Exit codes"): 0 ok, 1 the run or the check
failed, 2 bad usage or input, 130 interrupted. Each command is driven to each code that
applies to it; a failure is one line on stderr, never a traceback. (check-backward and grade
follow the same table in tests/check.)"""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest

from autograd_rnn.cli.main import main

REPO = Path(__file__).resolve().parents[2]
TINY_TRAIN = ["--seq-len", "3", "--hidden", "2", "--batch", "2", "--quiet"]
REPORTS = {"gradcheck": "FAIL", "gallery": "out of date", "demo": ""}  # exit 1 on stdout


def _raise(error):
    def fail(*args, **kwargs):
        raise error

    return fail


def _eio(*args):
    raise OSError(errno.EIO, "Input/output error")


# (command, expected code, argv with {tmp} and {ckpt}, monkeypatched (target, replacement))
CASES = [
    ("codegen", 0, ["codegen", "-o", "{tmp}/m.py"], None),
    ("codegen", 1, ["codegen", "-o", "{tmp}/m.py"], ("os.fsync", _eio)),
    ("codegen", 2, ["codegen", "--hidden", "0", "-o", "{tmp}/m.py"], None),
    ("codegen", 130, ["codegen", "-o", "{tmp}/m.py"],
     ("autograd_rnn.codegen.cli_source.model_source", _raise(KeyboardInterrupt))),
    ("demo", 1, ["demo", "--quiet", "--out", "{tmp}/d"],
     ("autograd_rnn.demo.run_demo", lambda **kw: False)),
    ("demo", 2, ["demo", "--steps", "0"], None),
    ("demo", 130, ["demo", "--quiet", "--out", "{tmp}/d"],
     ("autograd_rnn.demo.run_demo", _raise(KeyboardInterrupt))),
    ("export", 0, ["export", "--format", "dot", "-o", "{tmp}/g.dot"], None),
    ("export", 1, ["export", "-o", "{tmp}/g.svg"], ("shutil.which", lambda name: None)),
    ("export", 2, ["export", "--weight-scale", "nan", "-o", "{tmp}/g.dot"], None),
    ("export", 2, ["export", "--steps", "200", "--detail", "ops", "-o", "{tmp}/g.svg"],
     None),  # too large to lay out
    ("export", 130, ["export", "-o", "{tmp}/g.dot"],
     ("autograd_rnn.viz.examples.build_example", _raise(KeyboardInterrupt))),
    ("gallery", 0, ["gallery", "--check", "--out", str(REPO / "graphs")], None),
    ("gallery", 1, ["gallery", "--check", "--out", "{tmp}"], None),
    ("gallery", 2, ["gallery", "--out", "{ckpt}"], None),  # a file, not a folder
    ("gallery", 130, ["gallery", "--check", "--out", "{tmp}"],
     ("autograd_rnn.viz.gallery.stale_gallery", _raise(KeyboardInterrupt))),
    ("gradcheck", 0, ["gradcheck", "--steps", "2"], None),
    ("gradcheck", 1, ["gradcheck", "--steps", "2", "--eps", "0.5", "--atol", "0",
                      "--rtol", "0"], None),
    ("gradcheck", 2, ["gradcheck", "--eps", "inf"], None),
    ("gradcheck", 130, ["gradcheck"],
     ("autograd_rnn.check.model_check.check_engine_model", _raise(KeyboardInterrupt))),
    ("sample", 0, ["sample", "--checkpoint", "{ckpt}", "--length", "3"], None),
    ("sample", 1, ["sample", "--checkpoint", "{ckpt}", "--length", "3"],
     ("autograd_rnn.train.sampling.continue_sine", _raise(MemoryError("Unable to allocate")))),
    ("sample", 2, ["sample", "--checkpoint", "{ckpt}", "--temperature", "nan"], None),
    ("sample", 130, ["sample", "--checkpoint", "{ckpt}"],
     ("autograd_rnn.train.sampling.continue_sine", _raise(KeyboardInterrupt))),
    ("trace", 0, ["trace", "--steps", "1", "--hidden", "1", "--max-frames", "3",
                  "-o", "{tmp}/t.html"], None),
    ("trace", 1, ["trace", "--steps", "1", "-o", "{tmp}/t.html"],
     ("shutil.which", lambda name: None)),
    ("trace", 2, ["trace", "--steps", "200", "-o", "{tmp}/t.html"], None),  # too large
    ("trace", 130, ["trace", "-o", "{tmp}/t.html"],
     ("autograd_rnn.viz.trace_example.record_example", _raise(KeyboardInterrupt))),
    ("train", 0, ["train", "--steps", "2", *TINY_TRAIN], None),
    ("train", 1, ["train", "--steps", "5", "--lr", "1e300", "--clip", "0", *TINY_TRAIN], None),
    ("train", 2, ["train", "--clip-value", "-1", *TINY_TRAIN], None),
    ("train", 130, ["train", "--steps", "5", *TINY_TRAIN],
     ("autograd_rnn.train.trainer.Trainer.train_step", _raise(KeyboardInterrupt))),
]


@pytest.fixture(scope="module")
def sine_checkpoint(tmp_path_factory) -> str:
    path = tmp_path_factory.mktemp("ckpt") / "sine.npz"
    assert main(["train", "--steps", "1", *TINY_TRAIN, "--checkpoint", str(path)]) == 0
    return str(path)


@pytest.mark.parametrize("command, code, argv, patch", CASES,
                         ids=[f"{c[0]}-{c[1]}-{i}" for i, c in enumerate(CASES)])
def test_exit_code(tmp_path, capsys, monkeypatch, sine_checkpoint, command, code, argv, patch):
    if patch is not None:
        monkeypatch.setattr(*patch)
    argv = [a.replace("{tmp}", str(tmp_path)).replace("{ckpt}", sine_checkpoint) for a in argv]
    capsys.readouterr()
    assert main(argv) == code
    out, err = capsys.readouterr()
    assert "Traceback" not in err
    if code == 0:
        assert err == "", err
    elif code == 130 and command == "train":  # the run's own summary: where to resume
        assert "interrupted at step" in out, out
    elif code == 130:
        assert err == f"autograd-rnn {command}: interrupted\n", err
    elif code == 1 and command in REPORTS:  # a failed check: the report says what failed
        assert err == "" and REPORTS[command] in out, out
    else:
        assert err.count("\n") == 1 and err.startswith(f"autograd-rnn {command}: error: "), err


def test_every_command_is_in_the_table():
    from autograd_rnn.cli.main import build_parser

    commands = set(build_parser()._subparsers._group_actions[0].choices)
    covered = {case[0] for case in CASES}
    assert commands - covered <= {"check-backward", "grade"}, commands - covered
    for command in covered - {"demo"}:  # demo's 0 is tests/test_demo.py (a minute-long run)
        assert {case[1] for case in CASES if case[0] == command} >= {0, 1, 2, 130}, command


def test_help_exits_0(capsys):
    assert main(["train", "--help"]) == 0
    assert "--force" in capsys.readouterr().out


def test_usage_errors_from_argparse_are_one_line(capsys):
    assert main(["train", "--no-such-option"]) == 2
    err = capsys.readouterr().err
    assert err == ("autograd-rnn train: error: unrecognized arguments: --no-such-option "
                   "(see autograd-rnn train --help)\n")
    assert main(["export", "--cell", "transformer"]) == 2
    assert "invalid choice: 'transformer'" in capsys.readouterr().err


def test_fd_leak_free(tmp_path):
    before = len(os.listdir("/proc/self/fd")) if os.path.isdir("/proc/self/fd") else 0
    for _ in range(3):
        main(["codegen", "-o", str(tmp_path / "m.py"), "--overwrite"])
    after = len(os.listdir("/proc/self/fd")) if os.path.isdir("/proc/self/fd") else 0
    assert after <= before
