"""Hypothesis-generated random expression graphs with fan-out against finite differences.

A program is a list of steps over a growing pool of nodes; each step applies an op to
pool members chosen by index, so nodes get reused (fan-out) and ``a * a`` happens. All
shapes stay broadcast-compatible with (2, 3). Ops are smooth (no kinks) and bounded enough
for central differences to be accurate: products go through tanh (except the literal
``a * a``), so chains of steps do not build magnitudes whose rounding would swamp the
finite differences. Examples are derandomized so CI runs are reproducible.
"""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

import autograd_rnn as ar
from tests.core.fd_helpers import assert_matches_finite_differences

RANDOM_GRAPH_ATOL = 1e-5
RANDOM_GRAPH_RTOL = 1e-4
MAX_EXAMPLES = 40
EXACT = 1e-12

LEAF_SHAPES = [(2, 3), (3,), (2, 1), ()]

UNARY = {
    "tanh": lambda x: ar.tanh(x),
    "sigmoid": lambda x: ar.sigmoid(x),
    "exp_tanh": lambda x: ar.exp(ar.tanh(x)),
    "log1p_sq": lambda x: ar.log(x * x + 1.0),
    "neg": lambda x: -x,
    "square": lambda x: _self_product(ar.tanh(x)),  # a literal a * a on one node
    "sqrt": lambda x: (x * x + 0.5) ** 0.5,
    "scale": lambda x: 0.5 * x - 1.0,
    "sum0": lambda x: ar.sum(x, axis=0, keepdims=True) * 0.5 if np.ndim(x) else x,
    "sum_all": lambda x: ar.sum(x) / max(np.size(_value(x)), 1),
    "mean_last": lambda x: ar.mean(x, axis=-1, keepdims=True) if np.ndim(x) else x,
    "softmax": lambda x: ar.softmax(x, axis=-1) if np.ndim(x) else x,
}
BINARY = {
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * ar.tanh(b),
    "mul_raw": lambda a, b: a * b if a is b else a * ar.tanh(b),
    "div": lambda a, b: a / (b * b + 1.0),
    "where": lambda a, b: ar.where(_value(a) > 0, a, b),
}


def _value(x):
    return x.data if isinstance(x, ar.Tensor) else x


def _self_product(a):
    return a * a


@st.composite
def programs(draw):
    """(leaf shapes, steps); a step is (op name, operand indices into the pool)."""
    shapes = draw(st.lists(st.sampled_from(LEAF_SHAPES), min_size=1, max_size=3))
    steps = []
    pool = len(shapes)
    for _ in range(draw(st.integers(1, 8))):
        if draw(st.booleans()):
            op = draw(st.sampled_from(sorted(UNARY)))
            steps.append((op, (draw(st.integers(0, pool - 1)),)))
        else:
            op = draw(st.sampled_from(sorted(BINARY)))
            a = draw(st.integers(0, pool - 1))
            b = draw(st.one_of(st.just(a), st.integers(0, pool - 1)))  # often a * a
            steps.append((op, (a, b)))
        pool += 1
    n_outputs = draw(st.integers(1, min(3, pool)))
    return shapes, steps, n_outputs


def _run(steps, n_outputs, leaves):
    pool = list(leaves)
    for op, operands in steps:
        args = [pool[i] for i in operands]
        pool.append(UNARY[op](*args) if op in UNARY else BINARY[op](*args))
    total = pool[-1] * 1.0
    for node in pool[-n_outputs:-1]:  # several outputs: earlier nodes get fan-out too
        total = total + node
    return total


@settings(max_examples=MAX_EXAMPLES, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow])
@given(program=programs(), seed=st.integers(0, 2**16))
@example(program=([(3,)], [("mul_raw", (0, 0)), ("mul_raw", (1, 0)), ("add", (2, 1))], 2),
         seed=0)
@example(program=([(2, 3), (3,)], [("tanh", (0,)), ("mul", (2, 1)), ("div", (3, 2)),
                                   ("sum0", (4,)), ("sub", (5, 0))], 3), seed=1)
def test_random_graph_matches_finite_differences(program, seed):
    shapes, steps, n_outputs = program
    rng = np.random.default_rng(seed)
    inputs = [rng.uniform(-1.5, 1.5, s) for s in shapes]
    # keep `where` away from its switching point so finite differences do not straddle it
    inputs = [np.where(np.abs(x) < 0.05, 0.3, x) for x in inputs]
    assert_matches_finite_differences(
        lambda *xs: _run(steps, n_outputs, xs), inputs, seed=seed,
        atol=RANDOM_GRAPH_ATOL, rtol=RANDOM_GRAPH_RTOL,
    )


@settings(max_examples=MAX_EXAMPLES // 2, deadline=None, derandomize=True)
@given(program=programs(), seed=st.integers(0, 2**16))
def test_random_graph_accumulates_like_grad(program, seed):
    """backward() into .grad equals ar.grad(); and a second backward doubles it."""
    shapes, steps, n_outputs = program
    rng = np.random.default_rng(seed)
    leaves = [ar.tensor(rng.uniform(-1.5, 1.5, s), requires_grad=True) for s in shapes]
    out = _run(steps, n_outputs, leaves).sum()
    grads = ar.grad(out, leaves)
    out.backward()
    out.backward()
    reached = {id(n) for n in ar.reachable([out])}
    for leaf, g in zip(leaves, grads, strict=True):
        if id(leaf.node) not in reached:  # an unused leaf gets no .grad and a zero ar.grad
            assert leaf.grad is None and not np.any(g.data)
            continue
        np.testing.assert_allclose(leaf.grad, 2 * g.data, rtol=EXACT, atol=EXACT)


@settings(max_examples=MAX_EXAMPLES // 2, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow])
@given(program=programs(), seed=st.integers(0, 2**16))
def test_random_graph_second_order(program, seed):
    shapes, steps, n_outputs = program
    rng = np.random.default_rng(seed)
    values = [rng.uniform(-1.5, 1.5, s) for s in shapes]
    values = [np.where(np.abs(x) < 0.05, 0.3, x) for x in values]
    leaves = [ar.tensor(v, requires_grad=True) for v in values]
    report = ar.gradgradcheck(lambda *xs: _run(steps, n_outputs, xs) ** 2, leaves, seed=seed,
                              atol=RANDOM_GRAPH_ATOL, rtol=RANDOM_GRAPH_RTOL)
    assert report, str(report)
