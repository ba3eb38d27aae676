"""The Tensor's array-like surface and node metadata."""

from __future__ import annotations

import numpy as np

import autograd_rnn as ar


def test_array_like_properties():
    x = ar.tensor(np.arange(6.0).reshape(2, 3), requires_grad=True, name="x")
    assert (x.shape, x.ndim, x.size, x.dtype, len(x)) == ((2, 3), 2, 6, np.float64, 2)
    assert x.numpy() is x.data
    assert ar.tensor([[4.0]]).item() == 4.0
    rows = list(x)  # iteration goes through getitem, recording a node per row
    assert len(rows) == 2 and rows[1].op.name == "getitem"
    np.testing.assert_array_equal(rows[1].data, [3.0, 4.0, 5.0])


def test_leaf_and_node_metadata():
    x = ar.tensor([1.0, 2.0], requires_grad=True, name="x")
    assert x.is_leaf and x.op is None and x.parents == () and x.grad is None
    with ar.scope("cell"):
        y = ar.matmul(x, ar.tensor(np.ones((2, 3))))
    assert y.op is ar.REGISTRY["matmul"] and y.parents[0] is x.node and y.scope == "cell"
    assert y.params == {} and len(y.args) == 2
    s = ar.sum(y, axis=0)
    assert s.params == {"axis": 0, "keepdims": False}
    assert ar.max(y).params == {"axis": None, "keepdims": False}  # defaults are recorded


def test_tensors_are_hashable_by_identity():
    a, b = ar.tensor([1.0]), ar.tensor([1.0])
    table = {a: "a", b: "b"}
    assert table[a] == "a" and len({a, b, a}) == 2


def test_requires_grad_underscore_and_zero_grad():
    x = ar.tensor([1.0, 2.0]).requires_grad_()
    assert x.requires_grad
    (x * x).sum().backward()
    assert x.grad is not None
    x.zero_grad()
    assert x.grad is None and x.grad_tensor is None
    assert not x.requires_grad_(False).requires_grad


def test_data_is_copied_from_python_and_arrays():
    source = np.array([1.0, 2.0])
    x = ar.tensor(source)
    source[0] = 100.0
    assert x.data[0] == 1.0
    y = ar.tensor(x)
    assert y.data is not x.data and y.is_leaf


def test_repr_is_short_for_big_tensors():
    x = ar.tensor(np.zeros((100, 100)), requires_grad=True, name="big")
    text = repr(x)
    assert len(text) < 400 and "requires_grad=True" in text and "name='big'" in text
