"""The benchmark models written with the engine's ops (what ``bench.run`` times).

Same models, shapes, loss and parameter names as ``bench.handwritten``: x (T,B,D) float64
time-major, targets (T,B) ints in [0, V), loss = softmax cross-entropy summed over all T*B
positions, h0 = c0 = 0, LSTM gate order i, f, g, o. Like the library's recurrent layers,
every timestep's ops are recorded under ``ar.scope(f"{kind}/layer0/t={t}")`` (t from 1) and
the hidden states are named ``h_{t}`` / ``c_{t}``; the output layer is applied once to the
stacked hidden states (T*B, H) @ (H, V), as ``SequenceModel`` does.

Per step the graph holds (RNN) matmul, matmul, add, add, tanh and (LSTM) additionally four
slices, three sigmoids, two tanh, three multiplies and one add: every op is a node, nothing
is fused. One call = one training step without the optimizer: forward + backward.
"""
from __future__ import annotations

import numpy as np

import autograd_rnn as ar

KEYS = {"rnn": ("W_x", "W_h", "b_h", "W_y", "b_y"), "lstm": ("W_x", "W_h", "b", "W_y", "b_y")}


def make_leaves(kind: str, params: dict) -> dict:
    """{name: leaf tensor requiring grad} from the NumPy parameters (copied)."""
    if kind not in KEYS:
        raise ValueError(f"kind must be 'rnn' or 'lstm', got {kind!r}")
    return {k: ar.tensor(params[k], requires_grad=True, name=k) for k in KEYS[kind]}


def cross_entropy_sum(y: ar.Tensor, targets: np.ndarray) -> ar.Tensor:
    """Softmax cross-entropy summed over rows: -sum_n log_softmax(y)[n, targets[n]].

    y (N, V) logits, targets (N,) ints. Returns a scalar tensor.
    """
    logp = ar.log_softmax(y, axis=1)
    rows = np.arange(y.shape[0])
    return -logp[rows, targets].sum()


def _output_loss(hs: list, W_y, b_y, targets: np.ndarray) -> ar.Tensor:
    T = len(hs)
    B, H = hs[0].shape
    with ar.scope("output"):
        y = ar.stack(hs, axis=0).reshape(T * B, H) @ W_y + b_y
        return cross_entropy_sum(y, targets.reshape(-1))


def _rnn_forward(P: dict, x: np.ndarray, targets: np.ndarray) -> ar.Tensor:
    T, B, _ = x.shape
    W_x, W_h, b_h = P["W_x"], P["W_h"], P["b_h"]
    h = ar.tensor(np.zeros((B, W_h.shape[0])), name="h_0")
    hs = []
    for t in range(T):
        with ar.scope(f"rnn/layer0/t={t + 1}"):
            # h_t = tanh(x_t W_x + h_{t-1} W_h + b_h)
            h = ar.tanh(ar.matmul(x[t], W_x) + h @ W_h + b_h)
            h.name = f"h_{t + 1}"
        hs.append(h)
    return _output_loss(hs, P["W_y"], P["b_y"], targets)


def _lstm_forward(P: dict, x: np.ndarray, targets: np.ndarray) -> ar.Tensor:
    T, B, _ = x.shape
    W_x, W_h, b = P["W_x"], P["W_h"], P["b"]
    H = W_h.shape[0]
    h = ar.tensor(np.zeros((B, H)), name="h_0")
    c = ar.tensor(np.zeros((B, H)), name="c_0")
    hs = []
    for t in range(T):
        with ar.scope(f"lstm/layer0/t={t + 1}"):
            a = ar.matmul(x[t], W_x) + h @ W_h + b  # [i, f, g, o] pre-activations (B, 4H)
            i = ar.sigmoid(a[:, :H])
            f = ar.sigmoid(a[:, H:2 * H])
            g = ar.tanh(a[:, 2 * H:3 * H])
            o = ar.sigmoid(a[:, 3 * H:])
            c = f * c + i * g
            h = o * ar.tanh(c)
            c.name = f"c_{t + 1}"
            h.name = f"h_{t + 1}"
        hs.append(h)
    return _output_loss(hs, P["W_y"], P["b_y"], targets)


def per_step_forward(kind: str, P: dict, x, targets) -> ar.Tensor:
    """The model written the way a student writes it (issue 14): the output layer and the
    ``log_softmax`` cross-entropy inside the time loop, the losses summed over t. Same loss
    and gradients as the batched model (``forward``)."""
    T, B, _ = x.shape
    H = P["W_h"].shape[0]
    h = ar.tensor(np.zeros((B, H)), name="h_0")
    c = ar.tensor(np.zeros((B, H)), name="c_0")
    rows = np.arange(B)
    total = None
    for t in range(T):
        with ar.scope(f"{kind}/layer0/t={t + 1}"):
            if kind == "rnn":
                h = ar.tanh(x[t] @ P["W_x"] + h @ P["W_h"] + P["b_h"])
            else:
                a = x[t] @ P["W_x"] + h @ P["W_h"] + P["b"]
                i, f = ar.sigmoid(a[:, :H]), ar.sigmoid(a[:, H:2 * H])
                g, o = ar.tanh(a[:, 2 * H:3 * H]), ar.sigmoid(a[:, 3 * H:])
                c = f * c + i * g
                h = o * ar.tanh(c)
            y = h @ P["W_y"] + P["b_y"]
            loss_t = -ar.log_softmax(y, axis=1)[rows, targets[t]].sum()
            total = loss_t if total is None else total + loss_t
    return total


_FORWARD = {"rnn": _rnn_forward, "lstm": _lstm_forward}
MODELS = ("batched", "per_step")


def forward(kind: str, leaves: dict, x, targets: np.ndarray) -> ar.Tensor:
    """Forward only: the summed loss, a scalar tensor carrying the whole graph.

    x: (T, B, D) array (or a Tensor, e.g. when traced by ``ar.compile``)."""
    return _FORWARD[kind](leaves, x, targets)


def build_loss(kind: str, params: dict, x: np.ndarray, targets: np.ndarray):
    """Forward only: (loss tensor with its whole graph, {name: leaf tensor})."""
    P = make_leaves(kind, params)
    return forward(kind, P, x, targets), P


def step(
    kind: str, leaves: dict, x: np.ndarray, targets: np.ndarray, record_gradients: bool = False,
    model: str = "batched",
) -> tuple[float, dict]:
    """One training step on existing leaves (what is timed): zero grads, forward, backward.

    With ``record_gradients=False`` (training, as ``ar.train.Trainer`` runs it) the graph is
    recorded lean (``ar.lean_graph()``: nodes keep only what their VJPs need) and freed as
    backward passes it (``retain_graph=False``); with it on, the full graph is kept with
    every node's value and gradient and every edge's contribution, ready to be drawn.
    ``model``: "batched" (``forward``) or "per_step" (``per_step_forward``).
    Returns (loss, {name: gradient array}).
    """
    for leaf in leaves.values():
        leaf.grad = None
    # forward and backward in one block, as the trainer runs them (leaving a lean block
    # re-enables the collector, which would then scan the whole graph before backward)
    with ar.lean_graph(not record_gradients), ar.record_gradients(record_gradients):
        if model == "per_step":
            loss = per_step_forward(kind, leaves, x, targets)
        else:
            loss = _FORWARD[kind](leaves, x, targets)
        loss.backward(retain_graph=record_gradients)
    return float(loss.data), {k: v.grad for k, v in leaves.items()}


def engine_step(
    kind: str, params: dict, x: np.ndarray, targets: np.ndarray, record_gradients: bool = False
) -> tuple[float, dict]:
    """``step`` on fresh leaves copied from ``params`` (same interface as the references).

    kind: 'rnn' | 'lstm'; params as from ``bench.handwritten.{rnn,lstm}_params``.
    Returns (loss: float, {name: np.ndarray gradient, same shape as params[name]}).
    """
    return step(kind, make_leaves(kind, params), x, targets, record_gradients)


def rnn_loss_and_grads(params, x, targets, record_gradients: bool = False):
    """Engine version of ``bench.handwritten.rnn_loss_and_grads`` (h0 = 0)."""
    return engine_step("rnn", params, x, targets, record_gradients)


def lstm_loss_and_grads(params, x, targets, record_gradients: bool = False):
    """Engine version of ``bench.handwritten.lstm_loss_and_grads`` (h0 = c0 = 0)."""
    return engine_step("lstm", params, x, targets, record_gradients)
