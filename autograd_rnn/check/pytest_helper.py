"""Assertions for pytest (or any test runner): on failure the message is the report table.

    from autograd_rnn.check import assert_gradients_close, assert_backward_correct

    def test_my_rnn_step():
        assert_backward_correct(rnn_step_forward, rnn_step_backward, inputs, layer="rnn_step")
"""

from __future__ import annotations

from collections.abc import Callable

from autograd_rnn.check.backward_check import check_backward
from autograd_rnn.check.backward_report import BackwardCheckReport
from autograd_rnn.check.gradcheck import gradcheck
from autograd_rnn.check.report import GradcheckReport


def assert_gradients_close(report_or_fn: GradcheckReport | Callable, inputs=None,
                           **kwargs) -> GradcheckReport:
    """Raise ``AssertionError`` showing the table unless the check passes.

    Pass a report (from ``gradcheck``, ``check_backward``, ``check_model``), or a function
    of tensors and its ``inputs`` (then ``gradcheck(fn, inputs, **kwargs)`` is run).
    Returns the report on success.
    """
    if isinstance(report_or_fn, GradcheckReport):
        report = report_or_fn
    elif callable(report_or_fn):
        if inputs is None:
            raise TypeError("assert_gradients_close(fn, inputs): inputs are missing")
        report = gradcheck(report_or_fn, inputs, **kwargs)
    else:
        raise TypeError(f"expected a GradcheckReport or a function, got "
                        f"{type(report_or_fn).__name__}")
    if not report:
        names = ", ".join(c.name for c in report.failures)
        raise AssertionError(f"gradients differ for {names}\n{report}")
    return report


def assert_backward_correct(forward: Callable, backward: Callable, inputs,
                            **kwargs) -> BackwardCheckReport:
    """``check_backward(forward, backward, inputs, **kwargs)``, asserting it passed."""
    report = check_backward(forward, backward, inputs, **kwargs)
    assert_gradients_close(report)
    return report
