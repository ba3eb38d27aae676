"""Every registered primitive against central finite differences (float64).

``CASES`` maps each primitive name to its gradient test cases; the registry-completeness
test fails as soon as a primitive is registered in the package without an entry here.
Each case is checked twice: with ``ar.gradcheck`` and with the independent helper in
``tests/core/fd_helpers.py`` (which also asserts gradients have the inputs' shapes).
"""

from __future__ import annotations

import importlib
import pkgutil

import numpy as np
import pytest

import autograd_rnn as ar
from autograd_rnn import ops
from tests.core.fd_helpers import assert_matches_finite_differences

GC_EPS = 1e-6
GC_ATOL = 1e-6
GC_RTOL = 1e-5

SHAPES = [(), (3,), (2, 3)]
BROADCAST_PAIRS = [((2, 3), (3,)), ((2, 1), (1, 3)), ((), (2, 3))]

_rng = np.random.default_rng(1234)


def _normal(shape):
    return _rng.standard_normal(shape)


def _positive(shape):
    return _rng.uniform(0.5, 2.0, shape)


def _away_from_zero(shape):
    """Values with |x| >= 0.2 so kinks (relu, abs) are out of the finite-difference reach."""
    return _rng.uniform(0.2, 1.5, shape) * _rng.choice([-1.0, 1.0], shape)


def _distinct(shape):
    """Distinct values (no ties for max), spaced well beyond the finite-difference step."""
    n = int(np.prod(shape))
    return (_rng.permutation(n) * 0.37 - 1.0).reshape(shape)


def _case(case_id, fn, *inputs):
    return pytest.param(fn, [np.asarray(x, dtype=np.float64) for x in inputs], id=case_id)


def _unary(name, make):
    prim = ar.REGISTRY[name]
    return [_case(f"{name}-{s}", lambda x, p=prim: p(x), make(s)) for s in SHAPES]


def _binary(name, make_a, make_b):
    prim = ar.REGISTRY[name]
    pairs = [(s, s) for s in SHAPES] + BROADCAST_PAIRS + [(b, a) for a, b in BROADCAST_PAIRS]
    return [
        _case(f"{name}-{sa}-{sb}", lambda a, b, p=prim: p(a, b), make_a(sa), make_b(sb))
        for sa, sb in pairs
    ]


def _power_cases():
    cases = []
    for p in (2.0, 3.0, 1.0, 0.5, -1.5, 2.5):
        make = _normal if float(p).is_integer() else _positive  # fractional: x > 0
        for s in SHAPES:
            cases.append(_case(f"power-p{p}-{s}", lambda x, p=p: ops.power(x, exponent=p), make(s)))
    return cases


def _where_cases():
    cases = []
    for sc, sa, sb in [((), (), ()), ((3,), (3,), (3,)), ((2, 3), (2, 3), (2, 3)),
                       ((2, 3), (3,), (2, 1)), ((2, 1), (1, 3), ())]:
        cond = _rng.random(sc) > 0.5
        cases.append(_case(f"where-{sc}-{sa}-{sb}",
                           lambda a, b, c=cond: ops.where(c, a, b), _normal(sa), _normal(sb)))
    return cases


def _matmul_cases():
    pairs = [((3,), (3,)), ((2, 3), (3,)), ((3,), (3, 4)), ((2, 3), (3, 4)),
             ((5, 2, 3), (3, 4)), ((3,), (2, 3, 4)), ((2, 4, 3), (3,)),
             ((2, 1, 2, 3), (3, 3, 4)), ((1, 2, 3), (4, 3, 2))]
    return [_case(f"matmul-{sa}-{sb}", lambda a, b: ops.matmul(a, b), _normal(sa), _normal(sb))
            for sa, sb in pairs]


_AXES = [((), None), ((3,), None), ((3,), 0), ((3,), -1), ((2, 3), None), ((2, 3), 0),
         ((2, 3), 1), ((2, 3), -1), ((2, 3), (0, 1)), ((2, 3, 4), (0, 2)),
         ((2, 3, 4), (-1, 0)), ((2, 3, 4), 1)]


def _reduce_cases(name, make):
    prim = ar.REGISTRY[name]
    return [
        _case(f"{name}-{s}-axis{axis}-keep{keep}",
              lambda x, p=prim, a=axis, k=keep: p(x, axis=a, keepdims=k), make(s))
        for s, axis in _AXES for keep in (False, True)
    ]


def _reshape_cases():
    specs = [((), (1, 1)), ((3,), (3, 1)), ((2, 3), (3, 2)), ((2, 3), (6,)),
             ((2, 3, 4), (4, -1)), ((1,), ())]
    return [_case(f"reshape-{s}-{t}", lambda x, t=t: ops.reshape(x, shape=t), _normal(s))
            for s, t in specs]


def _transpose_cases():
    specs = [((), ()), ((3,), (0,)), ((2, 3), (1, 0)), ((2, 3, 4), (2, 0, 1)),
             ((2, 3, 4), (1, 2, 0)), ((2, 3), (-1, 0)), ((2, 3, 4), (-1, 0, -2))]
    return [_case(f"transpose-{s}-{a}", lambda x, a=a: ops.transpose(x, axes=a), _normal(s))
            for s, a in specs]


def _broadcast_to_cases():
    specs = [((), (3,)), ((3,), (2, 3)), ((2, 1), (2, 3)), ((1, 3), (4, 2, 3)), ((2, 3), (2, 3))]
    return [_case(f"broadcast_to-{s}-{t}", lambda x, t=t: ops.broadcast_to(x, shape=t), _normal(s))
            for s, t in specs]


_INDICES = [
    ("int", (3,), 1),
    ("neg-int", (3,), -1),
    ("slice", (2, 3), (slice(None), slice(1, 3))),
    ("step", (2, 3), (Ellipsis, slice(None, None, -2))),
    ("newaxis", (2, 3), (None, 1)),
    ("row", (2, 3), 0),
    ("intarray-repeats", (3,), np.array([0, 2, 0, 0])),
    ("intarray-2d-repeats", (2, 3), (np.array([1, 1, 0]), np.array([2, 2, 0]))),
    ("intarray-rows", (2, 3), np.array([[1, 0], [1, 1]])),
    ("bool-mask", (2, 3), np.array([[True, False, True], [False, True, True]])),
    ("bool-rows", (2, 3), np.array([True, False])),
    ("mixed", (2, 3), (slice(None), np.array([2, 0, 2]))),
]


def _getitem_cases():
    return [_case(f"getitem-{name}", lambda x, i=index: ops.getitem(x, index=i), _normal(s))
            for name, s, index in _INDICES]


def _scatter_add_cases():
    cases = []
    for name, s, index in _INDICES:
        with ar.no_grad():
            g_shape = np.zeros(s)[index].shape
        cases.append(_case(f"scatter_add-{name}",
                           lambda g, i=index, s=s: ops.scatter_add(g, index=i, shape=s),
                           _normal(g_shape)))
    return cases


def _join_cases(name):
    prim = ar.REGISTRY[name]
    cases = []
    for shape, axes in [((), (0, -1)), ((3,), (0, 1, -1)), ((2, 3), (0, 1, 2, -1, -2))]:
        for axis in axes:
            if name == "concat" and len(shape) == 0:
                continue  # concat needs an existing axis
            if name == "concat" and axis not in range(-len(shape), len(shape)):
                continue
            shapes = [shape] * 3
            if name == "concat":  # inputs may differ along the joined axis
                ax = axis % len(shape)
                shapes = [shape[:ax] + (n,) + shape[ax + 1:] for n in (1, 2, 3)]
            cases.append(_case(f"{name}-{shape}-axis{axis}",
                               lambda *xs, p=prim, a=axis: p(*xs, axis=a),
                               *[_normal(s) for s in shapes]))
    cases.append(_case(f"{name}-single", lambda x, p=prim: p(x, axis=0), _normal((2, 3))))
    return cases


def _log_softmax_cases():
    return [_case(f"log_softmax-{s}-axis{a}", lambda x, a=a: ar.log_softmax(x, axis=a),
                  _normal(s))
            for s, a in [((3,), -1), ((2, 3), 1), ((2, 3), 0), ((2, 3, 4), (0, 2)),
                         ((2, 3), None)]]


CASES = {
    "add": _binary("add", _normal, _normal),
    "subtract": _binary("subtract", _normal, _normal),
    "multiply": _binary("multiply", _normal, _normal),
    "divide": _binary("divide", _normal, _away_from_zero),
    "negative": _unary("negative", _normal),
    "power": _power_cases(),
    "exp": _unary("exp", _normal),
    "log": _unary("log", _positive),
    "tanh": _unary("tanh", _normal),
    "sigmoid": _unary("sigmoid", _normal),
    "relu": _unary("relu", _away_from_zero),
    "abs": _unary("abs", _away_from_zero),
    "where": _where_cases(),
    "matmul": _matmul_cases(),
    "sum": _reduce_cases("sum", _normal),
    "max": _reduce_cases("max", _distinct),
    "reshape": _reshape_cases(),
    "transpose": _transpose_cases(),
    "broadcast_to": _broadcast_to_cases(),
    "getitem": _getitem_cases(),
    "scatter_add": _scatter_add_cases(),
    "stack": _join_cases("stack"),
    "concat": _join_cases("concat"),
    "log_softmax": _log_softmax_cases(),
}

ALL_CASES = [case for cases in CASES.values() for case in cases]


def _package_primitives() -> set[str]:
    """Names of the primitives the package itself registers (imports every submodule)."""
    import autograd_rnn

    for module in pkgutil.walk_packages(autograd_rnn.__path__, "autograd_rnn."):
        if ".cli" in module.name or module.name.endswith("__main__"):
            continue  # the CLI registers no ops and may import optional tools
        try:
            importlib.import_module(module.name)
        except Exception:  # noqa: BLE001  a module that fails to import fails its own tests
            continue
    return {name for name, prim in ar.REGISTRY.items()
            if prim.origin.startswith("autograd_rnn.")}


def test_every_registered_primitive_has_gradient_cases():
    missing = _package_primitives() - set(CASES)
    assert not missing, (
        f"primitives without a gradient test: {sorted(missing)}; add cases to CASES in "
        "tests/ops/test_ops_gradients.py"
    )
    assert all(CASES[name] for name in CASES), "every entry needs at least one case"


def test_elementwise_primitives_cover_required_shapes():
    for name in ("add", "subtract", "multiply", "divide"):
        ids = {case.id for case in CASES[name]}
        for s in SHAPES:
            assert f"{name}-{s}-{s}" in ids
        assert f"{name}-(2, 3)-(3,)" in ids and f"{name}-(2, 1)-(1, 3)" in ids


@pytest.mark.parametrize("fn, inputs", ALL_CASES)
def test_primitive_matches_finite_differences(fn, inputs):
    assert_matches_finite_differences(fn, inputs)


@pytest.mark.parametrize("fn, inputs", ALL_CASES)
def test_primitive_passes_gradcheck(fn, inputs):
    xs = [ar.tensor(x.copy(), requires_grad=True) for x in inputs]
    report = ar.gradcheck(fn, xs, eps=GC_EPS, atol=GC_ATOL, rtol=GC_RTOL)
    assert report, str(report)
    assert [c.entries_checked for c in report.comparisons] == [x.size for x in inputs]


GG_ATOL = 1e-5
GG_RTOL = 1e-4


@pytest.mark.parametrize("fn, inputs", ALL_CASES)
def test_primitive_passes_gradgradcheck(fn, inputs):
    """Second order for every case; the output is squared so that linear ops have a
    non-zero second derivative (their VJPs must themselves be differentiable)."""
    xs = [ar.tensor(x.copy(), requires_grad=True) for x in inputs]
    report = ar.gradgradcheck(lambda *ts: fn(*ts) * fn(*ts), xs, atol=GG_ATOL, rtol=GG_RTOL)
    assert report, str(report)
