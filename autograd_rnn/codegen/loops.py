"""Loop form: repeated timesteps of identical structure become ``for t in range(...)``.

A *period* is a run of consecutive op nodes recorded under one scope with a timestep
(``rnn/layer0/t=3``). Consecutive periods (t, t+1, ...) are rendered to text with symbolic
references (``<v:k>`` the value at position k of this step, ``<p:k>`` of the previous
step, ``<g:k>`` its gradient, ``<c:k>`` the gradient carried back to the previous step)
and integers inside indices as markers; periods whose text agrees (markers constant or
equal to ``t + c``) form a loop. The forward loop stores per-step values in lists
(``h[t]``) only where something outside the step reads them; the backward loop runs t
downwards and carries the recurrent gradient (``g_h_carry``) like hand-written BPTT.

Gradients that reach a step from outside the loop: a stack/concat of all steps is read
lazily (``g_Y[t - 1]``), the last step's value of a recurrent quantity starts the carry,
anything else (a per-step output layer, the next layer's loop) is collected in
``g_<name>_in[t]``. ``loop_emit`` also moves per-step weight/bias gradients and
recurrence-free input projections out of the loop (one matmul over all steps, as
hand-written BPTT does). Runs shorter than ``MIN_STEPS``, steps that reach further back
than one step stay straight-line. Timesteps may count up or down (a reverse direction).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from autograd_rnn.codegen.emit import (
    GradVar,
    backward_lines,
    derived_constants,
    forward_lines,
    input_sources,
)
from autograd_rnn.codegen.naming import timestep

MIN_STEPS = 4
_MARK = re.compile("\u27e6(-?\\d+)\u27e7")
_REF = re.compile("\u27e8([vpgcs]):(\\d+)\u27e9")


class Unsupported(Exception):
    """This run cannot be a loop (falls back to straight-line code)."""


def _ref(kind: str, k: int) -> str:
    return f"\u27e8{kind}:{k}\u27e9"


@dataclass
class Loop:
    periods: list  # list of lists of nodes
    ts: list[int]
    scope: str
    start: int  # index into ops of the first node
    end: int  # index into ops after the last node
    bind: dict = field(default_factory=dict)  # position j -> external tensor for <p:j> at t0
    carry: set = field(default_factory=set)  # positions with a gradient carried back
    lazy: dict = field(default_factory=dict)  # position -> (stack node, axis, first index)
    fwd_text: list = field(default_factory=list)
    bwd_text: list = field(default_factory=list)
    names: dict = field(default_factory=dict)
    modes: list = field(default_factory=list)
    detected: tuple = ()
    carry_gv: dict = field(default_factory=dict)
    init: set = field(default_factory=set)
    stored: set = field(default_factory=set)
    deferred: list = field(default_factory=list)  # (gradient name, value ref, step list k)
    has_in: set = field(default_factory=set)  # positions with gradients from outside per step
    picks: dict = field(default_factory=dict)  # position -> (array, c): the value is array[t + c]
    arrays: set = field(default_factory=set)  # stored positions kept in one (T, ...) array
    hoisted: dict = field(default_factory=dict)  # name -> (shape, dtype): all steps at once
    steps_offset: dict = field(default_factory=dict)  # j -> lo: g_<j>_steps row t - lo
    joint: dict = field(default_factory=dict)  # name -> (shape, dtype): sibling gates
    _members: set | None = field(default=None, repr=False, compare=False)

    @property
    def members(self) -> set[int]:
        """``id`` of every node of every period (computed once: ``periods`` is fixed)."""
        if self._members is None:
            self._members = {id(n) for period in self.periods for n in period}
        return self._members

    @property
    def d(self) -> int:
        """+1 when t counts up along the graph, -1 when it counts down."""
        return self.ts[1] - self.ts[0] if len(self.ts) > 1 else 1


def _groups(ops: list) -> list[tuple[int, int, str, int]]:
    """(start, end, scope, t) for each run of consecutive nodes under one timestep scope."""
    out, i = [], 0
    while i < len(ops):
        j, scope = i, ops[i].scope
        while j < len(ops) and ops[j].scope == scope:
            j += 1
        t = timestep(scope)
        if t is not None:
            out.append((i, j, scope, t))
        i = j
    return out


def _key(scope: str) -> str:
    return re.sub(r"t=\d+", "t=*", scope)


class LoopFinder:
    def __init__(self, builder, ops: list) -> None:
        self.b = builder
        self.prog = builder.prog
        self.ops = ops
        self.consumers: dict[int, list] = {}
        for node in ops:
            for i, p in enumerate(node.parents):
                if p is not None:
                    self.consumers.setdefault(id(p), []).append((node, i))
        self.tmp_names: dict[str, str] = {}
        self.index = {id(n): i for i, n in enumerate(ops)}
        self.final = False  # detection renders externals as placeholders
        self.ext_used: dict[int, object] = {}
        self.loop_of: dict[int, tuple[int, int, int]] = {}  # node id -> (loop, position, t)
        self.current = 0
        self.lists: set[str] = set()  # per-step values kept in Python lists (not arrays)

    # ----- rendering one period to symbolic text --------------------------------------
    def tmp(self, base: str, k: int) -> str:
        key = f"{base}_{k}"
        if key not in self.tmp_names:
            self.tmp_names[key] = self.prog.namer.unique(f"{base}{k}")
        return self.tmp_names[key]

    def render(self, loop: Loop, pi: int, init: set) -> tuple[list[str], list[str]]:
        nodes = loop.periods[pi]
        pos = {id(n): k for k, n in enumerate(nodes)}
        prev = {id(n): k for k, n in enumerate(loop.periods[pi - 1])} if pi > 0 else {}
        if pi == 0:
            prev = {id(x): j for j, x in loop.bind.items()}
        in_loop = loop.members  # built once per loop, not once per rendered period

        def value(p) -> str:
            while id(p) in self.b.detached:  # h.detach(): the value of h
                p = self.b.detached[id(p)]
            if id(p) in pos:
                return _ref("v", pos[id(p)])
            if id(p) in prev:
                return _ref("p", prev[id(p)])
            if id(p) in in_loop:
                raise Unsupported("reference further back than one step")
            if self.final or p.op is None:
                return self.b.value_of(p)
            if id(p) in self.loop_of and self.loop_of[id(p)][0] < self.current:  # name[t + c]
                li, k, t = self.loop_of[id(p)]
                return f"\u27e8L{li}.{k}\u27e9[\u27e6{t}\u27e7]"
            return f"\u27e8e:{self.index[id(p)]}\u27e9"

        fwd: list[str] = []
        for k, node in enumerate(nodes):
            tmp = (lambda base, k=k: self.tmp(base, k))
            fwd += derived_constants(self.prog, node, value, tmp)
            fwd += forward_lines(self.prog, node, _ref("v", k), input_sources(
                self.prog, node, value), tmp)
        if not self.b.need:
            return fwd, []
        grads = {k: GradVar(_ref("g", k), n.data.shape, n.data.dtype.name,
                            "alias" if k in init else None) for k, n in enumerate(nodes)}
        carries: dict[int, GradVar] = {}
        ext: dict[int, GradVar] = {}

        def target(p) -> GradVar:
            if id(p) in pos:
                return grads[pos[id(p)]]
            if id(p) in prev:
                j = prev[id(p)]
                if j not in carries:
                    carries[j] = GradVar(_ref("c", j), p.data.shape, p.data.dtype.name)
                return carries[j]
            if id(p) in in_loop:
                raise Unsupported("gradient to another step than this one or the previous")
            if id(p) in self.loop_of and self.loop_of[id(p)][0] < self.current:
                if self.final:  # g_<name>_in[t + c] of the earlier loop
                    gv = self.b.grads[id(p)]
                    return GradVar(gv.name, gv.shape, gv.dtype, "owned")
                li, k, t = self.loop_of[id(p)]
                return GradVar(f"\u27e8XL{li}.{k}\u27e9[\u27e6{t}\u27e7]", p.data.shape,
                               p.data.dtype.name, "owned")
            if id(p) not in ext:
                name = (self.b.grad_of(p).name if self.final or p.op is None
                        else f"\u27e8ge:{self.index[id(p)]}\u27e9")
                ext[id(p)] = GradVar(name, p.data.shape, p.data.dtype.name, "owned")
                self.ext_used[id(p)] = p
            return ext[id(p)]

        bwd: list[str] = []
        for k in reversed(range(len(nodes))):
            node = nodes[k]
            if not self.b.wanted(node):
                continue
            tmp = (lambda base, k=k: self.tmp("g" + base, k))
            bwd += backward_lines(
                self.prog, node, input_sources(self.prog, node, value), _ref("v", k),
                _ref("g", k), lambda i, node=node: target(node.parents[i]),
                lambda p, i: self.b.wanted(p) or (pi == 0 and id(p) in prev), tmp)
        return fwd, bwd

    # ----- finding runs -----------------------------------------------------------------
    def find(self, exclude: frozenset = frozenset()) -> list[Loop]:
        """Loops in graph order; runs starting at an ops index in ``exclude`` are skipped."""
        groups = _groups(self.ops)
        loops: list[Loop] = []
        self.loop_of = {}
        i = 0
        while i < len(groups):
            if groups[i][0] in exclude:
                i += 1
                continue
            j = i + 1
            d = groups[i + 1][3] - groups[i][3] if i + 1 < len(groups) else 1
            d = d if d in (1, -1) else 1  # timesteps counted up, or down (reverse direction)
            while (j < len(groups) and _key(groups[j][2]) == _key(groups[i][2])
                   and groups[j][3] == groups[j - 1][3] + d
                   and groups[j][0] == groups[j - 1][1]
                   and [n.op.name for n in self.ops[groups[j][0]:groups[j][1]]]
                   == [n.op.name for n in self.ops[groups[i][0]:groups[i][1]]]):
                j += 1
            self.current = len(loops)
            found = self._best_run(groups[i:j]) if j - i >= MIN_STEPS else None
            if found is None:
                i += 1
                continue
            loops.append(found[0])
            for pi, period in enumerate(found[0].periods):
                for k, node in enumerate(period):
                    self.loop_of[id(node)] = (len(loops) - 1, k, found[0].ts[pi])
            i += found[1]
        return loops

    def _make(self, groups) -> Loop:
        periods = [self.ops[a:b] for a, b, _, _ in groups]
        return Loop(periods, [g[3] for g in groups], groups[0][2], groups[0][0], groups[-1][1])

    def _bindings(self, loop: Loop) -> dict:
        first, second = loop.periods[0], loop.periods[1]
        pos0 = {id(n): k for k, n in enumerate(first)}
        bind: dict[int, object] = {}
        for a, b in zip(first, second, strict=True):
            for pa, pb in zip(a.parents, b.parents, strict=True):
                if pb is not None and id(pb) in pos0:
                    j = pos0[id(pb)]
                    if pa is None or id(pa) in pos0 or (j in bind and bind[j] is not pa):
                        raise Unsupported("first step does not bind like the others")
                    bind[j] = pa
        return bind

    def _init_set(self, loop: Loop) -> set:
        """Positions whose gradient arrives from outside their own step."""
        init = set()
        for period in loop.periods:
            ids = {id(n) for n in period}
            for k, n in enumerate(period):
                if any(id(c) not in ids for c, _ in self.consumers.get(id(n), ())):
                    init.add(k)
        return init

    def _best_run(self, groups) -> tuple[Loop, int] | None:
        """The longest run of matching periods starting at one of the first three, as
        (loop, groups used)."""
        for s in range(min(3, len(groups) - MIN_STEPS + 1)):
            loop = self._make(groups[s:])
            try:
                loop.bind = self._bindings(loop)
                init = self._init_set(loop)
                texts = [self.render(loop, 0, init), self.render(loop, 1, init)]
                modes = _modes(texts[0], texts[1], loop.ts[0], loop.ts[1])
                if modes is None:
                    continue
                n = 2
                while n < len(loop.periods):
                    text = self.render(loop, n, init)
                    if not _agrees(texts[0], text, modes, loop.ts[0], loop.ts[n]):
                        break
                    n += 1
            except Unsupported:
                continue
            if n >= MIN_STEPS:
                loop = self._make(groups[s:s + n])
                loop.bind = self._bindings(loop)
                loop.modes = modes
                loop.detected = texts[0]
                return loop, s + n
        return None


def _flatten(text: tuple[list[str], list[str]]) -> str:
    return "\n".join(text[0]) + "\n#\n" + "\n".join(text[1])


def _modes(a, b, ta: int, tb: int) -> list | None:
    sa, sb = _flatten(a), _flatten(b)
    if _MARK.sub("\u27e6\u27e7", sa) != _MARK.sub("\u27e6\u27e7", sb):
        return None
    modes = []
    for va, vb in zip(_MARK.findall(sa), _MARK.findall(sb), strict=True):
        va, vb = int(va), int(vb)
        if va == vb:
            modes.append(("const", va))
        elif va - ta == vb - tb:
            modes.append(("affine", va - ta))
        else:
            return None
    return modes


def _agrees(a, b, modes, ta: int, tb: int) -> bool:
    sa, sb = _flatten(a), _flatten(b)
    if _MARK.sub("\u27e6\u27e7", sa) != _MARK.sub("\u27e6\u27e7", sb):
        return False
    for (mode, c), vb in zip(modes, _MARK.findall(sb), strict=True):
        if int(vb) != (c if mode == "const" else tb + c):
            return False
    return True


def _fill_markers(lines: list[str], modes: list) -> list[str]:
    it = iter(modes)

    def sub(_m) -> str:
        mode, c = next(it)
        if mode == "const":
            return str(c)
        return "t" if c == 0 else (f"t + {c}" if c > 0 else f"t - {-c}")

    text = "\n".join(lines)
    return _MARK.sub(sub, text).split("\n") if lines else []
