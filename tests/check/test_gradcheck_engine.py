"""ar.gradcheck / ar.gradgradcheck and their report: table, JSON, sampling, failures."""

from __future__ import annotations

import json

import numpy as np
import pytest

import autograd_rnn as ar
from autograd_rnn.core.primitive import Primitive

GC_ATOL = 1e-6
GC_RTOL = 1e-5
BUG = 0.1  # the error planted in a wrong VJP
BUG_INDEX = (1, 2)
FD_REL = 1e-6  # how closely central differences recover the planted error

_rng = np.random.default_rng(21)


def _tanh_with_one_wrong_entry():
    """tanh whose VJP is wrong by BUG at BUG_INDEX only (not registered)."""
    op = Primitive(np.tanh, name="tanh_with_bug", register=False)

    def vjp(g, out, x):
        bump = np.zeros(np.shape(out))
        bump[BUG_INDEX] = BUG
        return g * (1 - out * out) + bump

    op.defvjp(vjp)
    return op


def _inputs():
    x = ar.tensor(_rng.standard_normal((2, 3)), requires_grad=True, name="x")
    w = ar.tensor(_rng.standard_normal(3), requires_grad=True, name="w")
    s = ar.tensor(0.7, requires_grad=True)
    return x, w, s


def test_passing_report_table():
    x, w, s = _inputs()
    report = ar.gradcheck(lambda a, b, c: ar.tanh(a * b) * c, [x, w, s], atol=GC_ATOL,
                          rtol=GC_RTOL)
    assert report and report.passed and not report.failures
    text = str(report)
    lines = text.splitlines()
    assert lines[0].startswith("gradient check: PASSED (eps=1e-06, atol=1e-06, rtol=1e-05)")
    assert lines[1].split() == ["input", "shape", "max", "abs", "err", "max", "rel", "err",
                                "worst", "index", "checked", "result"]
    assert set(lines[2]) <= {"-", " "}
    rows = {line.split()[0]: line.split() for line in lines[3:6]}
    assert rows["x"][1] == "2x3" and rows["x"][-2:] == ["6", "ok"]
    assert rows["w"][1] == "3" and rows["w"][-2:] == ["3", "ok"]
    assert rows["input2"][1] == "scalar" and rows["input2"][-2:] == ["1", "ok"]
    assert report["x"].entries_checked == 6 and report["input2"].worst_index == ()
    assert repr(report) == text


def test_report_json_contents():
    x, w, _ = _inputs()
    report = ar.gradcheck(lambda a, b: a @ b, [x, w], atol=GC_ATOL, rtol=GC_RTOL)
    data = json.loads(report.to_json())
    assert data == report.to_dict()
    assert data["passed"] is True and data["title"] == "gradient check"
    assert (data["eps"], data["atol"], data["rtol"]) == (1e-6, GC_ATOL, GC_RTOL)
    assert isinstance(data["warnings"], list)
    by_name = {entry["name"]: entry for entry in data["inputs"]}
    assert set(by_name) == {"x", "w"}
    assert by_name["x"]["shape"] == [2, 3] and by_name["w"]["shape"] == [3]
    assert by_name["x"]["entries_checked"] == 6
    assert len(by_name["x"]["worst_index"]) == 2
    for entry in data["inputs"]:
        assert entry["passed"] is True
        assert 0 <= entry["max_abs_error"] < GC_ATOL
        assert {"max_rel_error", "analytic_at_worst", "numeric_at_worst"} <= set(entry)
    assert "\n" not in report.to_json(indent=None)


def test_failing_report_is_falsy_and_names_input_and_entry():
    bad = _tanh_with_one_wrong_entry()
    x, w, _ = _inputs()
    report = ar.gradcheck(lambda a, b: bad(a) * b, [x, w], atol=GC_ATOL, rtol=GC_RTOL)
    assert not report and not report.passed
    assert [c.name for c in report.failures] == ["x"]
    assert report["w"].passed
    failure = report["x"]
    assert failure.worst_index == BUG_INDEX
    # the planted bump is added after the upstream gradient, so the error is exactly BUG
    assert failure.analytic_at_worst - failure.numeric_at_worst == pytest.approx(BUG, rel=FD_REL)
    assert failure.max_abs_error == pytest.approx(BUG, rel=FD_REL)
    text = str(report)
    assert "gradient check: FAILED" in text
    assert any(line.startswith("x ") and line.endswith("FAIL") for line in text.splitlines())
    assert "x[1, 2]: analytic" in text and "vs numeric" in text
    data = json.loads(report.to_json())
    assert data["passed"] is False
    assert [e["passed"] for e in data["inputs"]] == [False, True]
    assert data["inputs"][0]["worst_index"] == [1, 2]


def test_max_entries_samples_a_subset_deterministically():
    big = ar.tensor(_rng.standard_normal((10, 10)), requires_grad=True, name="W")
    small = ar.tensor(_rng.standard_normal(4), requires_grad=True, name="b")
    fn = lambda a, b: ar.tanh(a[:, :4] * b)  # noqa: E731
    report = ar.gradcheck(fn, [big, small], max_entries=7, atol=GC_ATOL, rtol=GC_RTOL)
    assert report
    assert report["W"].entries_checked == 7 and report["b"].entries_checked == 4
    assert "7" in str(report).splitlines()[3]
    again = ar.gradcheck(fn, [big, small], max_entries=7, atol=GC_ATOL, rtol=GC_RTOL)
    assert again.to_json() == report.to_json()


def test_max_entries_only_flags_sampled_entries():
    bad = _tanh_with_one_wrong_entry()
    x = ar.tensor(_rng.standard_normal((2, 3)), requires_grad=True, name="x")
    results = {ar.gradcheck(bad, [x], max_entries=1, seed=seed).passed for seed in range(30)}
    assert results == {True, False}  # sampling sometimes misses the single wrong entry
    assert not ar.gradcheck(bad, [x], max_entries=6)


def test_names_argument_and_unknown_name():
    x, w, _ = _inputs()
    report = ar.gradcheck(lambda a, b: a * b, [x, w], names=["W_x", "b_h"])
    assert [c.name for c in report.comparisons] == ["W_x", "b_h"]
    with pytest.raises(KeyError, match="no input named 'x'.*W_x"):
        report["x"]


def test_inputs_are_restored_and_grads_untouched():
    x, w, _ = _inputs()
    before = x.data.copy(), w.data.copy()
    ar.gradcheck(lambda a, b: ar.exp(a) * b, [x, w])
    np.testing.assert_array_equal(x.data, before[0])
    np.testing.assert_array_equal(w.data, before[1])
    assert x.grad is None and w.grad is None


def test_plain_arrays_and_constants_as_inputs():
    x = _rng.standard_normal(3)
    c = ar.tensor([1.0, 2.0, 3.0])  # does not require grad: not checked
    report = ar.gradcheck(lambda a, b: a * a * b, [x, c])
    assert report and [comp.name for comp in report.comparisons] == ["input0"]
    assert ar.gradcheck(lambda a: ar.tanh(a), x)  # a single array


def test_non_contiguous_input_is_rejected():
    x = ar.tensor(np.ones((3, 2)).T, requires_grad=True, name="xt")
    with pytest.raises(ValueError, match="xt.*contiguous"):
        ar.gradcheck(lambda a: a * 2.0, [x])


def test_gradgradcheck_report_and_failure():
    x, _, _ = _inputs()
    good = ar.gradgradcheck(lambda a: ar.tanh(a) * a, [x], atol=GC_ATOL, rtol=GC_RTOL)
    assert good and str(good).startswith("second-order gradient check: PASSED")
    assert json.loads(good.to_json())["title"] == "second-order gradient check"

    flat = Primitive(np.tanh, name="tanh_flat_vjp", register=False)
    # first order right, but on raw arrays: the second derivative is lost
    flat.defvjp(lambda g, out, x: g * (1 - np.tanh(x.data if isinstance(x, ar.Tensor) else x)
                                       ** 2))
    assert ar.gradcheck(flat, [x], atol=GC_ATOL, rtol=GC_RTOL)
    bad = ar.gradgradcheck(flat, [x], atol=GC_ATOL, rtol=GC_RTOL)
    assert not bad and "second-order gradient check: FAILED" in str(bad)
    assert bad.failures[0].name == "x"


def test_nan_gradient_fails_and_points_at_the_nan_entry():
    op = Primitive(np.sin, name="sin_with_nan", register=False)

    def vjp(g, out, x):
        result = g * np.cos(x)
        result[0, 1] = np.nan
        return result

    op.defvjp(vjp)
    x = ar.tensor(_rng.standard_normal((2, 3)), requires_grad=True, name="x")
    report = ar.gradcheck(op, [x])
    assert not report
    assert report["x"].worst_index == (0, 1)
    assert "FAIL" in str(report)
    data = json.loads(report.to_json(), parse_constant=_reject)  # strict JSON: no NaN token
    assert data["inputs"][0]["max_abs_error"] is None and data["passed"] is False


def _reject(token):
    raise ValueError(f"non-standard JSON constant {token}")
