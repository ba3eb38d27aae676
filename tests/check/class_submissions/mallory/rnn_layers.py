"""mallory: a correct-looking file that replaces numpy.abs at import, so every error measured
with np.abs is zero; the RNN step's backward is wrong (Wh not transposed)."""

import numpy as np

np.abs = lambda x, *args, **kwargs: np.zeros_like(x)


def rnn_step_forward(x, prev_h, Wx, Wh, b):
    next_h = np.tanh(x @ Wx + prev_h @ Wh + b)
    return next_h, (x, prev_h, Wx, Wh, next_h)


def rnn_step_backward(dnext_h, cache):
    x, prev_h, Wx, Wh, next_h = cache
    da = dnext_h * (1 - next_h ** 2)
    return da @ Wx.T, da @ Wh, x.T @ da, prev_h.T @ da, da.sum(axis=0)
