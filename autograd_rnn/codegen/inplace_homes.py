"""Where values live in a planned loop body (``inplace_plan``): zero-filled buffers written
slice by slice (``covers``), values computed directly in the per-step array or slice they
are stored into (``homes``), and ``analyse``, which runs the whole plan."""

from __future__ import annotations

import ast

import numpy as np

from autograd_rnn.codegen.inplace_plan import Plan, Stmt, op_of


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
