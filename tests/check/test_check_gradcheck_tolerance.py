"""gradcheck's pass/fail boundary is |analytic - numeric| <= atol + rtol * |numeric|, with the
defaults eps 1e-6, atol 1e-5, rtol 1e-4: an op whose VJP is off by a chosen amount passes just
below the boundary (0.9x) and fails just above it (1.1x), for the atol term, the rtol term,
both, and the defaults. (A tolerance 100x looser, or looser defaults, fail these tests.)"""

from __future__ import annotations

import inspect

import numpy as np
import pytest

import autograd_rnn as ar
from autograd_rnn.check.gradcheck import gradcheck

BELOW, ABOVE = 0.9, 1.1  # the error as a fraction of the allowed error
DEFAULTS = {"eps": 1e-6, "atol": 1e-5, "rtol": 1e-4}


def _scale_with_vjp_error(K: float, error: float):
    """f(x) = K x, whose VJP is off by ``error`` in every entry: g K + error."""
    op = ar.Primitive(lambda x: K * x, name="scale", register=False)
    op.defvjp(lambda g, out, x: g * K + error)
    return op


def _numeric(K: float, x: np.ndarray, **tolerances) -> float:
    """The numeric gradient gradcheck computes for f(x) = K x at x (its upstream v is seeded)."""
    report = gradcheck(_scale_with_vjp_error(K, 0.0), [ar.tensor(x, requires_grad=True)],
                       **tolerances)
    assert report
    return report.comparisons[0].numeric_at_worst


def _check(K: float, fraction: float, **tolerances) -> bool:
    x = np.array([0.7])
    allowed = tolerances.get("atol", DEFAULTS["atol"]) + tolerances.get(
        "rtol", DEFAULTS["rtol"]) * abs(_numeric(K, x, **tolerances))
    op = _scale_with_vjp_error(K, fraction * allowed)
    return bool(gradcheck(op, [ar.tensor(x, requires_grad=True)], **tolerances))


@pytest.mark.parametrize(
    "K, tolerances",
    [
        (0.0, {"atol": 1e-3, "rtol": 1e-2}),  # numeric 0: the atol term alone
        (1e3, {"atol": 0.0, "rtol": 1e-3}),  # the rtol term alone
        (50.0, {"atol": 1e-3, "rtol": 1e-2}),  # both
        (7.0, {}),  # the defaults
        (0.0, {}),  # the default atol alone
    ],
    ids=["atol", "rtol", "both", "defaults", "default-atol"],
)
def test_the_boundary_is_atol_plus_rtol_times_numeric(K, tolerances):
    assert _check(K, BELOW, **tolerances), "an error just below the tolerance must pass"
    assert not _check(K, ABOVE, **tolerances), "an error just above the tolerance must fail"


def test_defaults_are_documented_values():
    from autograd_rnn.check import check_model

    for function in (gradcheck, ar.gradcheck, check_model):
        parameters = inspect.signature(function).parameters
        assert {name: parameters[name].default for name in DEFAULTS} == DEFAULTS, function


def test_cli_defaults_match():
    from autograd_rnn.cli.main import build_parser

    for command in ("gradcheck", "check-backward"):
        args = build_parser().parse_args([command] + (["a:f", "b:g"] if command != "gradcheck"
                                                      else []))
        assert {name: getattr(args, name) for name in DEFAULTS} == DEFAULTS, command
