"""Loop bodies without allocation: every array op writes into memory made before the loop.

``Lowering`` (driven by ``loop_buffers.lower_body(lines, ...)``) rewrites the statements
of one loop body (forward or backward, names already substituted) so that they compute
the same values, op by op in the same order (bit-identical results), but into
preallocated buffers, as hand-written BPTT does:

* ``h[t] = np.tanh(a)`` -> ``np.tanh(a, out=h[t])`` (per-step arrays written in place);
* ``g_a = g_h * (1 - h[t] * h[t])`` -> three ufunc calls with ``out=`` into one buffer;
* a value whose last use is the current statement hands its buffer to the result
  (``add = np.add(matmul, matmul2, out=matmul)``);
* a gradient carried to the previous step (``g_h_carry``) keeps one buffer for all steps;
* ``g_a = np.zeros(...)`` followed by ``g_a[:, 4:8] += g_f2`` on disjoint slices covering
  it: each ``g_f2`` is computed in its slice (no zero fill, no adds);
* ``g_a_steps[t] = g_a`` makes ``g_a`` live in ``g_a_steps[t]`` from the start;
* ``W_h.T`` is taken once before the loop.

A buffer takes a new value only when every name bound to it (aliases and views included)
is dead (``inplace_plan``). Statements it does not model are kept as they are.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field

import numpy as np

from autograd_rnn.codegen.inplace_plan import (
    ELEMENTWISE,
    Plan,
    Stmt,
    op_of,
)


@dataclass(eq=False)
class Buffer:
    text: str  # how the generated code names it
    shape: tuple
    dtype: np.dtype
    kind: str  # "scratch" | "pinned" (a carried name's own) | "consumable" | "fixed"
    groups: set = field(default_factory=set)  # alias groups whose value lives here
    pinned: str | None = None


class Lowering:
    def __init__(self, plan: Plan, env: dict, t0: int, namer, pinned: set) -> None:
        self.plan = plan
        self.env = env  # name -> dummy array (shape/dtype) for names defined outside
        self.t0 = t0
        self.namer = namer
        self.pre: list[str] = []
        self.out: list[str] = []
        self.buffers: list[Buffer] = []
        self.buf: dict[int, Buffer | None] = {}  # version -> buffer (None: not ours)
        self.local: dict[str, object] = {}  # name -> dummy of its current value
        self.transposed: dict[str, str] = {}
        self.fail: str | None = None
        self.homed: set[int] = set()  # versions computed in their slot
        for name in sorted(pinned):
            b = Buffer(name, env[name].shape, env[name].dtype, "pinned", pinned=name)
            v = plan.in_version[name]
            b.groups.add(plan.group(v))
            self.buf[v] = b
            self.buffers.append(b)

    # ----- shapes, by evaluating on zero-stride dummies --------------------------------
    def dummy(self, node: ast.AST):
        """An array with the shape and dtype of ``node``'s value (None: unknown)."""
        if any(isinstance(n, ast.Name) and n.id in self.local and self.local[n.id] is None
               for n in ast.walk(node)):
            return None
        names = {**self.env, **self.local, "np": np, "t": self.t0}
        try:
            with np.errstate(all="ignore"):
                value = eval(compile(ast.Expression(node), "<shape>", "eval"), {}, names)  # noqa: S307
        except Exception:  # noqa: BLE001 (anything unusual: the statement stays as it is)
            return None
        if isinstance(value, np.generic):
            value = np.asarray(value)
        if not isinstance(value, np.ndarray) or value.dtype.kind not in "biufc":
            return None
        return value

    def nonscalar(self, node: ast.AST) -> bool:
        value = self.dummy(node)
        return value is not None and value.ndim > 0

    def remember(self, name: str, node: ast.AST | None) -> None:
        value = self.dummy(node) if node is not None else None
        self.local[name] = (None if value is None else
                            np.broadcast_to(np.zeros((), value.dtype), value.shape))

    # ----- buffers ----------------------------------------------------------------------
    def free(self, b: Buffer | None, i: int, strict: bool, value, until: int,
             elementwise_def: bool = True) -> bool:
        """May statement ``i`` write a value of ``value``'s shape living until ``until``
        into ``b`` (``strict``: its current value is not even read by statement i)?"""
        if b is None or b.kind == "fixed" or b.shape != value.shape or b.dtype != value.dtype:
            return False
        last = max((self.plan.group_last[g] for g in b.groups), default=-1)
        if last > i or (strict and last == i):
            return False
        if b.kind == "pinned":  # free only until its carried name is assigned again
            nxt = self.plan.next_def(b.pinned, i)
            if nxt is None:
                return False
            d = self.plan.stmts[nxt]
            ok_at = op_of(d.node.value) in ELEMENTWISE if d.kind == "assign" else False
            return until < nxt or (until == nxt and ok_at)
        return True

    def take(self, i: int, value, until: int, avoid: list) -> Buffer:
        for b in self.buffers:
            if b not in avoid and self.free(b, i, True, value, until):
                b.groups = set()
                return b
        name = self.namer(f"tmp{sum(b.kind == 'scratch' for b in self.buffers) + 1}")
        b = Buffer(name, value.shape, value.dtype, "scratch")
        self.pre.append(f"{name} = np.empty({_shape(value.shape)}, dtype=np.{value.dtype.name})")
        self.buffers.append(b)
        return b

    def bind(self, v: int, b: Buffer | None) -> None:
        self.buf[v] = b
        if b is not None:
            b.groups.add(self.plan.group(v))

    # ----- expressions -----------------------------------------------------------------
    def leaf(self, node: ast.AST) -> str:
        if (isinstance(node, ast.Attribute) and node.attr == "T"
                and isinstance(node.value, ast.Name) and node.value.id in self.env
                and node.value.id not in self.plan.assigned):
            name = node.value.id
            if name not in self.transposed:
                self.transposed[name] = self.namer(f"{name}_T")
                self.pre.append(f"{self.transposed[name]} = {name}.T")
            return self.transposed[name]
        return ast.unparse(node)

    def expr(self, node: ast.AST, i: int, dest: Buffer, root: bool, may_use_dest: bool,
             busy: set, temps: list) -> str:
        op = op_of(node)
        value = self.dummy(node) if op is not None else None
        if value is None or value.ndim == 0:
            return self.leaf(node)
        kids = [repr(float(k.value)) if (isinstance(k, ast.Constant) and type(k.value) is int
                                         and value.dtype.kind == "f")  # 1 - x: 1.0 - x
                else self.expr(k, i, dest, False, may_use_dest, busy, temps)
                for k in _operands(node)]
        busy.difference_update(kids)  # consumed here
        elementwise = op in ELEMENTWISE
        target = dest.text if root else None
        if target is None and elementwise:  # a temporary just consumed
            target = next((b.text for b in temps if b.text in kids and b.shape == value.shape
                           and b.dtype == value.dtype), None)
        if (target is None and may_use_dest and dest.text not in busy
                and dest.shape == value.shape and dest.dtype == value.dtype
                and (elementwise or dest.text not in kids)):
            target = dest.text
        if target is None:
            b = self.take(i, value, i, avoid=[dest] + [t for t in temps if t.text in busy])
            temps.append(b)
            target = b.text
        busy.add(target)
        if op == "np.matmul" and all(np.ndim(self.dummy(k)) == 2 for k in _operands(node)):
            op = "np.dot"  # the same product of 2-D arrays, with less call overhead
        self.out.append(f"{op}({', '.join(kids)}, out={target})")
        return target

    def lower(self, i: int, node: ast.AST, dest: Buffer, may_use_dest: bool) -> None:
        self.expr(node, i, dest, True, may_use_dest, set(), [])

    def fixed(self, i: int, name_hint: str, target_src: str, node: ast.AST) -> None:
        """Compute ``node`` into the view ``target_src`` (a slot or a slice)."""
        value = self.dummy(node)
        single = not any(op_of(k) is not None for k in _operands(node))  # one call
        text = target_src
        if not single:
            text = self.namer(name_hint)
            self.out.append(f"{text} = {target_src}")
        self.lower(i, node, Buffer(text, value.shape, value.dtype, "fixed"), True)

    # ----- statements ------------------------------------------------------------------
    def run(self) -> None:
        for i, st in enumerate(self.plan.stmts):
            self.statement(i, st)
            if self.fail:
                return
        plan = self.plan
        for name in sorted(plan.carried):
            # a carry without its own buffer must not reach the next step in a buffer the
            # next step reuses (the plan starts each step with every buffer free)
            final = plan.group(max(v for v, n in enumerate(plan.version_name) if n == name))
            if not any(b.pinned == name for b in self.buffers) and any(
                    final in b.groups for b in self.buffers):
                self.out.append(f"{name} = {name}.copy()  # a fresh array for the next step")

    def statement(self, i: int, st: Stmt) -> None:
        node, kind, plan = st.node, st.kind, self.plan
        if st.defines is not None and any(b.pinned == node.targets[0].id for b in self.buffers):
            if kind != "assign" or op_of(node.value) is None or self.dummy(node.value) is None:
                self.fail = node.targets[0].id  # a carry not computed by ops: no own buffer
                return
        if st.home_of is not None and st.home_of not in self.homed:
            st = Stmt(st.text, st.node, kind, cover=st.cover)  # value not computed in place
        if kind == "alias":
            self.out.append(st.text)
            self.bind(st.defines, self.buf.get(plan.read_version(i, node.value.id)))
            self.local[node.targets[0].id] = self.local.get(node.value.id,
                                                            self.env.get(node.value.id))
            return
        if kind == "consume":  # matmul = matmul_all[t - 1]: ours to overwrite once read
            name = node.targets[0].id
            self.out.append(st.text)
            self.remember(name, node.value)
            value = self.local[name]
            if value is not None and len(plan.defs[name]) == 1:
                self.bind(st.defines, Buffer(name, value.shape, value.dtype, "consumable"))
            return
        if kind in ("assign", "zeros"):
            name = node.targets[0].id
            self.remember(name, node.value)
            if self.local[name] is not None and self.local[name].ndim > 0 and (
                    kind == "zeros" or op_of(node.value) is not None):
                (self.assign_op if kind == "assign" else self.zeros)(i, st, name)
                return
        if kind == "slot" and st.home_of is not None:
            return  # the value was computed in its slot
        if kind == "slot" and op_of(node.value) is not None and self.nonscalar(node.value):
            self.fixed(i, f"{node.targets[0].value.id}_t", ast.unparse(node.targets[0]),
                       node.value)
            return
        if kind == "augassign" and st.cover:  # first write into a slice of a fresh buffer
            if st.home_of is not None:
                return
            if op_of(node.value) is not None and self.nonscalar(node.value):
                self.fixed(i, "part", ast.unparse(node.target), node.value)
            else:
                self.out.append(f"{ast.unparse(node.target)} = {ast.unparse(node.value)}")
            return
        if kind == "augassign" and op_of(node.value) is not None and self.nonscalar(node.value):
            value = self.dummy(node.value)
            b = self.take(i, value, i, avoid=[])
            self.lower(i, node.value, b, True)
            self.out.append(f"{ast.unparse(node.target)} {_AUG[type(node.op)]}= {b.text}")
            return
        self.out.append(st.text)  # kept as written
        if st.defines is not None:
            self.buf[st.defines] = None
            if kind != "assign":
                self.local[node.targets[0].id] = None

    def assign_op(self, i: int, st: Stmt, name: str) -> None:
        node, plan = st.node, self.plan
        value = self.local[name]
        v = st.defines
        until = plan.group_last[plan.group(v)]
        if st.home is not None:
            self.out.append(f"{name} = {st.home}")
            dest = Buffer(name, value.shape, value.dtype, "fixed")
            self.lower(i, node.value, dest, True)
            self.bind(v, dest)
            self.homed.add(v)
            return
        pinned = next((b for b in self.buffers if b.pinned == name), None)
        if pinned is not None:
            last = max((plan.group_last[g] for g in pinned.groups), default=-1)
            if pinned.shape != value.shape or pinned.dtype != value.dtype or last > i:
                self.fail = name
                return
            pinned.groups = set()
            self.lower(i, node.value, pinned, last < i)
            self.bind(v, pinned)
            return
        target = None
        if op_of(node.value) in ELEMENTWISE:  # an operand dying here gives its buffer
            for r in st.reads:
                b = self.buf.get(r)
                if b is not None and self.free(b, i, False, value, until):
                    target = b
                    break
        fresh = target is None
        if fresh:
            target = self.take(i, value, until, avoid=[])
        target.groups = set()
        self.lower(i, node.value, target, fresh)
        self.out[-1] = f"{name} = {self.out[-1]}"
        self.bind(v, target)

    def zeros(self, i: int, st: Stmt, name: str) -> None:
        value = self.local[name]
        if st.home is not None:
            self.out.append(f"{name} = {st.home}")
            b = Buffer(name, value.shape, value.dtype, "fixed")
            self.homed.add(st.defines)
        else:
            b = self.take(i, value, self.plan.group_last[self.plan.group(st.defines)], [])
            self.out.append(f"{name} = {b.text}")
        if not st.cover:
            self.out.append(f"{name}[...] = 0.0")
        self.bind(st.defines, b)


_AUG = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/"}


def _operands(node: ast.AST) -> list[ast.AST]:
    if isinstance(node, ast.BinOp):
        return [node.left, node.right]
    if isinstance(node, ast.UnaryOp):
        return [node.operand]
    return list(node.args)


def _shape(shape) -> str:
    return f"({shape[0]},)" if len(shape) == 1 else f"({', '.join(map(str, shape))})"
