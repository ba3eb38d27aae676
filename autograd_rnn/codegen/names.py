"""Readable, unique names for the values of the generated function.

Names come from the graph: a named tensor keeps its name (``W_h``; ``h_3`` is ``h`` at step
3), an unnamed op is called after its op (``matmul``), a gradient is ``g_<name>``. In straight
code a value of timestep t is ``<base>_<t>`` (``matmul_3``; a second matmul of that step is
``matmul2_3``); in a loop body the step is ``t`` and the name is the base (``h``, its
per-step array ``h[t]``); a value carried to the next iteration is ``<base>_carry``.
"""

from __future__ import annotations

import builtins
import functools
import keyword

from autograd_rnn.codegen.ir import Loop, Program, Var, statements, vars_in

RESERVED = {"np", "t", "g", "self", "None", "True", "False", "forward_backward"}


@functools.lru_cache(maxsize=1 << 16)  # a few scopes, read for every statement
def timestep(scope: str | None) -> int | None:
    """The ``t`` of the innermost ``t=<t>`` segment of a scope path, or None."""
    for part in reversed((scope or "").split("/")):
        if part.startswith("t=") and part[2:].isdigit():
            return int(part[2:])
    return None


def strip_step(name: str, t: int | None) -> str:
    """``h_3`` at timestep 3 -> ``h`` (the timestep is added back by naming)."""
    if t is None:
        return name
    for suffix in (f"_{t}", str(t)):
        if name.endswith(suffix) and len(name) > len(suffix):
            return name[: -len(suffix)]
    return name


@functools.lru_cache(maxsize=1 << 16)
def scope_key(scope: str) -> str:
    """A scope with its timestep segments replaced by ``t=*`` (same for every step)."""
    return "/".join("t=*" if p.startswith("t=") and p[2:].isdigit() else p
                    for p in scope.split("/"))


def identifier(text: str) -> str:
    """``text`` made a valid Python identifier ("rnn.cells.0.W_h" -> "rnn_cells_0_W_h")."""
    name = "".join(c if c.isalnum() or c == "_" else "_" for c in text.strip()) or "v"
    if name[0].isdigit():
        name = "v_" + name
    if keyword.iskeyword(name) or name in RESERVED or hasattr(builtins, name):
        name += "_"
    return name


class Namer:
    """Hands out unique identifiers: the first ``h_3`` is ``h_3``, the next ``h_3_2``."""

    def __init__(self) -> None:
        self.used: set[str] = set(RESERVED)

    def unique(self, base: str) -> str:
        base = identifier(base)
        name, k = base, 2
        while name in self.used:
            name = f"{base}_{k}"
            k += 1
        self.used.add(name)
        return name

    def numbered(self, base: str, t: int | None) -> str:
        """``<base>_<t>``, else ``<base>2_<t>``, ``<base>3_<t>``, ... (``t`` None: no suffix)."""
        base, k = identifier(base), 1
        while True:
            stem = base + (str(k) if k > 1 else "")
            name = f"{stem}_{t}" if t is not None else stem
            if name not in self.used and identifier(name) == name:
                self.used.add(name)
                return name
            k += 1


def name_program(program: Program) -> Namer:
    """Give every Var of the program its final name (arguments keep theirs, made unique).
    Values and gradients are named before the temporaries inside VJPs, so ``g_h`` goes to
    the gradient of ``h`` (temporaries are mostly written inside other lines anyway)."""
    namer = Namer()
    for arg in program.arguments:
        arg.var.name = namer.unique(arg.var.hint)
    for temps in (False, True):
        for item in program.body:
            if isinstance(item, Loop):
                _name_loop(item, namer, temps)
            elif item.out is not None and not item.out.name and _is_temp(item.out) == temps:
                _name(item.out, namer)
    for stmt in statements(program.body):  # operands made by passes (e.g. hoisted arrays)
        for v in vars_in((stmt.out, stmt.args, stmt.params)):
            if isinstance(v, Var) and not v.name:
                _name(v, namer)
    program.namer = namer  # rendering adds a few names (rows taken once per step)
    return namer


def _is_temp(v: Var) -> bool:
    return v.role == "temp" and v.same_name is None


def _name(v: Var, namer: Namer) -> None:
    if v.same_name is not None:  # g = g + c: the sum keeps the name of its first part
        if not v.same_name.name:
            _name(v.same_name, namer)
        v.name = v.same_name.name
    elif v.grad_of is not None:
        if not v.grad_of.name:
            _name(v.grad_of, namer)
        v.name = namer.unique("g_" + v.grad_of.name)
    else:
        v.name = namer.numbered(v.hint, v.t)


def _name_loop(loop: Loop, namer: Namer, temps: bool) -> None:
    """In a loop the step is ``t``: names without it (``h``; ``x_t`` when ``x`` is taken)."""
    values = [*loop.pre, *loop.body, *loop.post]
    if not temps:
        for var, array in loop.stored.items():
            array.name = array.name or namer.unique(var.hint)
            var.name = var.name or array.name  # its rows are written h[t]
    for stmt in values:
        v = stmt.out
        if v is None or v.name or _is_temp(v) != temps:
            continue
        if v in loop.carries:
            v.name = namer.unique(v.hint + "_carry")
        elif v.hint in namer.used and v.role == "value" and v.hint + "_t" not in namer.used:
            v.name = namer.unique(v.hint + "_t")
        else:
            v.name = namer.unique(v.hint)


def is_named(value) -> bool:
    return isinstance(value, Var) and bool(value.name)
