"""Truncated BPTT: equals full BPTT when k2 >= T, equals hand-chunked detached training
when k1 = k2 = k, and cuts the graph where it should."""

import numpy as np
import pytest

import autograd_rnn as ar
from autograd_rnn.optim import SGD
from autograd_rnn.train.losses import mse_loss
from autograd_rnn.train.tbptt import NonFiniteLossError, detach_state, tbptt, windows

SAME = 1e-12


def _sum_loss(y, target, mask):
    return mse_loss(y, target, mask, reduction="sum")


def _data(T=7, B=2, D=3, V=2, seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(T, B, D)), rng.normal(size=(T, B, V))


def _grads(model):
    return {n: p.grad.copy() for n, p in model.named_parameters()}


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
@pytest.mark.parametrize("k1", [1, 3, 7])
@pytest.mark.parametrize("k2", [7, 50])
def test_k2_at_least_T_gives_the_full_bptt_gradient(cell, k1, k2):
    x, target = _data()
    model = ar.nn.SequenceModel(cell, 3, 4, 2, seed=1)
    y, _ = model(x)
    _sum_loss(y, target, None).backward()
    full = _grads(model)
    model.zero_grad()
    result = tbptt(model, x, target, _sum_loss, k1=k1, k2=k2)  # no optimizer: accumulate
    assert result.updates == -(-7 // k1)
    for name, g in _grads(model).items():
        assert np.allclose(g, full[name], atol=SAME, rtol=0), name


def test_k1_equals_k2_equals_hand_chunked_detached_training():
    x, target = _data(T=9)  # three whole chunks of 3
    model = ar.nn.SequenceModel("lstm", 3, 4, 2, seed=2)
    state = None
    for a in range(0, 9, 3):
        y, state = model(x[a : a + 3], state)
        _sum_loss(y, target[a : a + 3], None).backward()
        state = tuple(s.detach() for s in state)
    by_hand = _grads(model)
    model.zero_grad()
    tbptt(model, x, target, _sum_loss, k1=3, k2=3)
    for name, g in _grads(model).items():
        assert np.allclose(g, by_hand[name], atol=SAME, rtol=0), name
    # and the truncated gradient really differs from the full one
    model.zero_grad()
    y, _ = model(x)
    _sum_loss(y, target, None).backward()
    assert not np.allclose(_grads(model)["rnn.cells.0.W_h"], by_hand["rnn.cells.0.W_h"])


def test_chunks_start_from_detached_states_that_remember_the_cut():
    x, target = _data(T=6)
    model = ar.nn.SequenceModel("rnn", 3, 4, 2, seed=3)
    seen = []

    def recording(x_chunk, state):
        seen.append(state)
        return model(x_chunk, state)

    result = tbptt(recording, x, target, _sum_loss, k1=2, k2=2)
    assert seen[0] is None
    for state in seen[1:]:
        # a leaf cut from the graph, remembering (weakly) what it was cut from
        assert state.is_leaf and not state.requires_grad and state.detached_from is not None
    assert result.state.is_leaf and result.state.shape == (1, 2, 4)


def test_window_layout_for_overlapping_and_gapped_truncation():
    assert windows(10, 3, 5) == [(0, 0, 3), (1, 3, 6), (4, 6, 9), (5, 9, 10)]
    assert windows(10, 4, 2) == [(2, 2, 4), (6, 6, 8), (8, 8, 10)]
    assert windows(5, 5, 5) == [(0, 0, 5)]
    with pytest.raises(ValueError, match="k1 must be an integer >= 1"):
        windows(5, 0, 5)


def test_overlapping_window_recomputes_from_the_stored_state():
    # k1=2, k2=3: window 2 covers steps [1, 4) from the detached state at step 1,
    # with losses on steps 2 and 3 only
    x, target = _data(T=4)
    model = ar.nn.SequenceModel("gru", 3, 4, 2, seed=4)
    with ar.no_grad():
        _, h1 = model(x[:1])
    y, _ = model(x[1:4], detach_state(h1))
    y01, _ = model(x[:2])
    (_sum_loss(y01, target[:2], None) + _sum_loss(y[1:], target[2:4], None)).backward()
    by_hand = _grads(model)
    model.zero_grad()
    tbptt(model, x, target, _sum_loss, k1=2, k2=3)
    for name, g in _grads(model).items():
        assert np.allclose(g, by_hand[name], atol=SAME, rtol=0), name


def test_gapped_window_skips_steps_without_a_graph():
    # k1=4, k2=2 on T=4: steps 0-1 run without a graph, only steps 2-3 are trained on
    x, target = _data(T=4)
    model = ar.nn.SequenceModel("rnn", 3, 4, 2, seed=5)
    with ar.no_grad():
        _, h2 = model(x[:2])
    y, _ = model(x[2:], detach_state(h2))
    _sum_loss(y, target[2:], None).backward()
    by_hand = _grads(model)
    model.zero_grad()
    tbptt(model, x, target, _sum_loss, k1=4, k2=2)
    for name, g in _grads(model).items():
        assert np.allclose(g, by_hand[name], atol=SAME, rtol=0), name


def test_masked_windows_are_skipped_and_optimizer_steps_once_per_window():
    x, target = _data(T=6)
    model = ar.nn.SequenceModel("rnn", 3, 4, 2, seed=6)
    opt = SGD(model.parameters(), lr=0.01)
    mask = np.zeros((6, 2))
    mask[-1] = 1.0  # many-to-one: only the last window has a loss
    result = tbptt(model, x, target, _sum_loss, k1=2, k2=6, mask=mask, optimizer=opt)
    assert result.updates == 1 and opt.step_count == 1 and len(result.grad_norms) == 1
    result = tbptt(model, x, target, _sum_loss, k1=2, k2=2, optimizer=opt)
    assert result.updates == 3 and opt.step_count == 4


def test_non_finite_loss_raises_before_any_update():
    x, target = _data(T=3)
    target[1, 0, 0] = np.nan
    model = ar.nn.SequenceModel("rnn", 3, 4, 2, seed=7)
    before = model.state_dict()
    opt = SGD(model.parameters(), lr=0.1)
    with pytest.raises(NonFiniteLossError, match="loss is nan"):
        tbptt(model, x, target, _sum_loss, optimizer=opt)
    assert all(np.array_equal(v, model.state_dict()[k]) for k, v in before.items())


def test_parameter_finiteness_check_is_exact():
    from autograd_rnn.train.window import _first_non_finite as first

    big = np.full((3, 4), 1e200)  # its dot with itself overflows: the extremes decide
    assert first([big, np.zeros((0, 3)), np.ones((2, 2))[:, :1]]) is None
    for bad in (np.nan, np.inf, -np.inf):
        for base in (np.ones((3, 4)), big.copy(), np.ones((3, 4), dtype=np.float32)):
            base[1, 2] = bad
            assert first([base]) == 0 and first([base.T]) == 0
            assert first([np.ones(2), big, base, base]) == 2  # the first bad one
