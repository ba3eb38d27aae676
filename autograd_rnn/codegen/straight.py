"""Straight-line code reuses the arrays of values nothing reads any more.

Outside the loops each op makes a fresh array: for a (T*B, V) output layer that is a few
megabytes per statement, and fresh memory costs page faults on every call. Here an
elementwise statement whose operand is a fresh array of the same shape that dies at that
statement writes into it instead::

    y = matmul3 + b_y          ->  y = np.add(matmul3, b_y, out=matmul3)
    subtract = y - shift       ->  subtract = np.subtract(y, shift, out=matmul3)

Liveness comes from ``inplace_plan`` (aliases and views keep an array alive; a loop keeps
alive everything it mentions). Same ops, same order: results are unchanged.
"""

from __future__ import annotations

import ast
import re

import numpy as np

from autograd_rnn.codegen.inplace_plan import ELEMENTWISE, INF, Plan, Stmt, Unplannable, op_of

_TOP = re.compile(r"^    (?! )")


def _statements(lines: list[str], returned: list[str]) -> tuple[list, list[Stmt]]:
    """(items, statements): items are ("stmt", index) / ("raw", line) in order; a loop
    block becomes one pseudo statement reading every name it mentions."""
    items, stmts, i = [], [], 0
    while i < len(lines):
        line = lines[i]
        if line.strip().startswith("#") or not line.strip():
            items.append(("raw", line))
            i += 1
            continue
        if line.startswith("    for "):
            j = i + 1
            while j < len(lines) and not _TOP.match(lines[j]):
                j += 1
            block = lines[i:j]
            names = sorted(set(re.findall(r"(?<![\w.])([A-Za-z_]\w*)", "\n".join(block)))
                           - {"for", "in", "range", "np", "t", "out", "axis", "keepdims",
                              "dtype", "None", "True", "False"})
            items += [("raw", b) for b in block]
            text = f"_loop_({', '.join(names)})"
            stmts.append(Stmt(text, ast.parse(text).body[0]))
            i = j
            continue
        text = line.strip()
        items.append(("stmt", len(stmts)))
        stmts.append(Stmt(text, ast.parse(text).body[0]))
        i += 1
    text = f"_return_({', '.join(returned)})"
    stmts.append(Stmt(text, ast.parse(text).body[0]))
    return items, stmts


def reuse_dead_arrays(lines: list[str], env: dict, returned: list[str]) -> list[str]:
    """Rewrite the function body ``lines`` (4-space indented, loops included) so that
    elementwise statements write into a dying operand's array. ``env``: name -> array of
    the right shape/dtype for the function's arguments and graph values; ``returned``:
    names the function returns. Returns the new lines (the input when nothing applies)."""
    try:
        items, stmts = _statements(lines, returned)
        plan = Plan(stmts, set())
    except (SyntaxError, Unplannable, IndexError):
        return lines
    for st in stmts:
        if st.text.startswith(("_loop_(", "_return_(")):
            for r in st.reads:  # a loop may keep views of what it reads: never reuse them
                plan.group_last[plan.group(r)] = INF
    local: dict[str, object] = {}
    owner: dict[int, str] = {}  # version -> array variable (a fresh array we may reuse)
    holds: dict[str, int] = {}  # array variable -> alias group living in it
    new_text: dict[int, str] = {}
    for i, st in enumerate(stmts):
        node = st.node
        if not (isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name)):
            continue
        name = node.targets[0].id
        value = _dummy(node.value, env, local)
        local[name] = None if value is None else np.broadcast_to(
            np.zeros((), value.dtype), value.shape)
        if st.kind == "alias" and plan.read_version(i, node.value.id) in owner:
            owner[st.defines] = owner[plan.read_version(i, node.value.id)]
            continue
        op = op_of(node.value)
        if op is None or value is None or value.ndim == 0:
            continue
        target = None
        if op in ELEMENTWISE and "out=" not in st.text:
            for operand in _operands(node.value):
                r = (plan.read_version(i, operand.id) if isinstance(operand, ast.Name)
                     else None)
                array = owner.get(r)
                if (array is not None and holds[array] == plan.group(r)
                        and plan.group_last[holds[array]] <= i
                        and local.get(array) is not None
                        and local[array].shape == value.shape
                        and local[array].dtype == value.dtype):
                    target = array
                    break
        if target is not None:
            kids = ", ".join(ast.unparse(k) for k in _operands(node.value))
            comment = re.search(r"  #.*$", st.text)
            new_text[i] = f"{name} = {op}({kids}, out={target})" + (
                comment.group(0) if comment else "")
        else:
            target = name if len(plan.defs.get(name, ())) == 1 else None
        if target is not None:
            owner[st.defines] = target
            holds[target] = plan.group(st.defines)
            local.setdefault(target, local[name])
    if not new_text:
        return lines
    return [_line(item, stmts, new_text) for item in items]


def _line(item, stmts, new_text) -> str:
    kind, value = item
    if kind == "raw":
        return value
    return "    " + new_text.get(value, stmts[value].text)


def _operands(node: ast.AST) -> list[ast.AST]:
    if isinstance(node, ast.BinOp):
        return [node.left, node.right]
    if isinstance(node, ast.UnaryOp):
        return [node.operand]
    return list(node.args)


def _dummy(node: ast.AST, env: dict, local: dict):
    if any(isinstance(n, ast.Name) and local.get(n.id, 0) is None for n in ast.walk(node)):
        return None
    try:
        with np.errstate(all="ignore"):
            value = eval(compile(ast.Expression(node), "<shape>", "eval"), {},  # noqa: S307
                         {**env, **{k: v for k, v in local.items() if v is not None},
                          "np": np})
    except Exception:  # noqa: BLE001 (unknown: leave the statement alone)
        return None
    if isinstance(value, np.generic):
        value = np.asarray(value)
    return value if isinstance(value, np.ndarray) and value.dtype.kind in "biufc" else None


# a name as read: not part of a longer word, not an attribute (``x.T``)
_WORD = re.compile(r"(?<![\w.])[A-Za-z_]\w*")


def drop_unused(fwd: list[str], bwd: list[str], returned: str) -> None:
    """Remove top-level ``name = ...`` statements whose value nothing reads afterwards
    (e.g. the seed ``g_loss = np.ones_like(loss)`` after a fused cross-entropy)."""
    lines = fwd + bwd
    last_read: dict[str, int] = {}  # name -> last line mentioning it (one pass: linear)
    for i, line in enumerate(lines):
        for word in _WORD.findall(line):
            last_read[word] = i
    kept = set(_WORD.findall(returned))
    dead = set()
    for i, line in enumerate(lines):
        m = re.match(r"^    ([A-Za-z_]\w*) = ", line)
        if not m or "out=" in line:
            continue
        if last_read.get(m.group(1), -1) <= i and m.group(1) not in kept:
            dead.add(i)
    n = len(fwd)
    fwd[:] = [line for i, line in enumerate(fwd) if i not in dead]
    bwd[:] = [line for i, line in enumerate(bwd, n) if i not in dead]


def function_env(builder, arguments: list) -> dict:
    """name -> zero-stride array of its shape and dtype (for shape checks only)."""
    env: dict = {}

    def add(name, shape, dtype) -> None:
        if name.isidentifier():
            env[name] = np.broadcast_to(np.zeros((), np.dtype(dtype)), tuple(shape))

    for node in builder.order:
        name = builder.value.get(id(node))
        if name:
            add(name, node.data.shape, node.data.dtype)
    for gv in builder.grads.values():
        add(gv.name, gv.shape, gv.dtype)
    for arg in arguments + builder.prog.arguments:
        if arg.dtype and arg.kind != "const":
            try:
                add(arg.name, arg.shape, arg.dtype)
            except TypeError:
                pass
    for array, name in builder.prog.array_inputs:
        add(name, np.shape(array), np.asarray(array).dtype)
    return env
