"""assert_gradients_close / assert_backward_correct: failures show the report table."""

import importlib.util
from pathlib import Path

import numpy as np
import pytest

import autograd_rnn as ar
from autograd_rnn.check import (
    REFERENCES,
    assert_backward_correct,
    assert_gradients_close,
    check_backward,
)
from autograd_rnn.core.primitive import Primitive

_spec = importlib.util.spec_from_file_location(
    "coursework_student_for_helper", Path(__file__).with_name("coursework_student.py"))
student = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(student)
DATA = REFERENCES["rnn_step"].make_inputs(np.random.default_rng(0))


def test_passing_report_is_returned():
    report = check_backward(student.rnn_step_forward, student.rnn_step_backward, DATA)
    assert assert_gradients_close(report) is report


def test_failure_message_shows_the_table():
    report = check_backward(student.rnn_step_forward,
                            student.rnn_step_backward_missing_transpose, DATA,
                            layer="rnn_step")
    with pytest.raises(AssertionError) as info:
        assert_gradients_close(report)
    message = str(info.value)
    assert message.startswith("gradients differ for prev_h")
    assert "max abs err" in message and "worst index" in message and "FAIL" in message


def test_function_form_runs_gradcheck():
    x = ar.tensor(np.array([0.5, -1.0, 2.0]), requires_grad=True, name="x")
    report = assert_gradients_close(lambda x: (x * x).tanh(), [x])
    assert report.comparisons[0].name == "x"
    wrong = Primitive(lambda x: np.sin(x), name="wrong_sin", register=False)
    wrong.defvjp(lambda g, out, x: g * np.sin(x))  # should be cos
    with pytest.raises(AssertionError, match="gradients differ for x"):
        assert_gradients_close(lambda x: wrong(x), [x])


def test_assert_backward_correct():
    assert assert_backward_correct(student.rnn_step_forward, student.rnn_step_backward, DATA,
                                   layer="rnn_step")
    with pytest.raises(AssertionError, match="gradients differ for b"):
        assert_backward_correct(student.rnn_step_forward,
                                student.rnn_step_backward_db_averaged, DATA)


def test_bad_arguments():
    with pytest.raises(TypeError, match="inputs are missing"):
        assert_gradients_close(lambda x: x)
    with pytest.raises(TypeError, match="expected a GradcheckReport or a function"):
        assert_gradients_close(42)
