# Solutions to the exercises of 03_bptt_emerges.ipynb. Each section replaces the notebook
# cell tagged "solution" with the same exercise number (scripts/exercises.py).

# %% exercise 3.1
def contribution(param_name, t):
    """Step t's term of dL/dW_x (D, H) if param_name == "W_x", of dL/db_h (H,) if "b_h"."""
    g = grad_at_a(t)
    if param_name == "W_x":
        return x[t - 1].T @ g          # the matmul x_t W_x: VJP for W_x is x_t^T g
    if param_name == "b_h":
        return g.sum(axis=0)           # b_h broadcast over the batch
    raise ValueError(f"unknown parameter {param_name!r}")

# %% exercise 3.2
def bptt_numpy(x, targets, W_x, W_h, b_h, W_y, b_y):
    """Loss and gradients of the vanilla RNN above, by hand.

    x (T, B, D), targets (T, B, V); parameters as NumPy arrays. Returns (loss, grads, per_step_W_h,
    dh_all): grads a dict name -> gradient (the shape of the parameter), per_step_W_h[t - 1] the term
    h_{t-1}^T da_t (H, H) of step t, dh_all[t - 1] = dL/dh_t (B, H).
    """
    T, B, _ = x.shape
    h = [np.zeros((B, W_h.shape[0]))]            # h[t] = h_t, h[0] = h_0
    y = []                                        # y[t - 1] = y_t
    for t in range(T):
        h.append(np.tanh(x[t] @ W_x + h[-1] @ W_h + b_h))
        y.append(h[-1] @ W_y + b_y)
    loss = sum(0.5 * ((y[t] - targets[t]) ** 2).sum() for t in range(T))

    grads = {k: np.zeros_like(v) for k, v in dict(W_x=W_x, W_h=W_h, b_h=b_h, W_y=W_y, b_y=b_y).items()}
    per_step_W_h, dh_all = [None] * T, [None] * T
    dh_next = np.zeros((B, W_h.shape[0]))
    for t in reversed(range(T)):                 # 0-based: step t + 1 of the text
        dy = y[t] - targets[t]
        grads["W_y"] += h[t + 1].T @ dy
        grads["b_y"] += dy.sum(axis=0)
        dh = dy @ W_y.T + dh_next
        da = dh * (1 - h[t + 1] ** 2)
        grads["W_x"] += x[t].T @ da
        per_step_W_h[t] = h[t].T @ da
        grads["W_h"] += per_step_W_h[t]
        grads["b_h"] += da.sum(axis=0)
        dh_all[t] = dh
        dh_next = da @ W_h.T
    return loss, grads, per_step_W_h, dh_all
