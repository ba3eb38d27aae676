"""Recurrent models in random configurations (cell, layers, direction, learned initial
state, sequence length, batch size including 1, per-sequence lengths including 0 and T,
float32 or float64): the gradients of every parameter and of the input equal central
differences in float64, and float32 models stay float32 through forward and backward."""

from __future__ import annotations

import os

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import autograd_rnn as ar
from autograd_rnn.train import cross_entropy

MAX_EXAMPLES = int(os.environ.get("REL_MAX_EXAMPLES", 12))
SETTINGS = settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
ENTRIES = 6  # random entries checked per parameter (keeps each example fast)


@st.composite
def configs(draw):
    T = draw(st.integers(1, 4))
    B = draw(st.integers(1, 3))
    lengths = draw(st.none() | st.lists(st.integers(0, T), min_size=B, max_size=B))
    return {
        "cell": draw(st.sampled_from(["rnn", "lstm", "gru"])),
        "layers": draw(st.integers(1, 2)),
        "bidirectional": draw(st.booleans()),
        "learn_initial_state": draw(st.booleans()),
        "T": T,
        "B": B,
        "lengths": lengths,
    }


def _model(c, seed):
    return ar.nn.SequenceModel(
        c["cell"],
        2,
        3,
        4,
        num_layers=c["layers"],
        bidirectional=c["bidirectional"],
        learn_initial_state=c["learn_initial_state"],
        seed=seed,
    )


def _loss(model, x, c, targets, masked=True):
    y, _ = model(x, lengths=c["lengths"])
    mask = None
    if masked and c["lengths"] is not None:
        mask = np.arange(c["T"])[:, None] < np.asarray(c["lengths"])[None, :]
    return cross_entropy(y, targets, mask=mask, reduction="sum")


@SETTINGS
@given(c=configs(), seed=st.integers(0, 2**16))
def test_random_recurrent_configuration_gradients(c, seed):
    model = _model(c, seed)
    rng = np.random.default_rng(seed)
    x = ar.tensor(rng.standard_normal((c["T"], c["B"], 2)), requires_grad=True, name="x")
    targets = rng.integers(0, 4, (c["T"], c["B"]))
    params = dict(model.named_parameters())
    report = ar.gradcheck(
        lambda x_, *_: _loss(model, x_, c, targets),
        [x, *params.values()],
        names=["x", *params],
        max_entries=ENTRIES,
        seed=seed,
    )
    assert report, f"{c}\n{report}"


@SETTINGS
@given(c=configs(), seed=st.integers(0, 2**16), record=st.booleans())
def test_random_recurrent_configuration_keeps_float32(c, seed, record):
    model = _model(c, seed)
    for p in model.parameters():
        p.data = p.data.astype(np.float32)
    rng = np.random.default_rng(seed)
    x = ar.tensor(rng.standard_normal((c["T"], c["B"], 2)).astype(np.float32), requires_grad=True)
    with ar.record_gradients(record):
        loss = _loss(model, x, c, rng.integers(0, 4, (c["T"], c["B"])), masked=False)
        assert loss.dtype == np.float32
        loss.backward()
    assert x.grad.dtype == np.float32
    for name, p in model.named_parameters():
        assert p.grad is None or p.grad.dtype == np.float32, (name, p.grad.dtype)
    for node in ar.reachable([loss]):
        assert node.data.dtype == np.float32, node.label


@SETTINGS
@given(c=configs(), seed=st.integers(0, 2**16))
def test_training_mode_gradients_equal_recording_mode(c, seed):
    """``record_gradients(False)`` takes fast paths (stacked weight products, in-place slice
    gradients); parameter and input gradients must not change."""
    rng = np.random.default_rng(seed)
    x_data = rng.standard_normal((c["T"], c["B"], 2))
    targets = rng.integers(0, 4, (c["T"], c["B"]))
    results = []
    for record in (True, False):
        model = _model(c, seed)
        x = ar.tensor(x_data, requires_grad=True)
        with ar.record_gradients(record):
            _loss(model, x, c, targets).backward()
        results.append([x.grad] + [p.grad for p in model.parameters()])
    for k, (on, off) in enumerate(zip(*results, strict=True)):
        assert (on is None) == (off is None), k
        if on is not None:
            np.testing.assert_allclose(off, on, rtol=1e-10, atol=1e-13, err_msg=str(k))
