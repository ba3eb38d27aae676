"""Scale: a vanilla RNN unrolled 10,000 steps (H=16, B=1) runs forward, backward and an
optimizer step, with gradients equal to a hand-written NumPy BPTT over all 10,000 steps, under
a recursion limit of 400 (graph code must never recurse); the trainer checkpoints such a run;
its graph exports to DOT collapsed to one node per cell per step. Memory growth with T is
measured by ``python -m bench.memory_scaling`` (a report, not an assertion)."""

from __future__ import annotations

import re
import sys

import numpy as np
import pytest

import autograd_rnn as ar
from autograd_rnn.train import mse_loss

T_LONG = 10_000
H = 16
GRAD_RTOL = 1e-9  # same float64 arithmetic, different summation order


def _model_and_data(T=T_LONG):
    model = ar.nn.SequenceModel("rnn", 1, H, 1, seed=0)
    x = np.random.default_rng(0).standard_normal((T, 1, 1))
    target = np.sin(np.linspace(0, 60, T)).reshape(T, 1, 1)
    return model, x, target


def _numpy_bptt(p, x, target):
    """Loss and gradients of mean_t (h_t W_y + b_y - target_t)^2 with
    h_t = tanh(x_t W_x + h_{t-1} W_h + b_h), h_0 = 0, written out by hand."""
    T = x.shape[0]
    hs = np.zeros((T + 1, 1, H))
    for t in range(T):
        hs[t + 1] = np.tanh(x[t] @ p["W_x"] + hs[t] @ p["W_h"] + p["b_h"])
    y = hs[1:] @ p["W_y"] + p["b_y"]
    dy = 2 * (y - target) / y.size
    g = {k: np.zeros_like(v) for k, v in p.items()}
    g["W_y"] = np.einsum("tbh,tbv->hv", hs[1:], dy)
    g["b_y"] = dy.sum(axis=(0, 1))
    dh_next = np.zeros((1, H))
    for t in reversed(range(T)):
        dh = dy[t] @ p["W_y"].T + dh_next
        da = dh * (1 - hs[t + 1] ** 2)
        g["W_x"] += x[t].T @ da
        g["W_h"] += hs[t].T @ da
        g["b_h"] += da.sum(axis=0)
        dh_next = da @ p["W_h"].T
    return float(np.mean((y - target) ** 2)), g


def _short(name: str) -> str:
    return name.rsplit(".", 1)[-1]


@pytest.mark.slow
@pytest.mark.parametrize("record", [True, False], ids=["recording", "training-mode"])
def test_rnn_unrolled_10000_steps_trains_one_step(record):
    model, x, target = _model_and_data()
    params = dict(model.named_parameters())
    expected_loss, expected = _numpy_bptt({_short(k): v.data for k, v in params.items()}, x, target)
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(400)  # any recursion over the 10,000 steps would hit this
    try:
        with ar.record_gradients(record):
            y, _ = model(x)
            loss = mse_loss(y, target)
            loss.backward()
            nodes = ar.reachable([loss])
    finally:
        sys.setrecursionlimit(limit)
    assert len(nodes) > 6 * T_LONG
    np.testing.assert_allclose(float(loss.data), expected_loss, rtol=1e-12)
    for name, p in params.items():
        np.testing.assert_allclose(
            p.grad, expected[_short(name)], rtol=GRAD_RTOL, atol=1e-15, err_msg=name
        )
    lr = 0.05
    before = {k: v.data.copy() for k, v in params.items()}
    ar.optim.SGD(model.parameters(), lr=lr).step()
    for name, p in params.items():
        np.testing.assert_allclose(
            p.data, before[name] - lr * expected[_short(name)], rtol=1e-12, atol=1e-15, err_msg=name
        )
    with ar.no_grad():
        after = float(mse_loss(model(x)[0], target).data)
    assert after < expected_loss, (after, expected_loss)


@pytest.mark.slow
def test_trainer_step_on_a_10000_step_sequence_checkpoints_and_resumes(tmp_path):
    from autograd_rnn.train import TrainConfig, Trainer

    path = tmp_path / "long.npz"
    config = TrainConfig(task="sine", cell="rnn", seq_len=T_LONG, hidden=H, batch=1)
    result = Trainer(config).run(1, checkpoint=path, progress=False)
    assert result.step == 1 and np.isfinite(result.recent_loss)
    resumed = Trainer.from_checkpoint(path)
    assert resumed.step == 1 and resumed.config.seq_len == T_LONG


@pytest.mark.slow
def test_10000_step_graph_exports_collapsed_to_dot(tmp_path):
    import autograd_rnn.viz as viz

    model, x, target = _model_and_data()
    y, _ = model(x)
    loss = mse_loss(y, target)
    loss.backward()
    path = viz.render(loss, tmp_path / "long.dot", detail="cells")
    source = path.read_text()
    assert source.startswith("digraph")
    assert f"rnn/layer0 t={T_LONG}\\n" in source
    assert f"grad = sum of {T_LONG} edges" in source  # W_h: one gradient edge per step
    n_nodes = len(re.findall(r"^\s*n\d+ \[label=", source, re.M))
    # per step: a cell, an output node and the input x_t (drawn in its own box)
    assert 3 * T_LONG <= n_nodes < 3 * T_LONG + 50
