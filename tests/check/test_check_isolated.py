"""check_backward_isolated: the student's code runs in a child process; whatever it does
(exit, os._exit, crash, hang, patch NumPy, allocate too much) is reported as what it is,
never as a pass, and the verdict on correct code equals the in-process one."""

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from autograd_rnn.check import CheckUsageError, StudentCodeError, check_backward
from autograd_rnn.check.isolated import check_backward_isolated
from autograd_rnn.check.loader import layer_inputs, load_function

CLASS = Path(__file__).with_name("class_submissions")


def specs(student, layer):
    f = CLASS / student / "rnn_layers.py"
    return f"{f}:{layer}_forward", f"{f}:{layer}_backward"


def isolated(student, layer, **kwargs):
    return check_backward_isolated(*specs(student, layer), layer_inputs(layer), layer=layer,
                                   **kwargs)


def student_file(tmp_path, body, name="hw.py"):
    path = tmp_path / name
    path.write_text(textwrap.dedent(body))
    return str(path)


AFFINE = """
    import numpy as np

    def affine_forward(x, w, b):
        return x @ w + b, (x, w)

    def affine_backward(dout, cache):
        x, w = cache
        {extra}
        return dout @ w.T, x.T @ dout, dout.sum(axis=0)
    """


def affine_student(tmp_path, extra="pass", head=""):
    path = student_file(tmp_path, head + textwrap.dedent(AFFINE).replace("{extra}", extra))
    return f"{path}:affine_forward", f"{path}:affine_backward"


def test_correct_code_passes_with_the_in_process_numbers():
    report = isolated("alice", "lstm_step")
    assert report and report.status == "passed" and report.error is None
    f, b = specs("alice", "lstm_step")
    local = check_backward(load_function(f), load_function(b), layer_inputs("lstm_step"),
                           layer="lstm_step")
    assert report.to_dict()["inputs"] == local.to_dict()["inputs"]
    assert report.to_dict()["reference"] == local.to_dict()["reference"]


def test_system_exit_is_raised_not_passed():
    report = isolated("kim", "lstm_step")
    assert not report and report.status == "raised"
    assert report.error["message"].startswith("backward lstm_step_backward raised SystemExit(0)")
    assert "kim/rnn_layers.py:33" in report.error["message"]
    assert report.output == "dx (3, 5)\n"  # the student's print, captured, not on our stdout
    assert "your code printed:\n  | dx (3, 5)" in str(report)


def test_os_exit_is_reported_as_ending_the_process():
    report = isolated("leo", "rnn")
    assert report.status == "exited" and not report
    assert "ended while running backward with exit code 0" in report.error["message"]


def test_segfault_is_a_crash_at_the_students_line():
    report = isolated("leo", "word_embedding")
    assert report.status == "crashed"
    message = report.error["message"]
    assert "crashed with SIGSEGV while running backward" in message
    assert "leo/rnn_layers.py:51 in word_embedding_backward" in message


def test_endless_loop_times_out():
    start = time.monotonic()
    report = isolated("kim", "lstm", timeout=1.0)
    assert report.status == "timed out" and not report
    assert report.error["message"] == ("timed out after 1 s while running backward (an endless "
                                       "loop?)")
    assert time.monotonic() - start < 10


def test_numpy_patched_at_import_is_named():
    report = isolated("mallory", "rnn_step")
    assert report.status == "monkeypatch"
    assert report.error["message"].startswith("your code replaced numpy.abs (noticed after "
                                              "import)")


def test_numpy_patched_inside_backward_is_named(tmp_path):
    f, b = affine_student(tmp_path, extra="np.allclose = lambda *a, **k: True")
    report = check_backward_isolated(f, b, layer_inputs("affine"), layer="affine")
    assert report.status == "monkeypatch" and "numpy.allclose" in report.error["message"]


def test_memory_limit(tmp_path):
    f, b = affine_student(tmp_path, extra="big = np.ones(2 ** 31)")
    report = check_backward_isolated(f, b, layer_inputs("affine"), layer="affine",
                                     memory_mb=256)
    assert report.status == "out of memory"
    assert "raised MemoryError" in report.error["message"]


def test_keyboard_interrupt_raised_by_the_student(tmp_path):
    f, b = affine_student(tmp_path, extra="raise KeyboardInterrupt")
    report = check_backward_isolated(f, b, layer_inputs("affine"), layer="affine")
    assert report.status == "raised" and "raised KeyboardInterrupt" in report.error["message"]


def test_import_errors_are_the_students(tmp_path):
    path = student_file(tmp_path, "def affine_forward(x, w, b)\n    return x\n")
    report = check_backward_isolated(f"{path}:affine_forward", f"{path}:affine_backward",
                                     layer_inputs("affine"), layer="affine")
    assert report.status == "raised"
    assert "raised SyntaxError" in report.error["message"] and "(line 1)" in report.error[
        "message"]
    f, b = affine_student(tmp_path, head="import sys\nsys.exit(3)\n")
    report = check_backward_isolated(f, b, layer_inputs("affine"), layer="affine")
    assert report.status == "raised" and "SystemExit(3)" in report.error["message"]


def test_missing_file_or_function_is_the_graders_error(tmp_path):
    f, b = affine_student(tmp_path)
    with pytest.raises(CheckUsageError, match="has no function 'affine_backwrd'"):
        check_backward_isolated(f, b.replace("backward", "backwrd"), layer_inputs("affine"),
                                layer="affine")
    with pytest.raises(CheckUsageError, match="no such file"):
        check_backward_isolated(str(tmp_path / "no.py:f"), b, layer_inputs("affine"),
                                layer="affine")
    with pytest.raises(CheckUsageError, match="timeout must be > 0"):
        check_backward_isolated(f, b, layer_inputs("affine"), layer="affine", timeout=0)


def test_in_process_check_turns_system_exit_into_an_error():
    f, b = specs("kim", "lstm_step")
    with pytest.raises(StudentCodeError, match=r"raised SystemExit\(0\)") as info:
        check_backward(load_function(f), load_function(b), layer_inputs("lstm_step"),
                       layer="lstm_step")
    assert info.value.status == "raised"


def test_package_files_are_imported_with_their_package(tmp_path):
    package = tmp_path / "cs231n"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "layers.py").write_text(textwrap.dedent(AFFINE.replace("{extra}", "pass")))
    (package / "rnn_layers.py").write_text("from .layers import *  # noqa\n")
    f = f"{package / 'rnn_layers.py'}:affine_forward"
    report = check_backward_isolated(f, f.replace("forward", "backward"),
                                     layer_inputs("affine"), layer="affine")
    assert report.status == "passed"


def start_endless_check():
    """A check-backward process on kim's endless loop, and the pid of its check process."""
    f, b = specs("kim", "lstm")
    cli = subprocess.Popen([sys.executable, "-m", "autograd_rnn", "check-backward", f, b,
                            "--layer", "lstm", "--timeout", "60"], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True)
    child = None
    deadline = time.monotonic() + 30
    while child is None and time.monotonic() < deadline:
        found = subprocess.run(["pgrep", "-P", str(cli.pid)], capture_output=True, text=True)
        child = int(found.stdout.split()[0]) if found.stdout.split() else None
        time.sleep(0.05)
    assert child is not None
    time.sleep(0.3)
    return cli, child


def _children(pid: int) -> str:
    found = subprocess.run(["pgrep", "-a", "-P", str(pid)], capture_output=True, text=True)
    return found.stdout.strip() or "none"


def _where_it_waits(cli) -> str:
    """What a hung CLI is doing: /proc's kernel view of its main thread (wchan, state)."""
    try:
        stat = Path(f"/proc/{cli.pid}/stat").read_text().split(")")[-1].split()[0]
        wchan = Path(f"/proc/{cli.pid}/wchan").read_text()
    except OSError as error:
        return f"unreadable ({error})"
    return f"state {stat}, waiting in {wchan or '?'}"


def gone(pid, within=10.0):
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0]
        except OSError:
            return True
        if state == "Z":  # killed, waiting for its (dead) parent's reaper
            return True
        time.sleep(0.05)
    return False


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="uses /proc and pgrep")
def test_ctrl_c_kills_the_check_and_exits_130():
    cli, child = start_endless_check()
    cli.send_signal(signal.SIGINT)
    try:
        out, err = cli.communicate(timeout=20)
    except subprocess.TimeoutExpired:  # (seen once under heavy load: say where it hung)
        waiting = _where_it_waits(cli)
        cli.kill()
        out, err = cli.communicate()
        pytest.fail(f"the CLI did not exit within 20 s of SIGINT; stderr: {err[-2000:]!r}; "
                    f"its children: {_children(cli.pid)}; the CLI: {waiting}")
    assert cli.returncode == 130 and "interrupted" in err
    assert not os.path.exists(f"/proc/{child}")  # killed and reaped, not left running


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="uses /proc and pgrep")
def test_killing_the_grader_kills_the_check():
    cli, child = start_endless_check()
    cli.kill()
    cli.communicate(timeout=20)
    assert gone(child)  # the student's endless loop does not outlive the grader
