"""Inputs drawn for the reference layers reveal bugs whatever the seed (masks with both
values, repeated indices, distinct sizes), and sizes that cannot reveal a bug class warn."""

import numpy as np
import pytest

from autograd_rnn.check import CheckUsageError, get_reference
from autograd_rnn.check.diagnostics import size_warnings
from autograd_rnn.check.inputs import indices_with_repeats, mask_with_density
from autograd_rnn.check.loader import layer_inputs


@pytest.mark.parametrize("N, T", [(1, 2), (3, 4), (2, 1)])
def test_masks_hold_both_values_for_every_seed(N, T):
    for seed in range(50):
        for density in (0.01, 0.5, 0.7, 0.99):
            mask = layer_inputs("temporal_softmax_loss", seed, N=N, T=T,
                                mask_density=density)["mask"]
            assert mask.dtype == bool and mask.shape == (N, T)
            if N * T >= 2:
                assert mask.any() and not mask.all()


def test_mask_density_is_exact_and_extremes_allowed():
    rng = np.random.default_rng(0)
    assert mask_with_density(rng, (4, 5), 0.25).sum() == 5
    assert mask_with_density(rng, (4, 5), 1.0).all()
    assert not mask_with_density(rng, (4, 5), 0.0).any()
    with pytest.raises(CheckUsageError, match="between 0 and 1"):
        mask_with_density(rng, (2, 2), -0.1)


def test_word_indices_repeat_for_every_seed():
    for seed in range(50):
        x = layer_inputs("word_embedding", seed, N=1, T=2, V=7)["x"]
        assert np.unique(x).size < x.size  # the default guarantees a repeat even for N*T = 2
        x = layer_inputs("word_embedding", seed, repeats=5)["x"]
        assert x.size - np.unique(x).size >= 5 and x.min() >= 0 and x.max() < 7
    x = indices_with_repeats(np.random.default_rng(0), (2, 3), 10, 0)
    assert np.unique(x).size == 6
    with pytest.raises(CheckUsageError, match="repeats must be between 0 and N\\*T - 1 = 5"):
        indices_with_repeats(np.random.default_rng(0), (2, 3), 10, 6)


def test_output_size_and_defaults():
    data = layer_inputs("temporal_affine", M=9)
    assert data["w"].shape == (5, 9) and data["x"].shape == (3, 4, 5)
    assert layer_inputs("temporal_affine")["w"].shape == (5, 7)  # default M = V
    assert layer_inputs("rnn")["x"].shape == (3, 4, 5)  # N >= 2, T >= 3, all sizes distinct


def test_size_warnings_name_the_bug_class_that_cannot_show():
    def warnings(layer, **kw):
        data = layer_inputs(layer, **kw)
        return size_warnings(get_reference(layer), list(data), list(data.values()))

    assert warnings("rnn") == [] and warnings("word_embedding") == []
    assert warnings("temporal_softmax_loss") == []
    (w,) = warnings("rnn_step", N=1)
    assert w.startswith("N = 1: a batch of one cannot reveal a 1/N factor")
    assert any(w.startswith("T = 2: two steps cannot reveal") for w in warnings("rnn", T=2))
    assert warnings("temporal_affine", T=2) == []  # no loop over time to get wrong
    assert any("single step cannot reveal a gradient not carried back" in w
               for w in warnings("lstm", T=1))
    assert any(w.startswith("no index of x repeats") for w in warnings("word_embedding",
                                                                        repeats=0, V=20))
    assert any(w.startswith("mask is all True") for w in warnings("temporal_softmax_loss",
                                                                   mask_density=1.0))
