"""check_backward on hand-written layers: correct ones pass, typical bugs fail naming the
right input, bad signatures and shapes give one-line errors."""

import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest

from autograd_rnn.check import (
    REFERENCES,
    CheckUsageError,
    assert_backward_correct,
    check_backward,
)

_spec = importlib.util.spec_from_file_location(
    "coursework_student_for_backward", Path(__file__).with_name("coursework_student.py"))
student = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(student)


def inputs(layer, seed=0, **sizes):
    return REFERENCES[layer].make_inputs(np.random.default_rng(seed), **sizes)


CORRECT = [
    ("affine", student.affine_forward, student.affine_backward),
    ("rnn_step", student.rnn_step_forward, student.rnn_step_backward),
    ("rnn", student.rnn_forward, student.rnn_backward),
    ("lstm_step", student.lstm_step_forward, student.lstm_step_backward),
    ("gru_step", student.gru_step_forward, student.gru_step_backward),
    ("temporal_affine", student.temporal_affine_forward, student.temporal_affine_backward),
    ("temporal_softmax_loss", student.temporal_softmax_loss_forward,
     student.temporal_softmax_loss_backward),
    ("word_embedding", student.word_embedding_forward, student.word_embedding_backward),
]


@pytest.mark.parametrize("layer, forward, backward", CORRECT, ids=[c[0] for c in CORRECT])
def test_correct_backward_passes_numeric_and_reference(layer, forward, backward):
    report = check_backward(forward, backward, inputs(layer), layer=layer)
    assert report, str(report)
    assert [c.name for c in report.comparisons] == list(REFERENCES[layer].differentiable)
    assert [c.name for c in report.forward_comparisons] == list(REFERENCES[layer].outputs)
    assert len(report.reference_comparisons) == len(report.comparisons)
    assert all(c.max_rel_error < 1e-6 for c in report.comparisons)
    assert report.failed_inputs == []


def test_correct_backward_passes_without_a_reference():
    report = assert_backward_correct(student.rnn_step_forward, student.rnn_step_backward,
                                     inputs("rnn_step"))
    assert report.layer is None and report.reference_comparisons == []
    assert [c.name for c in report.comparisons] == ["x", "prev_h", "Wx", "Wh", "b"]


def failed(report):
    return set(report.failed_inputs)


def test_missing_transpose_names_prev_h_only():
    report = check_backward(student.rnn_step_forward,
                            student.rnn_step_backward_missing_transpose,
                            inputs("rnn_step"), layer="rnn_step")
    assert not report
    assert failed(report) == {"prev_h"}
    assert report["x"].passed and not report["prev_h"].passed


def test_forgotten_tanh_derivative_fails_every_input():
    report = check_backward(student.rnn_step_forward,
                            student.rnn_step_backward_no_tanh_derivative,
                            inputs("rnn_step"), layer="rnn_step")
    assert failed(report) == {"x", "prev_h", "Wx", "Wh", "b"}
    assert all(c.passed for c in report.forward_comparisons)  # the forward itself is right


def test_bias_averaged_instead_of_summed_over_batch_names_b():
    report = check_backward(student.rnn_step_forward, student.rnn_step_backward_db_averaged,
                            inputs("rnn_step"), layer="rnn_step")
    assert failed(report) == {"b"}
    c = report["b"]
    assert c.analytic_at_worst == pytest.approx(c.numeric_at_worst / 3, rel=1e-5)  # N = 3
    assert report.hints == ["db is 1/3 times the expected gradient (divided by N = 3, the "
                            "batch size: averaged where the expected gradient sums?)"]


def test_bias_not_summed_over_batch_is_a_shape_error_naming_db():
    with pytest.raises(CheckUsageError, match=r"db of shape \(3, 6\), expected \(6,\)"):
        check_backward(student.rnn_step_forward, student.rnn_step_backward_db_not_summed,
                       inputs("rnn_step"), layer="rnn_step")


def test_h_prev_not_carried_back_through_time():
    report = check_backward(student.rnn_forward, student.rnn_backward_no_carry,
                            inputs("rnn", T=4), layer="rnn")
    assert "h0" in failed(report)
    assert {"Wh", "Wx", "b", "x"} <= failed(report)
    # the last timestep receives no carried gradient, so x there is still right
    worst_t = report["x"].worst_index[1]
    assert worst_t < 3


def test_off_by_one_timestep_skips_the_first_step():
    report = check_backward(student.rnn_forward, student.rnn_backward_off_by_one,
                            inputs("rnn", T=4), layer="rnn")
    assert {"x", "h0"} <= failed(report)
    assert report["x"].worst_index[1] == 0  # the timestep that was skipped
    assert report["x"].analytic_at_worst == 0.0
    assert report.hints[0].startswith("dx is wrong only at the first timestep t = 0")
    assert "hint: dx is wrong only at the first timestep" in str(report)


def test_lstm_forget_gate_bug_spares_prev_c():
    report = check_backward(student.lstm_step_forward, student.lstm_step_backward_wrong_forget,
                            inputs("lstm_step"), layer="lstm_step")
    assert report["prev_c"].passed
    assert {"Wx", "Wh", "b", "x", "prev_h"} == failed(report)


def test_wrong_forward_is_caught_by_the_reference_only():
    report = check_backward(student.rnn_step_forward_sigmoid, student.rnn_step_backward_sigmoid,
                            inputs("rnn_step"), layer="rnn_step")
    assert all(c.passed for c in report.comparisons)  # consistent with its own forward
    assert not report.forward_comparisons[0].passed
    assert not report
    assert "forward outputs vs reference rnn_step: FAILED" in str(report)


def test_table_names_failures_and_worst_entry():
    report = check_backward(student.rnn_step_forward,
                            student.rnn_step_backward_missing_transpose,
                            inputs("rnn_step"), layer="rnn_step")
    text = str(report)
    assert "FAIL" in text and "wrong gradients: prev_h" in text
    index = list(report["prev_h"].worst_index)
    assert f"prev_h{index}: analytic" in text
    assert "vs engine" in text


@pytest.mark.parametrize("backward, pattern", [
    (student.backward_too_few, r"returned 4 gradient\(s\), expected 5: dx, dprev_h, dWx, dWh, db"),
    (student.backward_one_arg, r"backward backward_one_arg\(dnext_h\) cannot be called with 2"),
    (student.rnn_step_backward_crashes,
     r"rnn_step_backward_crashes raised ValueError: .*coursework_student.py:\d+"),
])
def test_bad_backward_gives_one_line_error(backward, pattern):
    with pytest.raises(CheckUsageError, match=pattern) as info:
        check_backward(student.rnn_step_forward, backward, inputs("rnn_step"))
    assert "\n" not in str(info.value)


@pytest.mark.parametrize("forward, pattern", [
    (student.forward_no_cache, r"must return \(out, cache\), got ndarray"),
    (student.forward_four_args, r"forward_four_args\(x, prev_h, Wx, Wh\) cannot be called with 5"),
])
def test_bad_forward_gives_one_line_error(forward, pattern):
    with pytest.raises(CheckUsageError, match=pattern):
        check_backward(forward, student.rnn_step_backward, inputs("rnn_step"))


def test_unknown_layer_and_wrong_input_count():
    with pytest.raises(CheckUsageError, match="no reference layer named 'rnn_stpe'"):
        check_backward(student.rnn_step_forward, student.rnn_step_backward,
                       inputs("rnn_step"), layer="rnn_stpe")
    with pytest.raises(CheckUsageError, match=r"layer rnn_step takes 5 inputs"):
        check_backward(student.rnn_step_forward, student.rnn_step_backward,
                       list(inputs("rnn_step").values())[:4], layer="rnn_step")


def test_forward_output_shape_differs_from_reference():
    def forward(x, prev_h, Wx, Wh, b):
        out, cache = student.rnn_step_forward(x, prev_h, Wx, Wh, b)
        return out.T, cache

    def backward(dout, cache):
        return student.rnn_step_backward(dout.T, cache)

    with pytest.raises(CheckUsageError, match=r"output next_h has shape \(6, 3\).*\(3, 6\)"):
        check_backward(forward, backward, inputs("rnn_step"), layer="rnn_step")


def test_list_inputs_are_named_after_the_forward_and_not_modified():
    arrays = list(inputs("affine").values())
    copies = [a.copy() for a in arrays]
    report = check_backward(student.affine_forward, student.affine_backward, arrays)
    assert [c.name for c in report.comparisons] == ["x", "w", "b"]
    for a, c in zip(arrays, copies, strict=True):
        np.testing.assert_array_equal(a, c)


def test_sampling_checks_at_most_max_entries_and_is_seeded():
    kw = dict(layer="rnn_step", max_entries=4, seed=3)
    a = check_backward(student.rnn_step_forward, student.rnn_step_backward, inputs("rnn_step"),
                       **kw)
    b = check_backward(student.rnn_step_forward, student.rnn_step_backward, inputs("rnn_step"),
                       **kw)
    assert all(c.entries_checked == 4 for c in a.comparisons if np.prod(c.shape) > 4)
    assert a.to_dict() == b.to_dict()


def test_float32_inputs_warn():
    data = {k: v.astype(np.float32) for k, v in inputs("rnn_step").items()}
    report = check_backward(student.rnn_step_forward, student.rnn_step_backward, data)
    assert any("x is float32" in w and "float64" in w for w in report.warnings)


def test_kink_warning_for_relu_at_zero():
    x = np.array([[-1.0, 0.0, 2.0], [0.5, -0.3, 1e-7]])
    report = check_backward(student.relu_forward, student.relu_backward, {"x": x})
    kinks = [w for w in report.warnings if "kink" in w]
    assert len(kinks) == 1
    assert "2 checked entries" in kinks[0] and "(0, 1)" in kinks[0] and "(1, 2)" in kinks[0]
    clean = check_backward(student.relu_forward, student.relu_backward, {"x": x + 0.1})
    assert not any("kink" in w for w in clean.warnings)


def test_eps_warnings():
    data = inputs("affine")
    large = check_backward(student.affine_forward, student.affine_backward, data, eps=1e-2)
    assert any("eps=0.01 is large" in w for w in large.warnings)
    data["w"] = data["w"] * 1e4
    big = check_backward(student.affine_forward, student.affine_backward, data, atol=1e-2)
    assert any(w.startswith("w has entries up to") for w in big.warnings)
    fine = check_backward(student.affine_forward, student.affine_backward, inputs("affine"))
    assert fine.warnings == []


def test_json_schema():
    report = check_backward(student.rnn_step_forward, student.rnn_step_backward_db_averaged,
                            inputs("rnn_step"), layer="rnn_step", seed=5)
    d = json.loads(report.to_json())
    assert d["passed"] is False and d["failed_inputs"] == ["b"]
    assert d["seed"] == 5 and d["backward_function"] == "rnn_step_backward_db_averaged"
    assert {"eps", "atol", "rtol", "warnings", "inputs", "reference"} <= set(d)
    row = d["inputs"][4]
    assert row["name"] == "b" and row["shape"] == [6] and row["passed"] is False
    assert {"max_abs_error", "max_rel_error", "worst_index", "entries_checked"} <= set(row)
    assert d["reference"]["layer"] == "rnn_step"
    assert d["hints"] == [report.hints[0]] and "1/3" in d["hints"][0]
    assert [r["name"] for r in d["reference"]["forward"]] == ["next_h"]
    assert [r["name"] for r in d["reference"]["gradients"]] == ["x", "prev_h", "Wx", "Wh", "b"]


def test_user_input_names_map_to_the_reference_by_position():
    data = inputs("rnn_step")
    renamed = dict(zip(["x_t", "h_prev", "W_x", "W_h", "b_h"], data.values(), strict=True))
    report = check_backward(student.rnn_step_forward, student.rnn_step_backward, renamed,
                            layer="rnn_step")
    assert report
    assert [c.name for c in report.reference_comparisons] == list(renamed)


def test_time_major_inputs_get_a_clear_error_from_the_reference():
    data = inputs("rnn", N=2, T=3)
    data["x"] = data["x"].transpose(1, 0, 2).copy()  # (T, N, D): not the coursework layout

    def forward(x, h0, Wx, Wh, b):  # a time-major student implementation
        h, cache = student.rnn_forward(x.transpose(1, 0, 2), h0, Wx, Wh, b)
        return h.transpose(1, 0, 2), cache

    def backward(dh, cache):
        dx, *rest = student.rnn_backward(dh.transpose(1, 0, 2), cache)
        return (dx.transpose(1, 0, 2), *rest)

    with pytest.raises(CheckUsageError, match=r"sequences are batch-major \(N, T, D\)"):
        check_backward(forward, backward, data, layer="rnn")
    assert check_backward(forward, backward, data)  # without the reference it is fine
