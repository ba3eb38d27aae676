"""Defining a custom primitive with ``ar.primitive`` + ``defvjp``, and gradcheck verifying it."""

from __future__ import annotations

import numpy as np
import pytest

import autograd_rnn as ar
from autograd_rnn.core.primitive import REGISTRY

GC_ATOL = 1e-6
GC_RTOL = 1e-5


@pytest.fixture
def define():
    """Define primitives for one test and remove them from the registry afterwards."""
    made = []

    def make(forward, name):
        prim = ar.primitive(forward, name=name)
        made.append(name)
        return prim

    yield make
    for name in made:
        REGISTRY.pop(name, None)


def _softplus_forward(x):
    """log(1 + e^x), computed without overflow."""
    return np.logaddexp(0.0, x)


def _raw(x):
    return x.data if isinstance(x, ar.Tensor) else x


def test_custom_softplus_passes_gradcheck_and_gradgradcheck(define):
    softplus = define(_softplus_forward, "test_softplus")

    @softplus.defvjp
    def softplus_vjp(g, out, x):
        # d softplus/dx = sigmoid(x), written with primitives so it is differentiable too
        return g * ar.sigmoid(x)

    assert REGISTRY["test_softplus"] is softplus and softplus.differentiable
    x = ar.tensor(np.linspace(-3, 3, 7), requires_grad=True, name="x")
    y = softplus(x)
    assert y.op is softplus and y.label == "test_softplus (7,)"
    np.testing.assert_allclose(y.data, np.log1p(np.exp(x.data)))
    assert isinstance(softplus(np.ones(2)), np.ndarray)  # plain arrays in, plain array out
    assert ar.gradcheck(softplus, [x], atol=GC_ATOL, rtol=GC_RTOL)
    assert ar.gradgradcheck(lambda t: softplus(t * t), [x], atol=GC_ATOL, rtol=GC_RTOL)


def test_wrong_vjp_fails_gradcheck_and_report_names_the_input(define):
    softplus = define(_softplus_forward, "test_softplus_wrong")
    softplus.defvjp(lambda g, out, x: g * ar.tanh(x))  # wrong derivative on purpose
    x = ar.tensor(np.linspace(-2, 2, 5), requires_grad=True, name="pre_activation")
    report = ar.gradcheck(softplus, [x], atol=GC_ATOL, rtol=GC_RTOL)
    assert not report
    assert report.failures[0].name == "pre_activation"
    text = str(report)
    assert "FAILED" in text and "pre_activation" in text and "FAIL" in text


def test_vjp_on_raw_values_passes_first_order_but_fails_second_order(define):
    softplus = define(_softplus_forward, "test_softplus_flat")
    # right value, but computed on raw arrays: the backward graph loses d sigmoid/dx
    softplus.defvjp(lambda g, out, x: g / (1 + np.exp(-_raw(x))))
    x = ar.tensor(np.linspace(-2, 2, 5), requires_grad=True, name="x")
    assert ar.gradcheck(softplus, [x], atol=GC_ATOL, rtol=GC_RTOL)
    assert not ar.gradgradcheck(softplus, [x], atol=GC_ATOL, rtol=GC_RTOL)


def test_two_input_custom_op_with_one_vjp_per_input_and_params(define):
    def scaled_hypot(a, b, *, scale=1.0):
        """scale * sqrt(a^2 + b^2)."""
        return scale * np.sqrt(a * a + b * b)

    hypot = define(scaled_hypot, "test_scaled_hypot")
    hypot.defvjp(
        lambda g, out, a, b, *, scale: g * scale * scale * a / out,  # d/da = s a / r
        lambda g, out, a, b, *, scale: g * scale * scale * b / out,  # d/db = s b / r
    )
    a = ar.tensor([3.0, 1.0], requires_grad=True, name="a")
    b = ar.tensor([[4.0, 2.0], [1.0, 1.0]], requires_grad=True, name="b")
    np.testing.assert_allclose(hypot(a, b).data, [[5.0, np.sqrt(5)], [np.sqrt(10), np.sqrt(2)]])
    assert hypot(a, b).params == {"scale": 1.0}  # the default is recorded on the node
    assert ar.gradcheck(lambda u, v: hypot(u, v, scale=2.0), [a, b], atol=GC_ATOL, rtol=GC_RTOL)
    assert ar.gradcheck(hypot, [a, b], atol=GC_ATOL, rtol=GC_RTOL)
    c = ar.tensor([1.0, 1.0])  # only the VJP of the input requiring grad runs
    hypot(c, b).sum().backward()
    assert c.grad is None and b.grad is not None


def test_variadic_custom_op_with_defvjp_all(define):
    def weighted_total(*xs):
        """sum_i (i + 1) * x_i."""
        return sum((i + 1) * x for i, x in enumerate(xs))

    total = define(weighted_total, "test_weighted_total")

    @total.defvjp_all
    def total_vjp(g, out, *xs):
        return tuple((i + 1) * g for i in range(len(xs)))

    xs = [ar.tensor(np.ones(3) * k, requires_grad=True) for k in range(3)]
    assert ar.gradcheck(total, xs, atol=GC_ATOL, rtol=GC_RTOL)
    total(*xs).sum().backward()
    assert [x.grad[0] for x in xs] == [1.0, 2.0, 3.0]


def test_vjp_returning_a_wrong_shape_is_reported(define):
    double = define(lambda v: v * 2.0, "test_double_bad_shape")
    double.defvjp(lambda g, out, v: (g * 2.0).reshape(-1))  # flattened by mistake
    v = ar.tensor(np.ones((2, 3)), requires_grad=True, name="v")
    with pytest.raises(ar.ShapeError) as info:
        double(v).sum().backward()
    message = str(info.value)
    for part in ("'test_double_bad_shape'", "input 0", "'v (2, 3)'", "shape (6,)", "(2, 3)"):
        assert part in message, message
    transposed = define(lambda v: v * 2.0, "test_double_transposed")
    transposed.defvjp(lambda g, out, v: (g * 2.0).T)
    with pytest.raises(ar.ShapeError, match=r"shape \(3, 2\).*\(2, 3\)"):
        transposed(v).sum().backward()


CELL = '''
import numpy as np
import autograd_rnn as ar

@ar.primitive(name="cell_rerun_op")
def cell_rerun_op(x):
    return x * SCALE

cell_rerun_op.defvjp(lambda g, out, x: g * SCALE)
'''


def _run_cell(scale: float, module: str = "__main__") -> dict:
    namespace = {"__name__": module, "SCALE": scale}
    exec(compile(CELL, "<cell>", "exec"), namespace)  # as Jupyter runs a cell
    return namespace


def test_a_notebook_cell_run_again_replaces_its_op():
    import autograd_rnn as ar

    try:
        _run_cell(2.0)
        second = _run_cell(3.0)["cell_rerun_op"]  # the edited cell, run again: no error
        assert ar.REGISTRY["cell_rerun_op"] is second
        x = ar.tensor([1.0, -2.0], requires_grad=True)
        second(x).sum().backward()
        np.testing.assert_array_equal(x.grad, [3.0, 3.0])
    finally:
        ar.REGISTRY.pop("cell_rerun_op", None)


def test_a_name_taken_by_another_module_or_a_builtin_is_refused_with_the_owner():
    import autograd_rnn as ar

    try:
        _run_cell(2.0, module="coursework.ops")
        with pytest.raises(ValueError, match=r"'cell_rerun_op' is already registered \(by "
                           r"coursework\.ops\.cell_rerun_op\).*REGISTRY\.pop"):
            _run_cell(3.0)
    finally:
        ar.REGISTRY.pop("cell_rerun_op", None)
    with pytest.raises(ValueError, match=r"'tanh' is already registered \(by "
                       r"autograd_rnn\.ops\.elementwise\.tanh\)"):
        exec("import autograd_rnn as ar\n@ar.primitive(name='tanh')\ndef tanh(x):\n"
             "    return x\n", {"__name__": "__main__"})


def test_a_ufunc_is_its_own_forward_with_a_doc_and_the_defining_module_as_owner():
    import autograd_rnn as ar

    try:
        namespace = {"__name__": "__main__"}
        exec("import numpy as np\nimport autograd_rnn as ar\n"
             "my_tanh = ar.primitive(np.tanh, name='my_tanh', doc='Hyperbolic tangent.')\n"
             "my_tanh.defvjp(lambda g, out, x: g * (1 - out * out), saves=('out',))\n",
             namespace)
        op = namespace["my_tanh"]
        assert op.forward is np.tanh and op.__doc__ == "Hyperbolic tangent."
        assert op.origin == "__main__.tanh" and op.defaults == {}
        x = ar.tensor([-0.5, 0.25, 2.0], requires_grad=True)
        assert ar.gradcheck(lambda x: op(x * x).sum(), [x])
        with ar.lean_graph():
            y = op(x)
        assert y.node.value is y._data  # saves the output: kept in a lean graph too
        exec("my_tanh = ar.primitive(np.tanh, name='my_tanh')\n", namespace)  # a cell re-run
        with pytest.raises(ValueError, match=r"'my_tanh' is already registered \(by "
                           r"__main__\.tanh\)"):
            exec("import numpy as np\nimport autograd_rnn as ar\n"
                 "ar.primitive(np.tanh, name='my_tanh')\n", {"__name__": "coursework.ops"})
    finally:
        ar.REGISTRY.pop("my_tanh", None)
    multiply = ar.REGISTRY["multiply"]
    assert multiply.forward is np.multiply
    assert multiply.origin == "autograd_rnn.ops.elementwise.multiply"
