"""Per-node gradient check: every op's VJP against central differences at its recorded inputs.

For each op node y = f(x_1, ..., x_k) in the graph (with the input values it saw in the
forward pass) and each differentiable input x_i, draw a random cotangent g (shape of y) and
random directions v (shape of x_i), and compare

    analytic  <vjp_i(g), v>
    numeric   (<g, f(.., x_i + eps v, ..)> - <g, f(.., x_i - eps v, ..)>) / (2 eps)

in float64. A pass needs |analytic - numeric| <= atol + rtol |numeric|. Where the one-sided
slopes disagree (a kink of relu/abs/max within eps) the entry is reported as ``kink`` and
not counted as a failure. ``to_dot(..., node_check=report)`` fills failing nodes vermillion,
so a wrong custom op shows up in the picture.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from autograd_rnn.core.backward import reachable
from autograd_rnn.core.errors import AutogradError
from autograd_rnn.core.node import is_dropped
from autograd_rnn.core.vjp import unbroadcast
from autograd_rnn.viz.view import as_roots

EPS = 1e-6
ATOL = 1e-5
RTOL = 1e-4
KINK = 1e-3  # one-sided slopes further apart than this (relative) mean a kink


@dataclass
class NodeCheck:
    """The check of one input of one op node."""

    node_id: int
    parent_id: int
    op: str
    scope: str
    label: str
    input_index: int
    analytic: float
    numeric: float
    abs_error: float
    kink: bool
    passed: bool


class NodeCheckReport:
    """All node checks of a graph; true when every one passed."""

    def __init__(self, results: list[NodeCheck]):
        self.results = results

    @property
    def failed(self) -> list[NodeCheck]:
        return [r for r in self.results if not r.passed]

    def failed_pairs(self) -> dict[int, set[int]]:
        """{child tensor id: ids of the inputs whose VJP failed}."""
        out: dict[int, set[int]] = {}
        for r in self.failed:
            out.setdefault(r.node_id, set()).add(r.parent_id)
        return out

    def __bool__(self) -> bool:
        return not self.failed

    def __str__(self) -> str:
        lines = [f"per-node VJP check: {len(self.results)} checks, {len(self.failed)} failed"]
        for r in self.failed:
            where = f" in {r.scope}" if r.scope else ""
            lines.append(
                f"  FAILED {r.op}{where} input {r.input_index} ({r.label}): "
                f"analytic {r.analytic:.6g} vs numeric {r.numeric:.6g} "
                f"(abs error {r.abs_error:.3g})"
            )
        kinks = sum(r.kink for r in self.results)
        if kinks:
            lines.append(f"  {kinks} checks skipped at kinks (one-sided slopes differ)")
        return "\n".join(lines)


def _f64(value):
    a = np.asarray(value)
    return a.astype(np.float64) if a.dtype.kind == "f" else a


def _check_input(node, index, args, rng, eps, atol, rtol, directions) -> NodeCheck:
    op, params = node.op, node.params or {}
    out = np.asarray(op.forward(*args, **params), dtype=np.float64)
    g = rng.normal(size=out.shape)
    if op.vjps is not None:
        vjp = np.asarray(op.vjps[index](g, out, *args, **params), dtype=np.float64)
    else:
        vjp = np.asarray(op.vjp_all(g, out, *args, **params)[index], dtype=np.float64)
    x = args[index]
    if vjp.shape != np.shape(x):
        vjp = unbroadcast(vjp, np.shape(x))
    worst, worst_excess = None, -np.inf
    for _ in range(directions):
        v = rng.normal(size=np.shape(x))

        def at(step, v=v):
            shifted = list(args)
            shifted[index] = x + step * v
            return float(np.sum(g * op.forward(*shifted, **params)))

        f_plus, f_zero, f_minus = at(eps), at(0.0), at(-eps)
        numeric = (f_plus - f_minus) / (2 * eps)
        analytic = float(np.sum(vjp * v))
        slope_up, slope_down = (f_plus - f_zero) / eps, (f_zero - f_minus) / eps
        kink = abs(slope_up - slope_down) > KINK * (1.0 + abs(numeric))
        error = abs(analytic - numeric)
        excess = error - (atol + rtol * abs(numeric))
        if worst is None or excess > worst_excess:
            worst, worst_excess = (error, analytic, numeric, kink), excess
    error, analytic, numeric, kink = worst
    passed = kink or error <= atol + rtol * abs(numeric)
    parent = node.parents[index]
    return NodeCheck(node.id, parent.id, op.name, node.scope, parent.label, index, analytic,
                     numeric, error, kink, passed)


def check_nodes(
    roots,
    *,
    eps: float = EPS,
    atol: float = ATOL,
    rtol: float = RTOL,
    seed: int = 0,
    directions: int = 2,
    ops: set[str] | None = None,
) -> NodeCheckReport:
    """Check every op node's VJPs (for inputs requiring grad) in the graph of ``roots``.

    Args:
        eps, atol, rtol: central-difference step and tolerances (float64).
        seed: seeds the random cotangents and directions (reproducible reports).
        directions: random directions per input (the worst one is kept).
        ops: only check ops with these names (None: all).
    Returns a ``NodeCheckReport`` (``bool(report)`` is True when all passed).
    """
    rng = np.random.default_rng(seed)
    results = []
    for node in reachable(as_roots(roots)):
        if node.op is None or node.args is None or (ops is not None and node.op.name not in ops):
            continue
        if any(is_dropped(a) for a in node.args):
            scope = f" in scope {node.scope!r}" if node.scope else ""
            raise AutogradError(
                f"check_nodes: op {node.op.name!r}{scope} was recorded under "
                "ar.lean_graph(), which keeps only what backward needs, not the values "
                "needed to re-run it; record the graph outside lean_graph() to check nodes"
            )
        args = tuple(_f64(a) for a in node.args)
        for index, parent in enumerate(node.parents):
            if parent is None or not parent.requires_grad or args[index].dtype.kind != "f":
                continue
            if node.op.vjps is not None and node.op.vjps[index] is None:
                continue
            results.append(_check_input(node, index, args, rng, eps, atol, rtol, directions))
    return NodeCheckReport(results)
