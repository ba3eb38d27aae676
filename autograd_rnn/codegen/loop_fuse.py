"""Sibling gates computed together: one op chain over adjacent column blocks.

An LSTM step slices its pre-activation ``a`` into gates and applies the same function to
neighbours (``i = sigmoid(a[:, 0:H])``, ``f = sigmoid(a[:, H:2H])``). Hand-written code
applies it once to ``a[:, 0:2H]``; so does the loop after ``fuse_siblings``: the gates
live side by side in one per-step array (``i_f[t]``, with ``i`` its columns ``0:H``), the
forward chain runs once on the joint block, and the backward collects the gates'
gradients side by side (``g_i_f[:, 0:H]``) to run the chain's derivative once and add
it into ``g_a[:, 0:2H]``. Same ops on the same numbers: results are unchanged.

Works on the symbolic loop text (``<v:k>`` values, ``<g:k>`` gradients of the step) after
its markers are filled in; anything unexpected leaves the text as it was.
"""

from __future__ import annotations

import re

from autograd_rnn.codegen.loops import Loop

_X, _G, _V = "\u2022x", "\u2022g", "\u2022v"  # placeholders
_SLICE = re.compile("^\u27e8v:(\\d+)\u27e9 = \u27e8v:(\\d+)\u27e9\\[:, (\\d*):(\\d*)\\]$")


def _v(k: int) -> str:
    return f"\u27e8v:{k}\u27e9"


def _g(k: int) -> str:
    return f"\u27e8g:{k}\u27e9"


def _members(loop: Loop, text: str) -> list[list[tuple]]:
    """Runs of (slice pos, value pos, lo, hi, chain) over adjacent columns of one value,
    each slice read only by one identical one-line chain."""
    first = loop.periods[0]
    fwd = loop.fwd_text
    found = []
    for i, line in enumerate(fwd[:-1]):
        m = _SLICE.match(line)
        if not m:
            continue
        s, parent = int(m.group(1)), int(m.group(2))
        width = first[parent].data.shape[-1]
        lo = int(m.group(3) or 0)
        hi = int(m.group(4)) if m.group(4) else width
        nxt = re.match("^\u27e8v:(\\d+)\u27e9 = (.*)$", fwd[i + 1])
        if not nxt or first[parent].data.ndim != 2 or text.count(_v(s)) != 2:
            continue
        k, chain = int(nxt.group(1)), nxt.group(2)
        if chain.count(_v(s)) != 1 or "\u27e8" in chain.replace(_v(s), ""):
            continue
        if (f"\u27e8p:{k}\u27e9" in text or k in loop.init or k in loop.bind
                or k in loop.carry or k in loop.lazy):
            continue
        found.append((s, k, lo, hi, chain.replace(_v(s), _X), parent, i,
                      f"{m.group(3)}:{m.group(4)}"))
    runs: list[list[tuple]] = []
    for item in found:
        last = runs[-1][-1] if runs else None
        if (last and last[5] == item[5] and last[3] == item[2] and last[4] == item[4]
                and last[6] + 2 == item[6]):
            runs[-1].append(item)
        else:
            runs.append([item])
    return [run for run in runs if len(run) > 1]


def fuse_siblings(loop: Loop, external: set, namer) -> dict:
    """Rewrite the loop text for every run of sibling gates; returns {joint array name:
    (per-step shape, dtype, {gate name: its columns})} for the caller to allocate like the
    other per-step arrays, with each gate a view of its columns."""
    arrays = {}
    for run in _members(loop, "\n".join(loop.fwd_text + loop.bwd_text)):
        if any(k in external for _, k, *_ in run):
            continue
        saved = (list(loop.fwd_text), list(loop.bwd_text))
        if not _fuse(loop, run, namer, arrays):
            loop.fwd_text, loop.bwd_text = saved
    return arrays


def _fuse(loop: Loop, run: list, namer, arrays: dict) -> bool:
    first = loop.periods[0]
    s1, k1, lo, _, chain, parent, at, _ = run[0]
    hi = run[-1][3]
    node = first[k1]
    name = namer("_".join(loop.names[k] for _, k, *_ in run))
    view = {k: f"{loop.names[k]}[t]" for _, k, *_ in run}  # i = i_f[:, :, 0:H], ...
    columns = {loop.names[k]: (a - lo, b - lo) for _, k, a, b, *_ in run}
    # forward: one slice, one chain into the joint per-step array
    fwd = loop.fwd_text
    fwd[at:run[-1][6] + 2] = [f"{_v(s1)} = {_v(parent)}[:, {lo}:{hi}]",
                              f"{name}[t] = {chain.replace(_X, _v(s1))}"]
    for k, text in view.items():
        loop.fwd_text = [line.replace(_v(k), text) for line in loop.fwd_text]
    if not loop.bwd_text:
        arrays[name] = ((node.data.shape[0], hi - lo), node.data.dtype, columns)
        return True
    # backward: gradients of the gates side by side, the chain's derivative once
    bwd = [line for line in loop.bwd_text]
    for k, text in view.items():
        bwd = [line.replace(_v(k), text) for line in bwd]
    g_name = f"g_{name}"
    ks = {k: (a - lo, b - lo) for _, k, a, b, *_ in run}
    vjp_at, into_at, vjps = {}, {}, {}
    for j, line in enumerate(bwd):
        for s, k, *_ in run:
            if line.startswith(f"{_g(s)} = "):
                vjp_at[k], vjps[k] = j, line[len(f"{_g(s)} = "):]
            if line == f"{_g(parent)}[:, {_slice(run, k)}] += {_g(s)}":
                into_at[k] = j
    if len(vjp_at) != len(run) or len(into_at) != len(run):
        return False
    norm = {re.sub(rf"(?<![\w.]){re.escape(view[k])}", _V, vjps[k].replace(_g(k), _G))
            for k in ks}
    if len(norm) != 1:
        return False
    last_vjp = max(vjp_at.values())
    if max(into_at.values()) < last_vjp or any(
            into_at[k] < vjp_at[k] for k in ks) or any(
            _g(parent) in bwd[j] for j in range(min(into_at.values()), max(into_at.values()))
            if j not in into_at.values()):
        return False  # the parent's gradient must be complete only after the joint add
    out, started = [], False
    for j, line in enumerate(bwd):
        touched = [k for k in ks if re.search(re.escape(_g(k)) + r"(?!\d)", line)]
        if j in vjp_at.values() and j != last_vjp:
            continue
        if j == last_vjp:
            joint = norm.pop().replace(_G, g_name).replace(_V, f"{name}[t]")
            out.append(f"{_g(s1)} = {joint}")
            continue
        if j in into_at.values():
            if j == max(into_at.values()):
                out.append(f"{_g(parent)}[:, {lo}:{hi}] += {_g(s1)}")
            continue
        if touched and j > last_vjp:
            return False  # a gate's gradient changed after the joint derivative
        if touched:
            k = touched[0]
            a, b = ks[k]
            if not started:
                out.append(f"{g_name} = np.zeros(({node.data.shape[0]}, {hi - lo}), "
                           f"dtype=np.{node.data.dtype.name})")
                started = True
            m = re.fullmatch(re.escape(_g(k)) + r" (?:\+)?= (?:" + re.escape(_g(k))
                             + r" \+ )?(.*)", line)
            if len(touched) != 1 or not m:
                return False
            out.append(f"{g_name}[:, {a}:{b}] += {m.group(1)}")
            continue
        out.append(line)
    loop.bwd_text = out
    arrays[name] = ((node.data.shape[0], hi - lo), node.data.dtype, columns)
    return True


def _slice(run: list, k: int) -> str:
    return next(item[7] for item in run if item[1] == k)
