# Solutions to the exercises of 06_verifying_gradients.ipynb. Each section replaces the
# notebook cell tagged "solution" with the same exercise number (scripts/exercises.py).

# %% exercise 6.1
def fixed_rnn_step_backward(dnext_h, cache):
    """Gradients (dx, dprev_h, dWx, dWh, db) given dnext_h = dL/dnext_h, shape (B, H)."""
    x, prev_h, Wx, Wh, next_h = cache
    da = dnext_h * (1 - next_h ** 2)
    dx = da @ Wx.T
    dprev_h = da @ Wh.T
    dWx = x.T @ da
    dWh = prev_h.T @ da          # the bug: W_h multiplies prev_h, not next_h
    db = da.sum(axis=0)
    return dx, dprev_h, dWx, dWh, db

# %% exercise 6.2
def fixed_lstm_step_backward(dnext_h, dnext_c, cache):
    """(dx, dprev_h, dprev_c, dWx, dWh, db) from dnext_h, dnext_c (N, H)."""
    x, prev_h, prev_c, Wx, Wh, i, f, o, g, tanh_c = cache
    do = dnext_h * tanh_c
    dc = dnext_c + dnext_h * o * (1 - tanh_c ** 2)      # both paths into c_t
    di, df, dg = dc * g, dc * prev_c, dc * i
    dprev_c = dc * f
    # the bug: the blocks must follow the forward's gate order i, f, o, g
    da = np.concatenate([di * i * (1 - i), df * f * (1 - f), do * o * (1 - o), dg * (1 - g ** 2)],
                        axis=1)
    dx, dprev_h = da @ Wx.T, da @ Wh.T
    dWx, dWh, db = x.T @ da, prev_h.T @ da, da.sum(axis=0)
    return dx, dprev_h, dprev_c, dWx, dWh, db
