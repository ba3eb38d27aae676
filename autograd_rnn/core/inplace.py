"""In-place change detection: a value saved for backward must not change before backward.

PyTorch counts versions of every tensor's storage; NumPy cannot tell anyone that an array
was written (``t.data[...] = 0`` is a plain ndarray write). But user code can only write
into an array it holds, and it gets hold of a tensor's array through ``Tensor.data`` (or
``numpy()``). So each node carries two bits (``node.state``):

- ``SAVED``: some recorded op keeps the tensor's current array for its VJP;
- ``EXPOSED``: user code got hold of that array.

When both hold, the array is copied once (a *snapshot*, in ``node.watch``), and backward
compares the snapshot with the array before a VJP reads it: a difference raises
``InPlaceError`` naming the op, its scope and the tensor, never a wrong gradient. An array
exposed again is compared at its next save, so a change between two uses is dated
(``watch.changed``, on the node-id clock) and blames only the ops that saved the old value
(a write through an array read long before, between two later uses, is still caught, blaming
both). Views (``x[0]``, ``x.T``, ``reshape``) and ``detach()`` share memory with another
node's value: exposing them exposes that node too. An exposed array is compared again at
each later save until user code gives it back (``t.data op= v``) or it is rebound.

Costs: a bit test per saved input per op; copies and comparisons only for arrays that
were both saved and exposed. ``t.data = new_array`` rebinds (the old array, still held by
the graph, is not changed); ``t.data += v`` changes the array in place and is detected.
Optimizers rebind with ``rebind`` (their arrays are never held by user code).
Not tracked: NumPy arrays passed to ops directly (wrap them in ``ar.tensor``), and writes
through an array obtained from a graph node (``node.data``, ``node.args``).
"""

from __future__ import annotations

import numpy as np

from autograd_rnn.core.errors import InPlaceError
from autograd_rnn.core.node import EXPOSED, SAVED, Node, clock
from autograd_rnn.core.state import STATE

__all__ = ["EXPOSED", "SAVED", "assign", "check_saved", "expose", "note_saved", "rebind"]


class Watch:
    """What in-place checks know about one node: the time of the last detected change
    and snapshots {id(array): (array, copy made when it was saved/exposed)} (the entry
    holds the array, so its id stays its own)."""

    __slots__ = ("changed", "snapshots")

    def __init__(self) -> None:
        self.changed = -1
        self.snapshots: dict[int, tuple[np.ndarray, np.ndarray]] = {}


def _watch(node: Node) -> Watch:
    if node.watch is None:
        node.watch = Watch()
        STATE.watching = True  # from now on backward checks saved values
    return node.watch


def _snapshot(node: Node, array) -> None:
    if type(array) is np.ndarray:
        _watch(node).snapshots[id(array)] = (array, array.copy())


def _same(array: np.ndarray, copy: np.ndarray) -> bool:
    # NaNs left in place are an unchanged value: the NaN-aware comparison only on mismatch
    return bool((array == copy).all()) or np.array_equal(array, copy, equal_nan=True)


def _refresh(node: Node, array) -> None:
    """``array`` (the node's current value) is saved again: date a change since the last
    snapshot (then snapshot what the new saver sees), or keep the snapshot."""
    entry = node.watch.snapshots.get(id(array)) if node.watch is not None else None
    if entry is None:
        _snapshot(node, array)
    elif not _same(array, entry[1]):
        node.watch.changed = next(clock)
        _snapshot(node, array)


def note_saved(node: Node, array) -> int:
    """A recorded op keeps ``array``, the current value of ``node``'s tensor, for backward;
    returns the node's new state. (Callers skip this when ``node.state == SAVED``: nothing
    to do then.) While the array is exposed every save compares it with its snapshot, so a
    change made through a held array between two uses (gradcheck's perturbations) is dated,
    never blamed on the later use; an array user code no longer holds (rebound,
    ``t.data op= v``) is not compared."""
    state = node.state
    node.state = state | SAVED
    if state & EXPOSED:
        _refresh(node, array)
    return state | SAVED


def expose(node: Node, array) -> None:
    """User code gets ``array``, the value of ``node``'s tensor (``Tensor.data``)."""
    for shared in _sharing_memory(node, array):
        state = shared.state
        shared.state = state | EXPOSED
        if state & SAVED:
            _snapshot(shared, array)


def _sharing_memory(node: Node, array) -> list[Node]:
    """``node`` and every node whose value ``array`` may be a view of: parents whose saved
    value shares memory with it (``x[0]``, ``x.T``), and the origin of a ``detach()``."""
    found = [node]
    stack = [node]
    while stack:
        current = stack.pop()
        candidates = []
        if current.detached_from is not None:
            candidates.append(current.detached_from())
        if current.op is not None and current.args is not None:
            candidates += [p for p, a in zip(current.parents, current.args, strict=True)
                           if type(a) is np.ndarray and np.may_share_memory(a, array)]
        for other in candidates:
            if other is not None and all(other is not f for f in found):
                found.append(other)
                stack.append(other)
    return found


def assign(tensor, value: np.ndarray) -> None:
    """``tensor.data = value``: the same array (``t.data += v``) was changed in place;
    another array rebinds the tensor (user code holds it: exposed)."""
    node = tensor.node
    if value is tensor._data:
        if node.state & SAVED:
            _refresh(node, value)
            if node.watch.changed >= 0:  # the savers so far are now stale; none is current
                node.watch.snapshots.clear()
                node.state = 0
        node.state &= ~EXPOSED  # the reference came back (`t.data op= v`)
        return
    rebind(tensor, value)
    node.state = EXPOSED


def rebind(tensor, value: np.ndarray) -> None:
    """Give ``tensor`` a new array that no recorded op saved (an optimizer step): graphs
    recorded before keep the old one, unchanged."""
    node = tensor.node
    tensor._data = value
    if node.op is None:
        node.value = value  # a leaf's node shows its current value
    node.state = 0
    if node.watch is not None:
        node.watch.snapshots.clear()


def check_saved(node: Node, seen: set) -> None:
    """Raise ``InPlaceError`` if a value ``node``'s VJPs read was changed after ``node``
    was recorded (run by backward before calling the VJPs when ``STATE.watching``).
    ``seen``: snapshots already found unchanged in this backward pass."""
    op = node.op
    parents, args = node.parents, node.args
    if args is None:
        return  # freed: backward raises GraphFreedError
    for i in op._layouts[len(parents)][0]:
        parent = parents[i]
        if parent is not None and parent.watch is not None:
            _verify(node, parent, args[i], i, seen)
    if op.saves_out and node.watch is not None:
        _verify(node, node, node.value, "out", seen)


def _verify(node: Node, owner: Node, saved, position, seen: set) -> None:
    watch = owner.watch
    if watch.changed > node.id:
        raise _error(node, owner, position)
    for array, copy in watch.snapshots.values():
        if id(copy) in seen or not (type(saved) is np.ndarray
                                    and np.may_share_memory(array, saved)):
            continue
        if not _same(array, copy):
            raise _error(node, owner, position)
        seen.add(id(copy))


def _error(node: Node, owner: Node, position) -> InPlaceError:
    what = "its output" if position == "out" else f"its input {position}"
    where = node.scope or "<top level>"
    return InPlaceError(
        f"backward through op {node.op.name!r} in scope {where!r}: {what} {owner.label!r} "
        "was modified in place after the op saved it (a write into .data such as "
        "`t.data[...] = v` or `t.data += v`), so its gradient would be wrong; rebind "
        "instead (`t.data = new_array`) or run the forward pass again after the change"
    )
