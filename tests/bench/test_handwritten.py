"""Hand-written NumPy BPTT (bench.handwritten) vs finite differences and, if present, PyTorch."""
import numpy as np
import pytest

from bench import handwritten as hw  # importable: pytest's pythonpath = ["."]
from bench import torch_reference as tr

T, B, D, H, V = 3, 2, 4, 5, 3
EPS = 1e-6
MODELS = {
    "rnn": (hw.rnn_params, hw.rnn_loss_and_grads),
    "lstm": (hw.lstm_params, hw.lstm_loss_and_grads),
}


def _problem(kind, seed=0, T=T, B=B, D=D, H=H, V=V):
    make, fn = MODELS[kind]
    params = make(D, H, V, seed=seed)
    rng = np.random.default_rng(seed + 1)
    # Larger weights than the default init so every gradient entry is O(1e-2..1): keeps the
    # finite-difference round-off (~1e-9 absolute) far below 1e-6 relative.
    params = {k: 5.0 * v for k, v in params.items()}
    x = 2.0 * rng.standard_normal((T, B, D))
    targets = rng.integers(0, V, size=(T, B))
    return fn, params, x, targets


# Relative error |a - n| / max(|a|, |n|, TINY). Round-off in the central difference is a few
# ulps of the loss (~7) over 2*EPS, i.e. ~1e-9 absolute whatever the entry's size, so no
# entry can be held to 1e-6 relative below |g| ~ 1e-3. TINY = 1e-2 therefore means: entries
# with |g| >= 1e-2 must agree to 1e-6 relative, smaller ones to 1e-8 absolute.
TINY = 1e-2


def _rel_err(a, n):
    return np.abs(a - n) / np.maximum(np.maximum(np.abs(a), np.abs(n)), TINY)


@pytest.mark.parametrize("kind", ["rnn", "lstm"])
def test_grads_match_central_differences(kind):
    fn, params, x, targets = _problem(kind)
    rng = np.random.default_rng(11)  # non-zero initial state exercises the h0 / c0 paths
    kw = {"h0": 0.5 * rng.standard_normal((B, H))}
    if kind == "lstm":
        kw["c0"] = 0.5 * rng.standard_normal((B, H))
    loss, grads = fn(params, x, targets, **kw)
    assert np.isfinite(loss) and set(grads) == set(params)
    for k, p in params.items():
        assert grads[k].shape == p.shape and grads[k].dtype == np.float64
        num = np.empty_like(p)
        for idx in np.ndindex(p.shape):
            old = p[idx]
            p[idx] = old + EPS
            lp, _ = fn(params, x, targets, **kw)
            p[idx] = old - EPS
            lm, _ = fn(params, x, targets, **kw)
            p[idx] = old
            num[idx] = (lp - lm) / (2 * EPS)
        err = _rel_err(grads[k], num)
        assert err.max() < 1e-6, (k, err.max(), np.unravel_index(err.argmax(), p.shape))


@pytest.mark.parametrize("kind", ["rnn", "lstm"])
def test_initial_state_and_loss_value(kind):
    """Zero h0/c0 equals the default; loss at tiny weights is ~ T*B*ln V."""
    _, fn = MODELS[kind]
    params = {k: 1e-8 * v for k, v in MODELS[kind][0](D, H, V, seed=3).items()}
    x = np.random.default_rng(0).standard_normal((T, B, D))
    targets = np.zeros((T, B), dtype=np.int64)
    loss, _ = fn(params, x, targets)
    assert loss == pytest.approx(T * B * np.log(V), rel=1e-6)
    kw = {"h0": np.zeros((B, H))}
    if kind == "lstm":
        kw["c0"] = np.zeros((B, H))
    assert fn(params, x, targets, **kw)[0] == loss


def test_torch_reference_imports_without_torch():
    assert isinstance(tr.torch_available(), bool)


@pytest.mark.parametrize("kind", ["rnn", "lstm"])
@pytest.mark.parametrize("variant", ["primitive", "fused"])
@pytest.mark.parametrize("sizes", [(T, B, D, H, V), (20, 4, 6, 16, 7)], ids=["tiny", "long"])
def test_torch_matches_numpy(kind, variant, sizes):
    pytest.importorskip("torch")
    step = tr.torch_primitive_step if variant == "primitive" else tr.torch_fused_step
    fn, params, x, targets = _problem(kind, 7, *sizes)
    params = {k: v / 5.0 for k, v in params.items()}  # default init scale
    loss, grads = fn(params, x, targets)
    tloss, tgrads = step(kind, params, x, targets)
    assert tloss == pytest.approx(loss, rel=1e-10, abs=1e-10)
    assert set(tgrads) == set(grads)
    for k in grads:
        np.testing.assert_allclose(tgrads[k], grads[k], rtol=1e-10, atol=1e-10, err_msg=k)
