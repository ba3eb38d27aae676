"""bob: correct, explicit loops and dict caches."""

import numpy as np


def _sig(z):
    return 1.0 / (1.0 + np.exp(-z))


def rnn_step_forward(x, prev_h, Wx, Wh, b):
    z = np.matmul(x, Wx) + np.matmul(prev_h, Wh) + b
    h = np.tanh(z)
    return h, {"x": x, "h_prev": prev_h, "Wx": Wx, "Wh": Wh, "h": h}


def rnn_step_backward(dnext_h, cache):
    dz = (1.0 - cache["h"] * cache["h"]) * dnext_h
    grads = (
        np.matmul(dz, cache["Wx"].T),
        np.matmul(dz, cache["Wh"].T),
        np.matmul(cache["x"].T, dz),
        np.matmul(cache["h_prev"].T, dz),
        dz.sum(0),
    )
    return grads


def rnn_forward(x, h0, Wx, Wh, b):
    steps = []
    hs = []
    h = h0
    for t in range(x.shape[1]):
        h, c = rnn_step_forward(x[:, t], h, Wx, Wh, b)
        hs.append(h)
        steps.append(c)
    return np.stack(hs, axis=1), steps


def rnn_backward(dh, cache):
    T = len(cache)
    grads_x = [None] * T
    carry = 0.0
    total_Wx = total_Wh = total_b = 0.0
    for t in range(T - 1, -1, -1):
        gx, carry, gWx, gWh, gb = rnn_step_backward(dh[:, t] + carry, cache[t])
        grads_x[t] = gx
        total_Wx = total_Wx + gWx
        total_Wh = total_Wh + gWh
        total_b = total_b + gb
    return np.stack(grads_x, axis=1), carry, total_Wx, total_Wh, total_b


def word_embedding_forward(x, W):
    N, T = x.shape
    out = np.zeros((N, T, W.shape[1]))
    for n in range(N):
        for t in range(T):
            out[n, t] = W[x[n, t]]
    return out, (x, W.shape)


def word_embedding_backward(dout, cache):
    x, shape = cache
    dW = np.zeros(shape)
    N, T = x.shape
    for n in range(N):
        for t in range(T):
            dW[x[n, t]] += dout[n, t]
    return dW


def lstm_step_forward(x, prev_h, prev_c, Wx, Wh, b):
    H = prev_h.shape[1]
    act = np.matmul(x, Wx) + np.matmul(prev_h, Wh) + b
    gi, gf, go = _sig(act[:, :H]), _sig(act[:, H:2 * H]), _sig(act[:, 2 * H:3 * H])
    gg = np.tanh(act[:, 3 * H:])
    c = gf * prev_c + gi * gg
    h = go * np.tanh(c)
    return h, c, {"x": x, "h": prev_h, "c": prev_c, "Wx": Wx, "Wh": Wh,
                  "gates": (gi, gf, go, gg), "next_c": c}


def lstm_step_backward(dnext_h, dnext_c, cache):
    gi, gf, go, gg = cache["gates"]
    tc = np.tanh(cache["next_c"])
    dc = dnext_c + dnext_h * go * (1.0 - tc * tc)
    dact = np.concatenate([
        dc * gg * gi * (1.0 - gi),
        dc * cache["c"] * gf * (1.0 - gf),
        dnext_h * tc * go * (1.0 - go),
        dc * gi * (1.0 - gg * gg),
    ], axis=1)
    dx = np.matmul(dact, cache["Wx"].T)
    dh = np.matmul(dact, cache["Wh"].T)
    dWx = np.matmul(cache["x"].T, dact)
    dWh = np.matmul(cache["h"].T, dact)
    return dx, dh, dc * gf, dWx, dWh, dact.sum(0)


def lstm_forward(x, h0, Wx, Wh, b):
    hs, steps = [], []
    h, c = h0, np.zeros_like(h0)
    for t in range(x.shape[1]):
        h, c, step = lstm_step_forward(x[:, t], h, c, Wx, Wh, b)
        hs.append(h)
        steps.append(step)
    return np.stack(hs, axis=1), steps


def lstm_backward(dh, cache):
    T = len(cache)
    dxs = [None] * T
    dh_carry = np.zeros_like(dh[:, 0])
    dc_carry = np.zeros_like(dh[:, 0])
    total = None
    for t in range(T - 1, -1, -1):
        gx, dh_carry, dc_carry, gWx, gWh, gb = lstm_step_backward(
            dh[:, t] + dh_carry, dc_carry, cache[t])
        dxs[t] = gx
        if total is None:
            total = [gWx, gWh, gb]
        else:
            total = [total[0] + gWx, total[1] + gWh, total[2] + gb]
    return np.stack(dxs, axis=1), dh_carry, total[0], total[1], total[2]


def temporal_affine_forward(x, w, b):
    out = np.einsum("ntd,dm->ntm", x, w) + b
    return out, (x, w)


def temporal_affine_backward(dout, cache):
    x, w = cache
    dx = np.einsum("ntm,dm->ntd", dout, w)
    dw = np.einsum("ntd,ntm->dm", x, dout)
    db = dout.sum(axis=(0, 1))
    return dx, dw, db


def temporal_softmax_loss(x, y, mask, verbose=False):
    N, T, V = x.shape
    shifted = x - x.max(axis=2, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=2, keepdims=True))
    loss = 0.0
    dx = np.exp(log_probs)
    for n in range(N):
        for t in range(T):
            if mask[n, t]:
                loss -= log_probs[n, t, y[n, t]]
                dx[n, t, y[n, t]] -= 1.0
            else:
                dx[n, t] = 0.0
    return loss / N, dx / N
