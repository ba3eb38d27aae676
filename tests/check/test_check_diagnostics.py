"""Warnings that make a gradient check's verdict interpretable: dtype, eps, kinks."""

import numpy as np

import autograd_rnn as ar
from autograd_rnn.check import dtype_warnings, eps_warnings, gradcheck, graph_kink_warnings


def test_dtype_warnings_only_for_low_precision_floats():
    named = [("x", np.ones(2, np.float32)), ("y", np.ones(2)), ("i", np.arange(2)),
             ("h", np.ones(2, np.float16))]
    w = dtype_warnings(named)
    assert len(w) == 2 and w[0].startswith("x is float32") and w[1].startswith("h is float16")


def test_eps_warnings_thresholds():
    assert eps_warnings([("x", np.ones(3))], 1e-6) == []
    assert "is large" in eps_warnings([], 1e-2)[0]
    assert "is tiny" in eps_warnings([], 1e-12)[0]
    (w,) = eps_warnings([("W", np.array([1.0, -5e3]))], 1e-6)
    assert w.startswith("W has entries up to 5e+03") and "eps ~ 0.005" in w


def test_graph_kinks_relu_abs_and_max_ties():
    x = ar.tensor(np.array([[0.0, 1.0], [2.0, 2.0 + 1e-7]]), requires_grad=True)
    assert graph_kink_warnings([ar.relu(x + 1.0)], 1e-6) == []
    (w,) = graph_kink_warnings([ar.relu(x)], 1e-6)
    assert w.startswith("1 input entry of relu within ~eps")
    (w,) = graph_kink_warnings([x.abs().sum()], 1e-6)
    assert "abs" in w
    (w,) = graph_kink_warnings([x.max(axis=1)], 1e-6)
    assert w.startswith("1 input entry of max")  # row 1 is a near tie, row 0 is not
    assert graph_kink_warnings([x.max(axis=0)], 1e-6) == []
    (w,) = graph_kink_warnings([x.max(axis=(0, 1))], 1e-6)
    assert "max" in w


def test_kink_warning_names_the_scope():
    x = ar.tensor(np.array([0.0, 1.0]), requires_grad=True)
    with ar.scope("layer1"):
        y = ar.relu(x)
    assert "scope 'layer1'" in graph_kink_warnings([y], 1e-6)[0]


def test_engine_gradcheck_reports_kinks_and_eps():
    x = ar.tensor(np.array([0.0, 1.5, -2.0]), requires_grad=True, name="x")
    report = gradcheck(lambda x: ar.relu(x), [x])
    assert any("relu" in w and "kink" in w for w in report.warnings)
    big = ar.tensor(np.array([3e3, 1.0]), requires_grad=True, name="big")
    report = gradcheck(lambda x: x * 2.0, [big], atol=1e-3)
    assert any(w.startswith("big has entries up to") for w in report.warnings)
    assert "warning: big has entries" in str(report)
