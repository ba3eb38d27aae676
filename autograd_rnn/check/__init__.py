"""Gradient verification: numerical checks of the engine, models and hand-written code.

- ``gradcheck`` / ``gradgradcheck``: the engine's gradients of a function of tensors.
- ``numerical_gradient`` / ``rel_error``: central differences of NumPy functions.
- ``check_backward``: a hand-written backward pass vs finite differences and a reference.
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
from autograd_rnn.check.hints import gradient_hints
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
    "GradientComparison", "NumericalGradient", "Reference", "StudentCodeError",
    "assert_backward_correct",
    "assert_gradients_close", "check_backward", "check_model",
    "compare_gradient", "dtype_warnings", "eps_warnings", "get_reference", "gradcheck",
    "gradgradcheck", "gradient_hints", "graph_kink_warnings", "named_parameters",
    "numerical_gradient", "numerical_gradient_details", "rel_error", "rel_errors", "sample_entries",
]
