"""In-place optimizer steps and clipping (compiled training): bit-identical to ``step()`` and
the clipping of ``p.grad``, and allocating nothing per step."""

import tracemalloc

import numpy as np
import pytest

import autograd_rnn as ar
from autograd_rnn.core.tensor import value_of
from autograd_rnn.optim import (
    clip_grad_norm,
    clip_grad_value,
    clip_norm_,
    clip_value_,
    make_optimizer,
)

SETTINGS = {
    "sgd": {}, "sgd-momentum": {"momentum": 0.9}, "sgd-nesterov": {"momentum": 0.9,
                                                                   "nesterov": True},
    "sgd-decay": {"weight_decay": 0.01}, "adagrad": {}, "rmsprop": {"weight_decay": 0.1},
    "adam": {}, "adam-decay": {"weight_decay": 0.01},
}


def _params(seed: int) -> list:
    rng = np.random.default_rng(seed)
    return [ar.tensor(rng.standard_normal(shape), requires_grad=True)
            for shape in ((30, 40), (40,), (7, 1))]


def _grads(step: int) -> list[np.ndarray]:
    rng = np.random.default_rng(100 + step)
    return [rng.standard_normal(shape) for shape in ((30, 40), (40,), (7, 1))]


@pytest.mark.parametrize("name", list(SETTINGS))
def test_step_inplace_is_bit_identical_to_step(name):
    kind, kwargs = name.split("-")[0], SETTINGS[name]
    a, b = _params(0), _params(0)
    rebinding = make_optimizer(kind, a, **kwargs)
    inplace = make_optimizer(kind, b, **kwargs)
    arrays = None
    for step in range(5):
        for p, g in zip(a, _grads(step), strict=True):
            p.grad = g
        rebinding.step()
        inplace.step_inplace(_grads(step))
        # (the first step copies: user code gave the arrays, so it may still hold them)
        arrays = arrays or [value_of(p) for p in b]
    for p, q, array in zip(a, b, arrays, strict=True):
        assert np.array_equal(value_of(p), value_of(q))  # bit-identical, not merely close
        assert value_of(q) is array  # the same arrays, changed in place
    sa, sb = rebinding.state_dict(), inplace.state_dict()
    assert all(np.array_equal(sa[k], sb[k]) for k in sa)


@pytest.mark.parametrize("name", list(SETTINGS))
@pytest.mark.parametrize("clip", ["norm", "value", "both"])
def test_update_and_clipping_allocate_nothing_per_step(name, clip):
    kind, kwargs = name.split("-")[0], SETTINGS[name]
    params = _params(1)
    opt = make_optimizer(kind, params, **kwargs)
    grads = _grads(0)

    def step():
        if clip in ("value", "both"):
            clip_value_(grads, 0.5)
        if clip in ("norm", "both"):
            clip_norm_(grads, 0.1)
        opt.step_inplace(grads)

    step()  # the first call makes the buffers
    tracemalloc.start()
    try:
        for _ in range(3):
            step()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # (below half the largest gradient: tracemalloc also counts other threads, e.g.
    # pytest-xdist's, about 1 kB; a single-process run peaks at about 0.9 kB)
    assert peak < 4_000, f"{peak} bytes allocated per step (a (30, 40) array is 9600)"


def test_in_place_clipping_equals_clipping_parameters():
    for clip_inplace, clip_params, bound in ((clip_norm_, clip_grad_norm, 0.3),
                                             (clip_value_, clip_grad_value, 0.2)):
        params, grads = _params(2), _grads(3)
        for p, g in zip(params, grads, strict=True):
            p.grad = g.copy()
        expected = clip_params(params, bound)
        assert clip_inplace(grads, bound) == expected
        assert all(np.array_equal(p.grad, g) for p, g in zip(params, grads, strict=True))


def test_step_inplace_leaves_a_recorded_graph_its_values():
    w = ar.tensor(np.array([1.0, 2.0]), requires_grad=True)
    x = ar.tensor(np.array([3.0, 4.0]), requires_grad=True)
    loss = (w * x).sum()  # saves w's array for x's gradient
    opt = make_optimizer("sgd", [w], lr=0.5)
    opt.step_inplace([np.array([1.0, 1.0])])
    assert np.array_equal(value_of(w), [0.5, 1.5])
    loss.backward()
    assert np.array_equal(x.grad, [1.0, 2.0])  # the values the graph recorded


def test_step_inplace_names_mismatched_gradients():
    opt = make_optimizer("adam", _params(0))
    with pytest.raises(ValueError, match="got 2 gradients for 3 parameters"):
        opt.step_inplace(_grads(0)[:2])
    bad = _grads(0)
    bad[1] = np.zeros(3)
    with pytest.raises(ValueError, match=r"gradient 1 has shape \(3,\) but parameter 1 has "
                                         r"shape \(40,\)"):
        opt.step_inplace(bad)


@pytest.mark.parametrize("name", ["adam", "sgd-nesterov", "rmsprop-plain", "adagrad"])
def test_flat_steps_equal_per_parameter_steps_through_missing_gradients_and_loads(name):
    """step_inplace runs the rule once on all parameters laid end to end (optim/flat.py)
    when every parameter has a gradient, per parameter otherwise; a loaded state replaces
    the flat one. Every path gives step()'s numbers, bit for bit."""
    kind = name.split("-")[0]
    kwargs = {"sgd-nesterov": {"momentum": 0.9, "nesterov": True}}.get(name, {})
    a, b = _params(4), _params(4)
    rebinding, inplace = make_optimizer(kind, a, **kwargs), make_optimizer(kind, b, **kwargs)
    for step in range(6):
        grads = _grads(step)
        if step == 2:
            grads[1] = None  # this parameter skips the step (and keeps its state)
        if step == 4:  # both continue from another run's state
            saved = make_optimizer(kind, _params(5), **kwargs)
            saved.step_inplace(_grads(9))
            rebinding.load_state_dict(saved.state_dict())
            inplace.load_state_dict(saved.state_dict())
        for p, g in zip(a, grads, strict=True):
            p.grad = g
        rebinding.step()
        inplace.step_inplace(grads)
        if step in (1, 5):  # the flat path: the state arrays are pieces of one array
            pieces = inplace.state[inplace.slots[0]]
            assert pieces[0].base is not None and pieces[0].base is pieces[2].base
        for p, q in zip(a, b, strict=True):
            assert np.array_equal(value_of(p), value_of(q)), step
    sa, sb = rebinding.state_dict(), inplace.state_dict()
    assert all(np.array_equal(sa[k], sb[k]) for k in sa)


def test_large_parameters_are_updated_one_by_one():
    from autograd_rnn.optim.flat import MEAN_SIZE_LIMIT

    rng = np.random.default_rng(6)
    big = ar.tensor(rng.standard_normal((MEAN_SIZE_LIMIT + 1,)), requires_grad=True)
    opt = make_optimizer("adam", [big])
    opt.step_inplace([rng.standard_normal(big.shape)])
    assert opt.state["m"][0].base is None  # the slot's own array: no flat layout
