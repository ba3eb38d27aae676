"""First end-to-end check of the engine: a tiny graph backpropagates correctly."""

import numpy as np

import autograd_rnn as ar


def test_square_sum_gradient():
    x = ar.tensor([1.0, -2.0, 3.0], requires_grad=True)
    (x * x).sum().backward()
    np.testing.assert_allclose(x.grad, [2.0, -4.0, 6.0])
