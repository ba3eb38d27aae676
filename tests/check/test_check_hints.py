"""gradient_hints: recognisable patterns of wrong hand-written gradients."""

import numpy as np

from autograd_rnn.check import gradient_hints

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
