"""core/node.py and the node ``Primitive.apply`` records: leaves, op nodes in full and lean
graphs, the rarely set attributes (class defaults until set), copies."""

from __future__ import annotations

import copy
import weakref

import numpy as np
import pytest

import autograd_rnn as ar
from autograd_rnn.core.inplace import SAVED
from autograd_rnn.core.node import Dropped, Node, leaf
from autograd_rnn.ops import elementwise as ew

RARE = ("name", "grad_tensor", "detached_from", "watch")


def _chain(lean: bool):
    x = ar.tensor(np.arange(6.0).reshape(2, 3), requires_grad=True, name="x")
    c = np.full((2, 3), 2.0)
    with ar.lean_graph(lean), ar.scope("s"):
        y = x * c
        z = ar.tanh(y) + 1.0
    return x, y, z


def test_a_leaf_node_holds_its_value_and_nothing_else():
    value = np.ones((2, 2))
    with ar.scope("outer"):
        node = leaf(value, requires_grad=True)
    assert node.op is None and node.parents == () and node.args == ()
    assert node.value is value and node.requires_grad and node.state == 0
    assert node.scope == "outer" and node.grad is None and node.edge_grads is None
    assert all(getattr(node, a) is None for a in RARE)
    assert leaf(value).id > node.id  # ids follow creation order


@pytest.mark.parametrize("lean", [False, True])
def test_op_nodes_record_op_parents_order_scope_and_saved_state(lean):
    x, y, z = _chain(lean)
    ny, nz = y.node, z.node
    assert ny.op is ew.multiply and ny.parents == (x.node, None)
    assert ny.scope == "s" and ny.requires_grad and ny.params == {}
    assert x.node.state == SAVED  # multiply keeps its inputs for backward
    assert ny.id < nz.parents[0].id < nz.id
    assert all(getattr(ny, a) is None for a in RARE)
    assert ny.grad is None and ny.edge_grads is None
    if lean:  # multiply's VJPs read the inputs, not the output
        assert isinstance(ny.value, Dropped) and ny.value.shape == (2, 3)
        assert ny.args[0] is x._data
    else:
        assert ny.value is y._data and ny.args[0] is x._data
        np.testing.assert_array_equal(ny.args[1], np.full((2, 3), 2.0))


def test_rare_attributes_are_settable_per_node_and_read_back():
    x, y, _ = _chain(False)
    y.name = "product"
    y.node.detached_from = weakref.ref(x.node)
    assert y.node.name == "product" and y.name == "product"
    assert y.node.detached_from() is x.node
    assert x.node.name == "x" and Node.name is None  # set on one node, not the class
    other = _chain(False)[1]
    assert other.node.name is None and other.node.detached_from is None


@pytest.mark.parametrize("lean", [False, True])
def test_a_copied_node_keeps_its_slots_and_its_rare_attributes(lean):
    x, y, z = _chain(lean)
    z.name = "z"
    z.backward(np.ones((2, 3)))
    clone = copy.copy(z.node)
    assert clone.name == "z" and clone.op is z.node.op and clone.id == z.node.id
    assert clone.parents == z.node.parents and clone.watch is None
    np.testing.assert_array_equal(clone.grad, z.node.grad)
    clone.name = "renamed"
    assert z.node.name == "z"  # the copy has its own attribute dict


def test_an_empty_node_is_only_made_by_the_engine():
    node = Node()  # (no __init__: leaf() and Primitive.apply fill it in)
    assert node.name is None
    with pytest.raises(AttributeError):
        node.op  # noqa: B018  (an empty node has no op slot set)


def test_differentiable_follows_the_declared_vjps():
    op = ar.Primitive(np.sin, name="sin_node_test", register=False)
    assert not op.differentiable
    x = ar.tensor([0.5], requires_grad=True)
    with pytest.raises(TypeError, match="sin_node_test.*no VJP"):
        op(x)
    op.defvjp(lambda g, out, x: g * np.cos(x), saves=(0,))
    assert op.differentiable
    y = op(x)
    y.backward(np.ones(1))
    np.testing.assert_allclose(x.grad, np.cos([0.5]))
