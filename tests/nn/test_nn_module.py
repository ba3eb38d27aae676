"""Module base, Parameter, ModuleList, Linear, Embedding, one_hot."""

import numpy as np
import pytest

import autograd_rnn as ar
from autograd_rnn import nn


class Tiny(nn.Module):
    def __init__(self):
        super().__init__()
        self.first = nn.Linear(3, 4, weight_name="W_a", bias_name="b_a", seed=0)
        self.scale = nn.Parameter(np.ones(4), "scale")
        self.blocks = nn.ModuleList([nn.Linear(4, 4, seed=1), nn.Linear(4, 2, seed=2)])
        self.note = "not a parameter"

    def forward(self, x):
        h = self.first(x) * self.scale
        for block in self.blocks:
            h = block(h).tanh()
        return h


def test_parameter_is_a_leaf_requiring_grad():
    p = nn.Parameter([1, 2], name="w")
    assert isinstance(p, ar.Tensor) and p.requires_grad and p.is_leaf
    assert p.dtype == np.float64 and p.name == "w"
    assert repr(p).startswith("Parameter(")


def test_named_parameters_dotted_in_registration_order():
    names = [n for n, _ in Tiny().named_parameters()]
    assert names == [
        "first.W_a",
        "first.b_a",
        "scale",
        "blocks.0.W",
        "blocks.0.b",
        "blocks.1.W",
        "blocks.1.b",
    ]
    m = Tiny()
    assert [id(p) for p in m.parameters()] == [id(p) for _, p in m.named_parameters()]
    assert m.num_parameters() == 3 * 4 + 4 + 4 + 16 + 4 + 8 + 2


def test_shared_parameter_listed_once():
    m = Tiny()
    m.blocks[1].W = m.first.W_a  # reassigning a Parameter registers the same object again
    ids = [id(p) for p in m.parameters()]
    assert len(ids) == len(set(ids))


def test_reassigning_plain_value_unregisters():
    m = Tiny()
    m.scale = 3.0
    assert "scale" not in dict(m.named_parameters()) and m.scale == 3.0


def test_zero_grad_and_backward_fill_grads():
    m = Tiny()
    m(np.ones((2, 3))).sum().backward()
    assert all(p.grad is not None for p in m.parameters())
    m.zero_grad()
    assert all(p.grad is None for p in m.parameters())


def test_state_dict_copies_and_loads_in_place():
    a, b = Tiny(), Tiny()
    b.first.W_a.data[...] = 7.0
    state = b.state_dict()
    state["first.W_a"][0, 0] = -1.0  # a copy: does not touch b
    assert b.first.W_a.data[0, 0] == 7.0
    array_before = a.first.W_a.data
    a.load_state_dict(state)
    assert a.first.W_a.data is array_before  # loaded in place
    assert a.first.W_a.data[0, 0] == -1.0 and a.first.W_a.data[1, 1] == 7.0
    for name, value in b.state_dict().items():
        if name != "first.W_a":
            np.testing.assert_array_equal(dict(a.named_parameters())[name].data, value)


def test_load_state_dict_shape_error_names_key_and_shapes_and_changes_nothing():
    m = Tiny()
    before = m.state_dict()
    state = m.state_dict()
    state["scale"] = np.zeros(4) + 5
    state["blocks.1.W"] = np.zeros((4, 3))
    with pytest.raises(ValueError, match=r"'blocks.1.W'.*\(4, 2\).*\(4, 3\)"):
        m.load_state_dict(state)
    for name, value in m.state_dict().items():
        np.testing.assert_array_equal(value, before[name])


def test_load_state_dict_missing_and_unexpected_keys():
    m = Tiny()
    state = m.state_dict()
    del state["scale"]
    state["extra.W"] = np.zeros(2)
    with pytest.raises(KeyError, match=r"missing keys \['scale'\].*unexpected keys \['extra.W'\]"):
        m.load_state_dict(state)
    result = m.load_state_dict(state, strict=False)
    assert result.missing_keys == ["scale"] and result.unexpected_keys == ["extra.W"]


def test_train_eval_propagate_and_modules():
    m = Tiny()
    assert m.training and all(x.training for x in m.modules())
    assert m.eval() is m
    assert not any(x.training for x in m.modules())
    m.train()
    assert all(x.training for x in m.modules())
    assert [n for n, _ in m.named_modules()] == ["", "first", "blocks", "blocks.0", "blocks.1"]


def test_repr_lists_children():
    text = repr(Tiny())
    assert "(first): Linear(3, 4, bias=True" in text
    assert "(scale): Parameter(4,)" in text and "(1): Linear(4, 2" in text


def test_module_without_super_init_fails_clearly():
    class Bad(nn.Module):
        def __init__(self):
            self.w = nn.Parameter(np.zeros(2))

    with pytest.raises(AttributeError, match="super"):
        Bad()


def test_linear_formula_shapes_and_gradcheck():
    lin = nn.Linear(3, 2, seed=0)
    x = np.random.default_rng(1).standard_normal((4, 3))
    np.testing.assert_allclose(lin(x).data, x @ lin.W.data + lin.b.data)
    assert lin(np.zeros((5, 4, 3))).shape == (5, 4, 2)
    xt = ar.tensor(x, requires_grad=True)
    assert ar.gradcheck(lambda x, W, b: lin(x), [xt, lin.W, lin.b])
    with pytest.raises(ValueError, match=r"\(\.\.\., 3\).*\(4, 5\)"):
        lin(np.zeros((4, 5)))
    assert nn.Linear(3, 2, bias=False).bias is None


def test_linear_seeded_init_is_deterministic_and_bounded():
    a, b = nn.Linear(9, 5, seed=3), nn.Linear(9, 5, seed=3)
    np.testing.assert_array_equal(a.W.data, b.W.data)
    assert np.abs(a.W.data).max() <= 1 / 3
    assert not np.array_equal(a.W.data, nn.Linear(9, 5, seed=4).W.data)


def test_one_hot_values_and_errors():
    np.testing.assert_array_equal(nn.one_hot([2, 0], 3), [[0, 0, 1], [1, 0, 0]])
    assert nn.one_hot(np.zeros((2, 5), dtype=int), 4).shape == (2, 5, 4)
    with pytest.raises(IndexError, match=r"id 7 .*size 5"):
        nn.one_hot([1, 7], 5)
    with pytest.raises(IndexError, match=r"id -1"):
        nn.one_hot([-1], 5)
    with pytest.raises(TypeError, match="integers"):
        nn.one_hot([0.5], 5)


def test_embedding_lookup_gradient_and_errors():
    emb = nn.Embedding(6, 3, seed=0)
    ids = np.array([[1, 4], [1, 0]])
    out = emb(ids)
    assert out.shape == (2, 2, 3)
    np.testing.assert_allclose(out.data, nn.one_hot(ids, 6) @ emb.weight.data)
    out.sum().backward()
    expected = np.zeros((6, 3))
    expected[[0, 4]] = 1.0
    expected[1] = 2.0  # id 1 used twice: gradients add up
    np.testing.assert_allclose(emb.weight.grad, expected)
    with pytest.raises(IndexError, match=r"id 6 .*vocabulary of size 6"):
        emb([0, 6])
