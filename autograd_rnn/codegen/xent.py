"""Fused softmax cross-entropy: the textbook gradient instead of the chain of primitives.

``-log_softmax(y, axis=1)[rows, targets].sum()`` is recorded as eight primitives (shift,
exp, sum, log, subtract, pick, sum, negate) and its backward, op by op, costs six passes over
(N, V) and two broadcasts. When nothing else reads the chain's values and ``rows`` is
``np.arange(N)`` (no position picked twice), the gradient reaching the logits becomes::

    g_softmax = exp / sum_                      # softmax(y), from the forward's values
    g_softmax[np.arange(N), targets] -= 1.0     # minus the one-hot targets
    g_softmax *= g_loss                         # (only when the loss is not the output)

and the forward picks the targets before normalising (``z[rows, targets] - log[:, 0]``)
instead of forming the (N, V) log-probabilities. Results agree with the op-by-op gradient to
rounding.
"""

from __future__ import annotations

from autograd_rnn.codegen import extra_ops
from autograd_rnn.codegen.ir import Const, Op, Program, Stmt, Var, reads
from autograd_rnn.codegen.sums import scatter_index_kind

PICK = Op("pick", lambda z, log, *, index, rows: z[index] - log[rows, 0])


def _readers(body: list) -> dict[int, list[Stmt]]:
    readers: dict[int, list[Stmt]] = {}
    for s in body:
        for v in reads(s):
            readers.setdefault(id(v), []).append(s)
    return readers


def _only(readers: dict, v, op: str, phase: str = "forward") -> Stmt | None:
    """The single ``op`` statement of ``phase`` reading ``v`` (none other of that phase)."""
    found = [s for s in readers.get(id(v), ()) if s.phase == phase]
    return found[0] if len(found) == 1 and found[0].op.name == op else None


def _chain(z: Stmt, readers: dict):
    """(e, s, log, lsm, pick, total, neg) statements of a log-softmax cross-entropy
    starting at the shifted logits ``z``, or None."""
    users = [s for s in readers.get(id(z.out), ()) if s.phase == "forward"]
    ex = next((u for u in users if u.op.name == "exp"), None)
    lsm = next((u for u in users if u.op.name == "subtract" and u.args[0] is z.out), None)
    if len(users) != 2 or ex is None or lsm is None or len(z.out.shape) != 2:
        return None
    s = _only(readers, ex.out, "sum")
    if s is None or s.params.get("axis") not in (1, -1) or not s.params.get("keepdims"):
        return None
    log = _only(readers, s.out, "log")
    if log is None or lsm.args[1] is not log.out or _only(readers, log.out, "subtract") is None:
        return None
    pick = _only(readers, lsm.out, "getitem")
    total = None if pick is None else _only(readers, pick.out, "sum")
    neg = None if total is None else _only(readers, total.out, "negative")
    if neg is None or total.params.get("axis") is not None or len(pick.out.shape) != 1:
        return None
    index = pick.params["index"]
    if not (isinstance(index, tuple) and len(index) == 2) or (
            scatter_index_kind(index) != "distinct"):
        return None
    return ex, s, log, lsm, pick, total, neg


def fuse_cross_entropy(program: Program) -> None:
    """Rewrite every summed softmax cross-entropy of the program (see the docstring)."""
    body = program.body
    readers = _readers(body)
    grad_of = {id(s.out.grad_of): s for s in body
               if s.op is extra_ops.GSUM and s.out is not None and s.out.grad_of is not None}
    seed = {id(s.out) for s in body if s.op is extra_ops.ONES_LIKE}
    for z in [s for s in body if s.op.name == "subtract" and s.phase == "forward"]:
        chain = _chain(z, readers)
        gsum = grad_of.get(id(z.out))
        if chain is None or gsum is None:
            continue
        ex, s, log, lsm, pick, total, neg = chain
        g_neg = grad_of.get(id(neg.out))
        if g_neg is None:
            continue
        _backward(body, gsum, ex, s, pick, g_neg, seed)
        rows, _ = pick.params["index"]
        first = isinstance(rows, Const) and rows.value.shape[0] == z.out.shape[0]
        pick.op, pick.args = PICK, (z.out, log.out)
        pick.params = {"index": pick.params["index"], "rows": slice(None) if first else rows}
        pick.comment = "the targets' log-probabilities"


def _backward(body: list, gsum: Stmt, ex: Stmt, s: Stmt, pick: Stmt, g_neg: Stmt,
              seed: set) -> None:
    v = gsum.out
    v.hint, v.grad_of, v.role = "g_softmax", None, "grad"
    at = body.index(gsum)
    index = pick.params["index"]
    fused = [Stmt(v, extra_ops.DIVIDE, (ex.out, s.out), {}, gsum.scope, "backward",
                  "softmax(y): the forward's exp / sum"),
             Stmt(None, extra_ops.ISUB, (v, Const(1.0)), {"index": index}, gsum.scope,
                  "backward", "minus the one-hot targets")]
    scale = g_neg.args[0] if len(g_neg.args) == 1 else g_neg.out
    if not (isinstance(scale, Var) and id(scale) in seed):
        fused.append(Stmt(None, extra_ops.IMUL, (v, g_neg.out), {}, gsum.scope, "backward",
                          "the gradient reaching the loss"))
    body[at:at + 1] = fused
