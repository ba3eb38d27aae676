"""Property tests, one op family at a time, over shapes hypothesis draws: broadcasting pairs
for every binary op, reductions over random axes, matmul in all its 1-D/2-D/batched forms,
indexing (slices, integer arrays with repeats, boolean masks) and shape ops. Every gradient
equals central differences (float64), with gradient recording on and off.

tests/core/test_core_random_graphs.py covers fixed leaf shapes; these draw the shapes.
"""

from __future__ import annotations

import os

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import autograd_rnn as ar
from tests.reliability.rel_fd import assert_gradients_match

MAX_EXAMPLES = int(os.environ.get("REL_MAX_EXAMPLES", 25))  # raise it for a long bug hunt
SETTINGS = settings(
    max_examples=MAX_EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
SMALL = dict(min_dims=0, max_dims=3, min_side=1, max_side=3)

BINARY = {
    "add": lambda a, b: a + b,
    "subtract": lambda a, b: a - b,
    "multiply": lambda a, b: a * b,
    "divide": lambda a, b: a / (b * b + 1.0),  # denominator kept away from 0
    "rdivide": lambda a, b: 2.0 / (a * a + 1.0) - b,
    "power_mix": lambda a, b: (a * a + 1.0) ** 1.5 * b,
}


def _data(seed: int, *shapes, low=-1.5, high=1.5):
    rng = np.random.default_rng(seed)
    return [rng.uniform(low, high, s) for s in shapes]


@SETTINGS
@given(
    shapes=hnp.mutually_broadcastable_shapes(num_shapes=2, **SMALL),
    op=st.sampled_from(sorted(BINARY)),
    seed=st.integers(0, 2**16),
)
def test_binary_ops_broadcast_any_compatible_pair(shapes, op, seed):
    a_shape, b_shape = shapes.input_shapes
    assert_gradients_match(BINARY[op], _data(seed, a_shape, b_shape), seed=seed)


@SETTINGS
@given(shapes=hnp.mutually_broadcastable_shapes(num_shapes=3, **SMALL), seed=st.integers(0, 2**16))
def test_where_broadcasts_condition_and_both_branches(shapes, seed):
    c_shape, a_shape, b_shape = shapes.input_shapes
    condition = np.random.default_rng(seed).random(c_shape) > 0.5  # fixed, not data-dependent
    assert_gradients_match(
        lambda a, b: ar.where(condition, a, b) * 1.5, _data(seed, a_shape, b_shape), seed=seed
    )


@st.composite
def shape_and_axis(draw, min_dims=1):
    shape = draw(hnp.array_shapes(min_dims=min_dims, max_dims=3, min_side=1, max_side=4))
    kind = draw(st.sampled_from(["none", "int", "negative", "tuple"]))
    if kind == "none":
        axis = None
    elif kind == "int":
        axis = draw(st.integers(0, len(shape) - 1))
    elif kind == "negative":
        axis = draw(st.integers(-len(shape), -1))
    else:
        axis = tuple(sorted(draw(st.sets(st.integers(0, len(shape) - 1), min_size=1))))
    return shape, axis


@SETTINGS
@given(
    case=shape_and_axis(),
    keepdims=st.booleans(),
    op=st.sampled_from(["sum", "mean", "max"]),
    seed=st.integers(0, 2**16),
)
def test_reductions_over_any_axis(case, keepdims, op, seed):
    shape, axis = case
    # distinct, well separated values: max has no ties for finite differences to straddle
    values = np.random.default_rng(seed).permutation(int(np.prod(shape))).reshape(shape) * 0.1
    fn = {"sum": ar.sum, "mean": ar.mean, "max": ar.max}[op]
    assert_gradients_match(lambda x: fn(x, axis=axis, keepdims=keepdims), [values], seed=seed)


@SETTINGS
@given(
    shape=hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4),
    data=st.data(),
    op=st.sampled_from(["softmax", "log_softmax", "logsumexp"]),
    seed=st.integers(0, 2**16),
)
def test_softmax_family_over_any_axis(shape, data, op, seed):
    axis = data.draw(st.integers(-len(shape), len(shape) - 1), label="axis")
    fn = {"softmax": ar.softmax, "log_softmax": ar.log_softmax, "logsumexp": ar.logsumexp}[op]
    assert_gradients_match(
        lambda x: fn(x, axis=axis), _data(seed, shape, low=-3, high=3), seed=seed
    )


@st.composite
def matmul_shapes(draw):
    """Operand shapes valid for np.matmul: vector/matrix/batched, batch dims broadcast."""
    n, k, m = (draw(st.integers(1, 3)) for _ in range(3))
    a_form = draw(st.sampled_from(["vector", "matrix", "batched"]))
    b_form = draw(st.sampled_from(["vector", "matrix", "batched"]))
    batch = draw(
        hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=1, max_dims=2, max_side=3)
    )
    a = {"vector": (k,), "matrix": (n, k), "batched": batch.input_shapes[0] + (n, k)}[a_form]
    b = {"vector": (k,), "matrix": (k, m), "batched": batch.input_shapes[1] + (k, m)}[b_form]
    return a, b


@SETTINGS
@given(shapes=matmul_shapes(), seed=st.integers(0, 2**16))
def test_matmul_vector_matrix_and_broadcast_batches(shapes, seed):
    assert_gradients_match(lambda a, b: a @ b, _data(seed, *shapes), seed=seed)


@SETTINGS
@given(shapes=matmul_shapes(), seed=st.integers(0, 2**16))
def test_matmul_with_a_reused_weight(shapes, seed):
    """The same weight in several matmuls (an unrolled RNN's W_h): recording off takes the
    stacked fast path, recording on the per-edge path; both must equal finite differences."""
    a_shape, b_shape = shapes

    def fn(a, b):
        h = ar.tanh(a @ b)
        return (a @ b) * 0.5 + h * h + ar.tanh(a * 0.3) @ b

    assert_gradients_match(fn, _data(seed, a_shape, b_shape), seed=seed)


@st.composite
def indices(draw):
    """(shape, index) for basic and advanced indexing, including repeated integer indices."""
    shape = draw(hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4))
    kind = draw(st.sampled_from(["basic", "int_array", "bool_mask", "mixed"]))
    if kind == "basic":
        index = draw(hnp.basic_indices(shape, min_dims=0, allow_newaxis=True, allow_ellipsis=True))
    elif kind == "int_array":
        rows = draw(st.lists(st.integers(-shape[0], shape[0] - 1), min_size=1, max_size=5))
        index = np.array(rows)  # repeats allowed: their gradients must add up
    elif kind == "bool_mask":
        index = np.array(draw(st.lists(st.booleans(), min_size=shape[0], max_size=shape[0])))
    else:
        rows = draw(st.lists(st.integers(0, shape[0] - 1), min_size=1, max_size=4))
        index = (np.array(rows), slice(None, None, -1)) if len(shape) > 1 else np.array(rows)
    return shape, index


@SETTINGS
@given(case=indices(), seed=st.integers(0, 2**16))
def test_indexing_scatters_gradients_back(case, seed):
    shape, index = case
    assert_gradients_match(lambda x: ar.tanh(x[index]) * 2.0, _data(seed, shape), seed=seed)


@SETTINGS
@given(
    shape=hnp.array_shapes(min_dims=1, max_dims=4, min_side=1, max_side=3),
    data=st.data(),
    seed=st.integers(0, 2**16),
)
def test_transpose_and_reshape_any_permutation(shape, data, seed):
    axes = tuple(data.draw(st.permutations(range(len(shape))), label="axes"))
    size = int(np.prod(shape))
    target = data.draw(st.sampled_from([(size,), (-1, 1), (1, size), shape[::-1]]), label="to")
    assert_gradients_match(
        lambda x: x.transpose(axes).reshape(target) * ar.tanh(x.reshape(-1)[0]),
        _data(seed, shape),
        seed=seed,
    )


@SETTINGS
@given(
    shape=hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=3),
    n=st.integers(1, 4),
    data=st.data(),
    seed=st.integers(0, 2**16),
)
def test_stack_and_concat_any_axis(shape, n, data, seed):
    stack_axis = data.draw(st.integers(-len(shape) - 1, len(shape)), label="stack_axis")
    concat_axis = data.draw(st.integers(-len(shape), len(shape) - 1), label="concat_axis")

    def fn(*xs):
        s = ar.stack(list(xs), axis=stack_axis)
        c = ar.concat([x * x for x in xs], axis=concat_axis)
        return s.sum() * c

    assert_gradients_match(fn, _data(seed, *[shape] * n), seed=seed)


@SETTINGS
@given(
    shape=hnp.array_shapes(min_dims=0, max_dims=3, min_side=1, max_side=3),
    op=st.sampled_from(["abs", "relu", "sqrt", "log", "exp", "sigmoid", "pow3", "rpow"]),
    seed=st.integers(0, 2**16),
)
def test_unary_ops_away_from_their_kinks(shape, op, seed):
    x = np.random.default_rng(seed).uniform(0.2, 2.0, shape)
    x = x * np.where(np.random.default_rng(seed + 1).random(shape) > 0.5, 1, -1)
    fn = {
        "abs": ar.abs,
        "relu": ar.relu,
        "exp": ar.exp,
        "sigmoid": ar.sigmoid,
        "sqrt": lambda t: (t * t).sqrt(),
        "log": lambda t: ar.log(t * t),
        "pow3": lambda t: t**3,
        "rpow": lambda t: (t * t) ** -0.5,
    }[op]
    assert_gradients_match(fn, [x], seed=seed)
