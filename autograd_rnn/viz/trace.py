"""Step-through recording: watch the graph grow op by op, then backprop run edge by edge.

``with ar.viz.trace() as tape:`` registers a listener on the engine (``STATE.listeners``).
The engine reports three events, which the tape stores in order:

- ``("node", out)``: a primitive recorded a new graph node (forward, or backward with
  ``create_graph=True``). One *forward frame* each; leaves (parameters, inputs) appear in the
  picture the first time a node uses them.
- ``("backward", node, g)``: ``g`` is the final gradient dL/d(node) (no frame of its own).
- ``("edge", node, i, c)``: the VJP sent ``c`` to ``node.parents[i]``. One *backward frame*
  each, in the order the engine runs them: reverse topological order.

``tape.frames()`` then replays the events and yields ``Frame`` objects whose DOT source
(from ``ar.viz.to_dot``) shows the graph *at that moment*: only the nodes created so far in a
forward frame; in a backward frame, only the gradients known so far (final node gradients,
the edges already traversed, and each leaf's running sum), with the newest node or edge
highlighted. ``tape.to_html(path)`` writes a self-contained step-through page.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from autograd_rnn.core.state import STATE
from autograd_rnn.core.tensor import Tensor
from autograd_rnn.viz.trace_replay import Replay as _Replay
from autograd_rnn.viz.trace_replay import TraceEvent as _Event


@dataclass(frozen=True)
class Frame:
    """One picture of the step-through.

    Attributes:
        index: position among all recorded steps (0-based; gaps when frames are subsampled).
        kind: ``"forward"`` (a node was created) or ``"backward"`` (a gradient crossed an edge).
        caption: one line saying what happened, e.g.
            ``"forward: tanh (2, 3) in scope rnn/layer0/t=2"``.
        source: Graphviz DOT source of the graph at that moment.
        highlight_nodes: tensor ids drawn highlighted (the new node, or the edge's parent).
        highlight_edges: ``(parent_id, child_id)`` pairs drawn highlighted.
    """

    index: int
    kind: str
    caption: str
    source: str
    highlight_nodes: tuple[int, ...]
    highlight_edges: tuple[tuple[int, int], ...]


def _array(value) -> np.ndarray:
    return np.array(value.data if isinstance(value, Tensor) else value, copy=True)


def _name(t: Tensor) -> str:
    return t.name if t.name else f"[{t.label}]"


def _where(t: Tensor) -> str:
    return f"in scope {t.scope}" if t.scope else "at top level"


class Tape:
    """Records graph construction and backprop; see the module docstring.

    Args:
        every: default frame stride for ``frames``/``to_html`` (keep every k-th step; the
            last step is always kept).
        max_frames: default cap on the number of frames (evenly subsampled, first and last
            kept). ``None``: no cap.
        dot_options: passed to ``ar.viz.to_dot`` for every frame (``detail``, ``group``,
            ``rankdir``, ``show_values``, ``show_grads``, ...).
    """

    def __init__(self, *, every: int = 1, max_frames: int | None = None, **dot_options) -> None:
        _check_sampling(every, max_frames)
        self.every = every
        self.max_frames = max_frames
        self.dot_options = dot_options
        self._events: list[_Event] = []
        self._pass = -1
        self._last_grad_id: int | None = None
        self._active = False

    # ----- recording ---------------------------------------------------------------------
    def __enter__(self) -> Tape:
        if self._active:
            raise RuntimeError("this tape is already recording; use a new ar.viz.trace()")
        STATE.listeners.append(self._listen)
        self._active = True
        return self

    def __exit__(self, *exc_info) -> None:
        self._stop()

    def _stop(self) -> None:
        listeners = STATE.listeners
        for i in range(len(listeners) - 1, -1, -1):
            if listeners[i] == self._listen:
                del listeners[i]
                break
        self._active = False

    def _listen(self, event: str, node: Tensor, *payload) -> None:
        if event == "node":
            if node.op is not None:  # outputs that record no graph are constants
                self._events.append(_Event("node", node))
        elif event == "backward":
            # Within one pass gradients are final in decreasing id order; an id that does
            # not decrease means a new backward pass started.
            if self._last_grad_id is None or node.id >= self._last_grad_id:
                self._pass += 1
            self._last_grad_id = node.id
            self._events.append(_Event("grad", node, _array(payload[0]), -1, self._pass))
        elif event == "edge":
            index, contribution = payload
            self._events.append(_Event("edge", node, _array(contribution), int(index), self._pass))

    def backward(self, loss: Tensor, grad=None, **kwargs) -> None:
        """Run ``loss.backward(grad, **kwargs)`` and record it, even after the ``with`` block."""
        self._last_grad_id = None  # force a new pass
        if self._active:
            loss.backward(grad, **kwargs)
            return
        STATE.listeners.append(self._listen)
        self._active = True
        try:
            loss.backward(grad, **kwargs)
        finally:
            self._stop()

    # ----- replay ------------------------------------------------------------------------
    def __len__(self) -> int:
        """Number of steps recorded: nodes created plus edges backpropagated."""
        return sum(1 for e in self._events if e.kind != "grad")

    @property
    def nodes(self) -> list[Tensor]:
        """Graph nodes in creation order (one forward frame each)."""
        return [e.node for e in self._events if e.kind == "node"]

    @property
    def num_forward(self) -> int:
        return sum(1 for e in self._events if e.kind == "node")

    @property
    def num_backward(self) -> int:
        return sum(1 for e in self._events if e.kind == "edge")

    def count_frames(self, *, every: int | None = None, max_frames: int | None = None) -> int:
        """How many frames ``frames()`` yields with these sampling options."""
        every = self.every if every is None else every
        max_frames = self.max_frames if max_frames is None else max_frames
        _check_sampling(every, max_frames)
        return len(_select(len(self), every, max_frames))

    def frames(self, *, every: int | None = None, max_frames: int | None = None) -> Iterator[Frame]:
        """Yield the frames in recording order (see ``Tape`` for ``every``/``max_frames``).

        Each frame's DOT comes from ``ar.viz.to_dot`` on the graph as it was at that step;
        tensors' real gradients are restored after each call.
        """
        every = self.every if every is None else every
        max_frames = self.max_frames if max_frames is None else max_frames
        _check_sampling(every, max_frames)
        keep = set(_select(len(self), every, max_frames))
        fan_in = self._contribution_counts()
        replay = _Replay()
        step = -1
        for event in self._events:
            replay.apply(event)
            if event.kind == "grad":
                continue
            step += 1
            if step in keep:
                yield self._frame(step, event, replay, fan_in)

    def to_html(
        self,
        path: str | Path,
        *,
        title: str = "autograd-rnn: step through the graph",
        engine: str = "svg",
        overwrite: bool = False,
        every: int | None = None,
        max_frames: int | None = None,
        workers: int | None = None,
    ) -> Path:
        """Write a self-contained HTML page stepping through the frames (see ``html_page``).

        Each frame is rendered to SVG by Graphviz's ``dot`` and inlined: the page needs no
        server and no network. Raises ``FileExistsError`` if ``path`` exists and not
        ``overwrite``, and ``GraphvizNotFoundError`` if ``dot`` is not installed.
        """
        from autograd_rnn.viz.html_page import write_step_page

        frames = list(self.frames(every=every, max_frames=max_frames))
        if not frames:
            raise ValueError(
                "the tape recorded no steps: run ops on tensors with requires_grad=True "
                "inside `with ar.viz.trace() as tape:`"
            )
        return write_step_page(
            path, frames, title=title, engine=engine, overwrite=overwrite, workers=workers
        )

    # ----- helpers -----------------------------------------------------------------------
    def _contribution_counts(self) -> dict[tuple[int, int], int]:
        counts: dict[tuple[int, int], int] = {}
        for e in self._events:
            if e.kind == "edge":
                key = (e.pass_index, e.node.parents[e.parent_index].id)
                counts[key] = counts.get(key, 0) + 1
        return counts

    def _frame(self, step: int, event: _Event, replay: _Replay, fan_in) -> Frame:
        node = event.node
        if event.kind == "node":
            edges = tuple((p.id, node.id) for p in node.parents if p is not None)
            lit = (node.id,)
            caption = f"forward: {node.op.name} {node.shape} {_where(node)}"
            if node.name:
                caption += f", named {node.name}"
            new = replay.new_leaves
            if new:
                caption += f"; first use of {', '.join(_name(t) for t in new)}"
        else:
            parent = node.parents[event.parent_index]
            edges = ((parent.id, node.id),)
            lit = (parent.id,)
            done = replay.received[parent.id]
            total = fan_in[(event.pass_index, parent.id)]
            norm = float(np.linalg.norm(event.value))
            caption = (
                f"backward: dL/d{_name(parent)} += dL/d{_name(node)} through "
                f"{node.op.name}'s VJP along edge {node.op.name} -> {_name(parent)} "
                f"{_where(node)}, norm {norm:.3g} (contribution {done} of {total})"
            )
        source = replay.dot(self.dot_options, lit, edges)
        return Frame(
            step, "forward" if event.kind == "node" else "backward", caption, source, lit, edges
        )


def _check_sampling(every: int, max_frames: int | None) -> None:
    if not isinstance(every, int) or every < 1:
        raise ValueError(f"every must be a positive integer, got {every!r}")
    if max_frames is not None and (not isinstance(max_frames, int) or max_frames < 1):
        raise ValueError(f"max_frames must be a positive integer or None, got {max_frames!r}")


def _select(n: int, every: int, max_frames: int | None) -> list[int]:
    """Indices of the kept steps: every ``every``-th plus the last, then at most
    ``max_frames`` of them spread evenly (first and last kept)."""
    if n == 0:
        return []
    keep = list(range(0, n, every))
    if keep[-1] != n - 1:
        keep.append(n - 1)
    if max_frames is not None and len(keep) > max_frames:
        if max_frames == 1:
            return [keep[-1]]
        last = len(keep) - 1
        keep = [keep[round(i * last / (max_frames - 1))] for i in range(max_frames)]
    return keep


def trace(*, every: int = 1, max_frames: int | None = None, **dot_options) -> Tape:
    """A step-through recorder: ``with ar.viz.trace() as tape: loss = f(); loss.backward()``.

    Returns a ``Tape``; ``tape.frames()`` yields ``Frame`` objects (caption + DOT) and
    ``tape.to_html(path)`` writes the page. ``dot_options`` go to ``ar.viz.to_dot``.
    Frames = nodes created + edges backpropagated (before ``every``/``max_frames``).
    """
    return Tape(every=every, max_frames=max_frames, **dot_options)


def __getattr__(name: str):
    # ``record_example`` lives in trace_example.py (which imports this module); it stays
    # importable from here without a circular import.
    if name == "record_example":
        from autograd_rnn.viz.trace_example import record_example

        return record_example
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
