"""Fused backward of the summed softmax cross-entropy.

``-log_softmax(y, axis=1)[np.arange(N), targets].sum()`` is recorded as eight primitives
(shift, exp, sum, log, subtract, pick, sum, negate). Its gradient with respect to the
logits is the textbook ``softmax(y) - onehot(targets)`` (times the gradient reaching the
loss); written op by op it costs six passes over (N, V) and two broadcasts. When the
backward pass meets this chain, with nothing else reading its intermediate values, it
writes instead::

    g_y = np.divide(exp, sum_)             # softmax(y), from the forward's values
    g_y[np.arange(N), targets] -= 1.0      # minus the one-hot targets

Results agree with the op-by-op gradient to rounding. In the forward, the target entries
are picked before the normaliser is subtracted (``subtract[rows, targets] - log[:, 0]``,
the same numbers) instead of forming the whole (N, V) log-softmax first.
"""

from __future__ import annotations

import numpy as np

from autograd_rnn.codegen.emit import accumulate
from autograd_rnn.codegen.templates import _distinct_rows


class _Lit:
    """What ``templates._distinct_rows`` reads from a template context."""

    def __init__(self, prog) -> None:
        self.lit = prog.lit


def _one(consumers: dict, node, op: str):
    """The single consumer of ``node`` if it is an ``op`` node, else None."""
    users = consumers.get(id(node), [])
    return users[0] if len(users) == 1 and users[0].op.name == op else None


def find_cross_entropy(order: list) -> dict:
    """{id(negate node): (y, z, exp, sum, negate, pick, every chain node)}."""
    consumers: dict[int, list] = {}
    for node in order:
        for p in node.parents if node.op is not None else ():
            if p is not None:
                consumers.setdefault(id(p), []).append(node)
    found = {}
    for z in order:
        if z.op is None or z.op.name != "subtract" or z.parents[1] is not None:
            continue
        y, users = z.parents[0], consumers.get(id(z), [])
        if y is None or z.data.ndim != 2 or len(users) != 2:
            continue
        ex = next((u for u in users if u.op.name == "exp"), None)
        lsm = next((u for u in users if u.op.name == "subtract"), None)
        if ex is None or lsm is None or lsm.parents[0] is not z:
            continue
        se = _one(consumers, ex, "sum")
        if se is None or se.params.get("axis") not in (1, -1) or not se.params.get("keepdims"):
            continue
        lg = _one(consumers, se, "log")
        if lg is None or lsm.parents[1] is not lg:
            continue
        pick = _one(consumers, lsm, "getitem")
        total = None if pick is None else _one(consumers, pick, "sum")
        neg = None if total is None else _one(consumers, total, "negative")
        if neg is None or total.params.get("axis") is not None:
            continue
        index = pick.params["index"]
        if not (isinstance(index, tuple) and len(index) == 2 and pick.data.ndim == 1
                and all(isinstance(a, np.ndarray) for a in index)):
            continue
        found[id(neg)] = (y, z, ex, se, neg, pick, (z, ex, se, lg, lsm, pick, total, neg))
    return found


def fused_lines(builder, chain) -> list[str] | None:
    """The gradient sent to the logits by one chain, or None (not applicable)."""
    y, z, ex, se, neg, pick, _ = chain
    prog = builder.prog

    if not builder.wanted(y) or not _distinct_rows(_Lit(prog), pick.params["index"]):
        return None
    name = prog.namer.unique("g_softmax")
    lines = [f"{name} = np.divide({builder.value_of(ex)}, {builder.value_of(se)})"
             "  # softmax(y): the forward's exp / sum",
             f"{name}[{prog.index(pick.params['index'])}] -= 1.0  # minus the one-hot targets"]
    if neg is not builder.output:  # (the output's own gradient is ones)
        lines.append(f"{name} *= {builder.grad_of(neg).name}  # the gradient reaching the loss")
    return lines + accumulate(builder.grad_of(y), name, True)


def pick_targets(builder, nodes: list) -> dict:
    """For straight-line ``nodes``: {id(pick): () -> its expression, "skip": {id(lsm)}}
    where a chain's log-softmax matrix is only read by its pick."""
    ids = {id(n) for n in nodes}
    out: dict = {"skip": set()}
    for chain in builder.xent.values():
        y, z, ex, se, neg, pick, every = chain
        lsm, lg = every[4], every[3]
        index = pick.params["index"]
        if id(lsm) not in ids or id(pick) not in ids or id(lsm) in builder.value:
            continue
        if not _distinct_rows(_Lit(builder.prog), index):  # (then the backward is fused)
            continue
        out["skip"].add(id(lsm))
        rows = builder.prog.index(index[0])
        rows = ":" if rows == f"np.arange({z.data.shape[0]})" else rows
        out[id(pick)] = (lambda z=z, lg=lg, index=index, rows=rows:
                         f"{builder.value_of(z)}[{builder.prog.index(index)}] - "
                         f"{builder.value_of(lg)}[{rows}, 0]"
                         "  # the targets' log-probabilities")
    return out
