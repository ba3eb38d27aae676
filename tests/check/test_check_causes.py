"""Diagnoses that re-run the reference under a hypothesis (gate order, gate blocks, ignored or
dropped upstream gradients, an ignored mask) and the dtype verdict (float32 named, failing
unless allowed, never diagnosed as a kink)."""

import importlib.util
from pathlib import Path

import numpy as np
import pytest

from autograd_rnn.check import check_backward
from autograd_rnn.check.loader import layer_inputs

_spec = importlib.util.spec_from_file_location(
    "coursework_student_for_causes", Path(__file__).with_name("coursework_student.py"))
student = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(student)
sigmoid = student.sigmoid


def lstm_forward_in(order):
    """An LSTM step whose pre-activation blocks are read in ``order`` (a permutation of
    "ifog"); the cache keeps the gates by name."""
    def forward(x, prev_h, prev_c, Wx, Wh, b):
        H = prev_h.shape[1]
        a = x @ Wx + prev_h @ Wh + b
        block = {name: a[:, k * H:(k + 1) * H] for k, name in enumerate(order)}
        i, f, o, g = (sigmoid(block["i"]), sigmoid(block["f"]), sigmoid(block["o"]),
                      np.tanh(block["g"]))
        next_c = f * prev_c + i * g
        return o * np.tanh(next_c), next_c, (x, prev_h, prev_c, Wx, Wh, i, f, o, g, next_c)
    return forward


def lstm_backward_in(order, use_dnext_c=True):
    def backward(dnext_h, dnext_c, cache):
        x, prev_h, prev_c, Wx, Wh, i, f, o, g, next_c = cache
        tc = np.tanh(next_c)
        dc = (dnext_c if use_dnext_c else 0.0) + dnext_h * o * (1 - tc ** 2)
        d = {"i": dc * g * i * (1 - i), "f": dc * prev_c * f * (1 - f),
             "o": dnext_h * tc * o * (1 - o), "g": dc * i * (1 - g ** 2)}
        da = np.hstack([d[name] for name in order])
        return da @ Wx.T, da @ Wh.T, dc * f, x.T @ da, prev_h.T @ da, da.sum(axis=0)
    return backward


@pytest.mark.parametrize("order, layer, hint", [
    ("ifgo", "lstm_step", "your gates are in i, f, g, o order: use --layer lstm_step_ifgo or "
                          "reorder them to i, f, o, g"),
    ("ifog", "lstm_step_ifgo", "your gates are in i, f, o, g order: use --layer lstm_step or "
                               "reorder them to i, f, g, o"),
    ("iofg", "lstm_step", "your gates are in i, o, f, g order: reorder them to i, f, o, g "
                          "(--layer lstm_step)"),
])
def test_gate_order_is_named(order, layer, hint):
    report = check_backward(lstm_forward_in(order), lstm_backward_in(order),
                            layer_inputs(layer), layer=layer)
    assert all(c.passed for c in report.comparisons)  # consistent with its own forward
    assert not report and report.hints == [hint]
    right = "ifgo" if layer.endswith("ifgo") else "ifog"
    assert check_backward(lstm_forward_in(right), lstm_backward_in(right), layer_inputs(layer),
                          layer=layer)


def test_gate_blocks_stacked_in_another_order_in_backward():
    report = check_backward(lstm_forward_in("ifog"), lstm_backward_in("ifgo"),
                            layer_inputs("lstm_step"), layer="lstm_step")
    assert report.failed_inputs == ["x", "prev_h", "Wx", "Wh", "b"]
    assert report.hints == ["dWx, dWh, db have their gate blocks in i, f, g, o order but the "
                            "forward's are i, f, o, g: stack the gate gradients in the "
                            "forward's order"]


def test_dropped_upstream_gradient_is_named():
    report = check_backward(lstm_forward_in("ifog"), lstm_backward_in("ifog", use_dnext_c=False),
                            layer_inputs("lstm_step"), layer="lstm_step")
    assert report.hints == ["dx, dprev_h, dprev_c, dWx, dWh, db leave out dnext_c: the gradient "
                            "arriving through next_c is never added"]


def test_ignored_scalar_dout_of_a_loss():
    def backward(dloss, cache):
        return (student.temporal_softmax_loss_backward(1.0, cache)[0],)  # dloss ignored

    report = check_backward(student.temporal_softmax_loss_forward, backward,
                            layer_inputs("temporal_softmax_loss"), layer="temporal_softmax_loss")
    (hint,) = report.hints
    assert "times the expected gradient (1/dout with dout = " in hint
    assert "the upstream gradient is ignored; multiply by dout" in hint


def test_loss_that_ignores_the_mask_in_forward():
    def forward(x, y, mask):
        return student.temporal_softmax_loss_cs231n(x, y, np.ones_like(mask))

    report = check_backward(forward, None, layer_inputs("temporal_softmax_loss"),
                            layer="temporal_softmax_loss")
    assert report.hints == ["your forward ignores mask: its outputs equal the reference's with "
                            "every entry of mask True"]


def test_mask_pattern_even_at_the_issues_small_sizes():
    """N=1, T=2 was diagnosed as a timestep bug (or passed, depending on the seed)."""
    def backward(dloss, cache):
        probs, y2, m2, shape = cache
        dx = probs.copy()
        dx[np.arange(len(y2)), y2] -= 1
        return (dloss * dx.reshape(shape) / shape[0],)  # the mask is not applied

    for seed in range(4):
        data = layer_inputs("temporal_softmax_loss", seed, N=1, T=2)
        report = check_backward(student.temporal_softmax_loss_forward, backward, data,
                                layer="temporal_softmax_loss")
        assert not report and report.hints[0].startswith("dx is wrong exactly where mask is "
                                                         "False")
        assert any(w.startswith("N = 1") for w in report.warnings)


def float32_backward(dnext_h, cache):
    return tuple(g.astype(np.float32) for g in student.rnn_step_backward(dnext_h, cache))


def test_float32_gradients_fail_unless_allowed():
    data = layer_inputs("rnn_step")
    report = check_backward(student.rnn_step_forward, float32_backward, data, layer="rnn_step")
    assert not report and report.status == "wrong dtype"
    assert report.problems == ["dx, dprev_h, dWx, dWh, db are float32, not float64: ~6 "
                               "significant digits (keep float64 throughout, or cast with "
                               ".astype(np.float64))"]
    assert "wrong dtype: dx, dprev_h" in str(report)
    allowed = check_backward(student.rnn_step_forward, float32_backward, data, layer="rnn_step",
                             allow_float32=True)
    assert allowed and allowed.status == "passed"
    assert any("are float32" in w for w in allowed.warnings)


def test_float32_forward_is_named_not_taken_for_a_kink():
    def forward(*args):
        return student.lstm_step_forward(*[a.astype(np.float32) for a in args])

    data = layer_inputs("lstm_step")
    report = check_backward(forward, student.lstm_step_backward, data, layer="lstm_step")
    assert report.status == "wrong dtype"
    assert report.problems[0].startswith("forward output next_h, next_c are float32")
    assert not any("kink" in w for w in report.warnings)
    assert report.failed_inputs == []  # finite differences and the engine both agree
    assert check_backward(forward, student.lstm_step_backward, data, layer="lstm_step",
                          allow_float32=True)
