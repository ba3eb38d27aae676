"""The classic hand-written character-level RNN loop (the min-char-rnn algorithm), as the
reference contender of ``bench.train_compare``.

The well-known script's algorithm, rewritten here: column vectors (V, 1) and (H, 1), one
timestep at a time, batch 1, parameters ``Wxh`` (H, V), ``Whh`` (H, H), ``Why`` (V, H),
``bh`` (H, 1), ``by`` (V, 1) drawn as N(0, 0.01^2), a data pointer walking through the text
``seq_length`` characters per iteration with the hidden state carried from one iteration to
the next (reset at the start and when the text runs out), softmax probabilities
exp(y) / sum(exp(y)), gradients clipped to [-5, 5] element-wise, and Adagrad
(mem += g^2; p -= lr * g / sqrt(mem + 1e-8)). Sampling and printing are left out: one
``iteration()`` is one training step, as ``autograd-rnn train --task chars --stream --batch 1``
takes one.
"""

from __future__ import annotations

import numpy as np


class MinCharRNN:
    """State of one classic run over ``text``: parameters, Adagrad memories, the pointer."""

    def __init__(self, text: str, hidden_size: int = 100, seq_length: int = 25,
                 learning_rate: float = 0.1, seed: int = 0) -> None:
        self.data = text
        chars = sorted(set(text))
        self.vocab_size = V = len(chars)
        self.char_to_ix = {ch: i for i, ch in enumerate(chars)}
        self.hidden_size = H = hidden_size
        self.seq_length = seq_length
        self.learning_rate = learning_rate
        rng = np.random.default_rng(seed)
        self.Wxh = rng.standard_normal((H, V)) * 0.01
        self.Whh = rng.standard_normal((H, H)) * 0.01
        self.Why = rng.standard_normal((V, H)) * 0.01
        self.bh = np.zeros((H, 1))
        self.by = np.zeros((V, 1))
        self.params = [self.Wxh, self.Whh, self.Why, self.bh, self.by]
        self.mems = [np.zeros_like(p) for p in self.params]
        self.n = self.p = 0
        self.hprev = np.zeros((H, 1))
        self.smooth_loss = -np.log(1.0 / V) * seq_length

    def loss_fun(self, inputs: list[int], targets: list[int], hprev: np.ndarray):
        """Forward and backward over one chunk; returns (loss, gradients, last hidden)."""
        V = self.vocab_size
        Wxh, Whh, Why, bh, by = self.params
        xs, hs, ys, ps = {}, {}, {}, {}
        hs[-1] = np.copy(hprev)
        loss = 0.0
        for t in range(len(inputs)):
            xs[t] = np.zeros((V, 1))
            xs[t][inputs[t]] = 1
            hs[t] = np.tanh(np.dot(Wxh, xs[t]) + np.dot(Whh, hs[t - 1]) + bh)
            ys[t] = np.dot(Why, hs[t]) + by
            ps[t] = np.exp(ys[t]) / np.sum(np.exp(ys[t]))
            loss += -np.log(ps[t][targets[t], 0])
        dWxh, dWhh, dWhy = np.zeros_like(Wxh), np.zeros_like(Whh), np.zeros_like(Why)
        dbh, dby = np.zeros_like(bh), np.zeros_like(by)
        dhnext = np.zeros_like(hs[0])
        for t in reversed(range(len(inputs))):
            dy = np.copy(ps[t])
            dy[targets[t]] -= 1
            dWhy += np.dot(dy, hs[t].T)
            dby += dy
            dh = np.dot(Why.T, dy) + dhnext
            dhraw = (1 - hs[t] * hs[t]) * dh
            dbh += dhraw
            dWxh += np.dot(dhraw, xs[t].T)
            dWhh += np.dot(dhraw, hs[t - 1].T)
            dhnext = np.dot(Whh.T, dhraw)
        grads = [dWxh, dWhh, dWhy, dbh, dby]
        for dparam in grads:
            np.clip(dparam, -5, 5, out=dparam)
        return loss, grads, hs[len(inputs) - 1]

    def iteration(self) -> float:
        """One training iteration: next chunk, forward/backward, Adagrad; returns its loss."""
        T = self.seq_length
        if self.p + T + 1 >= len(self.data) or self.n == 0:
            self.hprev = np.zeros((self.hidden_size, 1))
            self.p = 0
        inputs = [self.char_to_ix[ch] for ch in self.data[self.p:self.p + T]]
        targets = [self.char_to_ix[ch] for ch in self.data[self.p + 1:self.p + T + 1]]
        loss, grads, self.hprev = self.loss_fun(inputs, targets, self.hprev)
        self.smooth_loss = self.smooth_loss * 0.999 + loss * 0.001
        for param, dparam, mem in zip(self.params, grads, self.mems, strict=True):
            mem += dparam * dparam
            param += -self.learning_rate * dparam / np.sqrt(mem + 1e-8)
        self.p += T
        self.n += 1
        return float(loss)
