"""Gradient verification: numerical checks of the engine, models and hand-written code.

- ``gradcheck`` / ``gradgradcheck``: the engine's gradients of a function of tensors.
- ``numerical_gradient`` / ``rel_error``: central differences of NumPy functions.
- ``check_backward``: a hand-written backward pass vs finite differences and a reference.
- ``check_backward_isolated``: the same for someone else's code, run in a child process
  with time and memory limits (it may exit, hang, crash or patch NumPy).
- ``grade``: every student's file for every layer, in parallel: CSV, JSON, Gradescope.
- ``check_model``: every named parameter of an ``ar.nn`` model.
- ``assert_gradients_close``: pytest helper whose failure message is the report table.
"""

from autograd_rnn.check.backward_check import check_backward
from autograd_rnn.check.backward_report import (
    BackwardCheckReport,
    CheckUsageError,
    StudentCodeError,
)
from autograd_rnn.check.diagnostics import (
    dtype_warnings,
    eps_warnings,
    graph_kink_warnings,
)
from autograd_rnn.check.gradcheck import gradcheck, gradgradcheck
from autograd_rnn.check.grade_report import GradeResult, GradeRow
from autograd_rnn.check.grading import grade
from autograd_rnn.check.hints import HintContext, gradient_hints
from autograd_rnn.check.isolated import check_backward_isolated
from autograd_rnn.check.model_check import check_model, named_parameters
from autograd_rnn.check.numeric import (
    NumericalGradient,
    compare_gradient,
    numerical_gradient,
    numerical_gradient_details,
    rel_error,
    rel_errors,
    sample_entries,
)
from autograd_rnn.check.pytest_helper import assert_backward_correct, assert_gradients_close
from autograd_rnn.check.references import REFERENCES, Reference, get_reference
from autograd_rnn.check.report import GradcheckReport, GradientComparison

__all__ = [
    "REFERENCES", "BackwardCheckReport", "CheckUsageError", "GradcheckReport",
    "GradeResult", "GradeRow", "GradientComparison", "HintContext", "NumericalGradient",
    "Reference", "StudentCodeError", "assert_backward_correct",
    "assert_gradients_close", "check_backward", "check_backward_isolated", "check_model",
    "compare_gradient", "dtype_warnings", "eps_warnings", "get_reference", "grade", "gradcheck",
    "gradgradcheck", "gradient_hints", "graph_kink_warnings", "named_parameters",
    "numerical_gradient", "numerical_gradient_details", "rel_error", "rel_errors", "sample_entries",
]
