"""tutorials/grading.py: the tables and status lines the notebooks' grading cells print."""

import importlib.util
import re
import sys
from pathlib import Path

import numpy as np
import pytest

import autograd_rnn as ar
from autograd_rnn.check import check_backward

_PATH = Path(__file__).resolve().parents[2] / "tutorials" / "grading.py"
_SPEC = importlib.util.spec_from_file_location("tutorial_grading", _PATH)
grading = sys.modules.setdefault("tutorial_grading", importlib.util.module_from_spec(_SPEC))
_SPEC.loader.exec_module(grading)


def status_line(text: str) -> str:
    return text.strip().splitlines()[-1]


def rnn_step_forward(x, prev_h, Wx, Wh, b):
    next_h = np.tanh(x @ Wx + prev_h @ Wh + b)
    return next_h, (x, prev_h, Wx, Wh, next_h)


def rnn_step_inputs(B=3, D=4, H=5):
    rng = np.random.default_rng(0)
    return {"x": rng.normal(size=(B, D)), "prev_h": rng.normal(size=(B, H)),
            "Wx": 0.4 * rng.normal(size=(D, H)), "Wh": 0.4 * rng.normal(size=(H, H)),
            "b": 0.4 * rng.normal(size=H)}


def test_passing_checks_print_a_table_and_passed(capsys):
    with grading.exercise("9.1", "a title") as ex:
        ex.close("value", np.array([1.0, 2.0]), [1.0, 2.0], where="t=1")
        ex.equal("count", 17, 17, where="T=1")
    out = capsys.readouterr().out
    assert out.splitlines()[0] == "Exercise 9.1: a title"
    assert "t=1" in out and "T=1" in out
    assert status_line(out) == "exercise 9.1: PASSED (2 of 2 checks passed)"
    assert grading.RESULTS["9.1"].passed


def test_skeleton_is_not_done_without_a_traceback(capsys):
    def student(x):
        # YOUR CODE HERE
        raise NotImplementedError

    with grading.exercise("9.2", "skeleton") as ex:
        ex.close("value", student(1.0), 1.0)
    out = capsys.readouterr().out
    assert status_line(out) == "exercise 9.2: NOT DONE"
    assert "student() still raises NotImplementedError" in out and "Traceback" not in out
    with pytest.raises(AssertionError, match="NOT DONE"):
        grading.raise_unless_passed("9.2")


def test_not_done_is_recognised_through_check_backward(capsys):
    def backward(dnext_h, cache):
        raise NotImplementedError

    with grading.exercise("9.3", "through a checker") as ex:
        ex.report(check_backward(rnn_step_forward, backward, rnn_step_inputs()))
    out = capsys.readouterr().out
    assert status_line(out) == "exercise 9.3: NOT DONE" and "backward() still raises" in out


def test_other_errors_fail_with_one_line(capsys):
    def student(x):
        return x.no_such_attribute

    with grading.exercise("9.4", "an error") as ex:
        ex.check("first", True)
        student(np.ones(2))
    out = capsys.readouterr().out
    assert "stopped by an error: AttributeError:" in out and "no_such_attribute" in out
    assert "Traceback" not in out
    assert status_line(out) == "exercise 9.4: FAILED (1 of 1 checks passed, then an error)"


def test_close_names_the_worst_entry_and_shows_the_hint_only_on_failure(capsys):
    with grading.exercise("9.5", "comparisons") as ex:
        ex.close("good", [1.0, 2.0], [1.0, 2.0], hint="never shown")
        ex.close("bad", [[1.0, 2.0], [3.0, 9.0]], [[1.0, 2.0], [3.0, 4.0]], where="t=2",
                 hint="look at the last entry")
        ex.close("shape", np.ones(3), np.ones((3, 1)))
        ex.close("nan", [np.nan], [1.0])
    out = capsys.readouterr().out
    assert "never shown" not in out
    assert "at (1, 1): yours 9, expected 4" in out and "hint: look at the last entry" in out
    assert "shape (3,), expected (3, 1)" in out
    assert status_line(out) == "exercise 9.5: FAILED (1 of 4 checks passed)"


def test_gradcheck_and_check_backward_reports_become_rows_with_their_hints(capsys):
    wrong = ar.Primitive(np.tanh, name="wrong_tanh", register=False)
    wrong.defvjp(lambda g, out, x: g * (1 - out))
    x = ar.tensor(np.linspace(-1, 1, 4), requires_grad=True, name="x")

    def bias_averaged(dnext_h, cache):
        x, prev_h, Wx, Wh, next_h = cache
        da = dnext_h * (1 - next_h ** 2)
        return da @ Wx.T, da @ Wh.T, x.T @ da, prev_h.T @ da, da.mean(axis=0)

    with grading.exercise("9.6", "reports") as ex:
        ex.report(ar.gradcheck(wrong, [x]), where="shape (4,)", hint="1 - tanh^2")
        ex.report(check_backward(rnn_step_forward, bias_averaged, rnn_step_inputs(),
                                 layer="rnn_step"))
    out = capsys.readouterr().out
    failing = [line for line in out.splitlines() if " FAIL " in line]
    assert re.search(r"dx vs finite differences +shape \(4,\) +FAIL +max abs err", out)
    assert "hint: 1 - tanh^2" in out
    assert "hint: db is 1/3 times the expected gradient" in out  # the checker's own hint
    assert failing and all(line.split()[0] in ("dx", "db") for line in failing)
    assert "next_h forward vs reference" in out and "dWh vs engine" in out
    assert status_line(out).startswith("exercise 9.6: FAILED")


def test_an_exercise_without_checks_cannot_pass(capsys):
    with grading.exercise("9.7", "empty"):
        pass
    assert status_line(capsys.readouterr().out) == "exercise 9.7: FAILED (0 of 0 checks passed)"


def test_raise_unless_passed_for_autograders(capsys):
    with grading.exercise("9.8", "ok") as ex:
        ex.check("fine", True)
    grading.raise_unless_passed()  # the last graded one passed: no exception
    grading.raise_unless_passed("9.8")
    with grading.exercise("9.9", "bad") as ex:
        ex.check("wrong", False)
    with pytest.raises(AssertionError, match="exercise 9.9: FAILED"):
        grading.raise_unless_passed()
