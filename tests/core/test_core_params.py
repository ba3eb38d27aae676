"""Shared read-only node params (``core/node.py``: ``FrozenParams``, ``NO_PARAMS``).

Nodes of ops without parameters share ``NO_PARAMS``; getitem nodes of a repeated basic
index share one params dict (``ops/methods.py``). Shared dicts must refuse writes (one
node's change would change every node's), survive pickling and copying as read-only
values.
"""

from __future__ import annotations

import copy
import pickle

import numpy as np
import pytest

import autograd_rnn as ar
from autograd_rnn.core.node import NO_PARAMS, FrozenParams


def test_ops_without_parameters_share_no_params():
    x = ar.tensor(np.ones((2, 3)), requires_grad=True)
    a, b = ar.tanh(x), x * 2.0
    assert a.params is NO_PARAMS and b.params is NO_PARAMS and a.params == {}


@pytest.mark.parametrize("write", [
    lambda p: p.__setitem__("axis", 1), lambda p: p.update(axis=1), lambda p: p.pop("index"),
    lambda p: p.setdefault("axis", 1), lambda p: p.clear(), lambda p: p.popitem(),
    lambda p: p.__delitem__("index"),
])
def test_shared_params_refuse_every_write(write):
    x = ar.tensor(np.ones((2, 4)), requires_grad=True)
    params = x[:, 1:3].params
    with pytest.raises(TypeError, match="read-only"):
        write(params)
    with pytest.raises(TypeError, match="read-only"):
        write(NO_PARAMS)
    assert dict(params) == {"index": (slice(None), slice(1, 3))} and NO_PARAMS == {}


def test_params_pickle_and_copy_as_read_only_values():
    x = ar.tensor(np.ones((2, 4)), requires_grad=True)
    params = x[:, 1:3].params
    for clone in (pickle.loads(pickle.dumps(params)), copy.deepcopy(params), copy.copy(params)):
        assert type(clone) is FrozenParams and clone == params
        with pytest.raises(TypeError):
            clone["index"] = 0
    assert pickle.loads(pickle.dumps(NO_PARAMS)) is NO_PARAMS
    assert copy.deepcopy(NO_PARAMS) is NO_PARAMS
