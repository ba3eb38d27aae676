"""Every primitive compiles: the whole registry has test cases, and each compiled op gives
the engine's value and gradients (float64, 1e-12) on scalar, vector, matrix and
broadcasting shapes, also for new input values of the same shapes (nothing of the trace is
frozen: relu's and max's masks are recomputed)."""

from __future__ import annotations

import importlib
import pkgutil

import numpy as np
import pytest

import autograd_rnn
import autograd_rnn as ar
from autograd_rnn import ops
from autograd_rnn.codegen import compile as compile_graph

TOL = 1e-12
rng = np.random.default_rng(0)


def _t(shape, positive=False, name=None):
    data = rng.standard_normal(shape)
    if positive:
        data = np.abs(data) + 0.5
    return ar.tensor(data, requires_grad=True, name=name)


def _binary(op, pairs, positive_b=False):
    return [(lambda a, b: op(a, b), [_t(sa), _t(sb, positive_b)]) for sa, sb in pairs]


def _unary(op, positive=False):
    return [(lambda a: op(a), [_t(s, positive)]) for s in [(), (3,), (2, 3)]]


PAIRS = [((2, 3), (3,)), ((2, 3), (2, 1)), ((), (3,)), ((3,), (3,))]
COND = np.array([[True, False, True], [False, False, True]])
CASES = {
    "add": _binary(ops.add, PAIRS),
    "subtract": _binary(ops.subtract, PAIRS),
    "multiply": _binary(ops.multiply, PAIRS),
    "divide": _binary(ops.divide, PAIRS, positive_b=True),
    "negative": _unary(ops.negative),
    "exp": _unary(ops.exp),
    "log": _unary(ops.log, positive=True),
    "tanh": _unary(ops.tanh),
    "sigmoid": _unary(ops.sigmoid),
    "relu": _unary(ops.relu),
    "abs": _unary(ops.abs),
    "power": [(lambda a, p=p: ops.power(a, exponent=p), [_t((2, 3), True)])
              for p in (2.0, 0.5, -1.5)],
    "where": [(lambda a, b: ops.where(COND, a, b), [_t((2, 3)), _t((3,))]),
              (lambda a: ops.where(COND, a, 0.0), [_t((2, 1))])],
    "matmul": [(lambda a, b: a @ b, [_t(sa), _t(sb)]) for sa, sb in [
        ((2, 3), (3, 4)), ((3,), (3, 4)), ((2, 3), (3,)), ((3,), (3,)),
        ((2, 2, 3), (3, 4)), ((2, 3), (5, 3, 4)), ((3,), (2, 3, 4))]],
    "sum": [(lambda a, ax=ax, kd=kd: ops.sum(a, axis=ax, keepdims=kd), [_t((2, 3))])
            for ax, kd in [(None, False), (0, False), ((0, 1), True), (-1, True)]],
    "max": [(lambda a, ax=ax: ops.max(a, axis=ax), [ar.tensor(v, requires_grad=True)])
            for ax, v in [(None, rng.standard_normal((2, 3))), (1, [[1.0, 3.0, 3.0], [2, 0, 1]])]],
    "reshape": [(lambda a: a.reshape(3, 2), [_t((2, 3))]), (lambda a: a.reshape(6), [_t((2, 3))])],
    "transpose": [(lambda a: a.T, [_t((2, 3))]), (lambda a: a.transpose(2, 0, 1), [_t((2, 3, 4))])],
    "broadcast_to": [(lambda a: ops.broadcast_to(a, shape=(2, 3)), [_t(s)])
                     for s in [(3,), (2, 1)]],
    "getitem": [(lambda a, i=i: a[i], [_t((4, 3))]) for i in [
        1, (slice(1, 3),), (slice(None), 2), (np.array([0, 2, 0]),),
        (np.array([0, 1, 3]), np.array([2, 2, 0])), (np.array([True, False, True, True]),)]],
    "scatter_add": [(lambda a, i=i: ops.scatter_add(a, index=i, shape=(4, 3)), [_t(s)])
                    for i, s in [((slice(1, 3),), (2, 3)), (np.array([0, 2, 0]), (3, 3))]],
    "stack": [(lambda a, b, c, ax=ax: ops.stack(a, b, c, axis=ax), [_t((2, 3)) for _ in "abc"])
              for ax in (0, 1, -1)],
    "concat": [(lambda a, b, ax=ax: ops.concat(a, b, axis=ax), [_t((2, 3)), _t((2, 3))])
               for ax in (0, 1)],
    "log_softmax": [(lambda a, ax=ax: ops.log_softmax(a, axis=ax), [_t(s)])
                    for s, ax in [((2, 3), 1), ((2, 3), 0), ((2, 3, 4), (0, 2)), ((3,), None)]],
}
IDS = [f"{name}-{i}" for name, cases in CASES.items() for i in range(len(cases))]
FLAT = [case for cases in CASES.values() for case in cases]


def _weighted(fn, n_out_seed=1):
    """loss = sum(fn(*xs) * v) with a fixed random v: a non-trivial upstream gradient."""
    cache = {}

    def loss(*xs):
        out = fn(*xs)
        if out.shape not in cache:
            cache[out.shape] = np.random.default_rng(n_out_seed).standard_normal(out.shape)
        return (out * cache[out.shape]).sum()

    return loss


def _package_primitives() -> set[str]:
    """Primitives registered by the package itself (every module imported first), not the
    temporary ones other tests define."""
    for module in pkgutil.walk_packages(autograd_rnn.__path__, "autograd_rnn."):
        if ".cli" in module.name or module.name.endswith("__main__"):
            continue
        try:
            importlib.import_module(module.name)
        except Exception:  # noqa: BLE001  a module that fails to import fails its own tests
            continue
    return {name for name, prim in ar.REGISTRY.items()
            if prim.origin.startswith("autograd_rnn.")}


def test_every_registered_primitive_has_a_case():
    registered = _package_primitives()
    assert {"add", "matmul", "tanh", "getitem"} <= registered
    missing_cases = sorted(registered - set(CASES))
    assert not missing_cases, f"no codegen test case for {missing_cases}"


def _check(fn, inputs, loops=False):
    loss = _weighted(fn)
    compiled = compile_graph(loss, inputs, loops=loops)
    value, grads = compiled(*inputs)
    for x in inputs:
        x.grad = None
    expected = loss(*inputs)
    expected.backward()
    np.testing.assert_allclose(value, expected.data, rtol=0, atol=TOL)
    assert len(grads) == len(inputs)
    for x, (name, g) in zip(inputs, grads.items(), strict=True):
        assert g.shape == x.shape, name
        np.testing.assert_allclose(g, x.grad, rtol=0, atol=TOL, err_msg=name)
    return compiled


@pytest.mark.parametrize("case", FLAT, ids=IDS)
def test_compiled_op_matches_engine(case):
    fn, inputs = case
    compiled = _check(fn, inputs)
    fresh = [ar.tensor(np.abs(x.data) + 0.5 if x.data.min() > 0 else -x.data * 1.5 + 0.25,
                       requires_grad=True) for x in inputs]  # other values, same shapes
    value, grads = compiled(*fresh)
    expected = _weighted(fn)(*fresh)
    expected.backward()
    np.testing.assert_allclose(value, expected.data, rtol=0, atol=TOL)
    for x, g in zip(fresh, grads.values(), strict=True):
        np.testing.assert_allclose(g, x.grad, rtol=0, atol=TOL)


def test_composites_and_a_reused_input():
    x = _t((3, 4))
    compiled = _check(lambda a: ar.log_softmax(a, axis=1) + ar.softmax(a, axis=0)
                      + ar.logsumexp(a, axis=1, keepdims=True) + a * a + ar.mean(a), [x])
    assert ".max(axis=" in compiled.source  # the softmax shift is recomputed, not frozen


def test_log_softmax_shift_follows_new_input_values():
    x = _t((2, 5))
    compiled = compile_graph(lambda a: ar.log_softmax(a, axis=1).sum(), [x])
    big = ar.tensor(x.data * 0 + np.array([1000.0, 0, 0, 0, 1]), requires_grad=True)
    value, _ = compiled(big)
    assert np.isfinite(value) and np.isclose(value, ar.log_softmax(big, axis=1).sum().data)


def test_primitive_without_template_falls_back_to_its_own_vjp():
    cube = ar.Primitive(lambda x: x**3, name="cube_test", register=False)
    cube.defvjp(lambda g, out, x: g * 3 * x * x)
    x = _t((2, 3))
    compiled = _check(lambda a: cube(a) + a, [x])
    assert ".forward(" in compiled.source
