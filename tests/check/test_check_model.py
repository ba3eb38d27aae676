"""check_model: every named parameter of a model vs finite differences, with sampling and
warnings; check_engine_model builds the engine's own sequence models."""

import json

import numpy as np
import pytest

import autograd_rnn as ar
from autograd_rnn.check import check_model
from autograd_rnn.check.model_check import check_engine_model
from autograd_rnn.core.primitive import Primitive


class TinyModel:
    """Hand-made: y = f(x W + b) with named_parameters() as (name, Tensor) pairs."""

    def __init__(self, activation=ar.tanh, seed=0, as_dict=False):
        rng = np.random.default_rng(seed)
        self.W = ar.tensor(rng.standard_normal((3, 4)), requires_grad=True, name="W")
        self.b = ar.tensor(rng.standard_normal(4), requires_grad=True, name="b")
        self.activation = activation
        self.as_dict = as_dict
        self.training = True
        self.modes = []

    def named_parameters(self):
        pairs = [("layer.W", self.W), ("layer.b", self.b)]
        return dict(pairs) if self.as_dict else iter(pairs)

    def eval(self):
        self.training = False
        self.modes.append("eval")

    def train(self):
        self.training = True
        self.modes.append("train")

    def __call__(self, x):
        return self.activation(x @ self.W + self.b)


X = np.random.default_rng(1).standard_normal((2, 3))


@pytest.mark.parametrize("as_dict", [False, True])
def test_hand_made_model_passes_with_dotted_names(as_dict):
    model = TinyModel(as_dict=as_dict)
    report = check_model(model, X)
    assert report, str(report)
    assert [c.name for c in report.comparisons] == ["layer.W", "layer.b"]
    assert model.modes == ["eval", "train"] and model.training


def _buggy_square():
    square = Primitive(lambda x: x * x, name="buggy_square", register=False)
    square.defvjp(lambda g, out, x: g * x)  # forgot the factor 2
    return square


def test_wrong_vjp_fails_naming_the_parameter():
    square = _buggy_square()

    class Model(TinyModel):
        def __call__(self, x):
            return ar.tanh(x @ self.W) + square(self.b)

    report = check_model(Model(), X)
    assert not report
    assert [c.name for c in report.failures] == ["layer.b"]
    assert "layer.b" in str(report) and "FAIL" in str(report)


def test_sampling_limits_entries_per_parameter():
    model = TinyModel()
    report = check_model(model, X, max_entries=5)
    assert report["layer.W"].entries_checked == 5
    assert report["layer.b"].entries_checked == 4


def test_loss_fn_replaces_the_random_projection():
    report = check_model(TinyModel(), X, loss_fn=lambda y: (y * y).mean())
    assert report
    assert json.loads(report.to_json())["inputs"][0]["name"] == "layer.W"


def test_relu_kink_in_graph_warns():
    model = TinyModel(activation=ar.relu)
    model.b.data[:] = [0.0, 1.0, -1.0, 2.0]
    report = check_model(model, np.zeros((2, 3)))
    assert any("relu" in w and "kink" in w for w in report.warnings), report.warnings
    smooth = check_model(TinyModel(), X)
    assert not any("kink" in w for w in smooth.warnings)


def test_float32_parameters_warn():
    model = TinyModel()
    model.W = ar.tensor(model.W.data.astype(np.float32), requires_grad=True)
    report = check_model(model, X.astype(np.float32), atol=1e-1, rtol=1e-1)
    assert any("float32" in w for w in report.warnings)


def test_errors():
    with pytest.raises(TypeError, match="has no named_parameters"):
        check_model(object(), X)

    class Empty(TinyModel):
        def named_parameters(self):
            return []

    with pytest.raises(ValueError, match="no parameters"):
        check_model(Empty(), X)


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_engine_sequence_models_pass(cell):
    report = check_engine_model(cell, steps=3, hidden_size=3, max_entries=10)
    assert report, str(report)
    names = [c.name for c in report.comparisons]
    assert "W_y" in names and "b_y" in names and any(n.startswith("rnn.") for n in names)
    assert report.title.startswith(f"gradcheck {cell} (steps=3")


def test_engine_model_rejects_bad_sizes():
    with pytest.raises(ValueError, match="steps must be >= 1"):
        check_engine_model("rnn", steps=0)
