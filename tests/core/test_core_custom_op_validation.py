"""Custom ops are validated at the boundary: what a forward and a VJP may return.

A forward returns a NumPy array or a number. A VJP returns an ndarray, a Tensor or a number,
of the input's shape or of any shape broadcasting to the output (summed back to the input
the same way whatever its type); anything else is an error naming the op, the input
position and what came back. Every backward mode is checked: the reference loop, the
engine's recording sweep, its training sweep (recording off) and lean graphs.
"""

from __future__ import annotations

import numpy as np
import pytest

import autograd_rnn as ar
from autograd_rnn.core.backward import backward_pass

EXACT = 1e-13
MODES = ["reference", "recording", "training", "lean-training"]


def _op(name, forward, vjp):
    op = ar.Primitive(forward, name=name, register=False)
    op.defvjp(vjp)
    return op


def _backward(mode, build):
    """Run ``build()`` (returns a scalar tensor) and backward in one of the MODES."""
    with ar.lean_graph(mode == "lean-training"):
        loss = build()
    if mode == "reference":
        backward_pass(loss)
    else:
        with ar.record_gradients(mode == "recording"):
            loss.backward()


@pytest.mark.parametrize("bad", ["notarray", [1.0, 2.0], np.array(["a", "b"]), None])
def test_forward_must_return_an_array_or_a_number(bad):
    op = _op("test_bad_forward", lambda v: bad, lambda g, out, v: g)
    x = ar.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(TypeError, match=r"'test_bad_forward'.*forward must return"):
        op(x)
    if not isinstance(bad, np.ndarray):
        with pytest.raises(TypeError, match=r"'test_bad_forward'"):
            op(np.ones(2))  # on plain arrays too (arrays pass there: VJPs run that path)


def test_forward_may_return_a_number():
    op = _op("test_scalar_forward", lambda v: float(np.sum(v)),
             lambda g, out, v: g * np.ones_like(v))
    x = ar.tensor([1.0, 2.0], requires_grad=True)
    y = op(x)
    assert isinstance(y, ar.Tensor) and y.shape == () and y.item() == 3.0
    y.backward()
    np.testing.assert_array_equal(x.grad, [1.0, 1.0])


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("as_tensor", [False, True])
def test_vjp_of_the_broadcast_shape_is_summed_back_as_array_or_tensor(mode, as_tensor):
    # the case: a Tensor of the broadcast shape failed where an ndarray worked
    def vjp_b(g, out, a, b):
        c = g * np.asarray(a)  # shape of the output (2, 3), not of b (3,)
        return ar.tensor(c) if as_tensor else c

    op = ar.Primitive(lambda a, b: a * b, name="test_bcast_mul", register=False)
    op.defvjp(lambda g, out, a, b: g * np.asarray(b), vjp_b)
    rng = np.random.default_rng(0)
    a = ar.tensor(rng.standard_normal((2, 3)), requires_grad=True)
    b = ar.tensor(rng.standard_normal(3), requires_grad=True)
    _backward(mode, lambda: op(a, b).sum())
    np.testing.assert_allclose(b.grad, a.data.sum(axis=0), rtol=EXACT)
    np.testing.assert_allclose(a.grad, np.broadcast_to(b.data, (2, 3)), rtol=EXACT)


@pytest.mark.parametrize("mode", MODES)
def test_vjp_returning_a_number_broadcasts_to_the_output(mode):
    # d/dx of sum(2x + b) with b broadcast over rows: the VJP says "2 everywhere"
    op = ar.Primitive(lambda x, b: 2.0 * x + b, name="test_number_vjp", register=False)
    op.defvjp(lambda g, out, x, b: 2.0, lambda g, out, x, b: 1.0)
    x = ar.tensor(np.ones((2, 3)), requires_grad=True)
    b = ar.tensor(np.zeros(3), requires_grad=True)
    _backward(mode, lambda: op(x, b).sum())
    np.testing.assert_array_equal(x.grad, np.full((2, 3), 2.0))
    np.testing.assert_array_equal(b.grad, np.full(3, 2.0))  # 1 per row, two rows


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("bad, shown", [("oops", "str"), ([1.0, 2.0], "list"),
                                        (np.array(["a", "b"]), "dtype <U1"),
                                        ({"g": 1}, "dict")])
def test_vjp_returning_something_else_names_op_position_and_value(mode, bad, shown):
    op = ar.Primitive(lambda a, b: a * b, name="test_bad_vjp", register=False)
    op.defvjp(lambda g, out, a, b: g * b, lambda g, out, a, b: bad)
    a = ar.tensor([1.0, 2.0], requires_grad=True)
    b = ar.tensor([3.0, 4.0], requires_grad=True, name="b")
    with pytest.raises(TypeError) as info:
        _backward(mode, lambda: op(a, b).sum())
    message = str(info.value)
    for part in ("'test_bad_vjp'", "input 1", "'b (2,)'", shown):
        assert part in message, message


def test_variadic_vjp_must_return_one_gradient_per_input():
    op = ar.Primitive(lambda *xs: sum(xs), name="test_bad_vjp_all", register=False)
    op.defvjp_all(lambda g, out, *xs: g)  # forgot the tuple
    xs = [ar.tensor([1.0, 2.0], requires_grad=True) for _ in range(2)]
    with pytest.raises(TypeError, match=r"'test_bad_vjp_all'.*one gradient per input \(2\)"):
        op(*xs).sum().backward()


def test_vjp_returning_an_array_under_create_graph_is_a_constant():
    def raw_vjp(g, out, v):  # under create_graph g and v are tensors; this drops the graph
        return g.data * 3 * v.data**2

    op = _op("test_array_vjp_cg", lambda v: v**3, raw_vjp)
    x = ar.tensor([1.0, 2.0], requires_grad=True)
    (g,) = ar.grad(op(x).sum(), x, create_graph=True)
    np.testing.assert_array_equal(g.data, [3.0, 12.0])  # first order right; no graph behind it
