"""Liveness analysis of one loop body for ``autograd_rnn.codegen.inplace``.

Each statement is classified (``Stmt.kind``); every assignment defines a new *version*
of its name. Versions that share memory (``g_add = g_a``, a view ``getitem = a[:, :4]``,
anything a statement we do not understand might alias) are merged into one *group*; a
group's ``last`` use is the last statement reading any member. A buffer may take a new
value only after the last use of every group living in it. Names read before they are
assigned in the body are carried from the previous step (``g_h_carry``): their final
version is live after the body.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field

import numpy as np

INF = 10**9
_BIN = {ast.Add: "np.add", ast.Sub: "np.subtract", ast.Mult: "np.multiply",
        ast.Div: "np.divide", ast.MatMult: "np.matmul"}
_CALLS = {"tanh", "exp", "log", "sqrt", "abs", "sign", "maximum", "minimum", "add",
          "subtract", "multiply", "divide", "negative"}
_FRESH = {"sum", "max", "min", "mean", "copy", "zeros", "zeros_like", "ones_like",
          "concatenate", "array"}  # calls whose result never shares memory with an input


def fresh_call(node: ast.AST) -> bool:
    """``x.sum(...)``, ``np.zeros(...)``, ...: a new array, not a view of the operands."""
    return (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
            and node.func.attr in _FRESH and not any(k.arg == "out" for k in node.keywords))
ELEMENTWISE = {*(v for v in _BIN.values() if v != "np.matmul"), "np.negative",
               *(f"np.{n}" for n in _CALLS)}


def op_of(node: ast.AST) -> str | None:
    """The NumPy function (with ``out=``) computing an expression node, or None."""
    if isinstance(node, ast.BinOp):
        return _BIN.get(type(node.op))
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        return "np.negative"
    if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
            and isinstance(node.func.value, ast.Name) and node.func.value.id == "np"
            and node.func.attr in _CALLS and not node.keywords
            and 1 <= len(node.args) <= 2
            and not any(isinstance(a, ast.Starred) for a in node.args)):
        return f"np.{node.func.attr}"
    return None


@dataclass
class Stmt:
    text: str
    node: ast.stmt
    kind: str = "other"
    defines: int | None = None  # version id assigned here
    reads: list = field(default_factory=list)  # version ids read here
    cover: bool = False  # zeros fully overwritten by disjoint slice writes
    home_of: int | None = None  # slot statement whose value was computed in place
    home: str | None = None


def _classify(node: ast.stmt, consumable: set) -> str:
    if isinstance(node, ast.Assign) and len(node.targets) == 1:
        target, value = node.targets[0], node.value
        if isinstance(target, ast.Name):
            if isinstance(value, ast.Name):
                return "alias"
            if (isinstance(value, ast.Subscript) and isinstance(value.value, ast.Name)
                    and value.value.id in consumable):
                return "consume"
            if (isinstance(value, ast.Call) and ast.unparse(value.func) == "np.zeros"):
                return "zeros"
            return "assign"
        if isinstance(target, ast.Subscript) and isinstance(target.value, ast.Name):
            return "slot"
    if isinstance(node, ast.AugAssign) and type(node.op) in (ast.Add, ast.Sub, ast.Mult,
                                                              ast.Div):
        return "augassign"
    return "other"


class Unplannable(Exception):
    """A statement form the analysis does not model (the body is left as it is)."""


class Plan:
    def __init__(self, stmts: list[Stmt], consumable: set) -> None:
        self.stmts = stmts
        self.version_name: list[str] = []
        self.def_at: list[int] = []
        self.parent: list[int] = []
        self.in_version: dict[str, int] = {}
        self.defs: dict[str, list[int]] = {}
        self.assigned: set[str] = set()
        current: dict[str, int] = {}
        last: dict[int, int] = {}
        shares: list[tuple[int, int]] = []
        for i, st in enumerate(stmts):
            st.kind = _classify(st.node, consumable)
            st.reads, st.defines = [], None
            st.cover, st.home_of, st.home = False, None, None
            loads = [n.id for n in ast.walk(st.node) if isinstance(n, ast.Name)
                     and isinstance(n.ctx, ast.Load) and n.id not in ("np", "t")]
            if isinstance(st.node, ast.AugAssign) and isinstance(st.node.target, ast.Name):
                loads.append(st.node.target.id)
            for name in loads:
                if name not in current:
                    current[name] = self._new(name, -1)
                    self.in_version[name] = current[name]
                st.reads.append(current[name])
                last[current[name]] = i
            stores = [n.id for n in ast.walk(st.node) if isinstance(n, ast.Name)
                      and isinstance(n.ctx, ast.Store)]
            if isinstance(st.node, ast.Assign) and isinstance(st.node.targets[0], ast.Name):
                name = st.node.targets[0].id
                st.defines = current[name] = self._new(name, i)
                self.defs.setdefault(name, []).append(i)
                self.assigned.add(name)
                if st.kind in ("alias", "other") or (st.kind == "assign" and op_of(
                        st.node.value) is None and not fresh_call(st.node.value)):
                    shares += [(st.defines, r) for r in st.reads]  # may be a view
            elif (stores and not isinstance(st.node, ast.AugAssign)) or isinstance(
                    st.node, (ast.For, ast.While, ast.If, ast.With)):
                raise Unplannable(st.text)
        self.carried = {n for n in self.in_version if n in self.defs}
        for a, b in shares:
            if self.def_at[b] >= 0 or self.version_name[b] in self.carried:
                self._union(a, b)
        for name in self.carried:
            last[current[name]] = INF  # read again by the next step / after the loop
        self.last = last
        self.group_last: dict[int, int] = {}
        for v in range(len(self.version_name)):
            g = self.group(v)
            self.group_last[g] = max(self.group_last.get(g, -1), last.get(v, -1))

    def _new(self, name: str, i: int) -> int:
        self.version_name.append(name)
        self.def_at.append(i)
        self.parent.append(len(self.parent))
        return len(self.parent) - 1

    def group(self, v: int) -> int:
        while self.parent[v] != v:
            self.parent[v] = self.parent[self.parent[v]]
            v = self.parent[v]
        return v

    def _union(self, a: int, b: int) -> None:
        self.parent[self.group(a)] = self.group(b)

    def next_def(self, name: str, i: int) -> int | None:
        later = [j for j in self.defs.get(name, ()) if j > i]
        return later[0] if later else None

    def read_version(self, i: int, name: str) -> int | None:
        for v in self.stmts[i].reads:
            if self.version_name[v] == name:
                return v
        return None


def analyse(stmts: list[Stmt], consumable: set, t0: int) -> Plan:
    """Plan a body; statements may be reordered first (a zero-filled gradient buffer is
    created before the values written into its slices, so they are computed there)."""
    plan = Plan(stmts, consumable)
    _find_covers(plan, t0)
    moved = _move_zeros(plan)
    if moved is not None:
        stmts[:] = moved
        plan = Plan(stmts, consumable)
        _find_covers(plan, t0)
    _find_homes(plan)
    return plan


def _index_ok(node: ast.AST) -> bool:
    return all(isinstance(n, (ast.Slice, ast.Constant, ast.Tuple, ast.Load, ast.BinOp,
                              ast.UnaryOp, ast.operator, ast.unaryop))
               or (isinstance(n, ast.Name) and n.id == "t") for n in ast.walk(node))


def disjoint_cover(shape: tuple, name: str, parts: list[str], t0: int) -> bool:
    """Do the basic-index views ``parts`` (``"g_a[:, 4:8]"``) of array ``name`` select
    disjoint pieces covering it (then writing each replaces zero-filling and adding)?"""
    ids = np.arange(int(np.prod(shape))).reshape(shape)
    seen = np.zeros(ids.size, dtype=int)
    for text in parts:
        part = eval(text, {}, {name: ids, "t": t0})  # noqa: S307 (a basic index of name)
        if not np.shares_memory(part, ids):
            return False
        seen[np.ravel(part)] += 1
    return bool((seen == 1).all())


def _find_covers(plan: Plan, t0: int) -> None:
    stmts = plan.stmts
    for i, st in enumerate(stmts):
        if st.kind != "zeros":
            continue
        name, v = st.node.targets[0].id, st.defines
        parts, indices = [], []
        for j in range(i + 1, len(stmts)):
            other = stmts[j]
            if v not in other.reads and all(plan.group(r) != plan.group(v)
                                            for r in other.reads):
                if other.defines is not None and plan.version_name[other.defines] == name:
                    break
                continue
            node = other.node
            if (other.kind == "augassign" and isinstance(node.op, ast.Add)
                    and isinstance(node.target, ast.Subscript)
                    and isinstance(node.target.value, ast.Name)
                    and node.target.value.id == name and _index_ok(node.target.slice)
                    and other.reads.count(v) == 1):
                parts.append(other)
                indices.append(ast.unparse(node.target))
                continue
            break
        shape = _zeros_shape(st.node.value)
        if parts and shape is not None and disjoint_cover(shape, name, indices, t0):
            st.cover = True
            for other in parts:
                other.cover = True


def _zeros_shape(call: ast.Call):
    try:
        shape = ast.literal_eval(call.args[0])
    except (ValueError, IndexError):
        return None
    return (shape,) if isinstance(shape, int) else tuple(shape)


def _move_zeros(plan: Plan) -> list[Stmt] | None:
    """Move each covered ``X = np.zeros(...)`` up to just before the first value written
    into one of its slices (``X[:, 4:8] += g_f2``), so those values can live there."""
    stmts = list(plan.stmts)
    changed = False
    for st in list(stmts):
        if st.kind != "zeros" or not st.cover:
            continue
        i = stmts.index(st)
        name = st.node.targets[0].id
        firsts = []
        for other in stmts[i + 1:]:
            if other.cover and isinstance(other.node.value, ast.Name):
                v = plan.read_version(plan.stmts.index(other), other.node.value.id)
                if v is not None and plan.def_at[v] >= 0:
                    firsts.append(stmts.index(plan.stmts[plan.def_at[v]]))
        if not firsts or min(firsts) > i:
            continue
        to = min(firsts)
        if any(name in {plan.version_name[r] for r in s.reads} or (
                s.defines is not None and plan.version_name[s.defines] == name)
                for s in stmts[to:i]):
            continue
        stmts.remove(st)
        stmts.insert(to, st)
        changed = True
    return stmts if changed else None


def _find_homes(plan: Plan) -> None:
    """``S[t] = g_a`` (or a covered ``X[:, 4:8] += g_f``) with ``g_a`` computed earlier
    in the body by ops: compute it there in the first place."""
    stmts = plan.stmts
    homed = set()
    for i, st in enumerate(stmts):
        slot = st.kind == "slot" and isinstance(st.node.value, ast.Name)
        part = st.cover and st.kind == "augassign" and isinstance(st.node.value, ast.Name)
        if not (slot or part):
            continue
        target = st.node.targets[0] if slot else st.node.target
        name = st.node.value.id
        v = plan.read_version(i, name)
        if v is None or plan.def_at[v] < 0 or v in homed or name in plan.carried:
            continue
        if target.value.id in plan.carried or (slot and target.value.id in plan.assigned):
            continue
        d = stmts[plan.def_at[v]]
        if not ((d.kind == "assign" and op_of(d.node.value) is not None)
                or (slot and d.kind == "zeros")):
            continue
        if part:  # the zero-filled buffer must exist when the value is computed
            x = plan.read_version(i, target.value.id)
            if x is None or plan.def_at[x] < 0 or plan.def_at[x] > plan.def_at[v]:
                continue
        g = plan.group(v)
        if any(_changes(plan, j, g) for j in range(i + 1, len(stmts))):
            continue  # changed in place after being stored
        homed.add(v)
        st.home_of = v
        d.home = ast.unparse(target)


def _changes(plan: Plan, j: int, group: int) -> bool:
    """Does statement ``j`` change (``x += ...``, ``x[...] += ...``) a value of ``group``?"""
    st = plan.stmts[j]
    if st.kind != "augassign":
        return False
    target = st.node.target
    base = target.value if isinstance(target, ast.Subscript) else target
    if not isinstance(base, ast.Name):
        return True
    v = plan.read_version(j, base.id)
    return v is None or plan.group(v) == group
