"""Random expression graphs over random shapes mixing unary, binary (broadcasting),
reduction, matmul, indexing and shape ops, with fresh leaves entering mid-graph and nodes
reused (fan-out). Gradients equal central differences in float64; the same graph in float32
keeps float32 in every node's value, every node's gradient and every leaf's ``.grad``.

tests/core/test_core_random_graphs.py draws programs over fixed shapes broadcastable to
(2, 3) with elementwise ops and reductions only; this file draws the shapes and adds
matmul, indexing, transpose/reshape, stack/concat and softmax over any axis.
"""

from __future__ import annotations

import os

import numpy as np
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import autograd_rnn as ar
from tests.reliability.rel_fd import assert_gradients_match

MAX_EXAMPLES = int(os.environ.get("REL_MAX_EXAMPLES", 30))  # raise it for a long bug hunt
F32_TOL = 2e-3  # float32 vs float64 gradients, relative to the gradient's largest entry

UNARY = {  # smooth and bounded enough for central differences
    "tanh": ar.tanh,
    "sigmoid": ar.sigmoid,
    "exp_tanh": lambda x: ar.exp(ar.tanh(x)),
    "log_sq1": lambda x: ar.log(x * x + 1.0),
    "sqrt_sq": lambda x: (x * x + 0.5) ** 0.5,
    "neg_affine": lambda x: 1.0 - 0.5 * x,
    "cube_tanh": lambda x: ar.tanh(x) ** 3,
}
BINARY = {
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: ar.tanh(a) * b,
    "div": lambda a, b: a / (b * b + 1.0),
}


def _reduced(shape, axis, keepdims):
    return np.sum(np.zeros(shape), axis=axis, keepdims=keepdims).shape


@st.composite
def programs(draw):
    """(leaf shapes, steps). Every step appends one node to a pool that starts with leaf 0;
    ops that need a second operand take another pool node (when the shapes broadcast) or a
    fresh leaf. Shapes are simulated with NumPy on empty arrays while drawing."""
    leaves = [draw(hnp.array_shapes(min_dims=0, max_dims=3, min_side=1, max_side=3))]
    shapes = [leaves[0]]
    steps = []

    def fresh(shape):
        leaves.append(shape)
        shapes.append(shape)
        steps.append(("leaf", (), {}))
        return len(shapes) - 1

    for _ in range(draw(st.integers(1, 7))):
        i = draw(st.integers(0, len(shapes) - 1))
        s = shapes[i]
        kinds = ["unary", "binary", "reduce"] + (
            ["matmul", "index", "shape", "softmax", "stack"] if s else []
        )
        kind = draw(st.sampled_from(kinds))
        if kind == "unary":
            steps.append((draw(st.sampled_from(sorted(UNARY))), (i,), {}))
            out = s
        elif kind == "binary":
            others = [j for j in range(len(shapes)) if _broadcasts(s, shapes[j])]
            if draw(st.booleans()):
                j = draw(st.sampled_from(others))  # includes i itself: a * a
            else:
                j = fresh(draw(hnp.broadcastable_shapes(s, min_dims=0, max_dims=3, max_side=3)))
            steps.append((draw(st.sampled_from(sorted(BINARY))), (i, j), {}))
            out = np.broadcast_shapes(s, shapes[j])
        elif kind == "reduce":
            axis = None if not s or draw(st.booleans()) else draw(st.integers(-len(s), len(s) - 1))
            keepdims = draw(st.booleans())
            op = (
                draw(st.sampled_from(["sum", "mean", "logsumexp"]))
                if axis is not None
                else draw(st.sampled_from(["sum", "mean"]))
            )
            steps.append((op, (i,), {"axis": axis, "keepdims": keepdims}))
            out = _reduced(s, axis, keepdims)
        elif kind == "matmul":
            m = draw(st.integers(1, 3))
            w_shape = (s[-1], m) if draw(st.booleans()) else (s[-1],)
            j = fresh(w_shape)
            steps.append(("matmul", (i, j), {}))
            out = np.matmul(np.zeros(s), np.zeros(w_shape)).shape
        elif kind == "index":
            index = (
                draw(hnp.basic_indices(s, min_dims=0, allow_ellipsis=True))
                if draw(st.booleans())
                else np.array(draw(st.lists(st.integers(-s[0], s[0] - 1), min_size=1, max_size=4)))
            )
            steps.append(("getitem", (i,), {"index": index}))
            out = np.zeros(s)[index].shape
            assume(0 not in out)  # empty arrays: see test_rel_bad_input's batch-size-0 tests
        elif kind == "shape":
            axes = tuple(draw(st.permutations(range(len(s)))))
            steps.append(("transpose_flat", (i,), {"axes": axes}))
            out = (int(np.prod(s)),) if draw(st.booleans()) else tuple(s[a] for a in axes)
            steps[-1][2]["flat"] = len(out) == 1 and len(s) != 1
            if len(s) == 1:
                out = s
        elif kind == "softmax":
            axis = draw(st.integers(-len(s), len(s) - 1))
            steps.append((draw(st.sampled_from(["softmax", "log_softmax"])), (i,), {"axis": axis}))
            out = s
        else:  # stack / concat with another node of the same shape, else with itself
            same = [j for j in range(len(shapes)) if shapes[j] == s]
            j = draw(st.sampled_from(same))
            axis = draw(st.integers(0, len(s) - 1))
            if draw(st.booleans()):
                steps.append(("stack", (i, j), {"axis": axis}))
                out = np.stack([np.zeros(s)] * 2, axis=axis).shape
            else:
                steps.append(("concat", (i, j), {"axis": axis}))
                out = np.concatenate([np.zeros(s)] * 2, axis=axis).shape
        shapes.append(tuple(out))
    return leaves, steps


def _broadcasts(a, b) -> bool:
    try:
        np.broadcast_shapes(a, b)
    except ValueError:
        return False
    return True


def run(steps, leaves):
    """Execute a program on leaf tensors; returns the sum of the last two nodes' totals
    plus the last node itself broadcast against that scalar (a graph with fan-out)."""
    leaves = iter(leaves)
    pool = [next(leaves)]
    for op, operands, kw in steps:
        args = [pool[k] for k in operands]
        if op == "leaf":
            out = next(leaves)
        elif op in UNARY:
            out = UNARY[op](*args)
        elif op in BINARY:
            out = BINARY[op](*args)
        elif op in ("sum", "mean"):
            out = getattr(ar, op)(args[0], **kw)
        elif op == "logsumexp":
            out = ar.logsumexp(args[0], **kw)
        elif op == "matmul":
            out = args[0] @ args[1]
        elif op == "getitem":
            out = args[0][kw["index"]]
        elif op == "transpose_flat":
            out = args[0].transpose(kw["axes"])
            if kw["flat"]:
                out = out.reshape(-1)
        elif op in ("softmax", "log_softmax"):
            out = getattr(ar, op)(args[0], axis=kw["axis"])
        elif op == "stack":
            out = ar.stack(args, axis=kw["axis"])
        else:
            out = ar.concat(args, axis=kw["axis"])
        pool.append(out)
    return pool[-1] + (pool[-2].sum() * 0.5 if len(pool) > 1 else 0.0)


SETTINGS = settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def _inputs(leaves, seed, dtype=np.float64):
    rng = np.random.default_rng(seed)
    return [rng.uniform(-1.2, 1.2, s).astype(dtype) for s in leaves]


@SETTINGS
@given(program=programs(), seed=st.integers(0, 2**16))
def test_random_mixed_graph_matches_central_differences(program, seed):
    leaves, steps = program
    assert_gradients_match(lambda *xs: run(steps, xs), _inputs(leaves, seed), seed=seed)


@SETTINGS
@given(program=programs(), seed=st.integers(0, 2**16))
def test_random_mixed_graph_keeps_float32(program, seed):
    leaves, steps = program
    xs = [ar.tensor(a, requires_grad=True) for a in _inputs(leaves, seed, np.float32)]
    out = run(steps, xs)
    assert out.dtype == np.float32, f"output dtype {out.dtype}"
    out.sum().backward()
    for node in ar.reachable([out]):
        assert node.data.dtype == np.float32, f"{node.label}: value dtype {node.data.dtype}"
        assert node.grad is not None and node.grad.dtype == np.float32, (
            f"{node.label}: gradient dtype {getattr(node.grad, 'dtype', None)}"
        )
    x64 = [ar.tensor(x.data.astype(np.float64), requires_grad=True) for x in xs]
    run(steps, x64).sum().backward()
    for k, (lo, hi) in enumerate(zip(xs, x64, strict=True)):
        if hi.grad is None:
            assert lo.grad is None, f"leaf {k}: float32 got a gradient, float64 did not"
            continue
        assert lo.grad.dtype == np.float32, f"leaf {k}: .grad dtype {lo.grad.dtype}"
        scale = 1.0 + float(np.max(np.abs(hi.grad)))
        np.testing.assert_allclose(
            lo.grad, hi.grad, rtol=0, atol=F32_TOL * scale, err_msg=f"leaf {k}"
        )


@SETTINGS
@given(program=programs(), seed=st.integers(0, 2**16))
def test_random_mixed_graph_keeps_float32_in_training_mode(program, seed):
    """With gradient recording off (the trainer's fast paths), leaf gradients are float32 and
    equal (to float32 rounding) to those of the recording path."""
    leaves, steps = program
    grads = []
    for record in (True, False):
        xs = [ar.tensor(a, requires_grad=True) for a in _inputs(leaves, seed, np.float32)]
        with ar.record_gradients(record):
            run(steps, xs).sum().backward()
        grads.append([x.grad for x in xs])
    for k, (on, off) in enumerate(zip(*grads, strict=True)):
        assert (on is None) == (off is None), f"leaf {k}"
        if off is None:
            continue
        assert off.dtype == np.float32, f"leaf {k}: .grad dtype {off.dtype}"
        scale = 1.0 + float(np.max(np.abs(on)))
        np.testing.assert_allclose(off, on, rtol=0, atol=1e-5 * scale, err_msg=f"leaf {k}")


@SETTINGS
@given(program=programs(), seed=st.integers(0, 2**16), data=st.data())
def test_mixed_precision_leaves_get_gradients_of_their_own_dtype(program, seed, data):
    """float32 and float64 leaves in one graph (NumPy promotes the values): every leaf's
    ``.grad``, accumulated over two backward passes, and its ``ar.grad`` keep the leaf's
    dtype."""
    leaves, steps = program
    dtypes = [
        data.draw(st.sampled_from([np.float32, np.float64]), label=f"dtype{k}")
        for k in range(len(leaves))
    ]
    arrays = _inputs(leaves, seed)
    xs = [ar.tensor(a.astype(d), requires_grad=True) for a, d in zip(arrays, dtypes, strict=True)]
    for _ in range(2):
        run(steps, xs).sum().backward()
    grads = ar.grad(run(steps, xs).sum(), xs)
    for k, (x, g) in enumerate(zip(xs, grads, strict=True)):
        assert g.dtype == x.dtype, f"leaf {k}: ar.grad dtype {g.dtype}, leaf {x.dtype}"
        if x.grad is not None:
            assert x.grad.dtype == x.dtype, f"leaf {k}: .grad dtype {x.grad.dtype}, leaf {x.dtype}"
