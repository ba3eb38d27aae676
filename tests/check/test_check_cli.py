"""``autograd-rnn gradcheck`` and ``autograd-rnn check-backward``: exit codes 0 pass,
1 the checked code is wrong (mismatch, wrong shape, raised...), 2 usage errors (one line, no
traceback), JSON for autograders; a closed stdout is not an error."""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from autograd_rnn.check import GradcheckReport, GradientComparison
from autograd_rnn.cli.main import main

STUDENT = Path(__file__).with_name("coursework_student.py")


def fn(name):
    return f"{STUDENT}:{name}"


def test_gradcheck_engine_model_passes(capsys):
    assert main(["gradcheck", "--cell", "lstm", "--steps", "3", "--hidden", "3"]) == 0
    out = capsys.readouterr().out
    assert "gradcheck lstm (steps=3" in out and "PASSED" in out and "W_y" in out


def test_gradcheck_json(capsys):
    assert main(["gradcheck", "--cell", "gru", "--steps", "2", "--json", "--max-entries", "0"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["passed"] is True
    assert all(row["entries_checked"] == int(np.prod(row["shape"])) for row in d["inputs"])


def test_gradcheck_mismatch_exits_1(monkeypatch, capsys):
    failing = GradcheckReport([GradientComparison("W_h", (2, 2), 1.0, 1.0, (0, 1), False, 4)],
                              1e-6, 1e-5, 1e-4)
    monkeypatch.setattr("autograd_rnn.check.model_check.check_engine_model",
                        lambda *a, **k: failing)
    assert main(["gradcheck", "--cell", "rnn"]) == 1
    assert "FAIL" in capsys.readouterr().out


def test_gradcheck_usage_error(capsys):
    assert main(["gradcheck", "--steps", "0"]) == 2
    err = capsys.readouterr().err
    assert err.strip() == "autograd-rnn gradcheck: error: --steps must be >= 1, got 0"


def test_check_backward_pass_and_fail(capsys):
    assert main(["check-backward", fn("rnn_step_forward"), fn("rnn_step_backward"),
                 "--layer", "rnn_step"]) == 0
    assert "PASSED" in capsys.readouterr().out
    assert main(["check-backward", fn("rnn_step_forward"),
                 fn("rnn_step_backward_missing_transpose"), "--layer", "rnn_step"]) == 1
    assert "wrong gradients: prev_h" in capsys.readouterr().out


def test_check_backward_json(capsys):
    code = main(["check-backward", fn("rnn_forward"), fn("rnn_backward_off_by_one"),
                 "--layer", "rnn", "--json", "--seed", "2"])
    assert code == 1
    d = json.loads(capsys.readouterr().out)
    assert d["passed"] is False and "x" in d["failed_inputs"] and d["seed"] == 2
    assert d["reference"]["layer"] == "rnn"


def test_check_backward_module_spec_from_cwd(monkeypatch, capsys):
    monkeypatch.chdir(STUDENT.parent)
    monkeypatch.syspath_prepend(str(STUDENT.parent))
    assert main(["check-backward", "coursework_student:lstm_step_forward",
                 "coursework_student:lstm_step_backward", "--layer", "lstm_step"]) == 0


def test_check_backward_inputs_npz(tmp_path, capsys):
    path = tmp_path / "inputs.npz"
    rng = np.random.default_rng(0)
    np.savez(path, x=rng.standard_normal((2, 3)), w=rng.standard_normal((3, 4)),
             b=rng.standard_normal(4))
    assert main(["check-backward", fn("affine_forward"), fn("affine_backward"),
                 "--inputs", str(path), "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)["inputs"]
    assert [(r["name"], r["shape"]) for r in rows] == [("x", [2, 3]), ("w", [3, 4]), ("b", [4])]


@pytest.mark.parametrize("argv, message", [
    ([fn("rnn_step_forward"), fn("nope"), "--layer", "rnn_step"], "has no function 'nope'"),
    (["no_such_module_xyz:f", fn("rnn_step_backward"), "--layer", "rnn_step"],
     "cannot import 'no_such_module_xyz'"),
    ([fn("rnn_step_forward"), fn("rnn_step_backward")], "give --layer"),
    (["missing_file.py:f", fn("rnn_step_backward"), "--layer", "rnn_step"],
     "no such file: missing_file.py"),
    (["rnn_step_forward", fn("rnn_step_backward"), "--layer", "rnn_step"],
     "expected MODULE:FUNCTION"),
    ([fn("rnn_step_forward"), fn("rnn_step_backward"), "--layer", "rnn_step", "--timeout", "0"],
     "timeout must be > 0"),
    ([fn("word_embedding_forward"), fn("word_embedding_backward"), "--layer", "word_embedding",
      "--repeats", "12"], "repeats must be between 0 and N*T - 1 = 11"),
    ([fn("rnn_step_forward"), fn("rnn_step_backward"), "--layer", "rnn_step",
      "--mask-density", "1.5"], "mask density must be between 0 and 1, got 1.5"),
])
def test_check_backward_usage_errors(argv, message, capsys):
    assert main(["check-backward", *argv]) == 2
    err = capsys.readouterr().err
    assert message in err
    assert err.count("\n") == 1 and "Traceback" not in err


@pytest.mark.parametrize("argv, status, message", [
    ([fn("forward_four_args"), fn("rnn_step_backward")], "wrong return",
     "cannot be called with 5 argument(s)"),
    ([fn("rnn_step_forward"), fn("rnn_step_backward_db_not_summed")], "wrong shape",
     "returned db of shape (3, 6), expected (6,)"),
    ([fn("rnn_step_forward"), fn("rnn_step_backward_crashes")], "raised",
     "rnn_step_backward_crashes raised ValueError"),
])
def test_the_students_errors_exit_1_with_a_report(argv, status, message, capsys):
    assert main(["check-backward", *argv, "--layer", "rnn_step", "--json"]) == 1
    d = json.loads(capsys.readouterr().out)
    assert d["passed"] is False and d["status"] == status and message in d["error"]["message"]


def test_usage_error_with_json_prints_json(capsys):
    assert main(["check-backward", fn("rnn_step_forward"), fn("nope"), "--layer", "rnn_step",
                 "--json"]) == 2
    d = json.loads(capsys.readouterr().out)
    assert d["passed"] is False and d["status"] == "usage" and "nope" in d["error"]


def run_cli(*argv, stdout=subprocess.PIPE):
    return subprocess.run([sys.executable, "-m", "autograd_rnn", *argv], stdout=stdout,
                          stderr=subprocess.PIPE, text=True)


def test_console_exit_codes_in_a_subprocess():
    fail = run_cli("check-backward", fn("rnn_step_forward"),
                   fn("rnn_step_backward_no_tanh_derivative"), "--layer", "rnn_step")
    assert fail.returncode == 1 and "FAILED (mismatch)" in fail.stdout
    assert "Traceback" not in fail.stdout + fail.stderr


def test_closed_stdout_is_not_an_error():
    read, write = os.pipe()
    os.close(read)  # nobody reads: like `| head -1` once head has exited
    try:
        done = run_cli("check-backward", fn("rnn_step_forward"), fn("rnn_step_backward"),
                       "--layer", "rnn_step", "--json", stdout=write)
    finally:
        os.close(write)
    assert done.returncode == 0 and done.stderr == ""  # was 1, "error: [Errno 32] Broken pipe"


def test_help_documents_sizes_and_limits(capsys):
    assert main(["check-backward", "--help"]) == 0  # main returns exit codes, never exits
    text = capsys.readouterr().out
    for option in ("--mask-density", "--repeats", "--output-size", "--timeout",
                   "--memory-limit", "--allow-float32"):
        assert option in text
    assert "output size M of affine and temporal_affine" in text
    assert "1 the checked code is wrong" in " ".join(text.split())


def test_loss_function_without_backward_and_output_size(capsys):
    assert main(["check-backward", fn("temporal_softmax_loss_cs231n"),
                 "--layer", "temporal_softmax_loss", "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["status"] == "passed" and [r["name"] for r in d["inputs"]] == ["x"]
    assert main(["check-backward", fn("temporal_affine_forward"), fn("temporal_affine_backward"),
                 "--layer", "temporal_affine", "--output-size", "9", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)["inputs"]
    assert [r["shape"] for r in rows] == [[3, 4, 5], [5, 9], [9]]


def test_small_sizes_warn(capsys):
    assert main(["check-backward", fn("rnn_forward"), fn("rnn_backward"), "--layer", "rnn",
                 "--batch", "1", "--steps", "2"]) == 0
    out = capsys.readouterr().out
    assert "warning: N = 1: a batch of one cannot reveal a 1/N factor" in out
    assert "warning: T = 2: two steps cannot reveal" in out


CLASS = Path(__file__).with_name("class_submissions")


@pytest.mark.parametrize("student, layer, status", [
    ("kim", "lstm_step", "raised"),        # sys.exit(0): was exit 0 with no report
    ("leo", "rnn", "exited"),              # os._exit(0): was exit 0
    ("leo", "word_embedding", "crashed"),  # segfault: was a dead process (139)
    ("mallory", "rnn_step", "monkeypatch"),  # numpy.abs replaced: was exit 0
    ("kim", "lstm", "timed out"),          # endless loop: hung the grader
    ("hana", "rnn_step", "wrong dtype"),   # float32 gradients: was exit 0
    ("gus", "rnn_step", "wrong shape"),    # swapped return order: was exit 2
])
def test_what_the_students_code_does_exits_1(student, layer, status, capsys):
    f = CLASS / student / "rnn_layers.py"
    assert main(["check-backward", f"{f}:{layer}_forward", f"{f}:{layer}_backward",
                 "--layer", layer, "--timeout", "2", "--json"]) == 1
    d = json.loads(capsys.readouterr().out)
    assert d["passed"] is False and d["status"] == status
