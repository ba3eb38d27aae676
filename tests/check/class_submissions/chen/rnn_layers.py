"""chen: correct; sequences handled with whole-sequence array operations where possible."""

import numpy as np


def rnn_step_forward(x, prev_h, Wx, Wh, b):
    next_h = np.tanh(x @ Wx + prev_h @ Wh + b)
    return next_h, (x, prev_h, Wx, Wh, next_h)


def rnn_step_backward(dnext_h, cache):
    x, prev_h, Wx, Wh, next_h = cache
    draw = dnext_h * (1.0 - np.square(next_h))
    return draw @ Wx.T, draw @ Wh.T, x.T @ draw, prev_h.T @ draw, draw.sum(axis=0)


def rnn_forward(x, h0, Wx, Wh, b):
    N, T, _ = x.shape
    h = np.empty((N, T, h0.shape[1]), dtype=np.float64)
    prev = h0
    for t in range(T):
        prev = np.tanh(x[:, t] @ Wx + prev @ Wh + b)
        h[:, t] = prev
    return h, (x, h0, Wx, Wh, h)


def rnn_backward(dh, cache):
    x, h0, Wx, Wh, h = cache
    N, T, _ = x.shape
    h_prev = np.concatenate([h0[:, None, :], h[:, :-1, :]], axis=1)
    draw = np.zeros_like(h)
    carry = np.zeros_like(h0)
    for t in range(T - 1, -1, -1):
        draw[:, t] = (dh[:, t] + carry) * (1.0 - h[:, t] ** 2)
        carry = draw[:, t] @ Wh.T
    dx = draw @ Wx.T
    dWx = np.einsum("ntd,nth->dh", x, draw)
    dWh = np.einsum("ntk,nth->kh", h_prev, draw)
    db = draw.sum(axis=(0, 1))
    return dx, carry, dWx, dWh, db


def word_embedding_forward(x, W):
    return W[x, :], (x, W.shape[0])


def word_embedding_backward(dout, cache):
    x, V = cache
    one_hot = np.eye(V)[x.reshape(-1)]
    return one_hot.T @ dout.reshape(-1, dout.shape[-1])


def lstm_step_forward(x, prev_h, prev_c, Wx, Wh, b):
    H = prev_h.shape[1]
    a = x @ Wx + prev_h @ Wh + b
    ifo = 1.0 / (1.0 + np.exp(-a[:, :3 * H]))
    i, f, o = ifo[:, :H], ifo[:, H:2 * H], ifo[:, 2 * H:]
    g = np.tanh(a[:, 3 * H:])
    next_c = f * prev_c + i * g
    next_h = o * np.tanh(next_c)
    return next_h, next_c, (x, prev_h, prev_c, Wx, Wh, ifo, g, next_c)


def lstm_step_backward(dnext_h, dnext_c, cache):
    x, prev_h, prev_c, Wx, Wh, ifo, g, next_c = cache
    H = prev_h.shape[1]
    i, f, o = ifo[:, :H], ifo[:, H:2 * H], ifo[:, 2 * H:]
    t = np.tanh(next_c)
    dc = dnext_c + dnext_h * o * (1.0 - t * t)
    dsig = np.concatenate([dc * g, dc * prev_c, dnext_h * t], axis=1) * ifo * (1.0 - ifo)
    da = np.concatenate([dsig, dc * i * (1.0 - g * g)], axis=1)
    return da @ Wx.T, da @ Wh.T, dc * f, x.T @ da, prev_h.T @ da, da.sum(axis=0)


def lstm_forward(x, h0, Wx, Wh, b):
    N, T, _ = x.shape
    h = np.empty((N, T, h0.shape[1]))
    caches = []
    prev_h, prev_c = h0, np.zeros_like(h0)
    for t in range(T):
        prev_h, prev_c, c = lstm_step_forward(x[:, t], prev_h, prev_c, Wx, Wh, b)
        h[:, t] = prev_h
        caches.append(c)
    return h, caches


def lstm_backward(dh, cache):
    x0, h0 = cache[0][0], cache[0][1]
    N, T, H = dh.shape
    dx = np.empty((N, T, x0.shape[1]))
    dWx = np.zeros((x0.shape[1], 4 * H))
    dWh = np.zeros((H, 4 * H))
    db = np.zeros(4 * H)
    dnext_h = np.zeros_like(h0)
    dnext_c = np.zeros_like(h0)
    for t in range(T - 1, -1, -1):
        grads = lstm_step_backward(dh[:, t] + dnext_h, dnext_c, cache[t])
        dx[:, t], dnext_h, dnext_c = grads[0], grads[1], grads[2]
        dWx += grads[3]
        dWh += grads[4]
        db += grads[5]
    return dx, dnext_h, dWx, dWh, db


def temporal_affine_forward(x, w, b):
    return x @ w + b, (x, w)


def temporal_affine_backward(dout, cache):
    x, w = cache
    D = x.shape[-1]
    M = w.shape[1]
    return dout @ w.T, x.reshape(-1, D).T @ dout.reshape(-1, M), dout.reshape(-1, M).sum(0)


def temporal_softmax_loss(x, y, mask, verbose=False):
    N = x.shape[0]
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    p = e / e.sum(axis=-1, keepdims=True)
    picked = np.take_along_axis(p, y[..., None], axis=-1)[..., 0]
    loss = -(np.log(picked) * mask).sum() / N
    dx = p.copy()
    np.put_along_axis(dx, y[..., None], np.take_along_axis(dx, y[..., None], -1) - 1, -1)
    dx *= mask[..., None] / N
    return loss, dx
