"""Each optional pass of the compiler on its own (``codegen.pipeline``): with and without it
the program computes the same as the engine (RNN/LSTM/GRU unrolls, truncated BPTT with a
per-step loss, relu/where masks and a gradient through slices of a computed array), and it
changes what it should; loop bodies allocate nothing; in-place and expression forms agree."""

from __future__ import annotations

import re

import numpy as np
import pytest

import autograd_rnn as ar
from autograd_rnn.codegen import compile as compile_graph
from autograd_rnn.codegen import pipeline
from autograd_rnn.codegen.models import (
    PARAMS,
    compiled_loss_and_grads,
    example_inputs,
    init_params,
    make_loss,
)
from tests.codegen.codegen_engine import (
    assert_same_results,
    generate,
    program_of,
    run_source,
)


def _gru_tbptt(x, W, U, b):
    """A GRU-like step with truncated BPTT (detach every 3 steps) and a per-step loss."""
    h, total = ar.tensor(np.zeros((2, 3)), name="h_0"), None
    for t in range(1, x.shape[0] + 1):
        if t % 3 == 1:
            h = h.detach()
        with ar.scope(f"net/t={t}"):
            z = ar.sigmoid(x[t - 1] @ W + h @ U + b)
            h = z * h + (1 - z) * ar.tanh(x[t - 1] @ U)
            step = (h * h).mean()
            total = step if total is None else total + step
    return total


def _relu_where(x, W, U, b):
    """relu and a where-mask per step; gradient through a slice of a computed array."""
    a = x * 2.0
    h = ar.tensor(np.zeros((2, 3)), name="h_0")
    for t in range(1, x.shape[0] + 1):
        with ar.scope(f"net/t={t}"):
            pre = a[t - 1] @ W + h @ U + b
            h = ar.where(pre.data > 0.1, ar.relu(pre), 0.5 * ar.tanh(pre))
    return (h * h).sum() + a.sum()


def _inputs(seed):
    rng = np.random.default_rng(seed)
    x = ar.tensor(rng.standard_normal((8, 2, 3)), name="x")
    W, U = (ar.tensor(0.5 * rng.standard_normal((3, 3)), requires_grad=True, name=n)
            for n in ("W", "U"))
    b = ar.tensor(rng.standard_normal(3), requires_grad=True, name="b")
    return [x, W, U, b]


def _per_step(cell):
    """The model of bench.compile_compare.per_step_forward: output layer and cross-entropy
    inside the time loop, the loss summed over steps."""
    from bench.compile_compare import per_step_forward

    def loss(x, targets, *params):  # targets (T, B)
        return per_step_forward(cell, dict(zip(PARAMS[cell], params, strict=True)), x, targets)

    return loss


def _per_step_inputs(cell, T=7):
    inputs = example_inputs(cell, T, 3, 4, 2)
    inputs[1] = inputs[1].reshape(T, 2)
    return inputs


def _cases():
    cases = [(make_loss(cell), example_inputs(cell, 6, 3, 4, 2), range(2, 2 + len(PARAMS[cell])))
             for cell in ("rnn", "lstm", "gru")]
    cases += [(fn, _inputs(4), (1, 2, 3)) for fn in (_gru_tbptt, _relu_where)]
    cases += [(_per_step(cell), _per_step_inputs(cell), range(2, 7)) for cell in ("rnn", "lstm")]
    return cases


CASES = _cases()


def _with(generated, inputs):
    source, extra = generated
    return source, inputs, extra


@pytest.mark.parametrize("case", range(len(CASES)))
@pytest.mark.parametrize("skipped", ["xent", "loops", "hoist", "gates", "vectorize", "buffers",
                                     "reuse"])
def test_each_pass_keeps_the_results(case, skipped):
    """Every optional pass on its own: the program compiled with all passes and without
    that one computes the same (to rounding: hoisting reorders sums) as the engine."""
    fn, inputs, wrt = CASES[case]
    results = run_source(*_with(generate(fn, inputs, wrt), inputs))
    assert_same_results(results, run_source(*_with(generate(fn, inputs, wrt, {skipped}),
                                                   inputs)))
    for x in inputs:
        if isinstance(x, ar.Tensor):
            x.grad = None
    expected = fn(*inputs)
    expected.backward()
    assert_same_results(results, (expected.data, [inputs[i].grad for i in wrt]))


@pytest.mark.parametrize("skipped,marker", [
    ("loops", "for t in range("), ("hoist", "_all = "), ("gates", "i_f = np.empty("),
    ("buffers", "out=tmp"), ("xent", "# minus the one-hot targets"), ("reuse", "out=matmul2)")])
def test_each_pass_changes_the_lstm_source(skipped, marker):
    fn, inputs, wrt = CASES[1]
    assert marker in pipeline.run(program_of(fn, inputs, wrt))
    assert marker not in pipeline.run(program_of(fn, inputs, wrt), skip={skipped})


@pytest.mark.parametrize("cell", ["rnn", "lstm"])
def test_per_step_output_layer_runs_for_all_steps_outside_the_loop(cell):
    fn, inputs, wrt = _per_step(cell), _per_step_inputs(cell), range(2, 7)
    source, extra = generate(fn, inputs, wrt)
    loops = [block for block in source.split("for t in range(")[1:]]
    assert len(loops) == 2
    for block in loops:  # inside the loops: the recurrence only
        body = [line for line in block.splitlines()[1:] if line.startswith("        ")]
        assert not any("W_y" in line or "log" in line for line in body)
    assert "the steps' sum" in source and "np.arange(7)[:, None]" in source
    unvectorized = run_source(*_with(generate(fn, inputs, wrt, {"vectorize"}), inputs))
    assert_same_results(run_source(source, inputs, extra), unvectorized)


@pytest.mark.parametrize("cell", ["rnn", "lstm"])
def test_per_step_loss_sum_lets_every_step_join_the_loops(cell):
    """``total = loss_1`` then ``total + loss_t``: step 1 lacks the add (forward) and the
    gradient passed along the sum (backward); the loops still run over all 7 steps."""
    fn, inputs, wrt = _per_step(cell), _per_step_inputs(cell), range(2, 7)
    source, extra = generate(fn, inputs, wrt)
    assert "for t in range(1, 8):" in source and "for t in range(7, 0, -1):" in source
    assert "0.0 +" not in source and "+ 0.0" not in source
    assert_same_results(run_source(source, inputs, extra),
                        run_source(*_with(generate(fn, inputs, wrt, {"loops"}), inputs)))


@pytest.mark.parametrize("cell", ["rnn", "lstm"])
def test_running_sum_start_is_plain_when_no_loop_forms(cell):
    """Too few steps for a loop: the first step's ``0 + loss_1`` is ``loss_1`` again."""
    fn, inputs, wrt = _per_step(cell), _per_step_inputs(cell, T=3), range(2, 7)
    source, extra = generate(fn, inputs, wrt)
    assert "for t in" not in source and "0.0" not in source
    assert_same_results(run_source(source, inputs, extra),
                        run_source(*_with(generate(fn, inputs, wrt, {"loops"}), inputs)))


def test_carry_overwritten_before_its_old_value_is_read_gets_a_per_step_array():
    rng = np.random.default_rng(3)
    x = ar.tensor(rng.standard_normal((6, 2, 3)), name="x")
    W = ar.tensor(0.5 * rng.standard_normal((3, 3)), requires_grad=True, name="W")

    def fn(x, W):  # h_new is computed, then the old h is read again (z * h)
        h = ar.tensor(np.ones((2, 3)), name="h_0")
        for t in range(1, 7):
            with ar.scope(f"net/t={t}"):
                new = ar.tanh(x[t - 1] + h @ W)
                h = new * h + new
        return (h * h).sum()

    compiled = compile_graph(fn, [x, W])
    value, grads = compiled(x, W)
    W.grad = None
    expected = fn(x, W)
    expected.backward()
    np.testing.assert_allclose(value, expected.data, rtol=1e-13)
    np.testing.assert_allclose(grads["W"], W.grad, rtol=0, atol=1e-12)
    assert "for t in range(" in compiled.source


_ALLOCATION_FREE = re.compile(
    r"^(\w+ = )?np\.\w+\(.*out=[\w\[\]\- ,:]+\)$"  # an op into a buffer
    r"|^(\w+ = )?[\w\[\]\- ]+\.dot\(.*out=[\w\[\]\- ,:]+\)$"  # a product into a buffer
    r"|^\w+ = [\w.]+(\[[\w\- ,:]+\])?$"  # a name, a view or a slice of a buffer
)


def _loop_bodies(source: str) -> list[str]:
    lines, inside = [], False
    for line in source.splitlines():
        if line.startswith("    for t in range("):
            inside = True
        elif inside and line.startswith("        "):
            lines.append(line.strip())
        else:
            inside = False
    return lines


@pytest.mark.parametrize("cell", ["rnn", "lstm"])
def test_rnn_and_lstm_loops_allocate_nothing(cell):
    compiled = compile_graph(make_loss(cell), example_inputs(cell, 6, 3, 4, 2))
    body = _loop_bodies(compiled.source)
    assert body
    assert [line for line in body if not _ALLOCATION_FREE.match(line)] == []


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
@pytest.mark.parametrize("options", [{}, {"num_layers": 2}, {"bidirectional": True}])
def test_in_place_and_expression_forms_agree(cell, options):
    T, Bn, D, Hn, V = 6, 2, 3, 4, 5
    rng = np.random.default_rng(1)
    x = ar.tensor(rng.standard_normal((T, Bn, D)), name="x")
    targets = rng.integers(0, V, T * Bn)
    model = ar.nn.SequenceModel(cell, D, Hn, V, **options)

    def loss(x, targets):
        y, _ = model(x)
        return -ar.log_softmax(y.reshape(T * Bn, V), axis=1)[np.arange(T * Bn), targets].sum()

    fast = compile_graph(loss, [x, targets])
    plain = compile_graph(loss, [x, targets], inplace=False)
    assert "out=" in fast.source and "out=" not in plain.source
    (v1, g1), (v2, g2) = fast(x, targets), plain(x, targets)
    np.testing.assert_allclose(v1, v2, rtol=1e-13)
    for k in g1:
        np.testing.assert_allclose(g1[k], g2[k], rtol=0, atol=1e-13, err_msg=k)


def test_model_helper_keeps_gradient_names_across_shapes():
    for T in (5, 7):
        params = init_params("lstm", 3, 4, 3)
        x = np.random.default_rng(T).standard_normal((T, 2, 3))
        _, grads = compiled_loss_and_grads("lstm", params, x, np.zeros((T, 2), dtype=int))
        assert list(grads) == list(PARAMS["lstm"])


@pytest.mark.parametrize("skipped", [frozenset(), frozenset(pipeline.OPTIONAL)])
@pytest.mark.parametrize("second", ["view", "fresh"])
def test_a_returned_gradient_is_never_the_start_of_another_sum(monkeypatch, skipped, second):
    """d(a + b)/da is also the first contribution to b's gradient; b's sum must not take it
    over (rebinding or adding in place would change a's returned gradient). Found by the
    random-graph property test: the compiled gradient of a was b's."""
    run = pipeline.run
    monkeypatch.setattr(pipeline, "run", lambda program, skip=frozenset(): run(program, skipped))

    def loss(a, b):  # b's own term recorded first: its gradient arrives last
        cubed = ar.tanh(b) ** 3
        first = (a + b) * 0.5 if second == "fresh" else (a + b).sum() * 0.5
        return (cubed + first).sum()

    def leaves(a, b):
        return ar.tensor(a, requires_grad=True), ar.tensor(b, requires_grad=True)

    compiled = compile_graph(loss, leaves(0.3, -0.7))
    a, b = leaves(1.2, 0.4)
    loss(a, b).backward()
    _, grads = compiled(1.2, 0.4)
    got = [grads[name] for name in compiled.grad_names]
    np.testing.assert_allclose(got[0], a.grad, rtol=1e-12)
    np.testing.assert_allclose(got[1], b.grad, rtol=1e-12)


def test_a_loop_never_writes_into_an_input():
    """``h * x[t - 1]`` read once: the buffers pass computed it into the row of ``x[1:5]``
    (a view of the caller's input, made before the loop by vectorize), so the caller's x
    changed and the backward read the changed rows. Found by compiling random programs as
    a recurrent cell."""
    def loss(x, h):
        total = 0.0
        for t in range(1, 6):
            with ar.scope(f"net/t={t}"):
                hx = h * x[t - 1]
                step = (ar.tanh(hx) ** 3 + hx.sum() * 0.5).sum()
                h = h * 0.5 + step * 0.1
                total = total + step
        return total + h.sum()

    rng = np.random.default_rng(0)
    x, h = rng.uniform(-1.2, 1.2, (5, 1)), rng.uniform(-1.2, 1.2, (1,))
    compiled = compile_graph(loss, [ar.tensor(v, requires_grad=True) for v in (x, h)])
    x_before = x.copy()
    value, grads = compiled(x, h)
    np.testing.assert_array_equal(x, x_before)
    xs = [ar.tensor(x.copy(), requires_grad=True), ar.tensor(h.copy(), requires_grad=True)]
    out = loss(*xs)
    out.backward()
    np.testing.assert_allclose(value, out.data, rtol=1e-12)
    for name, t in zip(compiled.grad_names, xs, strict=True):
        np.testing.assert_allclose(grads[name], t.grad, rtol=1e-12, err_msg=name)
