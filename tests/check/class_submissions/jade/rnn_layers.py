"""jade: sums dprev_h over the batch; averages the loss over all N*T positions."""

import numpy as np


def rnn_step_forward(x, prev_h, Wx, Wh, b):
    next_h = np.tanh(x @ Wx + prev_h @ Wh + b)
    return next_h, (x, prev_h, Wx, Wh, next_h)


def rnn_step_backward(dnext_h, cache):
    x, prev_h, Wx, Wh, next_h = cache
    da = dnext_h * (1 - next_h ** 2)
    dprev_h = np.sum(da, axis=0, keepdims=True) @ Wh.T
    return da @ Wx.T, dprev_h, x.T @ da, prev_h.T @ da, np.sum(da, axis=0)


def temporal_softmax_loss(x, y, mask, verbose=False):
    N, T, V = x.shape
    p = np.exp(x - x.max(axis=2, keepdims=True))
    p /= p.sum(axis=2, keepdims=True)
    n_idx, t_idx = np.meshgrid(np.arange(N), np.arange(T), indexing="ij")
    loss = -np.sum(mask * np.log(p[n_idx, t_idx, y])) / (N * T)
    dx = p.copy()
    dx[n_idx, t_idx, y] -= 1
    dx *= mask[:, :, None] / (N * T)
    return loss, dx
