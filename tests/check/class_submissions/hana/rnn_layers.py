"""hana: saves memory with float32 (gradients of the RNN step, the whole LSTM step)."""

import numpy as np


def rnn_step_forward(x, prev_h, Wx, Wh, b):
    next_h = np.tanh(x @ Wx + prev_h @ Wh + b)
    return next_h, (x, prev_h, Wx, Wh, next_h)


def rnn_step_backward(dnext_h, cache):
    x, prev_h, Wx, Wh, next_h = cache
    da = (dnext_h * (1 - next_h ** 2)).astype(np.float32)
    return da @ Wx.T.astype(np.float32), da @ Wh.T.astype(np.float32), \
        x.T.astype(np.float32) @ da, prev_h.T.astype(np.float32) @ da, da.sum(axis=0)


def lstm_step_forward(x, prev_h, prev_c, Wx, Wh, b):
    x, prev_h, prev_c, Wx, Wh, b = (v.astype(np.float32) for v in (x, prev_h, prev_c, Wx, Wh, b))
    H = prev_h.shape[1]
    a = x @ Wx + prev_h @ Wh + b
    i, f, o = (1 / (1 + np.exp(-a[:, k * H:(k + 1) * H])) for k in range(3))
    g = np.tanh(a[:, 3 * H:])
    next_c = f * prev_c + i * g
    return o * np.tanh(next_c), next_c, (x, prev_h, prev_c, Wx, Wh, i, f, o, g, next_c)


def lstm_step_backward(dnext_h, dnext_c, cache):
    x, prev_h, prev_c, Wx, Wh, i, f, o, g, next_c = cache
    tc = np.tanh(next_c)
    dc = dnext_c + dnext_h * o * (1 - tc ** 2)
    da = np.hstack([dc * g * i * (1 - i), dc * prev_c * f * (1 - f),
                    dnext_h * tc * o * (1 - o), dc * i * (1 - g ** 2)])
    return da @ Wx.T, da @ Wh.T, dc * f, x.T @ da, prev_h.T @ da, da.sum(axis=0)
