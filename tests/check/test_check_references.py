"""Reference forwards (ar ops) agree with independent NumPy code and have engine gradients
that pass gradcheck; every reference draws inputs of the documented shapes."""

import importlib.util
from pathlib import Path

import numpy as np
import pytest

import autograd_rnn as ar
from autograd_rnn.check import REFERENCES, get_reference, gradcheck

_spec = importlib.util.spec_from_file_location(
    "coursework_student_for_references", Path(__file__).with_name("coursework_student.py"))
student = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(student)

NUMPY_FORWARDS = {
    "affine": student.affine_forward,
    "rnn_step": student.rnn_step_forward,
    "rnn": student.rnn_forward,
    "lstm_step": student.lstm_step_forward,
    "temporal_affine": student.temporal_affine_forward,
    "temporal_softmax_loss": student.temporal_softmax_loss_forward,
    "word_embedding": student.word_embedding_forward,
}


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


def _numpy_gru_step(x, h, Wx, Wh, bx, bh):
    H = h.shape[1]
    gx, gh = x @ Wx + bx, h @ Wh + bh
    r = sigmoid(gx[:, :H] + gh[:, :H])
    z = sigmoid(gx[:, H:2 * H] + gh[:, H:2 * H])
    n = np.tanh(gx[:, 2 * H:] + r * gh[:, 2 * H:])
    return ((1 - z) * n + z * h,)


def _numpy_lstm_ifgo(x, h, c, Wx, Wh, b):
    H = h.shape[1]
    a = x @ Wx + h @ Wh + b
    i, f, g, o = (sigmoid(a[:, :H]), sigmoid(a[:, H:2 * H]), np.tanh(a[:, 2 * H:3 * H]),
                  sigmoid(a[:, 3 * H:]))
    c2 = f * c + i * g
    return o * np.tanh(c2), c2


def _numpy_lstm(x, h0, Wx, Wh, b):
    h, c, hs = h0, np.zeros_like(h0), []
    for t in range(x.shape[1]):
        h, c, _ = student.lstm_step_forward(x[:, t], h, c, Wx, Wh, b)
        hs.append(h)
    return (np.stack(hs, axis=1),)


def _numpy_lstm_ifgo_sequence(x, h0, Wx, Wh, b):
    h, c, hs = h0, np.zeros_like(h0), []
    for t in range(x.shape[1]):
        h, c = _numpy_lstm_ifgo(x[:, t], h, c, Wx, Wh, b)
        hs.append(h)
    return (np.stack(hs, axis=1),)


def expected(name, data):
    if name in NUMPY_FORWARDS:
        return NUMPY_FORWARDS[name](*data.values())[:-1]
    return {"gru_step": _numpy_gru_step, "lstm_step_ifgo": _numpy_lstm_ifgo,
            "lstm": _numpy_lstm, "lstm_ifgo": _numpy_lstm_ifgo_sequence}[name](*data.values())


@pytest.mark.parametrize("name", sorted(REFERENCES))
def test_reference_forward_matches_numpy(name):
    ref = REFERENCES[name]
    data = ref.make_inputs(np.random.default_rng(1))
    assert list(data) == list(ref.inputs)
    out = ref.forward(*data.values())
    out = out if isinstance(out, tuple) else (out,)
    want = expected(name, data)
    assert len(out) == len(want) == len(ref.outputs)
    for o, w in zip(out, want, strict=True):
        np.testing.assert_allclose(o.data, w, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("name", ["rnn", "lstm_step", "gru_step", "temporal_softmax_loss",
                                  "word_embedding"])
def test_reference_gradients_pass_gradcheck(name):
    ref = REFERENCES[name]
    data = ref.make_inputs(np.random.default_rng(2), N=2, T=3, D=3, H=2, V=4)
    tensors = [ar.tensor(data[k], requires_grad=True, name=k) for k in ref.differentiable]

    def fn(*xs):  # integer inputs (indices, masks) stay plain arrays
        given = dict(zip(ref.differentiable, xs, strict=True))
        out = ref.forward(*[given.get(k, v) for k, v in data.items()])
        return ar.concat([o.reshape(-1) for o in out]) if isinstance(out, tuple) else out

    report = gradcheck(fn, tensors)
    assert report, str(report)
    assert [c.name for c in report.comparisons] == list(ref.differentiable)


def test_shapes_are_batch_major():
    data = REFERENCES["rnn"].make_inputs(np.random.default_rng(0), N=2, T=7, D=3, H=5)
    assert data["x"].shape == (2, 7, 3)
    assert REFERENCES["rnn"].forward(*data.values()).shape == (2, 7, 5)
    assert REFERENCES["rnn_step"].signature == "rnn_step(x, prev_h, Wx, Wh, b) -> next_h"


def test_unknown_reference_lists_known_names():
    with pytest.raises(KeyError, match="known: affine, gru_step, lstm"):
        get_reference("lstn")
