"""The main demo: build an unrolled RNN graph, backpropagate through time, check the
gradients numerically and save the graph. Grows with the project."""

from __future__ import annotations

from pathlib import Path

import numpy as np

import autograd_rnn as ar


def _unrolled_rnn_loss(x, targets, W_x, W_h, b_h, W_y, b_y):
    """Vanilla tanh RNN over x (T, B, D), squared error summed over time."""
    h = ar.tensor(np.zeros((x.shape[1], W_h.shape[0])), name="h_0")
    loss = 0.0
    for t in range(x.shape[0]):
        with ar.scope(f"rnn/t={t + 1}"):
            x_t = ar.tensor(x[t], name=f"x_{t + 1}")
            h = (x_t @ W_x + h @ W_h + b_h).tanh()
            h.name = f"h_{t + 1}"
            y = h @ W_y + b_y
            loss = loss + ((y - targets[t]) ** 2).sum()
    return loss


def run_demo(out_dir: str = "out/demo", seed: int = 0) -> bool:
    rng = np.random.default_rng(seed)
    T, B, D, H, V = 4, 2, 3, 5, 2
    params = {
        "W_x": rng.normal(0, 0.5, (D, H)),
        "W_h": rng.normal(0, 0.5, (H, H)),
        "b_h": np.zeros(H),
        "W_y": rng.normal(0, 0.5, (H, V)),
        "b_y": np.zeros(V),
    }
    weights = [ar.tensor(v, requires_grad=True, name=k) for k, v in params.items()]
    x = rng.normal(size=(T, B, D))
    targets = rng.normal(size=(T, B, V))
    loss = _unrolled_rnn_loss(x, targets, *weights)
    loss.backward()
    nodes = ar.reachable([loss], only_requires_grad=False)
    print(f"unrolled {T} steps: {len(nodes)} graph nodes, loss {loss.item():.4f}")
    for w in weights:
        print(f"  dL/d{w.name}: norm {np.linalg.norm(w.grad):.4f}")
    report = ar.gradcheck(lambda *ws: _unrolled_rnn_loss(x, targets, *ws), weights)
    print(report)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    print(f"files are in {out.resolve()}")
    return bool(report)
