"""Elementwise primitives with broadcasting: arithmetic, exp/log, activations, where.

Shapes: inputs broadcast together (NumPy rules); the output has the broadcast shape.
Each VJP may return the broadcast shape: the engine sums it back to the input's shape.
Where the forward is one NumPy ufunc, the primitive wraps the ufunc itself (no Python function
in between: about 0.6k instructions less per op, bench/README.md).
"""

from __future__ import annotations

import numpy as np

from autograd_rnn.core.primitive import Primitive, primitive

add = primitive(np.add, name="add", doc="a + b.")
add.defsource(lambda a, b: a + b)
add.defvjp(
    lambda g, out, a, b: g,  # d(a+b)/da = 1
    lambda g, out, a, b: g,  # d(a+b)/db = 1
    saves=(),
)


subtract = primitive(np.subtract, name="subtract", doc="a - b.")
subtract.defsource(lambda a, b: a - b)
subtract.defvjp(
    lambda g, out, a, b: g,  # d(a-b)/da = 1
    lambda g, out, a, b: -g,  # d(a-b)/db = -1
    saves=(),
)


multiply = primitive(np.multiply, name="multiply", doc="a * b (elementwise).")
multiply.defsource(lambda a, b: a * b)
multiply.defvjp(
    lambda g, out, a, b: g * b,  # d(ab)/da = b
    lambda g, out, a, b: g * a,  # d(ab)/db = a
    saves=(0, 1),
)


divide = primitive(np.divide, name="divide", doc="a / b (elementwise).")
divide.defsource(lambda a, b: a / b)
divide.defvjp(
    lambda g, out, a, b: g / b,  # d(a/b)/da = 1/b
    lambda g, out, a, b: -g * a / (b * b),  # d(a/b)/db = -a/b^2
    saves=(0, 1),
)


negative = primitive(np.negative, name="negative", doc="-x.")
negative.defsource(lambda x: -x)
negative.defvjp(lambda g, out, x: -g, saves=())  # d(-x)/dx = -1


@primitive(saves=(0,))
def power(x, *, exponent):
    """x ** exponent for a scalar exponent."""
    return x**exponent


power.defsource(lambda x, *, exponent: x**exponent)


@power.defvjp
def _power_vjp(g, out, x, *, exponent):
    # d x^p/dx = p x^(p-1); exactly 0 for p = 0 (x^-1 would give 0 * inf at x = 0)
    if exponent == 0:
        return g * 0.0
    return g * exponent * x ** (exponent - 1)


exp = primitive(np.exp, name="exp", doc="e ** x.")
exp.defsource(lambda x: np.exp(x))
exp.defvjp(lambda g, out, x: g * out, saves=("out",))  # d e^x/dx = e^x, the saved output


log = primitive(np.log, name="log", doc="Natural logarithm.")
log.defsource(lambda x: np.log(x))
log.defvjp(lambda g, out, x: g / x, saves=(0,))  # d log x/dx = 1/x


tanh = primitive(np.tanh, name="tanh", doc="Hyperbolic tangent.")
tanh.defsource(lambda x: np.tanh(x))
tanh.defvjp(lambda g, out, x: g * (1 - out * out), saves=("out",))  # 1 - tanh^2, from out


@primitive
def sigmoid(x):
    """Logistic sigmoid 1 / (1 + e^-x), computed as (1 + tanh(x/2)) / 2 (no overflow)."""
    return 0.5 + 0.5 * np.tanh(0.5 * x)


sigmoid.defsource(lambda x: 0.5 + 0.5 * np.tanh(0.5 * x))
sigmoid.defvjp(lambda g, out, x: g * out * (1 - out), saves=("out",))  # s(x) (1 - s(x))


# Masks inside VJPs (relu, abs, max): primitives without a gradient, so a backward recorded
# with create_graph=True recomputes them from the values (ar.compile relies on that).
greater = Primitive(np.greater, name="greater", register=False, saves=(),
                    source=lambda a, b: a > b)
greater.defvjp(None, None)  # a 0/1 mask: no gradient
equal = Primitive(lambda a, b: np.equal(a, b).astype(a.dtype), name="equal", register=False,
                  saves=(), source=lambda a, b: np.equal(a, b).astype(a.dtype))
equal.defvjp(None, None)  # 1.0 where equal, else 0.0, in a's dtype (max shares it out)
sign = Primitive(np.sign, name="sign", register=False, saves=(), source=lambda x: np.sign(x))
sign.defvjp(None)


@primitive
def relu(x):
    """max(x, 0)."""
    return np.maximum(x, 0)


relu.defsource(lambda x: np.maximum(x, 0))


# 1 where x > 0, else 0 (0 at the kink)
relu.defvjp(lambda g, out, x: g * greater(x, 0.0), saves=(0,))


@primitive
def abs(x):  # noqa: A001 (NumPy's name)
    """|x|."""
    return np.abs(x)


abs.defsource(lambda x: np.abs(x))
abs.defvjp(lambda g, out, x: g * sign(x), saves=(0,))  # sign(x) (0 at the kink)


@primitive
def where(condition, a, b):
    """a where condition else b; ``condition`` is a boolean array, not differentiable."""
    return np.where(condition, a, b)


where.defsource(lambda condition, a, b: np.where(condition, a, b))
where.defvjp(
    None,
    lambda g, out, condition, a, b: where(condition, g, 0.0),  # g flows to a where chosen
    lambda g, out, condition, a, b: where(condition, 0.0, g),  # and to b elsewhere
    saves=(0,),
)
