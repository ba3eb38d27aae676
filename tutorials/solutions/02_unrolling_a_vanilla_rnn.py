# Solutions to the exercises of 02_unrolling_a_vanilla_rnn.ipynb. Each section replaces the
# notebook cell tagged "solution" with the same exercise number (scripts/exercises.py).

# %% exercise 2.1
def predicted_node_count(T):
    """Number of nodes (leaves and ops) in the graph of unroll(T)[0]."""
    # once: 5 parameters and h_0. Every step: x_t, 5 cell ops, 2 output ops, 3 loss ops;
    # every step after the first: one add accumulating the total loss.
    return 5 + 1 + 11 * T + (T - 1)

# %% exercise 2.2
def stacked_rnn(x, layers, W_y, b_y):
    """Two-layer RNN over x (T, B, D), an array.

    layers: [(W_x, W_h, b_h) of layer 1, (W_x, W_h, b_h) of layer 2], tensors; W_x of layer 2 is (H, H).
    Returns (ys, hs): ys a list of the T tensors y_t (B, V); hs[l] the list of the T tensors h_t (B, H)
    of layer l + 1.
    """
    B = x.shape[1]
    h = [ar.tensor(np.zeros((B, W_h.shape[0]))) for _, W_h, _ in layers]
    ys, hs = [], [[] for _ in layers]
    for x_t in x:
        inp = ar.tensor(x_t)
        for layer, (W_x, W_h, b_h) in enumerate(layers):
            h[layer] = (inp @ W_x + h[layer] @ W_h + b_h).tanh()
            hs[layer].append(h[layer])
            inp = h[layer]
        ys.append(inp @ W_y + b_y)
    return ys, hs
