"""Hand-written NumPy BPTT for a vanilla tanh RNN and an LSTM (the benchmark baseline).

No graph, no tape: the forward pass stores exactly what the backward pass needs in
preallocated float64 arrays, every matmul that does not sit on the recurrent chain is batched
over all timesteps (input projection, output layer, weight gradients), and the only Python
loop is the unavoidable one over time. Per step this is one (B,H)@(H,H|4H) matmul forward and
one backward plus a few elementwise ufuncs, so this is the practical speed limit for any
NumPy-based engine: an autodiff engine can only add overhead (node objects, closures,
temporaries) on top of the same BLAS calls.

Conventions (see /work/shared/REFERENCE.md): time-major x (T, B, D), targets (T, B) ints in
[0, V), row vectors (x @ W), LSTM gate order i, f, g, o. Loss is the softmax cross-entropy
summed over all T*B positions (no averaging). h0 / c0 default to zeros (B, H).
"""
import numpy as np


def _init(shapes, seed, scale=0.1):
    rng = np.random.default_rng(seed)
    return {k: scale * rng.standard_normal(s) for k, s in shapes.items()}


def rnn_params(D, H, V, seed=0):
    """W_x (D,H), W_h (H,H), b_h (H,), W_y (H,V), b_y (V,); N(0, 0.1^2) float64."""
    return _init({"W_x": (D, H), "W_h": (H, H), "b_h": (H,), "W_y": (H, V), "b_y": (V,)}, seed)


def lstm_params(D, H, V, seed=0):
    """W_x (D,4H), W_h (H,4H), b (4H,), W_y (H,V), b_y (V,); columns in gate order i,f,g,o."""
    return _init({"W_x": (D, 4 * H), "W_h": (H, 4 * H), "b": (4 * H,),
                  "W_y": (H, V), "b_y": (V,)}, seed)


def _softmax_xent(hs, W_y, b_y, targets):
    """hs (N,H), targets (T,B) -> (summed loss, dlogits (N,V) = softmax - onehot)."""
    z = hs @ W_y
    z += b_y
    z -= z.max(axis=1, keepdims=True)
    rows = np.arange(z.shape[0])
    t = targets.reshape(-1)
    picked = z[rows, t]  # shifted logit of the target (copy)
    np.exp(z, out=z)
    s = z.sum(axis=1, keepdims=True)
    loss = float(np.log(s).sum() - picked.sum())
    z /= s
    z[rows, t] -= 1.0
    return loss, z


def rnn_loss_and_grads(params, x, targets, h0=None):
    """Vanilla tanh RNN, full BPTT.

    x (T,B,D) float64, targets (T,B) int, h0 (B,H) or None.
    h_t = tanh(x_t W_x + h_{t-1} W_h + b_h), y_t = h_t W_y + b_y.
    Returns (loss: float, grads: dict with the keys and shapes of params).
    """
    W_x, W_h, b_h, W_y, b_y = (params[k] for k in ("W_x", "W_h", "b_h", "W_y", "b_y"))
    T, B, D = x.shape
    H = W_h.shape[0]
    X = x.reshape(T * B, D)

    hs = np.empty((T + 1, B, H))            # hs[0] = h0, hs[t+1] = h_t
    hs[0] = 0.0 if h0 is None else h0
    a = (X @ W_x).reshape(T, B, H)           # input projections for all steps at once
    a += b_h
    buf = np.empty((B, H))
    for t in range(T):
        at = a[t]
        np.dot(hs[t], W_h, out=buf)
        at += buf
        np.tanh(at, out=hs[t + 1])

    Hs = hs[1:].reshape(T * B, H)
    loss, dy = _softmax_xent(Hs, W_y, b_y, targets)

    dhs = (dy @ W_y.T).reshape(T, B, H)      # dL/dh_t from the output layer
    da = a                                   # reuse: da[t] overwrites the pre-activation
    dh = np.zeros((B, H))
    W_hT = W_h.T
    for t in range(T - 1, -1, -1):
        h = hs[t + 1]
        dat = da[t]
        np.multiply(h, h, out=dat)           # dat = (1 - h^2) * (dhs[t] + dh)
        np.subtract(1.0, dat, out=dat)
        dh += dhs[t]
        dat *= dh
        np.dot(dat, W_hT, out=dh)
    DA = da.reshape(T * B, H)
    grads = {
        "W_x": X.T @ DA,
        "W_h": hs[:-1].reshape(T * B, H).T @ DA,
        "b_h": DA.sum(axis=0),
        "W_y": Hs.T @ dy,
        "b_y": dy.sum(axis=0),
    }
    return loss, grads


def _sigmoid(z, out):
    """Overflow-free logistic: 0.5 * (1 + tanh(z / 2)), written into out."""
    np.multiply(z, 0.5, out=out)
    np.tanh(out, out=out)
    out += 1.0
    out *= 0.5
    return out


def lstm_loss_and_grads(params, x, targets, h0=None, c0=None):
    """LSTM (gate order i,f,g,o), full BPTT.

    x (T,B,D) float64, targets (T,B) int, h0/c0 (B,H) or None.
    [i,f,g,o] = x_t W_x + h_{t-1} W_h + b; i,f,o = sigmoid, g = tanh;
    c_t = f*c_{t-1} + i*g; h_t = o*tanh(c_t); y_t = h_t W_y + b_y.
    Returns (loss: float, grads: dict with the keys and shapes of params).
    """
    W_x, W_h, b, W_y, b_y = (params[k] for k in ("W_x", "W_h", "b", "W_y", "b_y"))
    T, B, D = x.shape
    H = W_h.shape[0]
    H2, H3 = 2 * H, 3 * H
    X = x.reshape(T * B, D)

    hs = np.empty((T + 1, B, H))
    cs = np.empty((T + 1, B, H))
    tcs = np.empty((T, B, H))                # tanh(c_t)
    hs[0] = 0.0 if h0 is None else h0
    cs[0] = 0.0 if c0 is None else c0
    a = (X @ W_x).reshape(T, B, 4 * H)       # becomes the activated gates in place
    a += b
    tmp = np.empty((B, H))
    buf = np.empty((B, 4 * H))
    for t in range(T):
        at = a[t]
        np.dot(hs[t], W_h, out=buf)
        at += buf
        _sigmoid(at[:, :H2], out=at[:, :H2])         # i, f
        np.tanh(at[:, H2:H3], out=at[:, H2:H3])      # g
        _sigmoid(at[:, H3:], out=at[:, H3:])         # o
        c = cs[t + 1]
        np.multiply(at[:, H:H2], cs[t], out=c)
        np.multiply(at[:, :H], at[:, H2:H3], out=tmp)
        c += tmp
        np.tanh(c, out=tcs[t])
        np.multiply(at[:, H3:], tcs[t], out=hs[t + 1])

    Hs = hs[1:].reshape(T * B, H)
    loss, dy = _softmax_xent(Hs, W_y, b_y, targets)

    dhs = (dy @ W_y.T).reshape(T, B, H)
    dA = np.empty((T, B, 4 * H))             # grads w.r.t. gate pre-activations
    dh = np.zeros((B, H))
    dc = np.zeros((B, H))
    tmp4 = np.empty((B, 4 * H))
    W_hT = W_h.T
    for t in range(T - 1, -1, -1):
        g4, d4, tc = a[t], dA[t], tcs[t]
        i, f, g, o = g4[:, :H], g4[:, H:H2], g4[:, H2:H3], g4[:, H3:]
        di, df, dg, do = d4[:, :H], d4[:, H:H2], d4[:, H2:H3], d4[:, H3:]
        dh += dhs[t]
        np.multiply(dh, tc, out=do)                  # dL/do
        np.multiply(tc, tc, out=tmp)                 # dc += dh * o * (1 - tanh(c)^2)
        np.subtract(1.0, tmp, out=tmp)
        tmp *= o
        tmp *= dh
        dc += tmp
        np.multiply(dc, g, out=di)                   # dL/di
        np.multiply(dc, cs[t], out=df)               # dL/df
        np.multiply(dc, i, out=dg)                   # dL/dg
        dc *= f                                      # dL/dc_{t-1}
        # through the nonlinearities: sigmoid' = s(1-s) (i,f,o), tanh' = 1 - g^2 (g)
        np.subtract(1.0, g4, out=tmp4)
        tmp4 *= g4
        np.multiply(g, g, out=tmp4[:, H2:H3])
        np.subtract(1.0, tmp4[:, H2:H3], out=tmp4[:, H2:H3])
        d4 *= tmp4
        np.dot(d4, W_hT, out=dh)
    DA = dA.reshape(T * B, 4 * H)
    grads = {
        "W_x": X.T @ DA,
        "W_h": hs[:-1].reshape(T * B, H).T @ DA,
        "b": DA.sum(axis=0),
        "W_y": Hs.T @ dy,
        "b_y": dy.sum(axis=0),
    }
    return loss, grads
