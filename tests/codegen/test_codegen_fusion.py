"""Compiled-code rewrites beyond the loop buffers: sibling LSTM gates computed together,
the fused softmax cross-entropy backward, straight-line array reuse, fancy ``+=`` for
distinct rows and the bias folded into the hoisted projection: each against the engine or
the program compiled without it."""

from __future__ import annotations

import re

import numpy as np
import pytest

import autograd_rnn as ar
from autograd_rnn.codegen import compile as compile_graph
from autograd_rnn.codegen import pipeline
from autograd_rnn.codegen.models import example_inputs, make_loss
from tests.codegen.codegen_engine import program_of, run_source


def test_distinct_rows_use_fancy_add_repeated_rows_use_add_at():
    W = ar.tensor(np.random.default_rng(0).standard_normal((4, 3)), requires_grad=True, name="W")

    def distinct(W):
        return W[np.arange(4), np.array([2, 0, 2, 1])].sum()

    def repeated(W):
        return (W[np.array([1, 1, 3]), np.array([0, 0, 2])] * np.array([1.0, 2.0, 3.0])).sum()

    for fn, form in ((distinct, "g_W[np.arange(4), "), (repeated, "np.add.at(")):
        compiled = compile_graph(fn, [W])
        assert form in compiled.source
        W.grad = None
        fn(W).backward()
        np.testing.assert_array_equal(compiled(W)[1]["W"], W.grad)


def test_bias_folded_into_the_hoisted_projection():
    compiled = compile_graph(make_loss("rnn"), example_inputs("rnn", 5, 3, 4, 2))
    assert "matmul_all += b_h" in compiled.source


def _xent_case(scale: float | None, rows, extra: str | None):
    """extra: None, or what else the loss reads ("logp": the log-probabilities, "logits")."""
    rng = np.random.default_rng(3)
    y = ar.tensor(rng.standard_normal((5, 4)), requires_grad=True, name="y")
    targets = rng.integers(0, 4, 5)

    def loss(y, targets):
        logits = y * 1.5
        logp = ar.log_softmax(logits, axis=1)
        out = -logp[rows, targets].sum()
        out = out if scale is None else scale * out
        if extra is None:
            return out
        again = logp if extra == "logp" else logits
        return out + (again * again).sum()

    compiled = compile_graph(loss, [y, targets])
    y.grad = None
    expected = loss(y, targets)
    expected.backward()
    value, grads = compiled(y, targets)
    np.testing.assert_allclose(value, expected.data, rtol=1e-14)
    np.testing.assert_allclose(grads["y"], y.grad, rtol=0, atol=1e-12)
    return compiled.source


def test_softmax_cross_entropy_backward_is_fused():
    source = _xent_case(None, np.arange(5), extra=None)
    assert "g_softmax[np.arange(5), targets] -= 1.0" in source
    assert "- log[:, 0]" in source  # the targets picked before normalising: no (N, V) pass
    assert "*= g_" not in source and "np.ones_like" not in source  # unused seed dropped
    assert "g_softmax *= g_" in _xent_case(2.0, np.arange(5), extra=None)


@pytest.mark.parametrize("rows,extra", [(np.array([0, 0, 2, 3, 3]), None),
                                        (np.arange(5), "logp"), (np.arange(5), "logits")])
def test_cross_entropy_not_fused_when_rows_repeat_or_values_are_shared(rows, extra):
    assert "# minus the one-hot targets" not in _xent_case(None, rows, extra)


def test_lstm_sibling_gates_computed_together():
    inputs = example_inputs("lstm", 6, 3, 4, 2)
    fused = compile_graph(make_loss("lstm"), inputs)
    assert "i_f = np.empty(" in fused.source and "g_i_f" in fused.source
    assert "i_f = np.empty(" not in compile_graph(make_loss("lstm"), inputs, inplace=False).source
    value, grads = fused(*inputs)
    loss = make_loss("lstm")(*inputs)
    for p in inputs[2:]:
        p.grad = None
    loss.backward()
    for p in inputs[2:]:
        np.testing.assert_allclose(grads[p.name], p.grad, rtol=0, atol=1e-12, err_msg=p.name)


def test_straight_line_statements_reuse_dying_arrays():
    inputs = example_inputs("rnn", 6, 3, 4, 2)
    loss = make_loss("rnn")

    def fn(W_y, x, targets, *rest):  # the output layer first: its arrays are reused
        return loss(x, targets, rest[0], rest[1], rest[2], W_y, rest[3])

    args = [inputs[5], inputs[0], inputs[1], *inputs[2:5], inputs[6]]
    with_reuse = pipeline.run(program_of(fn, args, [0]))
    without = pipeline.run(program_of(fn, args, [0]), skip={"reuse"})
    assert "y = np.add(matmul2, b_y, out=matmul2)" in with_reuse
    # the targets' logits are picked before the exp, so the exp overwrites z, and the
    # softmax the exp (one (N, V) array for the whole chain, as a hand-written loop)
    assert "np.exp(z, out=matmul2)" in with_reuse
    assert with_reuse.index("picked = z[") < with_reuse.index("np.exp(z")
    assert "np.divide(exp, sum_exp, out=matmul2)" in with_reuse
    assert "out=matmul2)" not in without
    (v1, g1), (v2, g2) = run_source(with_reuse, args), run_source(without, args)
    assert v1 == v2 and all(np.array_equal(a, b) for a, b in zip(g1, g2, strict=True))


def _agrees_with_engine(source: str, fn, x) -> None:
    """The generated ``source`` gives ``fn(x)``'s value and gradient."""
    value, grads = run_source(source, [x])
    x.grad = None
    expected = fn(x)
    expected.backward()
    np.testing.assert_allclose(value, expected.data, rtol=1e-13)
    np.testing.assert_allclose(grads[0], x.grad, rtol=0, atol=1e-12)


def test_arrays_read_by_a_loop_or_through_a_view_are_not_reused():
    rng = np.random.default_rng(2)
    x = ar.tensor(rng.standard_normal((6, 2, 3)), requires_grad=True, name="x")

    def fn(x):
        a = x * 2.0  # read by the loop below: never reused
        h = ar.tensor(np.zeros((2, 3)), name="h_0")
        for t in range(1, 7):
            with ar.scope(f"net/t={t}"):
                h = ar.tanh(a[t - 1] + h)
        view = a.reshape(12, 3)  # a view of a: a stays alive while it is read
        b = a + 1.0
        return (b * b).sum() + view.sum() + h.sum()

    source = pipeline.run(program_of(fn, [x], [0]))
    assert "for t in range(" in source and "out=a)" not in source
    _agrees_with_engine(source, fn, x)


def test_a_view_of_all_of_a_dying_array_gives_its_memory():
    rng = np.random.default_rng(3)
    x = ar.tensor(rng.standard_normal((6, 2, 3)), requires_grad=True, name="x")

    def fn(x):
        h = ar.tensor(np.zeros((2, 3)), name="h_0")
        for t in range(1, 7):
            with ar.scope(f"net/t={t}"):
                h = ar.tanh(x[t - 1] + h)
        a = x * 2.0
        flat = a.reshape(12, 3)  # all of a: written through (a is read no more)
        part = (x * 3.0)[0:3]  # half of a fresh array: never written through
        return (ar.exp(flat - 1.0) * 0.5).sum() + (ar.exp(part + 1.0)).sum() + h.sum()

    source = pipeline.run(program_of(fn, [x], [0]))
    assert re.search(r"np\.subtract\((\w+), 1\.0, out=\1\)", source), source
    assert not re.search(r"np\.add\((\w+), 1\.0, out=\1\)", source), source
    _agrees_with_engine(source, fn, x)


def _sequence_model_step(reread_logits: bool):
    """``ar.nn.SequenceModel`` (per-step output layer) and the trainer's cross-entropy,
    compiled; with ``reread_logits`` the loss reads the logits a second time."""
    from autograd_rnn.nn import SequenceModel
    from autograd_rnn.train.losses import cross_entropy

    rng = np.random.default_rng(5)
    T, B, V = 6, 2, 5
    model = SequenceModel("rnn", V, 4, V)
    x = ar.tensor(np.eye(V)[rng.integers(0, V, (T, B))], name="x")
    target = rng.integers(0, V, (T, B))

    def fn(x, target):
        y, _ = model(x, None)
        loss = cross_entropy(y, target, None, reduction="mean")
        return loss + (y * y).sum() * 0.01 if reread_logits else loss

    params = dict(model.named_parameters())
    compiled = compile_graph(fn, [x, target], wrt=params)
    value, grads = compiled(x, target)
    for p in params.values():
        p.grad = None
    expected = fn(x, target)
    expected.backward()
    np.testing.assert_allclose(value, expected.data, rtol=1e-13)
    for name, p in params.items():
        np.testing.assert_allclose(grads[name], p.grad, rtol=0, atol=1e-12, err_msg=name)
    return compiled.source


def test_per_step_logits_reuse_the_projection_and_the_exp_overwrites_them():
    source = _sequence_model_step(reread_logits=False)
    # the bias is added into the output projection of all steps (an inline view of it is
    # the operand: written through the named array it views) ...
    add = re.search(r"(\w+) = np\.add\((\w+)\[0:6\], \w+, out=\2\)", source)
    assert add, source
    # ... and the exp overwrites the shifted logits: the targets were picked before it
    assert re.search(r"exp = np\.exp\(z, out=\w+\)", source), source
    assert source.index("picked = z[") < source.index("exp = np.exp(z")


def test_logits_read_again_are_not_overwritten():
    source = _sequence_model_step(reread_logits=True)  # (gradients checked inside)
    # the logits live on (y * y reads them after the softmax): the shifted logits get an
    # array of their own, which the exp may overwrite
    assert re.search(r"z = reshape\w* - shift", source), source
    assert re.search(r"exp = np\.exp\(z, out=z\)", source), source
