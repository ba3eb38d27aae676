"""Bad input gets a clear error naming the op, shapes, nodes and scope involved."""

from __future__ import annotations

import numpy as np
import pytest

import autograd_rnn as ar


@pytest.fixture
def W():
    return ar.tensor(np.ones((2, 3)), requires_grad=True, name="W_h")


@pytest.fixture
def b():
    return ar.tensor(np.ones(4), requires_grad=True, name="b_h")


def test_broadcast_mismatch_names_op_shapes_and_labels(W, b):
    with pytest.raises(ar.ShapeError) as info:
        W + b
    message = str(info.value)
    for part in ("add", "(2, 3)", "(4,)", "'W_h (2, 3)'", "'b_h (4,)'"):
        assert part in message, message
    assert isinstance(info.value, ValueError)  # ShapeError is also a ValueError


def test_matmul_mismatch_names_op_shapes_labels_and_scope(W, b):
    with ar.scope("rnn"), ar.scope("t=2"):
        h = ar.tanh(W)
        with pytest.raises(ar.ShapeError) as info:
            h @ b
    message = str(info.value)
    for part in ("matmul", "'tanh (2, 3)'", "'b_h (4,)'", "(2, 3)", "(4,)", "rnn/t=2"):
        assert part in message, message


@pytest.mark.parametrize("make, parts", [
    (lambda W, b: W.reshape(5), ("reshape", "(2, 3)", "(5,)")),
    (lambda W, b: ar.concat([W, b]), ("concat", "'W_h (2, 3)'", "'b_h (4,)'")),
    (lambda W, b: ar.stack([W, b], axis=1), ("stack", "(2, 3)", "(4,)")),
    (lambda W, b: ar.where(np.ones(3, bool), W, b), ("where", "(3,)", "(2, 3)", "(4,)")),
    (lambda W, b: W * np.ones((3, 3)), ("multiply", "'W_h (2, 3)'", "constant of shape (3, 3)")),
])
def test_other_shape_errors(W, b, make, parts):
    with pytest.raises(ar.ShapeError) as info:
        make(W, b)
    for part in parts:
        assert part in str(info.value), str(info.value)


def test_bad_index_and_axis_name_op_and_shape(W):
    with pytest.raises(IndexError, match=r"getitem.*'W_h \(2, 3\)'.*out of bounds"):
        W[5]
    with pytest.raises(IndexError, match=r"sum.*axis.*3.*'W_h \(2, 3\)'"):
        W.sum(axis=3)


def test_backward_on_non_scalar_needs_grad(W):
    y = W * 2.0
    with pytest.raises(ar.AutogradError, match=r"backward\(\) on 'multiply \(2, 3\)'.*needs grad="):
        y.backward()


def test_backward_with_wrong_grad_shape(W):
    y = W * 2.0
    with pytest.raises(ar.ShapeError, match=r"grad has shape \(3,\).*output has shape \(2, 3\)"):
        y.backward(grad=np.ones(3))


def test_backward_on_tensor_without_graph():
    x = ar.tensor([1.0], name="x")
    with pytest.raises(ar.AutogradError, match="'x \\(1,\\)' does not require grad"):
        x.backward()


@pytest.mark.parametrize("data, dtype", [
    (np.array([1, 2], dtype=np.int32), None),
    (np.array([True, False]), None),
    ([1, 2], np.int64),
    (np.int64(3), None),
])
def test_integer_and_bool_dtypes_cannot_require_grad(data, dtype):
    with pytest.raises(TypeError, match=r"only floating-point tensors can require grad.*'idx'"):
        ar.tensor(data, requires_grad=True, dtype=dtype, name="idx")
    assert not ar.tensor(data, dtype=dtype).requires_grad  # fine without requires_grad


def test_int_tensor_requires_grad_underscore():
    with pytest.raises(TypeError, match="only floating-point"):
        ar.tensor([1, 2], dtype=np.int64).requires_grad_()


def test_object_and_string_data_are_rejected():
    with pytest.raises(TypeError, match="dtype object"):
        ar.tensor(np.array([object()]), requires_grad=True)
    with pytest.raises(TypeError, match="dtype object"):
        ar.tensor(np.array([object(), 1.0]))
    with pytest.raises(TypeError, match="dtype <U"):
        ar.tensor(["a", "b"])


def test_python_numbers_become_float64():
    x = ar.tensor([1, 2], requires_grad=True)
    assert x.dtype == np.float64


def test_backward_after_retain_graph_false_raises_graph_freed():
    x = ar.tensor([1.0, 2.0], requires_grad=True)
    with ar.scope("rnn/t=1"):
        h = ar.exp(x)
    y = (h * 2.0).sum()
    y.backward(retain_graph=False)
    with pytest.raises(ar.GraphFreedError, match=r"'sum'.*retain_graph=False"):
        y.backward()
    z = (h * 3.0).sum()  # a new branch reaching the freed exp node
    with pytest.raises(ar.GraphFreedError, match=r"'exp' in scope 'rnn/t=1'"):
        z.backward()


def test_detect_anomaly_names_op_and_scope_in_forward():
    x = ar.tensor([1.0, -1.0], requires_grad=True)
    with np.errstate(all="ignore"), ar.detect_anomaly():
        with ar.scope("rnn"), ar.scope("t=4"):
            with pytest.raises(ar.AnomalyError, match=r"op 'log' in scope 'rnn/t=4'.*forward"):
                ar.log(x)
    with np.errstate(all="ignore"):
        assert np.isnan(ar.log(x).data[1])  # off by default: NaN passes silently


def test_detect_anomaly_names_op_and_scope_in_backward():
    x = ar.tensor([0.0, 1.0], requires_grad=True, name="x")
    with ar.scope("layer0"):
        s = x.sqrt()  # finite forward, infinite derivative at 0
    with np.errstate(all="ignore"), ar.detect_anomaly():
        with pytest.raises(ar.AnomalyError) as info:
            s.sum().backward()
    message = str(info.value)
    for part in ("'power'", "'layer0'", "backward", "'x (2,)'"):
        assert part in message, message


def test_detect_anomaly_backward_through_pow_and_divide():
    x = ar.tensor([0.0, 2.0], requires_grad=True, name="x")
    y = ar.tensor([1.0, 1.0], requires_grad=True, name="y")
    with ar.scope("t=9"), np.errstate(all="ignore"):
        z = y / x  # inf in forward already
    with np.errstate(all="ignore"), ar.detect_anomaly():
        with pytest.raises(ar.AnomalyError, match=r"'power' in scope '<top level>'.*backward"):
            (x**0.5).sum().backward()
        with pytest.raises(ar.AnomalyError, match=r"'divide' in scope 't=9'.*forward"):
            with ar.scope("t=9"):
                y / x
    assert np.isinf(z.data[0])


def test_detect_anomaly_is_a_floating_point_error_and_restores():
    with ar.detect_anomaly():
        pass
    assert issubclass(ar.AnomalyError, FloatingPointError)
    with np.errstate(all="ignore"):
        ar.log(ar.tensor([-1.0], requires_grad=True))  # no error after the block


def test_gradcheck_needs_an_input_requiring_grad():
    with pytest.raises(ValueError, match="no input requires grad"):
        ar.gradcheck(lambda x: x * 2.0, [ar.tensor([1.0])])
    with pytest.raises(TypeError, match="must return a Tensor"):
        ar.gradcheck(lambda x: 3.0, [ar.tensor([1.0], requires_grad=True)])


def test_scalar_exponent_only_and_truth_value():
    x = ar.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(TypeError, match="scalar exponent"):
        x ** np.array([1.0, 2.0])
    with pytest.raises(TypeError, match="ambiguous"):
        bool(x)


def test_custom_primitive_without_vjp_refuses_grad():
    square = ar.Primitive(lambda v: v * v, name="square_without_vjp", register=False)
    with pytest.raises(TypeError, match="'square_without_vjp' has no VJP"):
        square(ar.tensor([1.0], requires_grad=True))
    assert square(ar.tensor([2.0])).data[0] == 4.0  # fine on constants


def test_duplicate_primitive_name_is_rejected():
    with pytest.raises(ValueError, match="'tanh' is already registered"):
        ar.primitive(lambda v: v, name="tanh")


def test_grad_outputs_count_must_match_outputs():
    x = ar.tensor([1.0, 2.0], requires_grad=True)
    a, b = x * x, x * 3.0
    with pytest.raises(ValueError, match="2 outputs but 1 grad_outputs"):
        ar.grad([a, b], [x], grad_outputs=np.ones(2))
    (g,) = ar.grad([a, b], [x], grad_outputs=[np.ones(2), np.array([1.0, 0.0])])
    np.testing.assert_array_equal(g.data, 2 * x.data + [3.0, 0.0])
    (g,) = ar.grad(a.sum(), x, grad_outputs=2.0)  # a number for a single output
    np.testing.assert_array_equal(g.data, 4 * x.data)


@pytest.mark.parametrize("make, op", [
    (lambda x: x.mean(axis=2), "mean"),
    (lambda x: ar.softmax(x, axis=2), "softmax"),
    (lambda x: ar.log_softmax(x, axis=-3), "log_softmax"),
    (lambda x: ar.logsumexp(x, axis=(0, 5)), "logsumexp"),
])
def test_composite_axis_errors_name_op_and_operand(W, make, op):
    with pytest.raises(IndexError, match=rf"^{op}: axis -?\d is out of bounds for 'W_h \(2, 3\)'"):
        make(W)
