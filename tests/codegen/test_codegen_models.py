"""Compiled RNN/LSTM/GRU unrolls against the engine (1e-12, straight-line and loop form),
re-tracing on new shapes, captured parameters, standalone generated modules."""

from __future__ import annotations

import numpy as np
import pytest

import autograd_rnn as ar
from autograd_rnn.codegen import compile as compile_graph
from autograd_rnn.codegen.models import PARAMS, example_inputs, make_loss
from tests.codegen.codegen_engine import engine_loss_and_grads

TOL = 1e-12


def _assert_matches(cell, compiled, inputs):
    value, grads = compiled(*inputs)
    expected, expected_grads = engine_loss_and_grads(cell, inputs)
    np.testing.assert_allclose(value, expected, rtol=TOL, atol=TOL)
    assert list(grads) == list(PARAMS[cell])
    for name, g in grads.items():
        np.testing.assert_allclose(g, expected_grads[name], rtol=0, atol=TOL, err_msg=name)


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
@pytest.mark.parametrize("steps,loops", [(1, True), (3, False), (6, False), (6, True)])
def test_unrolled_cell_matchesengine_loss_and_grads(cell, steps, loops):
    inputs = example_inputs(cell, steps, input_size=3, hidden=4, batch=2, seed=steps)
    compiled = compile_graph(make_loss(cell), inputs, loops=loops)
    _assert_matches(cell, compiled, inputs)
    has_loop = "for t in range(" in compiled.source
    assert has_loop == (loops and steps >= 4)


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_loop_form_does_not_grow_with_steps(cell):
    sources = [compile_graph(make_loss(cell), example_inputs(cell, T, 3, 4, 2)).source
               for T in (5, 200)]
    assert len(sources[0].splitlines()) == len(sources[1].splitlines())
    straight = compile_graph(make_loss(cell), example_inputs(cell, 5, 3, 4, 2), loops=False)
    assert len(straight.source.splitlines()) > len(sources[0].splitlines())


def test_thousand_step_rnn_is_a_short_loop_and_correct():
    inputs = example_inputs("rnn", 1000, input_size=2, hidden=3, batch=1)
    compiled = compile_graph(make_loss("rnn"), inputs)
    assert len(compiled.source.splitlines()) < 120
    _assert_matches("rnn", compiled, inputs)


def test_retrace_on_new_shape_and_reuse():
    inputs = example_inputs("rnn", 3, 3, 4, 2)
    compiled = compile_graph(make_loss("rnn"), inputs)
    first = compiled.source
    longer = example_inputs("rnn", 5, 3, 4, 2, seed=1)
    _assert_matches("rnn", compiled, longer)
    assert compiled.source != first and len(compiled.cache) == 2
    wider = example_inputs("rnn", 3, 3, 4, 7, seed=2)  # new batch size, same T
    _assert_matches("rnn", compiled, wider)
    assert len(compiled.cache) == 3
    _assert_matches("rnn", compiled, example_inputs("rnn", 3, 3, 4, 2, seed=3))  # new values
    assert len(compiled.cache) == 3 and compiled.source == first


def test_generated_source_runs_standalone_with_only_numpy():
    inputs = example_inputs("lstm", 5, 3, 4, 2)
    compiled = compile_graph(make_loss("lstm"), inputs)
    namespace: dict = {}
    exec(compiled.source, namespace)  # the module imports numpy itself
    arrays = [x.data if isinstance(x, ar.Tensor) else x for x in inputs]
    value, grads = namespace["forward_backward"](*arrays)
    expected, expected_grads = engine_loss_and_grads("lstm", inputs)
    np.testing.assert_allclose(value, expected, atol=TOL)
    for g, name in zip(grads, PARAMS["lstm"], strict=True):
        np.testing.assert_allclose(g, expected_grads[name], atol=TOL)


def test_captured_parameters_are_read_live_and_differentiated():
    rng = np.random.default_rng(0)
    W = ar.tensor(rng.standard_normal((3, 2)), requires_grad=True, name="W")
    b = ar.tensor(rng.standard_normal(2), requires_grad=True, name="b")
    x = ar.tensor(rng.standard_normal((4, 3)), name="x")
    compiled = compile_graph(lambda x: ar.tanh(x @ W + b).sum(), [x])
    W.data = W.data * 2.0  # an optimizer step replaces the value: the next call sees it
    value, grads = compiled(x)
    loss = ar.tanh(x @ W + b).sum()
    loss.backward()
    assert list(grads) == ["W", "b"]
    np.testing.assert_allclose(value, loss.data, atol=TOL)
    np.testing.assert_allclose(grads["W"], W.grad, atol=TOL)
    np.testing.assert_allclose(grads["b"], b.grad, atol=TOL)


def test_call_flat_gives_the_gradients_in_name_order_and_retraces_on_a_new_captured_shape():
    rng = np.random.default_rng(4)
    W = ar.tensor(rng.standard_normal((3, 2)), requires_grad=True, name="W")
    b = ar.tensor(rng.standard_normal(2), requires_grad=True, name="b")
    x = ar.tensor(rng.standard_normal((4, 3)), name="x")
    compiled = compile_graph(lambda x: (ar.tanh(x @ W + b).sum(), ar.tanh(x @ W)), [x])
    value, grads, extras = compiled(x)
    flat_value, flat_grads, flat_extras = compiled.call_flat(x)
    assert isinstance(flat_grads, tuple) and compiled.grad_names == ["W", "b"]
    assert flat_value == value and len(flat_extras) == len(extras) == 1
    assert all(np.array_equal(g, grads[k])
               for k, g in zip(compiled.grad_names, flat_grads, strict=True))
    W.data = rng.standard_normal((3, 5))  # a captured shape changed: traced again
    b.data = rng.standard_normal(5)
    _, grads5, _ = compiled.call_flat(x)
    assert len(compiled.cache) == 1 and grads5[0].shape == (3, 5)


def test_wrt_selects_gradients_and_plain_array_inputs_follow_new_values():
    rng = np.random.default_rng(1)
    a = ar.tensor(rng.standard_normal((2, 3)), requires_grad=True, name="a")
    b = ar.tensor(rng.standard_normal((2, 3)), requires_grad=True, name="b")
    x = rng.standard_normal((4, 2, 3))
    compiled = compile_graph(lambda a, b, x: (a * x[1] + b).sum(), [a, b, x], wrt=[0])
    x2 = rng.standard_normal((4, 2, 3))
    value, grads = compiled(a, b, x2)
    assert list(grads) == ["a"]
    np.testing.assert_allclose(grads["a"], x2[1], atol=TOL)
    np.testing.assert_allclose(value, (a.data * x2[1] + b.data).sum(), atol=TOL)


def test_bad_outputs_raise_clear_errors():
    a = ar.tensor(np.ones((2, 3)), requires_grad=True)
    with pytest.raises(ValueError, match="scalar"):
        compile_graph(lambda a: a * 2, [a])
    with pytest.raises(TypeError, match="must return a Tensor"):
        compile_graph(lambda a: 3.0, [a])
    compiled = compile_graph(lambda a: a * 2, [ar.tensor(np.ones(3))])  # no gradients wanted
    value, grads = compiled(np.arange(3.0))
    assert grads == {} and np.array_equal(value, [0.0, 2.0, 4.0])


def test_compiled_rnn_step_equals_hand_written_bptt():
    from autograd_rnn.codegen import models
    from bench import handwritten

    rng = np.random.default_rng(0)
    T, B, D, H, V = 6, 3, 4, 5, 4
    x, targets = rng.standard_normal((T, B, D)), rng.integers(0, V, (T, B))
    for cell in ("rnn", "lstm"):
        params = getattr(handwritten, f"{cell}_params")(D, H, V)
        loss, grads = getattr(handwritten, f"{cell}_loss_and_grads")(params, x, targets)
        loss2, grads2 = getattr(models, f"{cell}_loss_and_grads")(params, x, targets)
        assert abs(loss - loss2) < 1e-10
        for k in grads:
            np.testing.assert_allclose(grads2[k], grads[k], atol=1e-10, err_msg=f"{cell} {k}")


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
@pytest.mark.parametrize("options", [{}, {"num_layers": 2}, {"bidirectional": True}])
def test_nn_sequence_model_with_captured_parameters(cell, options):
    T, B, D, H, V = 6, 2, 3, 4, 5
    rng = np.random.default_rng(0)
    x = ar.tensor(rng.standard_normal((T, B, D)), name="x")
    targets = rng.integers(0, V, T * B)
    model = ar.nn.SequenceModel(cell, D, H, V, **options)

    def loss(x, targets):
        y, _ = model(x)
        logp = ar.log_softmax(y.reshape(T * B, V), axis=1)
        return -logp[np.arange(T * B), targets].sum()

    named = dict(model.named_parameters())
    compiled = compile_graph(loss, [x, targets], wrt=named)  # gradients keyed by dotted name
    value, grads = compiled(x, targets)
    model.zero_grad()
    expected = loss(x, targets)
    expected.backward()
    assert list(grads) == list(named)
    np.testing.assert_allclose(value, expected.data, atol=TOL)
    for name, p in named.items():
        np.testing.assert_allclose(grads[name], p.grad, atol=TOL, err_msg=name)
    assert "for t in range(" in compiled.source
    default = compile_graph(loss, [x, targets])  # captured parameters, in order of use
    assert len(default(x, targets)[1]) == len(named)


def _irregular_loss(x, W, U, b):
    """Skip connections (h_{t-2}), a per-step loss summed inside the step, per-step masks
    and a relu: shapes the loop finder must either loop correctly or leave straight-line."""
    T = x.shape[0]
    masks = np.random.default_rng(7).random((T, 2, 3)) > 0.3
    hs = [ar.tensor(np.zeros((2, 3)), name="h_0")]
    total = None
    for t in range(1, T + 1):
        with ar.scope(f"net/t={t}"):
            pre = x[t - 1] @ W + hs[-1] @ U + b
            if t > 1:
                pre = pre + 0.5 * hs[-2]
            h = ar.where(masks[t - 1], ar.tanh(pre), ar.relu(pre))
            h.name = f"h_{t}"
            step = (h * h).sum()
            total = step if total is None else total + step
        hs.append(h)
    return total


def test_irregular_recurrences_stay_correct():
    rng = np.random.default_rng(3)
    x = ar.tensor(rng.standard_normal((7, 2, 3)), name="x")
    W, U = (ar.tensor(0.5 * rng.standard_normal((3, 3)), requires_grad=True, name=n)
            for n in ("W", "U"))
    b = ar.tensor(rng.standard_normal(3), requires_grad=True, name="b")
    for loops in (True, False):
        compiled = compile_graph(_irregular_loss, [x, W, U, b], loops=loops)
        value, grads = compiled(x, W, U, b)
        for p in (W, U, b):
            p.grad = None
        loss = _irregular_loss(x, W, U, b)
        loss.backward()
        np.testing.assert_allclose(value, loss.data, atol=TOL)
        for p in (W, U, b):
            np.testing.assert_allclose(grads[p.name], p.grad, atol=TOL)


def test_per_step_loss_accumulated_inside_the_loop():
    rng = np.random.default_rng(4)
    x = ar.tensor(rng.standard_normal((9, 2, 3)), name="x")
    W = ar.tensor(0.5 * rng.standard_normal((3, 3)), requires_grad=True, name="W")

    def loss(x, W):
        h, total = ar.tensor(np.zeros((2, 3)), name="h_0"), ar.tensor(0.0, name="loss_0")
        for t in range(1, x.shape[0] + 1):
            with ar.scope(f"rnn/t={t}"):
                h = ar.tanh(x[t - 1] + h @ W)
                total = total + (h * h).mean()
        return total

    compiled = compile_graph(loss, [x, W])
    assert "for t in range(" in compiled.source
    value, grads = compiled(x, W)
    expected = loss(x, W)
    expected.backward()
    np.testing.assert_allclose(value, expected.data, atol=TOL)
    np.testing.assert_allclose(grads["W"], W.grad, atol=TOL)


def test_detached_values_are_recomputed_not_frozen():
    rng = np.random.default_rng(5)
    x = ar.tensor(rng.standard_normal((8, 2, 3)), name="x")
    W = ar.tensor(0.5 * rng.standard_normal((3, 3)), requires_grad=True, name="W")

    def truncated(x, W):  # truncated BPTT: the state is detached every 4 steps
        h, total = ar.tensor(np.zeros((2, 3)), name="h_0"), 0.0
        for t in range(1, x.shape[0] + 1):
            if t % 4 == 1:
                h = h.detach()
            h = ar.tanh(x[t - 1] + h @ W)
            total = total + (h * h).sum()
        return total

    compiled = compile_graph(truncated, [x, W])
    x2 = ar.tensor(rng.standard_normal((8, 2, 3)), name="x")
    value, grads = compiled(x2, W)
    W.grad = None
    expected = truncated(x2, W)
    expected.backward()
    np.testing.assert_allclose(value, expected.data, atol=TOL)
    np.testing.assert_allclose(grads["W"], W.grad, atol=TOL)


def test_bench_engine_graph_with_plain_array_inputs():
    from bench import engine_models, handwritten

    rng = np.random.default_rng(6)
    T, B, D, H, V = 5, 3, 4, 6, 4
    params = handwritten.rnn_params(D, H, V)
    keys = engine_models.KEYS["rnn"]

    def step(x, targets, *leaves):  # x and targets are NumPy arrays inside the graph
        return engine_models._rnn_forward(dict(zip(keys, leaves, strict=True)), x, targets)

    example = [rng.standard_normal((T, B, D)), rng.integers(0, V, (T, B))]
    example += [ar.tensor(params[k], requires_grad=True, name=k) for k in keys]
    compiled = compile_graph(step, example)
    x, targets = rng.standard_normal((T, B, D)), rng.integers(0, V, (T, B))
    value, grads = compiled(x, targets, *(params[k] for k in keys))
    loss, expected = handwritten.rnn_loss_and_grads(params, x, targets)
    assert abs(value - loss) < 1e-10
    for k in keys:
        np.testing.assert_allclose(grads[k], expected[k], atol=1e-10, err_msg=k)
