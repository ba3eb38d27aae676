"""Loop bodies rewritten into preallocated buffers (``autograd_rnn.codegen.inplace``):
the same values as the plain expressions, bit for bit, on hand-made bodies that stress
buffer reuse (aliases, views, carried gradients, zero-filled slices, per-step arrays), and
on compiled RNN/LSTM/GRU models."""

from __future__ import annotations

import re

import numpy as np
import pytest

import autograd_rnn as ar
from autograd_rnn.codegen import compile as compile_graph
from autograd_rnn.codegen.loop_buffers import lower_body
from autograd_rnn.codegen.models import (
    PARAMS,
    compiled_loss_and_grads,
    example_inputs,
    init_params,
    make_loss,
)

B, H = 3, 4


def _arrays(seed: int) -> dict:
    rng = np.random.default_rng(seed)
    return {
        "W": rng.standard_normal((H, H)), "b": rng.standard_normal(H),
        "xs": rng.standard_normal((8, B, H)), "g_in": rng.standard_normal((8, B, H)),
        "hs": rng.standard_normal((8, B, H)), "steps": np.zeros((8, B, 2 * H)),
        "acc": np.zeros((B, H)), "carry": rng.standard_normal((B, H)),
        "carry2": rng.standard_normal((B, H)), "proj": rng.standard_normal((8, B, H)),
    }


def _run(pre: list[str], body: list[str], arrays: dict) -> dict:
    ns = {"np": np, **{k: v.copy() for k, v in arrays.items()}}
    exec("\n".join(pre), ns)  # noqa: S102 (generated test code)
    code = compile("\n".join(body), "<body>", "exec")
    for t in range(6, 0, -1):
        ns["t"] = t
        exec(code, ns)  # noqa: S102
    return ns


def _check(body: str, outputs: tuple[str, ...], consumable=frozenset(), expect_out=True):
    lines = [line.strip() for line in body.strip().splitlines()]
    arrays = _arrays(0)
    env = {k: np.broadcast_to(np.zeros((), v.dtype), v.shape) for k, v in arrays.items()}
    counter = iter(range(1000))
    result = lower_body(lines, env, 1, set(consumable), lambda base: f"{base}_{next(counter)}")
    assert result is not None
    pre, new, _ = result
    if expect_out:
        assert any("out=" in line for line in new), new
    plain, lowered = _run([], lines, arrays), _run(pre, new, arrays)
    for name in outputs:
        np.testing.assert_array_equal(lowered[name], plain[name], err_msg=name)
    return pre, new


def test_live_value_is_not_overwritten_and_carry_keeps_its_buffer():
    pre, new = _check("""
        u = carry * xs[t]
        v = u + b
        w = u * v
        carry = np.tanh(w @ W) + u
        hs[t] = carry * carry
    """, ("carry", "hs"))
    assert any(line.endswith("out=carry)") for line in new)  # the carry stays in place


def test_aliases_and_views_keep_their_buffer_alive():
    _check("""
        a = carry + carry2
        view = a[:, 1:3]
        alias = a
        c = carry * 2.0
        d = c - 1
        hs[t] = d + alias
        acc += view.sum() * d
        carry = d * 0.5
    """, ("carry", "hs", "acc"))


def test_zero_filled_buffer_written_slice_by_slice():
    _, new = _check("""
        g1 = carry * xs[t]
        g2 = np.tanh(carry2) * (1 - carry2 * carry2)
        g = np.zeros((3, 8), dtype=np.float64)
        g[:, :4] += g1
        g[:, 4:] += g2
        steps[t] = g
        carry = g[:, :4] @ W.T
    """, ("carry", "steps"))
    assert not any("np.zeros" in line for line in new)  # each slice is written directly
    assert any(line.startswith("g = steps[t]") for line in new)


def test_partial_slices_keep_the_zero_fill():
    _, new = _check("""
        g = np.zeros((3, 8), dtype=np.float64)
        g[:, 2:5] += carry[:, :3] * 2.0
        steps[t] = g
        carry = carry + g[:, :4]
    """, ("carry", "steps"))
    assert "g[...] = 0.0" in new


def test_a_carry_assigned_without_ops_falls_back_to_a_fresh_array():
    _check("""
        a = carry * xs[t]
        other = a + 1.0
        carry = other
        carry2 = carry2 * a
    """, ("carry", "carry2"))


def test_consumable_projection_is_overwritten_once_read():
    pre, new = _check("""
        p = proj[t]
        m = carry @ W
        s = p + m
        carry = np.tanh(s)
    """, ("carry",), consumable={"proj"})
    assert "s = np.add(p, m, out=p)" in new
    assert not any("np.empty" in line for line in pre if "(3, 4)" in line and "p" == line[:1])


def test_in_place_add_into_an_outside_array():
    _check("""
        d = carry * g_in[t]
        acc += d * d
        g_in[t - 1] += d * 3.0
        carry = d - carry
    """, ("carry", "acc", "g_in"))


def test_unknown_statement_forms_are_kept():
    lines = ["a, b2 = carry, carry2", "carry = a + b2"]
    env = {k: np.broadcast_to(np.zeros(()), v.shape) for k, v in _arrays(0).items()}
    assert lower_body(lines, env, 1, set(), str) is None


_ALLOCATION_FREE = re.compile(
    r"^(\w+ = )?np\.\w+\(.*out=[\w\[\]\- ,:]+\)$"  # an op into a buffer
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


def test_stored_value_changed_after_storing_is_copied_not_computed_in_place():
    _, new = _check("""
        g = carry * xs[t]
        hs[t] = g
        acc += g * 2.0
        g += carry2
        carry = g * 0.5
    """, ("carry", "hs", "acc"))
    assert "hs[t] = g" in new  # g changes after being stored: the slot gets a copy
    _, new = _check("""
        g = carry * xs[t]
        hs[t] = g
        acc += g * 2.0
        carry = g * 0.5
    """, ("carry", "hs", "acc"))
    assert "g = hs[t]" in new  # read afterwards but never changed: computed in its slot
