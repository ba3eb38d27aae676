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
