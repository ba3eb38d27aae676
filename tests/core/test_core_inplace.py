"""In-place changes to values saved for backward are detected (``core/inplace.py``).

A write into ``t.data`` after an op saved ``t``'s value, and before backward, must make
backward raise ``InPlaceError`` naming the op, its scope and the tensor, never return a
wrong gradient. Rebinding (``t.data = new``, optimizer steps) leaves saved values alone, and
writes before the forward or after the backward are not errors.
"""

from __future__ import annotations

import numpy as np
import pytest

import autograd_rnn as ar
from autograd_rnn import nn
from autograd_rnn.core.backward import backward_pass

EXACT = 1e-13
MODES = ["full", "lean", "reference"]


def _backward(loss, mode):
    if mode == "reference":
        backward_pass(loss)
    else:
        loss.backward()


def _record(mode, build):
    with ar.lean_graph(mode == "lean"):
        return build()


@pytest.mark.parametrize("mode", MODES)
def test_the_issue_example_raises_instead_of_a_wrong_gradient(mode):
    a = ar.tensor([1.0, 2.0], requires_grad=True, name="a")
    b = ar.tensor([3.0, 4.0], requires_grad=True, name="b")
    y = _record(mode, lambda: (a * b).sum())
    a.data[:] = 100
    with pytest.raises(ar.InPlaceError) as info:
        _backward(y, mode)
    message = str(info.value)
    for part in ("'multiply'", "<top level>", "'a (2,)'", "input 0", "modified in place"):
        assert part in message, message
    assert b.grad is None  # nothing was accumulated from the corrupted value


@pytest.mark.parametrize("mode", MODES)
def test_a_weight_saved_by_matmul_names_the_op_scope_and_tensor(mode):
    rng = np.random.default_rng(0)
    W = ar.tensor(rng.standard_normal((3, 4)), requires_grad=True, name="W_h")

    def build():
        h = ar.tensor(np.ones((2, 3)))
        for t in range(1, 4):
            with ar.scope(f"rnn/t={t}"):
                h = ar.tanh(h @ W)[:, :3]
        return h.sum()

    loss = _record(mode, build)
    W.data[0, 0] += 1.0
    with pytest.raises(ar.InPlaceError, match=r"'matmul' in scope 'rnn/t=\d'.*'W_h \(3, 4\)'"):
        _backward(loss, mode)


@pytest.mark.parametrize("op", ["tanh", "sigmoid", "exp"])
@pytest.mark.parametrize("mode", MODES)
def test_an_output_saved_by_its_own_op(op, mode):
    x = ar.tensor([0.3, -0.7], requires_grad=True)
    with ar.scope("cell/t=2"):
        h = _record(mode, lambda: getattr(ar, op)(x))
    h.name = "h_2"
    loss = (h + 3.0).sum()  # add keeps nothing: only the op itself saved h
    h.data[...] = 0.5
    with pytest.raises(ar.InPlaceError, match=rf"'{op}' in scope 'cell/t=2': its output 'h_2"):
        _backward(loss, mode)


@pytest.mark.parametrize("mode", MODES)
def test_an_op_output_saved_by_a_later_op(mode):
    x = ar.tensor([0.3, -0.7], requires_grad=True)
    W = ar.tensor(np.eye(2), requires_grad=True, name="W")
    h = _record(mode, lambda: x + 1.0)  # add keeps nothing; matmul keeps h
    loss = _record(mode, lambda: (h @ W).sum())
    h.data += 1.0  # augmented assignment: the same array, changed
    with pytest.raises(ar.InPlaceError, match=r"'matmul'.*input 0"):
        _backward(loss, mode)


@pytest.mark.parametrize("mode", MODES)
def test_getitem_views_and_values(mode):
    W = ar.tensor(np.arange(6.0).reshape(2, 3), requires_grad=True, name="W")
    x = ar.tensor(np.ones((4, 2)), requires_grad=True, name="x")
    # 1. getitem keeps nothing: changing its input after it ran cannot change its gradient
    y = _record(mode, lambda: (x[1:3] * 2.0).sum())
    x.data[...] = 7.0
    _backward(y, mode)
    np.testing.assert_array_equal(x.grad, [[0, 0], [2, 2], [2, 2], [0, 0]])
    # 2. a slice of a saved value is a view: writing through it changes the saved value
    loss = _record(mode, lambda: (x @ W).sum())
    first_row = x[0] if mode != "lean" else _record(mode, lambda: x[0])
    first_row.data[:] = -1.0
    with pytest.raises(ar.InPlaceError, match=r"'matmul'.*'x \(4, 2\)'"):
        _backward(loss, mode)


@pytest.mark.parametrize("mode", MODES)
def test_detach_shares_the_value(mode):
    x = ar.tensor([0.2, 0.4], requires_grad=True)
    h = _record(mode, lambda: ar.tanh(x))
    loss = h.sum()
    h.detach().data[0] = 9.0
    with pytest.raises(ar.InPlaceError, match="'tanh'"):
        _backward(loss, mode)


def test_numpy_is_exposure_too():
    x = ar.tensor([0.2, 0.4], requires_grad=True, name="x")
    loss = (x * x).sum()
    x.numpy()[1] = 3.0
    with pytest.raises(ar.InPlaceError, match="'x"):
        loss.backward()


@pytest.mark.parametrize("mode", MODES)
def test_writes_before_the_forward_or_after_the_backward_are_fine(mode):
    rng = np.random.default_rng(1)
    W = ar.tensor(rng.standard_normal((3, 3)), requires_grad=True, name="W")
    x = rng.standard_normal((2, 3))
    for step in range(3):  # the micrograd loop: forward, backward, in-place update
        W.data[0, :] = 0.5 * step  # before the forward
        loss = _record(mode, lambda: ar.tanh(x @ W).sum())
        _backward(loss, mode)
        expected = x.T @ (1 - np.tanh(x @ W.data) ** 2)
        np.testing.assert_allclose(W.grad, expected, rtol=1e-12)
        W.data -= 0.1 * W.grad  # after the backward
        W.grad = None


def test_a_change_between_two_uses_blames_only_the_earlier_use():
    W = ar.tensor([1.0, 2.0], requires_grad=True, name="W")
    first = (W * 3.0).sum()
    W.data[:] = 5.0
    second = (W * W).sum()  # records the new value: its gradient is right
    second.backward()
    np.testing.assert_array_equal(W.grad, [10.0, 10.0])
    with pytest.raises(ar.InPlaceError, match="'multiply'"):
        first.backward()
    with pytest.raises(ar.InPlaceError):
        (first + second).backward()


@pytest.mark.parametrize("mode", MODES)
def test_parameters_updated_between_forward_and_backward(mode):
    model = nn.SequenceModel("lstm", 3, 4, 2, seed=0)
    x = np.random.default_rng(2).standard_normal((4, 2, 3))
    # in place (the value the graph saved changes): refused
    loss = _record(mode, lambda: model(x)[0].sum())
    param = model.rnn.cells[0].W_h
    param.data *= 0.5
    with pytest.raises(ar.InPlaceError, match=r"'matmul' in scope 'lstm/layer0/t=\d'.*W_h"):
        _backward(loss, mode)
    # rebinding (an optimizer step, `p.data = new`): the graph keeps the values it used
    model.zero_grad()
    loss = _record(mode, lambda: model(x)[0].sum())
    reference = nn.SequenceModel("lstm", 3, 4, 2, seed=0)
    reference.load_state_dict(model.state_dict())
    _backward(_record(mode, lambda: reference(x)[0].sum()), mode)
    ar.optim.SGD(model.parameters(), lr=0.1).step()  # no gradients yet: nothing moves
    param.data = param.data + 1.0
    _backward(loss, mode)
    for (name, p), q in zip(model.named_parameters(), reference.parameters(), strict=True):
        np.testing.assert_allclose(p.grad, q.grad, rtol=EXACT, atol=EXACT, err_msg=name)


def test_optimizer_and_load_state_dict_keep_working():
    model = nn.SequenceModel("gru", 2, 3, 2, seed=1)
    opt = ar.optim.Adam(model.parameters(), lr=0.01)
    x = np.random.default_rng(3).standard_normal((3, 2, 2))
    state = model.state_dict()
    for _ in range(2):
        opt.zero_grad()
        loss = model(x)[0].sum()
        loss.backward()
        opt.step()  # rebinds: this graph stays valid
        loss.backward()
    stale = model(x)[0].sum()
    model.load_state_dict(state)  # documented in-place: writes into every parameter
    with pytest.raises(ar.InPlaceError):
        stale.backward()
    model.zero_grad()
    model(x)[0].sum().backward()  # a fresh graph after loading is fine
    assert all(p.grad is not None for p in model.parameters())


def test_reading_data_without_writing_is_not_an_error():
    x = ar.tensor([0.5, 1.5], requires_grad=True)
    h = ar.tanh(x * x)
    loss = (h * h).sum()
    _ = x.data.sum() + h.data.max()  # exposure alone copies, it does not refuse
    loss.backward()
    t = np.tanh(x.data ** 2)
    np.testing.assert_allclose(x.grad, 2 * t * (1 - t**2) * 2 * x.data, rtol=1e-12)
