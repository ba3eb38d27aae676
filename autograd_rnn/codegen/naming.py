"""Readable, unique variable names for generated source, and literals for static values.

Names come from the graph: a named tensor keeps its name (``W_h``, ``h_3``), an unnamed op
node is called after its op and timestep (``matmul_3`` for scope ``rnn/layer0/t=3``), and
a gradient is ``g_<name>``. Values that are not arrays (axes, shapes, slices, exponents)
become Python literals; arrays go through a callback that turns them into function
arguments.
"""

from __future__ import annotations

import builtins
import keyword
import re
from collections.abc import Callable

import numpy as np

RESERVED = {"np", "t", "g", "self", "None", "True", "False"}
_TIME = re.compile(r"(?:^|/)t=(\d+)(?:/|$)")


def timestep(scope: str | None) -> int | None:
    """The ``t`` of the innermost ``t=<t>`` segment of a scope path, or None."""
    if not scope:
        return None
    found = _TIME.findall(scope)
    return int(found[-1]) if found else None


_MARKER = re.compile("\u27e6(-?\\d+)\u27e7")


def unmark(text: str) -> str:
    """Replace loop-detection markers around integers by the integers."""
    return _MARKER.sub(lambda m: m.group(1), text)


def identifier(text: str) -> str:
    """``text`` made a valid Python identifier ("rnn.cells.0.W_h" -> "rnn_cells_0_W_h")."""
    name = re.sub(r"\W", "_", text.strip()) or "v"
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

    def node(self, tensor_name: str | None, op_name: str, scope: str | None) -> str:
        """Name for a graph node: its own name, else ``<op>_<t>`` / ``<op>``; duplicates
        within a timestep become ``<op>2_<t>``, ``<op>3_<t>``, ..."""
        if tensor_name:
            return self.unique(tensor_name)
        t = timestep(scope)
        k = 1
        while True:
            base = identifier(op_name + (str(k) if k > 1 else ""))
            name = f"{base}_{t}" if t is not None else base
            if name not in self.used:
                self.used.add(name)
                return name
            k += 1


def literal(value, array_name: Callable[[object], str]) -> str:
    """Python source for a static value; arrays and unknown objects via ``array_name``."""
    if value is None or isinstance(value, (bool, str)) or value is Ellipsis:
        return "..." if value is Ellipsis else repr(value)
    if isinstance(value, (int, np.integer)) and not isinstance(value, np.bool_):
        text = repr(int(value))
        return f"({text})" if int(value) < 0 else text
    if isinstance(value, float):
        if not np.isfinite(value):
            return "np.nan" if np.isnan(value) else ("np.inf" if value > 0 else "(-np.inf)")
        return f"({value!r})" if value < 0 else repr(value)
    if isinstance(value, (np.floating, np.bool_)) and np.isfinite(value):
        return repr(value)  # e.g. np.float64(0.5): keeps the NumPy scalar type
    if isinstance(value, tuple):
        parts = [literal(v, array_name) for v in value]
        return f"({parts[0]},)" if len(parts) == 1 else f"({', '.join(parts)})"
    if isinstance(value, list):
        return f"[{', '.join(literal(v, array_name) for v in value)}]"
    if isinstance(value, slice):
        return f"slice({literal(value.start, array_name)}, {literal(value.stop, array_name)}, " \
               f"{literal(value.step, array_name)})"
    return array_name(value)


def index_source(index, array_name: Callable[[object], str], int_text=None) -> str:
    """Source inside ``x[...]``: ``3``, ``:, 4:8``, ``rows, targets``; ``int_text``
    renders integer positions (default: literals)."""
    parts = index if isinstance(index, tuple) else (index,)
    rendered = [_index_part(p, array_name, int_text) for p in parts]
    if not isinstance(index, tuple):
        return rendered[0]
    if len(rendered) == 1:
        return rendered[0] + ","
    return ", ".join(rendered) if rendered else "()"


def _index_part(part, array_name, int_text) -> str:
    if int_text is not None and isinstance(part, (int, np.integer)) and not isinstance(
            part, (bool, np.bool_)):
        return int_text(part)
    if isinstance(part, slice):
        def bound(v):
            return "" if v is None else literal(v, array_name)

        text = f"{bound(part.start)}:{bound(part.stop)}"
        return text + (f":{bound(part.step)}" if part.step is not None else "")
    return literal(part, array_name)
