"""Fused softmax cross-entropy: the textbook gradient instead of the chain of primitives.

``-log_softmax(y, axis=1)[rows, targets].sum()`` is recorded as four primitives
(``log_softmax``, pick, sum, negate) and its backward, op by op, scatters the loss gradient
into an (N, V) zero array and runs the log-softmax VJP over it (exp, sum, multiply,
subtract). When nothing else reads the logits or the log-probabilities and ``rows`` is
``np.arange(N)`` (no position picked twice), the forward is written out (shift, exp, sum,
log) and picks the targets' shifted logits before the exp (``picked = z[rows, targets]``,
so the exp may overwrite ``z``, as a hand-written loop does) and normalises only them
(``picked - log[:, 0]``) instead of forming the (N, V) log-probabilities, and the gradient
reaching the logits becomes::

    g_softmax = exp / sum_                      # softmax(y), from the forward's values
    g_softmax[np.arange(N), targets] -= 1.0     # minus the one-hot targets
    g_softmax *= g_loss                         # (only when the loss is not the output)

Results agree with the op-by-op gradient to rounding.
"""

from __future__ import annotations

from autograd_rnn.codegen import extra_ops
from autograd_rnn.codegen.ir import Const, Op, Program, Stmt, Var, reads, vars_in
from autograd_rnn.codegen.sums import scatter_index_kind
from autograd_rnn.core.primitive import REGISTRY

LOG_SOFTMAX, MAX, SUBTRACT, EXP, SUM, LOG = (
    REGISTRY[name] for name in ("log_softmax", "max", "subtract", "exp", "sum", "log"))
GETITEM = REGISTRY["getitem"]
MINUS_LOG = Op("minus_log", lambda picked, log, *, rows: picked - log[rows, 0])


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


def _chain(lsm: Stmt, readers: dict):
    """(pick, total, neg) statements of a summed cross-entropy reading the log-softmax
    statement ``lsm``, or None."""
    if lsm.params.get("axis") not in (1, -1) or len(lsm.out.shape) != 2:
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
    return pick, total, neg


def _written_out(lsm: Stmt) -> list[Stmt]:
    """The log-softmax forward as statements: shift, z = y - shift, exp, sum, log."""
    y, shape, dtype, t = lsm.args[0], lsm.out.shape, lsm.out.dtype, lsm.out.t
    rows = (shape[0], 1)
    made = []
    for hint, op, args, params, out_shape in [
            ("shift", MAX, (y,), {"axis": 1, "keepdims": True}, rows),
            ("z", SUBTRACT, (y, None), {}, shape),
            ("exp", EXP, (None,), {}, shape),
            ("sum_exp", SUM, (None,), {"axis": 1, "keepdims": True}, rows),
            ("log", LOG, (None,), {}, rows)]:
        previous = made[-1].out if made else None
        args = tuple(previous if a is None else a for a in args)
        made.append(Stmt(Var(out_shape, dtype, hint, t), op, args, params, lsm.scope,
                         "forward"))
    made[0].comment = "log_softmax, written out"
    return made


def fuse_cross_entropy(program: Program) -> None:
    """Rewrite every summed softmax cross-entropy of the program (see the docstring)."""
    body = program.body
    readers = _readers(body)
    grad_of = {id(s.out.grad_of): s for s in body
               if s.op is extra_ops.GSUM and s.out is not None and s.out.grad_of is not None}
    seed = {id(s.out) for s in body if s.op is extra_ops.ONES_LIKE}
    for lsm in [s for s in body if s.op is LOG_SOFTMAX and s.phase == "forward"]:
        chain = _chain(lsm, readers)
        gsum = grad_of.get(id(lsm.args[0]))
        if chain is None or gsum is None or len(gsum.args) != 1:
            continue  # (logits read elsewhere too: their gradient has other contributions)
        pick, total, neg = chain
        g_neg = grad_of.get(id(neg.out))
        if g_neg is None:
            continue
        shift, z, ex, s, log = _written_out(lsm)
        index = pick.params["index"]
        picked = Stmt(Var(pick.out.shape, pick.out.dtype, "picked", pick.out.t), GETITEM,
                      (z.out,), {"index": index}, lsm.scope, "forward",
                      "the targets' shifted logits (before the exp)")
        # after lsm and the index's operands (lsm itself is left to dead-code removal)
        made = {id(x.out): k for k, x in enumerate(body) if x.out is not None}
        at = max([body.index(lsm)] + [made[id(v)] + 1 for v in vars_in(index) if id(v) in made])
        body[at:at] = [shift, z, picked, ex, s, log]
        _backward(body, gsum, ex, s, pick, g_neg, seed)
        rows, _ = index
        first = isinstance(rows, Const) and rows.value.shape[0] == lsm.out.shape[0]
        pick.op, pick.args = MINUS_LOG, (picked.out, log.out)
        pick.params = {"rows": slice(None) if first else rows}
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
