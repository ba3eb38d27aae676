# Solutions to the exercises of 05_lstm_and_gru.ipynb. Each section replaces the notebook
# cell tagged "solution" with the same exercise number (scripts/exercises.py).

# %% exercise 5.1
def gru_step(x_t, h_prev, W_x, W_h, b_x, b_h):
    """One GRU step, PyTorch's variant: x_t (B, D), h_prev (B, H), W_x (D, 3H), W_h (H, 3H),
    b_x and b_h (3H,), gate blocks r, z, n -> h_t (B, H)."""
    H = h_prev.shape[1]
    gx = x_t @ W_x + b_x
    gh = h_prev @ W_h + b_h
    r = ar.sigmoid(gx[:, :H] + gh[:, :H])
    z = ar.sigmoid(gx[:, H:2 * H] + gh[:, H:2 * H])
    n = (gx[:, 2 * H:] + r * gh[:, 2 * H:]).tanh()
    return (1 - z) * n + z * h_prev

# %% exercise 5.2
def sigmoid_np(a):
    return 0.5 * (1 + np.tanh(0.5 * a))


def gru_step_forward(x, prev_h, Wx, Wh, bx, bh):
    """next_h of the PyTorch-variant GRU (gates r, z, n) and a cache for the backward pass.
    x (N, D), prev_h (N, H), Wx (D, 3H), Wh (H, 3H), bx, bh (3H,)."""
    H = prev_h.shape[1]
    gx = x @ Wx + bx
    gh = prev_h @ Wh + bh
    r = sigmoid_np(gx[:, :H] + gh[:, :H])
    z = sigmoid_np(gx[:, H:2 * H] + gh[:, H:2 * H])
    n = np.tanh(gx[:, 2 * H:] + r * gh[:, 2 * H:])
    next_h = (1 - z) * n + z * prev_h
    return next_h, (x, prev_h, Wx, Wh, gh, r, z, n)


def gru_step_backward(dnext_h, cache):
    """(dx, dprev_h, dWx, dWh, dbx, dbh) from dnext_h = dL/dnext_h (N, H)."""
    x, prev_h, Wx, Wh, gh, r, z, n = cache
    H = prev_h.shape[1]
    dn = dnext_h * (1 - z)                     # next_h = (1 - z) n + z prev_h
    dz = dnext_h * (prev_h - n)
    dprev_h = dnext_h * z                      # the direct path
    da_n = dn * (1 - n ** 2)                   # n = tanh(a_n), a_n = gx_n + r gh_n
    dr = da_n * gh[:, 2 * H:]
    da_r = dr * r * (1 - r)                    # sigmoid' = s (1 - s)
    da_z = dz * z * (1 - z)
    dgx = np.concatenate([da_r, da_z, da_n], axis=1)
    dgh = np.concatenate([da_r, da_z, da_n * r], axis=1)
    dx, dWx, dbx = dgx @ Wx.T, x.T @ dgx, dgx.sum(axis=0)
    dprev_h = dprev_h + dgh @ Wh.T             # the second path: through the gates
    dWh, dbh = prev_h.T @ dgh, dgh.sum(axis=0)
    return dx, dprev_h, dWx, dWh, dbx, dbh
