"""Every primitive's ``source=`` (the forward as generated code writes it) computes what the
forward computes: on every op case of tests/ops, the declared source run on the recorded
input values equals the node's value; and written out by ``codegen.symbolic`` and executed,
it gives the same again."""

from __future__ import annotations

import numpy as np
import pytest

import autograd_rnn as ar
from autograd_rnn.codegen.symbolic import Sym, assignment, evaluate
from autograd_rnn.ops.elementwise import equal, greater, sign
from tests.ops.test_ops_gradients import ALL_CASES, _package_primitives


def test_every_package_primitive_declares_its_source():
    missing = sorted(n for n in _package_primitives() if ar.REGISTRY[n].source is None)
    assert not missing, f"primitives without source=: {missing}"
    assert all(p.source is not None for p in (equal, greater, sign))


def _nodes(fn, inputs):
    xs = [ar.tensor(x, requires_grad=True) for x in inputs]
    out = fn(*xs)
    return [n for n in ar.reachable([out]) if n.op is not None]


def _symbolic_value(node) -> np.ndarray:
    """Write the node's source out as code and run it on the node's input values."""
    names = [f"a{i}" for i in range(len(node.args))]
    syms = [Sym.leaf(n, np.shape(a), np.asarray(a).dtype) for n, a in zip(names, node.args,
                                                                            strict=True)]
    params = dict(node.params or {})
    arrays = {}
    for key, value in list(params.items()):  # index arrays are operands of generated code
        if isinstance(value, tuple) and any(isinstance(v, np.ndarray) for v in value):
            parts = []
            for k, v in enumerate(value):
                if isinstance(v, np.ndarray):
                    arrays[f"i{k}"] = v
                    v = Sym.leaf(f"i{k}", v.shape, v.dtype)
                parts.append(v)
            params[key] = tuple(parts)
        elif isinstance(value, np.ndarray):
            arrays["i"] = value
            params[key] = Sym.leaf("i", value.shape, value.dtype)
    lines = assignment("out", evaluate(node.op.source, syms, params))
    namespace = {"np": np, **dict(zip(names, node.args, strict=True)), **arrays}
    exec("\n".join(lines), namespace)  # noqa: S102 (the code under test)
    return namespace["out"]


@pytest.mark.parametrize("fn, inputs", ALL_CASES)
def test_source_computes_the_forward(fn, inputs):
    for node in _nodes(fn, inputs):
        direct = node.op.source(*node.args, **(node.params or {}))
        np.testing.assert_array_equal(direct, node.data, err_msg=node.op.name)
        np.testing.assert_array_equal(_symbolic_value(node), node.data, err_msg=node.op.name)


@pytest.mark.parametrize("prim, args", [
    (greater, (np.array([-1.0, 0.0, 2.0]), 0.0)),
    (equal, (np.array([[1.0, 3.0, 3.0]]), np.array([[3.0]]))),
    (sign, (np.array([-2.0, 0.0, 5.0]),)),
])
def test_mask_sources_compute_their_forward(prim, args):
    np.testing.assert_array_equal(prim.source(*args), prim.forward(*args))
