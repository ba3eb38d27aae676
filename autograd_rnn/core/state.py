"""Global recording state: grad mode, scopes, anomaly detection, gradient recording.

The engine keeps a single small state object so the hot path reads plain attributes.
Every switch is a context manager that restores the previous value on exit.
"""

from __future__ import annotations

import contextlib
import gc
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


class _Switch(contextlib.ContextDecorator):
    """Sets ``STATE.<attribute>`` to ``value`` inside a ``with`` block (or a decorated
    function) and restores the previous value after; re-entrant. (A class, not a
    generator: ``ar.scope`` runs once per timestep.)"""

    __slots__ = ("attribute", "value", "previous")

    def __init__(self, attribute: str, value: Any) -> None:
        self.attribute = attribute
        self.value = value
        self.previous: list = []

    def __enter__(self) -> Any:
        self.previous.append(getattr(STATE, self.attribute))
        setattr(STATE, self.attribute, self.value)
        return self.value

    def __exit__(self, *exc_info) -> None:
        setattr(STATE, self.attribute, self.previous.pop())


class _Scope(_Switch):
    """``scope``'s switch: nests the path (and reads ``STATE.scope`` directly: hot)."""

    __slots__ = ()

    def __enter__(self) -> str:
        outer = STATE.scope
        self.previous.append(outer)
        STATE.scope = path = f"{outer}/{self.value}" if outer else self.value
        return path

    def __exit__(self, *exc_info) -> None:
        STATE.scope = self.previous.pop()


class _Lean(_Switch):
    """``lean_graph``'s switch: also pauses Python's cyclic garbage collector while a lean
    graph is recorded (``enabled=True``). Its automatic passes rescan every live object as
    the graph grows (each node is a few container objects), which cost about half of a
    1,000-step forward (bench/README.md); the graph is acyclic and reference counting
    frees it. The collector is re-enabled on exit (if it was on before) and collects
    whatever cycles other code made meanwhile at its next pass."""

    __slots__ = ("collector",)

    def __init__(self, attribute: str, value: Any) -> None:
        super().__init__(attribute, value)
        self.collector: list = []  # was the collector on, per (re-entrant) entry

    def __enter__(self) -> Any:
        self.collector.append(gc.isenabled())
        if self.value:
            gc.disable()
        return super().__enter__()

    def __exit__(self, *exc_info) -> None:
        super().__exit__(*exc_info)
        if self.collector.pop():
            gc.enable()


@contextlib.contextmanager
def collector_paused():
    """Pause Python's cyclic garbage collector inside the block and re-enable it after (if
    it was on). For code that makes many small objects per graph node (tracing, backward):
    the collector's passes rescan every live node of a growing graph, while the graph is
    acyclic and reference counting frees it."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def no_grad() -> _Switch:
    """Run ops without recording a graph (like ``torch.no_grad``)."""
    return _Switch("grad_enabled", False)


def enable_grad() -> _Switch:
    """Record the graph again inside a ``no_grad`` block."""
    return _Switch("grad_enabled", True)


def is_grad_enabled() -> bool:
    """True when ops on tensors requiring grad are recorded."""
    return STATE.grad_enabled


def scope(name: str) -> _Switch:
    """Place every node created inside under ``name``; nests as ``outer/inner``.

    >>> with scope("rnn"), scope("t=3"): ...   # nodes get scope "rnn/t=3"
    """
    if not isinstance(name, str) or not name:
        raise ValueError(f"scope name must be a non-empty string, got {name!r}")
    return _Scope("scope", name)


def current_scope() -> str:
    """The scope path new nodes receive ("" at top level)."""
    return STATE.scope


def detect_anomaly(enabled: bool = True) -> _Switch:
    """Raise ``AnomalyError`` naming the op and scope that first produces NaN/Inf,
    in the forward pass or in backward."""
    return _Switch("anomaly", enabled)


def record_gradients(enabled: bool = True) -> _Switch:
    """Keep (True, the default) or skip (False) per-node and per-edge gradients in backward.

    Training loops turn this off: leaves still get ``.grad``, but intermediate nodes do not
    keep the gradient that reached them, which saves memory and a copy per fan-out.
    """
    return _Switch("record_gradients", enabled)


def lean_graph(enabled: bool = True) -> _Switch:
    """Record graphs that keep only what backward needs (a training mode, like PyTorch's).

    By default every node keeps its value, so a finished graph can be inspected, replayed
    and drawn with values. Inside ``lean_graph()`` a graph node keeps an op's output only
    if some VJP needs it (``tanh`` keeps its output, ``matmul`` its inputs, ``add``
    nothing): the value lives in the tensor you get back, so values nobody holds are freed
    during the forward pass, as in PyTorch. Gradients are identical. Lean graphs can be
    backpropagated and drawn (shapes, gradients), not replayed with values
    (``ar.viz.check_nodes`` refuses them); ``ar.compile`` and step-through traces
    (``ar.viz.trace``) always record full graphs. Python's cyclic garbage collector is
    paused inside the block (the graph is freed by reference counting; see ``_Lean``) and
    resumes on exit: keep the block to one step's forward (and backward).
    """
    return _Lean("lean", enabled)
