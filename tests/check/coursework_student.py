"""Hand-written layers as a student would write them (cs231n style, batch-major (N, T, D)),
plus typical buggy backward passes. Used by tests/check as the code under check."""

import numpy as np


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


# ----- affine ---------------------------------------------------------------------------
def affine_forward(x, w, b):
    out = x.reshape(x.shape[0], -1) @ w + b
    return out, (x, w)


def affine_backward(dout, cache):
    x, w = cache
    dx = (dout @ w.T).reshape(x.shape)
    dw = x.reshape(x.shape[0], -1).T @ dout
    db = dout.sum(axis=0)
    return dx, dw, db


# ----- vanilla RNN step -------------------------------------------------------------------
def rnn_step_forward(x, prev_h, Wx, Wh, b):
    next_h = np.tanh(x @ Wx + prev_h @ Wh + b)
    return next_h, (x, prev_h, Wx, Wh, next_h)


def rnn_step_backward(dnext_h, cache):
    x, prev_h, Wx, Wh, next_h = cache
    da = dnext_h * (1 - next_h ** 2)
    return da @ Wx.T, da @ Wh.T, x.T @ da, prev_h.T @ da, da.sum(axis=0)


def rnn_step_backward_missing_transpose(dnext_h, cache):
    x, prev_h, Wx, Wh, next_h = cache
    da = dnext_h * (1 - next_h ** 2)
    return da @ Wx.T, da @ Wh, x.T @ da, prev_h.T @ da, da.sum(axis=0)  # Wh, not Wh.T


def rnn_step_backward_no_tanh_derivative(dnext_h, cache):
    x, prev_h, Wx, Wh, next_h = cache
    da = dnext_h  # forgot * (1 - next_h ** 2)
    return da @ Wx.T, da @ Wh.T, x.T @ da, prev_h.T @ da, da.sum(axis=0)


def rnn_step_backward_db_averaged(dnext_h, cache):
    x, prev_h, Wx, Wh, next_h = cache
    da = dnext_h * (1 - next_h ** 2)
    return da @ Wx.T, da @ Wh.T, x.T @ da, prev_h.T @ da, da.mean(axis=0)  # mean, not sum


def rnn_step_backward_db_not_summed(dnext_h, cache):
    x, prev_h, Wx, Wh, next_h = cache
    da = dnext_h * (1 - next_h ** 2)
    return da @ Wx.T, da @ Wh.T, x.T @ da, prev_h.T @ da, da  # (N, H), not summed


def rnn_step_backward_crashes(dnext_h, cache):
    x, prev_h, Wx, Wh, next_h = cache
    da = dnext_h * (1 - next_h ** 2)
    dx = da @ Wx  # (N, H) @ (D, H): shapes do not align
    return dx, da @ Wh.T, x.T @ da, prev_h.T @ da, da.sum(axis=0)


# ----- vanilla RNN over a sequence --------------------------------------------------------
def rnn_forward(x, h0, Wx, Wh, b):
    N, T, D = x.shape
    h = np.zeros((N, T, h0.shape[1]))
    caches = []
    prev_h = h0
    for t in range(T):
        prev_h, cache = rnn_step_forward(x[:, t, :], prev_h, Wx, Wh, b)
        h[:, t, :] = prev_h
        caches.append(cache)
    return h, (caches, D)


def rnn_backward(dh, cache):
    caches, D = cache
    N, T, H = dh.shape
    dx = np.zeros((N, T, D))
    dWx, dWh, db = np.zeros((D, H)), np.zeros((H, H)), np.zeros(H)
    dprev_h = np.zeros((N, H))
    for t in reversed(range(T)):
        dx_t, dprev_h, dWx_t, dWh_t, db_t = rnn_step_backward(dh[:, t, :] + dprev_h, caches[t])
        dx[:, t, :] = dx_t
        dWx += dWx_t
        dWh += dWh_t
        db += db_t
    return dx, dprev_h, dWx, dWh, db


def rnn_backward_no_carry(dh, cache):
    caches, D = cache
    N, T, H = dh.shape
    dx = np.zeros((N, T, D))
    dWx, dWh, db = np.zeros((D, H)), np.zeros((H, H)), np.zeros(H)
    dprev_h = np.zeros((N, H))
    for t in reversed(range(T)):
        # bug: the gradient from step t + 1 (dprev_h) is not added to dh[:, t]
        dx_t, dprev_h, dWx_t, dWh_t, db_t = rnn_step_backward(dh[:, t, :], caches[t])
        dx[:, t, :] = dx_t
        dWx += dWx_t
        dWh += dWh_t
        db += db_t
    return dx, dprev_h, dWx, dWh, db


def rnn_backward_off_by_one(dh, cache):
    caches, D = cache
    N, T, H = dh.shape
    dx = np.zeros((N, T, D))
    dWx, dWh, db = np.zeros((D, H)), np.zeros((H, H)), np.zeros(H)
    dprev_h = np.zeros((N, H))
    for t in reversed(range(1, T)):  # bug: stops before t = 0
        dx_t, dprev_h, dWx_t, dWh_t, db_t = rnn_step_backward(dh[:, t, :] + dprev_h, caches[t])
        dx[:, t, :] = dx_t
        dWx += dWx_t
        dWh += dWh_t
        db += db_t
    return dx, dprev_h, dWx, dWh, db


# ----- LSTM step (gate order i, f, o, g) -----------------------------------------------
def lstm_step_forward(x, prev_h, prev_c, Wx, Wh, b):
    H = prev_h.shape[1]
    a = x @ Wx + prev_h @ Wh + b
    i, f, o = sigmoid(a[:, :H]), sigmoid(a[:, H:2 * H]), sigmoid(a[:, 2 * H:3 * H])
    g = np.tanh(a[:, 3 * H:])
    next_c = f * prev_c + i * g
    next_h = o * np.tanh(next_c)
    return next_h, next_c, (x, prev_h, prev_c, Wx, Wh, i, f, o, g, next_c)


def lstm_step_backward(dnext_h, dnext_c, cache):
    x, prev_h, prev_c, Wx, Wh, i, f, o, g, next_c = cache
    tc = np.tanh(next_c)
    dc = dnext_c + dnext_h * o * (1 - tc ** 2)
    di, df, do, dg = dc * g, dc * prev_c, dnext_h * tc, dc * i
    da = np.hstack([di * i * (1 - i), df * f * (1 - f), do * o * (1 - o), dg * (1 - g ** 2)])
    return da @ Wx.T, da @ Wh.T, dc * f, x.T @ da, prev_h.T @ da, da.sum(axis=0)


def lstm_step_backward_wrong_forget(dnext_h, dnext_c, cache):
    x, prev_h, prev_c, Wx, Wh, i, f, o, g, next_c = cache
    tc = np.tanh(next_c)
    dc = dnext_c + dnext_h * o * (1 - tc ** 2)
    di, df, do, dg = dc * g, dc * next_c, dnext_h * tc, dc * i  # bug: next_c, not prev_c
    da = np.hstack([di * i * (1 - i), df * f * (1 - f), do * o * (1 - o), dg * (1 - g ** 2)])
    return da @ Wx.T, da @ Wh.T, dc * f, x.T @ da, prev_h.T @ da, da.sum(axis=0)


# ----- GRU step (PyTorch variant, gates r, z, n) -----------------------------------------
def gru_step_forward(x, prev_h, Wx, Wh, bx, bh):
    H = prev_h.shape[1]
    gx, gh = x @ Wx + bx, prev_h @ Wh + bh
    r = sigmoid(gx[:, :H] + gh[:, :H])
    z = sigmoid(gx[:, H:2 * H] + gh[:, H:2 * H])
    n = np.tanh(gx[:, 2 * H:] + r * gh[:, 2 * H:])
    next_h = (1 - z) * n + z * prev_h
    return next_h, (x, prev_h, Wx, Wh, r, z, n, gh[:, 2 * H:])


def gru_step_backward(dnext_h, cache):
    x, prev_h, Wx, Wh, r, z, n, ghn = cache
    dn, dz = dnext_h * (1 - z), dnext_h * (prev_h - n)
    dan = dn * (1 - n ** 2)
    dar, daz = dan * ghn * r * (1 - r), dz * z * (1 - z)
    dgx = np.hstack([dar, daz, dan])
    dgh = np.hstack([dar, daz, dan * r])
    dprev_h = dgh @ Wh.T + dnext_h * z
    return dgx @ Wx.T, dprev_h, x.T @ dgx, prev_h.T @ dgh, dgx.sum(axis=0), dgh.sum(axis=0)


# ----- temporal layers ------------------------------------------------------------------
def temporal_affine_forward(x, w, b):
    N, T, D = x.shape
    return (x.reshape(N * T, D) @ w + b).reshape(N, T, -1), (x, w)


def temporal_affine_backward(dout, cache):
    x, w = cache
    N, T, D = x.shape
    M = w.shape[1]
    d2 = dout.reshape(N * T, M)
    return (d2 @ w.T).reshape(N, T, D), x.reshape(N * T, D).T @ d2, d2.sum(axis=0)


def temporal_softmax_loss_forward(x, y, mask):
    N, T, V = x.shape
    x2, y2, m2 = x.reshape(N * T, V), y.reshape(N * T), mask.reshape(N * T)
    probs = np.exp(x2 - x2.max(axis=1, keepdims=True))
    probs /= probs.sum(axis=1, keepdims=True)
    loss = -np.sum(m2 * np.log(probs[np.arange(N * T), y2])) / N
    return loss, (probs, y2, m2, x.shape)


def temporal_softmax_loss_backward(dloss, cache):
    probs, y2, m2, shape = cache
    N = shape[0]
    dx = probs.copy()
    dx[np.arange(len(y2)), y2] -= 1
    dx *= m2[:, None] / N
    return (dloss * dx.reshape(shape),)


def temporal_softmax_loss_cs231n(x, y, mask, verbose=False):
    """cs231n's convention: one function returning (loss, dx)."""
    loss, cache = temporal_softmax_loss_forward(x, y, mask)
    return loss, temporal_softmax_loss_backward(1.0, cache)[0]


def word_embedding_forward(x, W):
    return W[x], (x, W.shape)


def word_embedding_backward(dout, cache):
    x, shape = cache
    dW = np.zeros(shape)
    np.add.at(dW, x, dout)
    return dW  # a lone array: the only float input


# ----- signature / return mistakes and kinks ----------------------------------------------
def forward_no_cache(x, prev_h, Wx, Wh, b):
    return np.tanh(x @ Wx + prev_h @ Wh + b)


def forward_four_args(x, prev_h, Wx, Wh):
    return np.tanh(x @ Wx + prev_h @ Wh), None


def backward_too_few(dnext_h, cache):
    return rnn_step_backward(dnext_h, cache)[:4]


def backward_one_arg(dnext_h):
    return dnext_h


def rnn_step_forward_sigmoid(x, prev_h, Wx, Wh, b):
    next_h = sigmoid(x @ Wx + prev_h @ Wh + b)
    return next_h, (x, prev_h, Wx, Wh, next_h)


def rnn_step_backward_sigmoid(dnext_h, cache):
    x, prev_h, Wx, Wh, next_h = cache
    da = dnext_h * next_h * (1 - next_h)
    return da @ Wx.T, da @ Wh.T, x.T @ da, prev_h.T @ da, da.sum(axis=0)


def relu_forward(x):
    return np.maximum(x, 0), x


def relu_backward(dout, x):
    return (dout * (x > 0),)
