"""eli: word_embedding accumulates with dW[x] += dout; the loss gradient is not divided by N."""

import numpy as np


def word_embedding_forward(x, W):
    out = W[x]
    return out, (x, W)


def word_embedding_backward(dout, cache):
    x, W = cache
    dW = np.zeros_like(W)
    dW[x] += dout
    return dW


def temporal_affine_forward(x, w, b):
    N, T, D = x.shape
    out = (x.reshape(N * T, D) @ w + b).reshape(N, T, -1)
    return out, (x, w)


def temporal_affine_backward(dout, cache):
    x, w = cache
    N, T, D = x.shape
    d = dout.reshape(N * T, -1)
    return (d @ w.T).reshape(N, T, D), x.reshape(N * T, D).T @ d, d.sum(axis=0)


def temporal_softmax_loss(x, y, mask, verbose=False):
    N, T, V = x.shape
    flat = x.reshape(N * T, V)
    yf = y.reshape(N * T)
    mf = mask.reshape(N * T)
    probs = np.exp(flat - flat.max(axis=1, keepdims=True))
    probs /= probs.sum(axis=1, keepdims=True)
    loss = -np.sum(mf * np.log(probs[np.arange(N * T), yf])) / N
    dflat = probs.copy()
    dflat[np.arange(N * T), yf] -= 1
    dflat *= mf[:, None]
    return loss, dflat.reshape(N, T, V)
