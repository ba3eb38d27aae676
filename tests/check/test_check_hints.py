"""gradient_hints: recognisable patterns of wrong hand-written gradients."""

import numpy as np

from autograd_rnn.check import HintContext, gradient_hints
from autograd_rnn.check.hints import shape_hint

RNG = np.random.default_rng(0)
N = RNG.standard_normal((4, 4))


def test_no_hint_when_right():
    assert gradient_hints("W", N.copy(), N) == []


def test_zero_sign_and_scale():
    assert gradient_hints("W", np.zeros_like(N), N) == [
        "dW is all zeros but the expected gradient is not"]
    assert gradient_hints("W", -N, N) == ["dW is -1 times the expected gradient (a sign error?)"]
    assert "1/4 times" in gradient_hints("b", N / 4, N)[0]
    assert "a missing or extra factor 1/2" in gradient_hints("b", 2 * N, N)[0]
    assert "a factor 3 too large" in gradient_hints("b", 3 * N, N)[0]


def test_transpose():
    assert gradient_hints("Wh", N.T.copy(), N) == ["dWh is the transpose of the expected gradient"]


def test_localized_along_time_axis_and_not_with_sampling():
    n = RNG.standard_normal((2, 5, 3))
    a = n.copy()
    a[:, 4] += 1.0
    (hint,) = gradient_hints("x", a, n)
    assert hint.startswith("dx is wrong only at index 4 of axis 1 (size 5)") and "time" in hint
    assert gradient_hints("x", a, n, entries=np.arange(0, 30, 2)) == []


def test_factor_names_its_likely_source():
    ctx = HintContext(N=3, T=4)
    n = RNG.standard_normal((3, 4, 5))
    assert "divided by N = 3, the batch size" in gradient_hints("x", n / 3, n, context=ctx)[0]
    assert "(N = 3 times too large" in gradient_hints("x", 3 * n, n, context=ctx)[0]
    assert "divided by T = 4, the number of timesteps" in gradient_hints(
        "x", n / 4, n, context=ctx)[0]
    assert "divided by N*T = 12" in gradient_hints("x", n / 12, n, context=ctx)[0]
    assert "factor 1/2" in gradient_hints("x", n / 2, n, context=ctx)[0]
    (hint,) = gradient_hints("x", n / 0.25, n, context=HintContext(dout=0.25))
    assert "1/dout with dout = 0.25: the upstream gradient is ignored" in hint


def test_batch_sum_mask_repeats_and_time_patterns():
    n = RNG.standard_normal((3, 4, 5))
    summed = np.broadcast_to(n.sum(axis=0, keepdims=True), n.shape)
    (hint,) = gradient_hints("x", summed, n, context=HintContext(N=3))
    assert hint.startswith("dx is the expected gradient summed over the batch")
    mask = np.array([[True, False, True, True]] * 3)
    unmasked = np.where(mask[..., None], n, n + 1.0)
    (hint,) = gradient_hints("x", unmasked, n, context=HintContext(masks={"mask": mask}))
    assert hint.startswith("dx is wrong exactly where mask is False")
    x = np.array([[0, 2, 2, 5]])
    dW = RNG.standard_normal((6, 3))
    wrong = dW.copy()
    wrong[2] *= 0.5
    (hint,) = gradient_hints("W", wrong, dW, context=HintContext(indices={"x": x}))
    assert hint.startswith("dW is wrong exactly at rows 2, the indices that occur more than "
                           "once in x") and "np.add.at(dW, x, dout)" in hint
    ctx = HintContext(N=3, T=4)
    no_carry = n.copy()
    no_carry[:, :3] += 1.0
    assert "right only at the last timestep t = 3" in gradient_hints("x", no_carry, n,
                                                                     context=ctx)[0]
    last_two = n.copy()
    last_two[:, :2] = 0.0
    assert "right only at the last 2 timesteps" in gradient_hints("x", last_two, n,
                                                                  context=ctx)[0]


def test_shape_hints():
    shapes = {"x": (3, 5), "prev_h": (3, 6), "Wx": (5, 6), "Wh": (6, 6), "b": (6,)}
    order = list(shapes)
    assert "the shape of Wh; are the gradients returned in the order" in shape_hint(
        "Wx", (6, 6), shapes, order)
    assert "Wx's shape transposed" in shape_hint("Wx", (6, 5), shapes, order)
    assert "summed over the wrong axis" in shape_hint("b", (3,), shapes, order)
    assert "summed over the batch (keepdims=True)" in shape_hint("prev_h", (1, 6), shapes,
                                                                 order)
    assert "not summed over the batch" in shape_hint("b", (3, 6), shapes, order)
    assert shape_hint("b", (7, 7, 7), shapes, order) == ""
