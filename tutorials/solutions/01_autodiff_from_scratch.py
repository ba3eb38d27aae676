# Solutions to the exercises of 01_autodiff_from_scratch.ipynb. Each section replaces the
# notebook cell tagged "solution" with the same exercise number (scripts/exercises.py).

# %% exercise 1.1
def backprop_by_hand(a, b):
    """Gradients of L = (a*b + a)**2 as a dict {"d": dL/dd, "c": dL/dc, "a": dL/da, "b": dL/db}."""
    c = a * b         # node 1
    d = c + a         # node 2
    L = d ** 2        # node 3
    dL_dd = 2 * d                  # L = d^2
    dL_dc = dL_dd * 1.0            # d = c + a: add passes g through
    dL_db = dL_dc * a              # c = a * b: g times the other operand
    dL_da = dL_dc * b + dL_dd      # a is used twice: through c and directly in d
    return {"d": dL_dd, "c": dL_dc, "a": dL_da, "b": dL_db}

# %% exercise 1.2
@ar.primitive(name="my_sigmoid")
def my_sigmoid(x):
    """1 / (1 + exp(-x)), elementwise, finite for any finite x."""
    return 0.5 * (1.0 + np.tanh(0.5 * x))


def my_sigmoid_vjp(g, out, x):
    """g * d sigmoid(x)/dx, written with out = sigmoid(x)."""
    return g * out * (1 - out)


my_sigmoid.defvjp(my_sigmoid_vjp)

# %% exercise 1.3
@ar.primitive(name="my_softmax")
def my_softmax(x):
    """softmax along the last axis; x (..., V) -> (..., V), every row sums to 1."""
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def my_softmax_vjp(g, out, x):
    """g J for every row, with out = softmax(x); g, out, x (..., V) -> (..., V)."""
    # g J = g (diag(s) - s^T s) = s * g - (g . s) s
    return out * (g - (g * out).sum(axis=-1, keepdims=True))


my_softmax.defvjp(my_softmax_vjp)
