# Solutions to the exercises of 04_vanishing_and_exploding_gradients.ipynb. Each section
# replaces the notebook cell tagged "solution" with the same exercise number
# (scripts/exercises.py).

# %% exercise 4.1
def predicted_ratio_orthogonal(s, steps):
    """||dL/dh_1|| / ||dL/dh_steps|| for the linear RNN with W_h = s Q, Q orthogonal."""
    return s ** (steps - 1)        # steps - 1 factors W_h^T, each scales every norm by s

# %% exercise 4.2
def predicted_ratio_symmetric(lam, U, v, steps):
    """||dL/dh_1|| / ||dL/dh_steps|| for W_h = U diag(lam) U^T, dL/dh_steps = v (B, H)."""
    coefficients = v @ U                          # v in the eigenbasis, (B, H)
    scaled = coefficients * lam ** (steps - 1)    # (W_h^T)^(steps-1) scales component i by lam_i^(steps-1)
    return np.linalg.norm(scaled) / np.linalg.norm(coefficients)   # U orthogonal: norms unchanged

# %% exercise 4.3
def tbptt_by_hand(model, x, targets, k1, k2):
    """Accumulate the TBPTT(k1, k2) gradient of loss_fn into the model's .grad (k2 >= k1)."""
    steps = len(x)
    detached = {0: None}                  # step -> detached state after that many steps
    for end in range(k1, steps + 1, k1):
        start = max(0, end - k2)
        state, outputs = detached[start], []
        for t in range(start, end):
            y_t, state = model(x[t:t + 1], state)
            outputs.append(y_t)
            detached.setdefault(t + 1, detach_state(state))
        y = ar.concat(outputs[-k1:], axis=0)
        loss_fn(y, targets[end - k1:end]).backward()
