"""One-to-many generation from a trained model: text for the character task (sampling
with a temperature), a continued waveform for the sine task. Built on ``ar.nn.generate``."""

from __future__ import annotations

from typing import Any

import numpy as np

import autograd_rnn as ar
from autograd_rnn.nn import generate
from autograd_rnn.train.tasks import CharTask, SineTask


def _prime_state(model: Any, x: np.ndarray) -> Any:
    """The state after reading x (T, 1, D) (None when T == 0), without a graph."""
    if x.shape[0] == 0:
        return None
    with ar.no_grad():
        _, state = model(x, None)
    return state


def sample_text(model: Any, task: CharTask, length: int, temperature: float = 1.0,
                prime: str = "", seed: int = 0) -> str:
    """``prime`` followed by ``length`` sampled characters.

    Each next character is drawn from softmax(y_t / temperature): temperature < 1 is more
    conservative, > 1 more surprising, 0 always takes the most likely character. An empty
    prime starts from a character drawn by its frequency in the training text.
    """
    if length < 1:
        raise ValueError(f"length must be >= 1, got {length}")
    if temperature < 0:
        raise ValueError(f"temperature must be >= 0, got {temperature}")
    rng = np.random.default_rng(seed)
    if prime:
        ids = task.encode(prime)
    else:
        counts = np.bincount(task.ids, minlength=len(task.vocab))
        ids = np.array([rng.choice(len(task.vocab), p=counts / counts.sum())])
        prime = task.decode(ids)
    state = _prime_state(model, task.one_hot(ids[:-1])[:, None, :])
    out = generate(model, ids[-1:], length, temperature=temperature or 1.0, rng=rng,
                   feed_back="argmax" if temperature == 0 else "sample", state=state)
    return prime + task.decode(out[:, 0])


def continue_sine(model: Any, task: SineTask, prime_len: int, length: int,
                  seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Read ``prime_len`` true values, then feed the model's own predictions back for
    ``length`` steps. Returns (predicted (length,), true continuation (length,))."""
    if prime_len < 1 or length < 1:
        raise ValueError(f"prime_len and length must be >= 1, got {prime_len}, {length}")
    batch = task.batch(np.random.default_rng(seed), 1, prime_len + length)
    signal = np.concatenate([batch.x[:, 0, 0], batch.target[-1:, 0, 0]])
    state = _prime_state(model, batch.x[: prime_len - 1])
    out = generate(model, batch.x[prime_len - 1, 0], length, feed_back="value", state=state)
    return out[:, 0], signal[prime_len : prime_len + length]
