"""Rewrites of a loop body that make the generated code as fast as hand-written BPTT.

* ``defer_weight_gradients``: ``g_W += h[t - 1].T @ g_a`` (and ``g_b += g_a.sum(axis=0)``)
  per step becomes one matmul over all steps after the loop; the loop keeps ``g_a`` per
  step. Same sum over t, in another order (differences at the level of rounding).
* ``hoist_projections``: ``a = x[t - 1] @ W_x`` does not depend on the recurrence, so it
  is computed for all steps in one matmul before the loop.

Both work on the symbolic loop text of ``autograd_rnn.codegen.loops`` (``<v:k>`` values,
``<g:k>`` gradients of this step) after its integer markers are filled in.
"""

from __future__ import annotations

import re

from autograd_rnn.codegen.emit import accumulate
from autograd_rnn.codegen.loops import _REF, Loop, LoopFinder

_G = "\u27e8g:(\\d+)\u27e9"
_WEIGHT = re.compile(f"^([A-Za-z_]\\w*) \\+= (\u27e8[vp]:(\\d+)\u27e9|[A-Za-z_]\\w*\\[t"
                     f"(?: [+-] \\d+)?\\])\\.T @ {_G}$")
_BIAS = re.compile(f"^([A-Za-z_]\\w*) \\+= {_G}\\.sum\\(axis=0\\)$")
_ALIAS = re.compile(f"^{_G} = {_G}$")


def defer_weight_gradients(loop: Loop) -> None:
    """``g_W += h[t - 1].T @ g_a`` and ``g_b += g_a.sum(axis=0)`` per step become one
    matmul / sum over all steps after the loop (what hand-written BPTT does): the loop
    keeps ``g_a`` per step instead (aliases such as ``g_add = g_a`` resolved)."""
    first = loop.periods[0]
    assigned: dict[str, int] = {}
    for line in loop.bwd_text:
        target = line.split(" ", 1)[0]
        assigned[target] = assigned.get(target, 0) + 1
    alias: dict[int, int] = {}
    for line in loop.bwd_text:
        m = _ALIAS.match(line)
        if m and assigned[f"\u27e8g:{m.group(1)}\u27e9"] == 1:
            alias[int(m.group(1))] = alias.get(int(m.group(2)), int(m.group(2)))
    kept, stored = [], set()
    for line in loop.bwd_text:
        w, b = _WEIGHT.match(line), _BIAS.match(line)
        if w and first[int(w.group(4))].data.ndim == 2:  # then a.T @ g_j is 2-D by 2-D
            j = alias.get(int(w.group(4)), int(w.group(4)))
            loop.deferred.append((w.group(1), w.group(2), j))
        elif b and first[int(b.group(2))].data.ndim == 2:
            j = alias.get(int(b.group(2)), int(b.group(2)))
            loop.deferred.append((b.group(1), None, j))
        else:
            kept.append(line)
            continue
        if j not in stored:
            stored.add(j)
            kept.append(f"\u27e8s:{j}\u27e9[t] = \u27e8g:{j}\u27e9")
    loop.bwd_text = kept


_STEP = "[A-Za-z_]\\w*\\[t(?: [+-] \\d+)?\\]"
_PICK = re.compile(f"^\u27e8v:(\\d+)\u27e9 = ({_STEP})$")
_PROJECT = re.compile(f"^\u27e8v:(\\d+)\u27e9 = (\u27e8v:\\d+\u27e9|{_STEP}) @ ([A-Za-z_]\\w*)$")


def hoist_projections(finder: LoopFinder, loop: Loop) -> list[str]:
    """``a = x[t - 1] @ W_x`` does not depend on the recurrence: compute it for all steps
    in one matmul before the loop (as hand-written code does) and read ``a_all[t - 1]``."""
    first, (t0, t1) = loop.periods[0], (min(loop.ts), max(loop.ts))  # ascending rows
    lists = finder.lists
    picks = {}
    for line in loop.fwd_text:
        m = _PICK.match(line)
        if m:
            picks[f"\u27e8v:{m.group(1)}\u27e9"] = m.group(2)
    lines, kept = [], []
    for line in loop.fwd_text:
        m = _PROJECT.match(line)
        source = m and picks.get(m.group(2), m.group(2))
        if not m or "\u27e8" in source or first[int(m.group(1))].data.ndim != 2:
            kept.append(line)
            continue
        k = int(m.group(1))
        array, c = re.fullmatch(r"(\w+)\[t(?: ([+-] \d+))?\]", source).groups()
        c = int(c.replace(" ", "")) if c else 0
        T, (B, H) = t1 - t0 + 1, first[k].data.shape
        rows = (f"np.concatenate({array}[{t0 + c}:{t1 + 1 + c}])" if array in lists else
                f"{array}[{t0 + c}:{t1 + 1 + c}].reshape(({T * B}, -1))")
        name = finder.prog.namer.unique(f"{loop.names[k]}_all")
        loop.hoisted[name] = ((T, B, H), first[k].data.dtype)
        lines.append(f"{name} = ({rows} @ {m.group(3)}).reshape(({T}, {B}, {H}))"
                     "  # all steps at once (no recurrence)")
        kept.append(f"\u27e8v:{k}\u27e9 = {name}[t - {t0}]" if t0 else
                    f"\u27e8v:{k}\u27e9 = {name}[t]")
    loop.fwd_text = kept
    return _fold_biases(loop, lines)


_V = "\u27e8v:(\\d+)\u27e9"
_SUM = re.compile(f"^{_V} = {_V} \\+ {_V}$")
_BIASED = re.compile(f"^{_V} = {_V} \\+ ([A-Za-z_]\\w*)$")


def _fold_biases(loop: Loop, lines: list[str]) -> list[str]:
    """``a = (x_t W_x + h W_h) + b`` -> ``(x_t W_x + b) + h W_h``: the bias is added to the
    hoisted projection of all steps at once (one op fewer per step; the same sum in
    another order, so results differ from the engine's at the level of rounding)."""
    text = "\n".join(loop.fwd_text + loop.bwd_text)
    hoisted = {}
    for line in loop.fwd_text:
        m = re.match(f"^{_V} = ([A-Za-z_]\\w*)\\[t(?: - \\d+)?\\]$", line)
        if m and m.group(2) in loop.hoisted:
            hoisted[m.group(1)] = m.group(2)

    def once(k: str) -> bool:  # defined, then read exactly once
        return text.count(f"\u27e8v:{k}\u27e9") == 2

    sums = {m.group(1): m for m in map(_SUM.match, loop.fwd_text) if m}
    for i, line in enumerate(loop.fwd_text):
        m = _BIASED.match(line)
        if not m or not once(m.group(2)):
            continue
        a, bias = m.group(2), m.group(3)
        if a in hoisted:
            name = hoisted[a]
        elif a in sums and any(p in hoisted and once(p) for p in sums[a].group(2, 3)):
            name = hoisted[next(p for p in sums[a].group(2, 3) if p in hoisted)]
        else:
            continue
        lines.append(f"{name} += {bias}  # the bias too (added before the recurrent term)")
        loop.fwd_text[i] = f"\u27e8v:{m.group(1)}\u27e9 = \u27e8v:{a}\u27e9"
    return lines


def alias_picks(loop: Loop, external: set) -> None:
    """``x_t = x[t - 1]`` (a step's slice of an array) is not copied into a per-step array:
    every use reads ``x[t - 1]`` directly (``loop.picks``: position -> (array, offset)).
    Values read outside the loop (``external`` positions) stay stored."""
    text = "\n".join(loop.fwd_text + loop.bwd_text)
    kept = []
    for line in loop.fwd_text:
        m = _PICK.match(line)
        k = int(m.group(1)) if m else -1
        if not m or k in loop.bind or k in external or f"\u27e8p:{k}\u27e9" in text:
            kept.append(line)
            continue
        array, c = re.fullmatch(r"(\w+)\[t(?: ([+-] \d+))?\]", m.group(2)).groups()
        if array in loop.hoisted:  # matmul = matmul_all[t - 1] may then be overwritten
            kept.append(line)
            continue
        loop.picks[k] = (array, int(c.replace(" ", "")) if c else 0)
    loop.fwd_text = kept


def deferred_gradients(finder: LoopFinder, loop: Loop) -> list[str]:
    """After the backward loop: the weight and bias gradients ``defer_weight_gradients``
    took out of it, as one matmul / sum over all steps (per-step arrays as rows)."""
    b, d = finder.b, loop.d
    lo, hi = min(loop.ts), max(loop.ts)
    out: list[str] = []
    if loop.deferred:
        out.append("# weight and bias gradients of all steps at once (the sum over t, "
                   "reordered)")
    for j in sorted({j for _, _, j in loop.deferred}):
        width = loop.periods[0][j].data.shape[-1]
        off = loop.steps_offset.get(j, 0)
        out.append(f"g_{loop.names[j]}_all = g_{loop.names[j]}_steps"
                   f"[{lo - off}:{hi + 1 - off}].reshape((-1, {width}))")
    for name, ref, j in loop.deferred:
        steps = f"g_{loop.names[j]}_all"
        if ref is None:
            expr = f"{steps}.sum(axis=0)"
            gv = next(g for g in b.grads.values() if g.name == name)
            out += accumulate(gv, expr, True)
            continue
        if _REF.match(ref):
            kind, k = _REF.match(ref).groups()
            k = int(k)
            if k in loop.picks:
                values, c = loop.picks[k]
                c -= 0 if kind == "v" else d
            else:
                values, c = loop.names[k], (0 if kind == "v" else -d)
            width = loop.periods[0][k].data.shape[-1]
        else:  # an array of an earlier loop (or an input), read at t + c
            values, c = re.fullmatch(r"(\w+)\[t(?: ([+-] \d+))?\]", ref).groups()
            c = int(c.replace(" ", "")) if c else 0
            width = None
        rows = (f"{values}[{lo + c}:{hi + 1 + c}].reshape((-1, {width}))"
                if width and values not in finder.lists else
                f"np.concatenate({values}[{lo + c}:{hi + 1 + c}])")
        expr = f"{rows}.T @ {steps}"
        gv = next(g for g in b.grads.values() if g.name == name)
        out += accumulate(gv, expr, True)
    return out
