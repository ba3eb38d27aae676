"""The in-place getitem fast path (``getitem.defvjp_inplace`` + ``fastpaths.add_in_place``).

In training (gradient recording off) a slice's gradient is added straight into the running
gradient of the sliced tensor instead of a zero array per slice. It must take that path and
give the reference's gradients for every kind of index: basic slices (the LSTM gates),
overlaps, repeated integer indices (``np.add.at``), boolean masks, negative steps, scalars;
and it must never add into a buffer it does not own (an array another gradient shares).
"""

from __future__ import annotations

import numpy as np
import pytest

import autograd_rnn as ar
from autograd_rnn.core import fastpaths
from autograd_rnn.core.backward import backward_pass

ROUND_OFF = 1e-12

INDEXES = {
    "gate-slices": [(slice(None), slice(0, 2)), (slice(None), slice(2, 4)),
                    (slice(None), slice(4, 6))],
    "overlapping": [(slice(0, 3),), (slice(1, 4),), (slice(None), 1)],
    "int-repeats": [(np.array([0, 0, 3, 0]),), (np.array([1, 1]), np.array([2, 2]))],
    "bool-mask": [(np.array([True, False, True, True]),)],
    "negative-step": [(slice(None, None, -1), slice(None, None, -2))],
    "scalar": [(1, 2), (3, -1)],
    "mixed": [(slice(None), np.array([5, 0, 5])), (2,)],
}


def _loss(x, w, indexes, rng):
    """x sliced by every index (each slice weighted), plus a direct use of x."""
    total = (x * w).sum()
    for index in indexes:
        part = x[index]
        total = total + (part * rng.standard_normal(part.shape)).sum()
    return total


def _grads(indexes, engine: bool, dtype=np.float64):
    rng = np.random.default_rng(0)
    x = ar.tensor(rng.standard_normal((4, 6)).astype(dtype), requires_grad=True, name="x")
    w = ar.tensor(rng.standard_normal((4, 6)), requires_grad=True, name="w")
    loss = _loss(x + 0.0, w, indexes, np.random.default_rng(1))  # x + 0: sliced non-leaf
    loss = loss + _loss(x, w, indexes, np.random.default_rng(2))  # and a sliced leaf
    if engine:
        with ar.record_gradients(False):
            loss.backward()
    else:
        backward_pass(loss)
    return x.grad, w.grad


@pytest.mark.parametrize("kind", INDEXES)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_training_sweep_adds_slices_in_place_and_equals_the_reference(kind, dtype, monkeypatch):
    calls = []
    real = fastpaths.add_in_place

    def spy(node, g, grads, owned, lazy=None):
        calls.append(node.op.name)
        return real(node, g, grads, owned, lazy)

    monkeypatch.setattr("autograd_rnn.core.sweep.add_in_place", spy)
    ref = _grads(INDEXES[kind], engine=False, dtype=dtype)
    fast = _grads(INDEXES[kind], engine=True, dtype=dtype)
    assert calls.count("getitem") == 2 * len(INDEXES[kind])  # the fast path was taken
    for a, b in zip(ref, fast, strict=True):
        assert b.dtype == a.dtype
        np.testing.assert_allclose(b, a, rtol=1e-6 if dtype == np.float32 else ROUND_OFF)


def test_a_shared_gradient_buffer_is_copied_before_adding_into_it():
    # add's VJP hands the same array g to both inputs: adding the slice into it in place
    # would change w's gradient too. The slice is recorded first, so backward reaches the
    # add (which stores g for x and for w) before the getitem.
    rng = np.random.default_rng(3)
    results = []
    for engine in (False, True):
        x = ar.tensor(rng.standard_normal((3, 4)), requires_grad=True)
        w = ar.tensor(rng.standard_normal((3, 4)), requires_grad=True)
        head = x[0:2] * 3.0
        loss = (head + 0.0).sum() + ((x + w) * 2.0).sum()
        if engine:
            with ar.record_gradients(False):
                loss.backward()
        else:
            backward_pass(loss)
        results.append((x.grad, w.grad))
    (x_ref, w_ref), (x_fast, w_fast) = results
    np.testing.assert_array_equal(w_fast, np.full((3, 4), 2.0))
    np.testing.assert_allclose(w_fast, w_ref, rtol=ROUND_OFF)
    np.testing.assert_allclose(x_fast, x_ref, rtol=ROUND_OFF)
