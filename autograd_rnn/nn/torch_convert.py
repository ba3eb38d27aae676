"""Convert state dicts between this library's layout and PyTorch's ``nn.RNN/LSTM/GRU``.

NumPy in and out; torch is never imported (torch tensors are accepted as input values
through their ``.detach().cpu().numpy()``). For layer k and direction suffix s ("" or
"_reverse"; our ``cells.{k}`` / ``cells_reverse.{k}``):

=====================  ========================  ===========================================
ours                   PyTorch                   relation
=====================  ========================  ===========================================
W_x (D, G*H)           weight_ih_l{k}{s} (G*H, D)  transpose
W_h (H, G*H)           weight_hh_l{k}{s} (G*H, H)  transpose
RNN b_h / LSTM b       bias_ih_l{k}{s}, bias_hh    to torch: bias_ih = b, bias_hh = 0;
                                                 from torch: b = bias_ih + bias_hh
GRU b_x, b_h           bias_ih_l{k}{s}, bias_hh    identical (r multiplies b_hn, not b_in)
SequenceModel W_y, b_y ``linear.weight`` (V, H),   transpose / identical
                       ``linear.bias`` (V,)
=====================  ========================  ===========================================

G = 1 (RNN), 4 (LSTM, gates i f g o), 3 (GRU, gates r z n), same order in both libraries.
Keys we have and PyTorch does not (a learned ``h_0``/``c_0``) pass through unchanged.
The round trip ours -> torch -> ours is exact; torch -> ours -> torch is exact for GRU and
merges the two RNN/LSTM biases into bias_ih.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

import numpy as np

from autograd_rnn.nn.module import Module

KINDS = ("rnn", "lstm", "gru")
_OURS = re.compile(r"^(?P<prefix>.*?)(?P<cells>cells|cells_reverse)\.(?P<k>\d+)\.(?P<p>\w+)$")
_TORCH = re.compile(
    r"^(?P<prefix>.*?)(?P<p>weight_ih|weight_hh|bias_ih|bias_hh)_l(?P<k>\d+)(?P<rev>_reverse)?$"
)


def _array(value) -> np.ndarray:
    if hasattr(value, "detach"):  # a torch tensor, without importing torch
        value = value.detach().cpu().numpy()
    elif hasattr(value, "data") and isinstance(value.data, np.ndarray):
        value = value.data
    return np.array(value, dtype=np.float64)


def _resolve(model_or_state, kind: str | None) -> tuple[dict, str]:
    if isinstance(model_or_state, Module):
        from autograd_rnn.nn.models import SequenceModel
        from autograd_rnn.nn.recurrent import GRU, LSTM, RNN

        found = {RNN: "rnn", LSTM: "lstm", GRU: "gru"}
        layer = model_or_state.rnn if isinstance(model_or_state, SequenceModel) else model_or_state
        inferred = found.get(type(layer))
        if inferred is None:
            raise TypeError(
                f"cannot convert a {type(layer).__name__}; expected RNN, LSTM, GRU or SequenceModel"
            )
        if kind is not None and kind != inferred:
            raise ValueError(f"kind={kind!r} does not match the model's {inferred!r}")
        return model_or_state.state_dict(), inferred
    if not isinstance(model_or_state, Mapping):
        raise TypeError(f"expected a Module or a state dict, got {type(model_or_state).__name__}")
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS} for a state dict, got {kind!r}")
    return dict(model_or_state), kind


def to_torch_state_dict(
    model_or_state_dict, kind: str | None = None, linear_name: str = "linear"
) -> dict[str, np.ndarray]:
    """Our layout -> PyTorch's. ``kind`` ("rnn"|"lstm"|"gru") is inferred from a model.

    Keys keep their prefix: a SequenceModel's ``rnn.cells.0.W_x`` becomes
    ``rnn.weight_ih_l0``, and ``W_y``/``b_y`` become ``{linear_name}.weight``/``.bias``.
    """
    state, kind = _resolve(model_or_state_dict, kind)
    out: dict[str, np.ndarray] = {}
    for key, value in state.items():
        value = _array(value)
        match = _OURS.match(key)
        if key in ("W_y", "b_y"):
            out[f"{linear_name}.{'weight' if key == 'W_y' else 'bias'}"] = (
                value.T.copy() if key == "W_y" else value
            )
            continue
        if match is None:
            out[key] = value  # e.g. a learned h_0: PyTorch has no counterpart
            continue
        prefix, k, p = match["prefix"], match["k"], match["p"]
        suffix = "_reverse" if match["cells"] == "cells_reverse" else ""
        name = lambda base: f"{prefix}{base}_l{k}{suffix}"  # noqa: B023
        if p == "W_x":
            out[name("weight_ih")] = value.T.copy()
        elif p == "W_h":
            out[name("weight_hh")] = value.T.copy()
        elif (kind, p) in (("rnn", "b_h"), ("lstm", "b")):
            out[name("bias_ih")] = value
            out[name("bias_hh")] = np.zeros_like(value)
        elif kind == "gru" and p in ("b_x", "b_h"):
            out[name("bias_ih" if p == "b_x" else "bias_hh")] = value
        else:
            raise KeyError(f"to_torch_state_dict: unexpected parameter {key!r} for kind {kind!r}")
    return _sorted_like_torch(out)


def from_torch_state_dict(
    torch_state_dict: Mapping, kind: str, linear_name: str = "linear"
) -> dict[str, np.ndarray]:
    """PyTorch's layout -> ours (float64 arrays), ready for ``load_state_dict``.

    Raises KeyError naming a key that is neither a recurrent weight nor the linear layer's
    (other keys pass through unchanged), and ValueError for a missing bias or bad shape.
    """
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")
    out: dict[str, np.ndarray] = {}
    pending: dict[str, dict[str, np.ndarray]] = {}
    for key, value in torch_state_dict.items():
        value = _array(value)
        if key == f"{linear_name}.weight":
            out["W_y"] = value.T.copy()
            continue
        if key == f"{linear_name}.bias":
            out["b_y"] = value
            continue
        match = _TORCH.match(key)
        if match is None:
            out[key] = value
            continue
        cells = "cells_reverse" if match["rev"] else "cells"
        base = f"{match['prefix']}{cells}.{match['k']}."
        p = match["p"]
        if p == "weight_ih":
            out[base + "W_x"] = value.T.copy()
        elif p == "weight_hh":
            out[base + "W_h"] = value.T.copy()
        elif kind == "gru":
            out[base + ("b_x" if p == "bias_ih" else "b_h")] = value
        else:
            pending.setdefault(base, {})[p] = value
    for base, biases in pending.items():
        if set(biases) != {"bias_ih", "bias_hh"}:
            raise ValueError(
                f"from_torch_state_dict: {base!r} needs both bias_ih and bias_hh, "
                f"got {sorted(biases)}"
            )
        if biases["bias_ih"].shape != biases["bias_hh"].shape:
            raise ValueError(
                f"from_torch_state_dict: bias shapes differ for {base!r}: "
                f"{biases['bias_ih'].shape} vs {biases['bias_hh'].shape}"
            )
        out[base + ("b_h" if kind == "rnn" else "b")] = biases["bias_ih"] + biases["bias_hh"]
    return _sorted_ours(out)


def _sorted_like_torch(state: dict) -> dict:
    """PyTorch's order: per layer, per direction: weight_ih, weight_hh, bias_ih, bias_hh."""
    rank = {"weight_ih": 0, "weight_hh": 1, "bias_ih": 2, "bias_hh": 3}

    def key(item):
        match = _TORCH.match(item[0])
        if match is None:
            return (1, "", 0, 0, 0)
        return (0, match["prefix"], int(match["k"]), bool(match["rev"]), rank[match["p"]])

    return dict(sorted(state.items(), key=key))


def _sorted_ours(state: dict) -> dict:
    """Our order: cells (by k) then cells_reverse, parameters W_x, W_h, then biases."""
    rank = {"W_x": 0, "W_h": 1, "b": 2, "b_x": 2, "b_h": 3}

    def key(item):
        match = _OURS.match(item[0])
        if match is None:
            return (1, item[0] in ("W_y", "b_y"), 0, 0, 0)
        reverse = match["cells"] == "cells_reverse"
        return (0, reverse, int(match["k"]), rank.get(match["p"], 9), 0)

    return dict(sorted(state.items(), key=key))
