"""Optional PyTorch versions of the benchmark models (torch is never required).

Same models, shapes and loss as bench.handwritten (x (T,B,D) float64, targets (T,B) int,
loss = softmax cross-entropy summed over T*B, h0 = c0 = 0, LSTM gate order i,f,g,o), run in
float64 eager mode:

- torch_primitive_step: the model spelled out per timestep from primitive ops (matmul, add,
  tanh, sigmoid, mul) and the output layer once over the stacked hidden states (stack,
  matmul, add, log_softmax, gather): the same graph as bench.engine_models, op for op, so
  the comparison measures the per-node cost of a tape-based engine written in C++.
- torch_fused_step: nn.RNN / nn.LSTM (fused cuDNN-style kernels on CPU) + nn.Linear.

Both return (loss: float, grads: dict of numpy arrays in our naming/shapes).

Threads: torch's intra-op thread count is left at its default (usually the number of
cores), as is NumPy's BLAS. For strictly single-threaded comparisons set
torch.set_num_threads(1) and e.g. OMP_NUM_THREADS=1 / OPENBLAS_NUM_THREADS=1 in the caller.
torch is imported inside the functions so importing this module never needs it.
"""

_KEYS = {"rnn": ("W_x", "W_h", "b_h", "W_y", "b_y"), "lstm": ("W_x", "W_h", "b", "W_y", "b_y")}


def torch_available():
    """True if `import torch` works."""
    try:
        import torch  # noqa: F401
    except ImportError:
        return False
    return True


def _check_kind(kind):
    if kind not in _KEYS:
        raise ValueError(f"kind must be 'rnn' or 'lstm', got {kind!r}")


def _setup(kind, params, x, targets):
    """(torch, leaves, x, targets, zeros (B, H) for h and c) for the primitive-op steps."""
    import torch

    _check_kind(kind)
    p = {k: torch.tensor(params[k], dtype=torch.float64, requires_grad=True) for k in _KEYS[kind]}
    xt = torch.as_tensor(x, dtype=torch.float64)
    tg = torch.as_tensor(targets, dtype=torch.int64)
    zeros = torch.zeros(xt.shape[1], p["W_h"].shape[0], dtype=torch.float64)
    return torch, p, xt, tg, zeros


def _cell(torch, kind, p, x_t, h, c):
    """One timestep from primitive ops: (h, c) after input x_t (B, D); c unused by the RNN."""
    if kind == "rnn":
        return torch.tanh(torch.matmul(x_t, p["W_x"]) + torch.matmul(h, p["W_h"]) + p["b_h"]), c
    H = h.shape[1]
    a = torch.matmul(x_t, p["W_x"]) + torch.matmul(h, p["W_h"]) + p["b"]
    i, f = torch.sigmoid(a[:, :H]), torch.sigmoid(a[:, H:2 * H])
    g, o = torch.tanh(a[:, 2 * H:3 * H]), torch.sigmoid(a[:, 3 * H:])
    c = torch.mul(f, c) + torch.mul(i, g)
    return torch.mul(o, torch.tanh(c)), c


def torch_primitive_step(kind, params, x, targets):
    """Forward + backward from primitive ops per step. kind: 'rnn' | 'lstm'.

    params: dict as from bench.handwritten.{rnn,lstm}_params; x (T,B,D); targets (T,B).
    Returns (loss, {name: np.ndarray same shape as params[name]}).
    """
    torch, p, xt, tg, h = _setup(kind, params, x, targets)
    T, B, _ = xt.shape
    H = h.shape[1]
    c, hs = h, []
    for t in range(T):
        h, c = _cell(torch, kind, p, xt[t], h, c)
        hs.append(h)
    # output layer once over all steps, as bench.engine_models does (same graph)
    y = torch.matmul(torch.stack(hs).reshape(T * B, H), p["W_y"]) + p["b_y"]
    logp = torch.log_softmax(y, dim=1)
    loss = -torch.gather(logp, 1, tg.reshape(T * B, 1)).sum()
    loss.backward()
    return float(loss.detach()), {k: v.grad.numpy().copy() for k, v in p.items()}


def torch_per_step_step(kind, params, x, targets):
    """Forward + backward of the per-step-output model (``engine_models.per_step_forward``)
    from primitive ops: output layer, log_softmax and the picked log-probabilities inside
    the time loop, losses summed over t. Same interface as ``torch_primitive_step``."""
    torch, p, xt, tg, h = _setup(kind, params, x, targets)
    c, rows, total = h, torch.arange(xt.shape[1]), None
    for t in range(xt.shape[0]):
        h, c = _cell(torch, kind, p, xt[t], h, c)
        y = torch.matmul(h, p["W_y"]) + p["b_y"]
        loss_t = -torch.log_softmax(y, dim=1)[rows, tg[t]].sum()
        total = loss_t if total is None else total + loss_t
    total.backward()
    return float(total.detach()), {k: v.grad.numpy().copy() for k, v in p.items()}


def torch_fused_step(kind, params, x, targets):
    """Forward + backward with nn.RNN(tanh) / nn.LSTM + nn.Linear. kind: 'rnn' | 'lstm'.

    Weights copied as weight_ih_l0 = W_x.T, weight_hh_l0 = W_h.T, bias_ih_l0 = b (b_h for
    the RNN), bias_hh_l0 = 0; the bias gradient is read from bias_ih_l0 (dL/db_ih = dL/db).
    Returns (loss, {name: np.ndarray same shape as params[name]}).
    """
    import torch

    _check_kind(kind)
    bkey = "b_h" if kind == "rnn" else "b"
    D = params["W_x"].shape[0]
    H = params["W_h"].shape[0]
    V = params["W_y"].shape[1]
    f64 = torch.float64
    if kind == "rnn":
        core = torch.nn.RNN(D, H, nonlinearity="tanh", dtype=f64)
    else:
        core = torch.nn.LSTM(D, H, dtype=f64)
    out = torch.nn.Linear(H, V, dtype=f64)

    def t_(a):
        return torch.as_tensor(a, dtype=f64)

    with torch.no_grad():
        core.weight_ih_l0.copy_(t_(params["W_x"]).T)
        core.weight_hh_l0.copy_(t_(params["W_h"]).T)
        core.bias_ih_l0.copy_(t_(params[bkey]))
        core.bias_hh_l0.zero_()
        out.weight.copy_(t_(params["W_y"]).T)
        out.bias.copy_(t_(params["b_y"]))
    xt = t_(x)
    T, B, _ = xt.shape
    hs, _ = core(xt)  # (T,B,H), zero initial state
    logits = out(hs.reshape(T * B, H))
    tg = torch.as_tensor(targets, dtype=torch.int64).reshape(-1)
    loss = torch.nn.functional.cross_entropy(logits, tg, reduction="sum")
    loss.backward()
    grads = {
        "W_x": core.weight_ih_l0.grad.T.numpy().copy(),
        "W_h": core.weight_hh_l0.grad.T.numpy().copy(),
        bkey: core.bias_ih_l0.grad.numpy().copy(),
        "W_y": out.weight.grad.T.numpy().copy(),
        "b_y": out.bias.grad.numpy().copy(),
    }
    return float(loss.detach()), grads
