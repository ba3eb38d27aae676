"""Global recording state: grad mode, scopes, anomaly detection, gradient recording.

The engine keeps a single small state object so the hot path reads plain attributes.
Every switch is a context manager that restores the previous value on exit.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any


class _State:
    __slots__ = ("grad_enabled", "scope", "anomaly", "record_gradients", "listeners", "lean",
                 "watching")

    def __init__(self) -> None:
        self.grad_enabled = True  # record the graph for ops on tensors requiring grad
        self.scope = ""  # "rnn/layer0/t=3": where new nodes are placed
        self.anomaly = False  # check every forward and backward value for NaN/Inf
        self.record_gradients = True  # keep per-node and per-edge gradients after backward
        self.listeners: list = []  # callables(event, *payload) used by step-through tracers
        self.lean = False  # graph nodes keep only what their VJPs need (saves=, core/primitive.py)
        self.watching = False  # some saved value was exposed: backward checks saved values


STATE = _State()


@contextlib.contextmanager
def _switch(attribute: str, value: Any) -> Iterator[Any]:
    """Set ``STATE.<attribute>`` to ``value`` inside the block, restore it after."""
    previous = getattr(STATE, attribute)
    setattr(STATE, attribute, value)
    try:
        yield value
    finally:
        setattr(STATE, attribute, previous)


def no_grad() -> contextlib.AbstractContextManager[None]:
    """Run ops without recording a graph (like ``torch.no_grad``)."""
    return _switch("grad_enabled", False)


def enable_grad() -> contextlib.AbstractContextManager[None]:
    """Record the graph again inside a ``no_grad`` block."""
    return _switch("grad_enabled", True)


def is_grad_enabled() -> bool:
    """True when ops on tensors requiring grad are recorded."""
    return STATE.grad_enabled


@contextlib.contextmanager
def scope(name: str) -> Iterator[str]:
    """Place every node created inside under ``name``; nests as ``outer/inner``.

    >>> with scope("rnn"), scope("t=3"): ...   # nodes get scope "rnn/t=3"
    """
    if not isinstance(name, str) or not name:
        raise ValueError(f"scope name must be a non-empty string, got {name!r}")
    outer = STATE.scope
    with _switch("scope", f"{outer}/{name}" if outer else name) as path:
        yield path


def current_scope() -> str:
    """The scope path new nodes receive ("" at top level)."""
    return STATE.scope


def detect_anomaly(enabled: bool = True) -> contextlib.AbstractContextManager[bool]:
    """Raise ``AnomalyError`` naming the op and scope that first produces NaN/Inf,
    in the forward pass or in backward."""
    return _switch("anomaly", enabled)


def record_gradients(enabled: bool = True) -> contextlib.AbstractContextManager[bool]:
    """Keep (True, the default) or skip (False) per-node and per-edge gradients in backward.

    Training loops turn this off: leaves still get ``.grad``, but intermediate nodes do not
    keep the gradient that reached them, which saves memory and a copy per fan-out.
    """
    return _switch("record_gradients", enabled)


def lean_graph(enabled: bool = True) -> contextlib.AbstractContextManager[bool]:
    """Record graphs that keep only what backward needs (a training mode, like PyTorch's).

    By default every node keeps its value, so a finished graph can be inspected, replayed
    and drawn with values. Inside ``lean_graph()`` a graph node keeps an op's output only
    if some VJP needs it (``tanh`` keeps its output, ``matmul`` its inputs, ``add``
    nothing): the value lives in the tensor you get back, so values nobody holds are freed
    during the forward pass, as in PyTorch. Gradients are identical. Lean graphs can be
    backpropagated and drawn (shapes, gradients), not replayed with values
    (``ar.viz.check_nodes`` refuses them); ``ar.compile`` and step-through traces
    (``ar.viz.trace``) always record full graphs.
    """
    return _switch("lean", enabled)
