"""Gradient verification: numerical checks of the engine, models and hand-written code."""

from autograd_rnn.check.gradcheck import gradcheck, gradgradcheck
from autograd_rnn.check.report import GradcheckReport, GradientComparison

__all__ = ["GradcheckReport", "GradientComparison", "gradcheck", "gradgradcheck"]
