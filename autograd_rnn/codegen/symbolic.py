"""Symbolic NumPy: a primitive's ``source=`` evaluated on symbols gives its expression as data.

A ``Sym`` stands for an array in generated code. Python operators, the array methods
``sum``, ``max``, ``reshape``, ``transpose``, ``astype``, ``.T`` and ``[ ]``, and NumPy functions
(through NumPy's ``__array_ufunc__`` and ``__array_function__`` protocols) applied to symbols
build an expression tree instead of computing a value::

    x = Sym.leaf("a_3", (2, 4), np.float64)
    expr = 0.5 + 0.5 * np.tanh(0.5 * x)   # sigmoid's source=
    render(expr)                           # '0.5 + 0.5 * np.tanh(0.5 * a_3)'

``np.add.at(out, index, g)`` on a symbol records an in-place effect on ``out`` (rendered as a
statement after ``out`` is named). Shapes and dtypes of expressions (``meta``) come from
evaluating the tree on zero-stride dummy arrays.
"""

from __future__ import annotations

import numpy as np

# Python operator spellings of ufuncs and their precedence (higher binds tighter)
BINARY = {np.add: ("+", 11), np.subtract: ("-", 11), np.multiply: ("*", 12),
          np.divide: ("/", 12), np.matmul: ("@", 12), np.power: ("**", 14),
          np.greater: (">", 6), np.less: ("<", 6), np.greater_equal: (">=", 6),
          np.less_equal: ("<=", 6)}
_UNARY, _PRIMARY, _ATOM = 13, 16, 17


class Sym:
    """A symbolic array: a ``leaf`` (named in the generated code) or an operation on others:
    ``ufunc`` (``op`` a NumPy ufunc), ``call`` (a NumPy function), ``method`` (an array method
    name), ``attr`` (``T``) or ``index``."""

    __slots__ = ("kind", "op", "args", "kwargs", "text", "effects", "_meta")
    __array_priority__ = 1000

    def __init__(self, kind: str, op=None, args: tuple = (), kwargs: dict | None = None,
                 text: str = "", meta=None) -> None:
        self.kind, self.op, self.args, self.kwargs = kind, op, args, kwargs or {}
        self.text = text
        self.effects: list[tuple] = []  # (ufunc, index, value): ufunc.at(self, index, value)
        self._meta = meta

    @staticmethod
    def leaf(text: str, shape, dtype, precedence: int = _ATOM) -> Sym:
        """A name (or any text of the given precedence) standing for an array."""
        sym = Sym("leaf", precedence, text=text, meta=(tuple(shape), np.dtype(dtype)))
        return sym

    # ----- building ---------------------------------------------------------------------
    def _ufunc(self, ufunc, *args) -> Sym:
        return Sym("ufunc", ufunc, args)

    def __add__(self, o): return self._ufunc(np.add, self, o)  # noqa: E704
    def __radd__(self, o): return self._ufunc(np.add, o, self)  # noqa: E704
    def __sub__(self, o): return self._ufunc(np.subtract, self, o)  # noqa: E704
    def __rsub__(self, o): return self._ufunc(np.subtract, o, self)  # noqa: E704
    def __mul__(self, o): return self._ufunc(np.multiply, self, o)  # noqa: E704
    def __rmul__(self, o): return self._ufunc(np.multiply, o, self)  # noqa: E704
    def __truediv__(self, o): return self._ufunc(np.divide, self, o)  # noqa: E704
    def __rtruediv__(self, o): return self._ufunc(np.divide, o, self)  # noqa: E704
    def __matmul__(self, o): return self._ufunc(np.matmul, self, o)  # noqa: E704
    def __rmatmul__(self, o): return self._ufunc(np.matmul, o, self)  # noqa: E704
    def __pow__(self, o): return self._ufunc(np.power, self, o)  # noqa: E704
    def __rpow__(self, o): return self._ufunc(np.power, o, self)  # noqa: E704
    def __gt__(self, o): return self._ufunc(np.greater, self, o)  # noqa: E704
    def __lt__(self, o): return self._ufunc(np.less, self, o)  # noqa: E704
    def __neg__(self): return self._ufunc(np.negative, self)  # noqa: E704
    __hash__ = object.__hash__

    def __getitem__(self, index) -> Sym:
        return Sym("index", None, (self, index))

    def __bool__(self) -> bool:
        raise TypeError("a symbolic array has no truth value: source= must not branch on values")

    def _method(self, name: str, *args, **kwargs) -> Sym:
        return Sym("method", name, (self, *args), kwargs)

    def sum(self, axis=None, keepdims=False) -> Sym:
        return self._method("sum", axis=axis, keepdims=keepdims)

    def max(self, axis=None, keepdims=False) -> Sym:
        return self._method("max", axis=axis, keepdims=keepdims)

    def reshape(self, shape) -> Sym:
        return self._method("reshape", tuple(shape))

    def astype(self, dtype) -> Sym:
        return self._method("astype", np.dtype(dtype))

    def transpose(self, axes) -> Sym:
        if tuple(axes) == tuple(reversed(range(len(axes)))):
            return self.T
        return self._method("transpose", tuple(axes))

    @property
    def T(self) -> Sym:  # noqa: N802 (NumPy's name)
        return Sym("attr", "T", (self,))

    @property
    def shape(self) -> tuple:
        return meta(self)[0]

    @property
    def dtype(self) -> np.dtype:
        return meta(self)[1]

    @property
    def ndim(self) -> int:
        return len(self.shape)

    # ----- NumPy protocols ----------------------------------------------------------------
    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        if method == "__call__" and not kwargs:
            return Sym("ufunc", ufunc, inputs)
        if method == "at" and isinstance(inputs[0], Sym):
            inputs[0].effects.append((ufunc, inputs[1], inputs[2]))
            return None
        return NotImplemented

    def __array_function__(self, func, types, args, kwargs):
        return Sym("call", func, args, kwargs)


def evaluate(source, operands: list, params: dict) -> Sym:
    """``source(*operands, **params)`` on symbols; a constant result becomes a leaf."""
    result = source(*operands, **params)
    if not isinstance(result, Sym):
        raise TypeError(f"source= returned {type(result).__name__}, not an expression of its "
                        "inputs")
    return result


# ----- shapes ----------------------------------------------------------------------------
def _dummy(value):
    if isinstance(value, Sym):
        shape, dtype = meta(value)
        return np.broadcast_to(np.zeros((), dtype), shape)
    if isinstance(value, tuple):
        return tuple(_dummy(v) for v in value)
    if isinstance(value, list):
        return [_dummy(v) for v in value]
    return value


def meta(sym: Sym) -> tuple[tuple, np.dtype]:
    """(shape, dtype) of the expression (evaluated once on zero-stride dummies)."""
    if sym._meta is None:
        with np.errstate(all="ignore"):
            if sym.kind == "ufunc":  # shape by broadcasting, dtype from 0-d operands
                shapes = [meta(a)[0] for a in sym.args if isinstance(a, Sym)]
                zero = [np.zeros((), meta(a)[1]) if isinstance(a, Sym) else a for a in sym.args]
                if sym.op is np.matmul:
                    value = np.matmul(*_dummy(sym.args))
                    sym._meta = (value.shape, value.dtype)
                else:
                    sym._meta = (np.broadcast_shapes(*shapes), sym.op(*zero).dtype)
            else:
                value = np.asarray(_run(sym))
                sym._meta = (value.shape, value.dtype)
    return sym._meta


def _run(sym: Sym):
    args = _dummy(sym.args)
    kwargs = {k: _dummy(v) for k, v in sym.kwargs.items()}
    if sym.kind == "call":
        return sym.op(*args, **kwargs)
    if sym.kind == "method":
        return getattr(args[0], sym.op)(*args[1:], **kwargs)
    if sym.kind == "attr":
        return getattr(args[0], sym.op)
    return args[0][_dummy_index(sym.args[1])]


def _dummy_index(index):
    if isinstance(index, tuple):
        return tuple(_dummy_index(i) for i in index)
    return _dummy(index)


# ----- rendering -------------------------------------------------------------------------
def precedence(sym) -> int:
    if not isinstance(sym, Sym):
        return _UNARY if isinstance(sym, (int, float)) and sym < 0 else _ATOM
    if sym.kind == "leaf":
        return sym.op
    if sym.kind == "ufunc":
        if sym.op is np.negative:
            return _UNARY
        return BINARY[sym.op][1] if sym.op in BINARY else _PRIMARY
    return _PRIMARY


def _wrap(value, at_least: int) -> str:
    text = render(value)
    return f"({text})" if precedence(value) < at_least else text


def primary(value) -> str:
    """Source of ``value`` fit to have an attribute read on it (parenthesised if needed)."""
    return _wrap(value, _PRIMARY)


def render(value) -> str:
    """Python source of an expression (or of a literal)."""
    if not isinstance(value, Sym):
        return literal(value)
    if value.kind == "leaf":
        return value.text
    if value.kind == "ufunc":
        return _render_ufunc(value)
    if value.kind == "index":
        return f"{_wrap(value.args[0], _PRIMARY)}[{index_source(value.args[1])}]"
    if value.kind == "attr":
        return f"{_wrap(value.args[0], _PRIMARY)}.{value.op}"
    head = (f"{_wrap(value.args[0], _PRIMARY)}.{value.op}" if value.kind == "method"
            else f"np.{value.op.__name__}")
    args = value.args[1:] if value.kind == "method" else value.args
    parts = [_sequence(a) if isinstance(a, tuple) and any(isinstance(x, Sym) for x in a)
             else render(a) for a in args]
    parts += [f"{k}={render(v)}" for k, v in value.kwargs.items()
              if v is not None and v is not False]
    return f"{head}({', '.join(parts)})"


def _sequence(items: tuple) -> str:
    return f"[{', '.join(render(x) for x in items)}]"  # np.stack([a, b]): a list reads best


def _render_ufunc(sym: Sym) -> str:
    if sym.op is np.negative:
        return f"-{_wrap(sym.args[0], _UNARY)}"
    if sym.op in BINARY:
        symbol, level = BINARY[sym.op]
        a, b = sym.args
        if symbol == "**":
            return f"{_wrap(a, _PRIMARY)} ** {_wrap(b, _UNARY)}"
        left = level + 1 if level == 6 else level
        return f"{_wrap(a, left)} {symbol} {_wrap(b, level + 1)}"
    return f"np.{sym.op.__name__}({', '.join(render(a) for a in sym.args)})"


def literal(value) -> str:
    """Source of a static value: numbers, None, tuples, lists, slices, dtypes."""
    if value is None or isinstance(value, (bool, str)) or value is Ellipsis:
        return "..." if value is Ellipsis else repr(value)
    if isinstance(value, np.dtype):
        return f"np.{value.name}"
    if isinstance(value, (int, np.integer)) and not isinstance(value, np.bool_):
        return repr(int(value))
    if isinstance(value, (float, np.floating)):
        if not np.isfinite(value):
            return "np.nan" if np.isnan(value) else ("np.inf" if value > 0 else "-np.inf")
        return repr(float(value)) if type(value) is float else repr(value)
    if isinstance(value, tuple):
        parts = [render(v) for v in value]
        return f"({parts[0]},)" if len(parts) == 1 else f"({', '.join(parts)})"
    if isinstance(value, list):
        return f"[{', '.join(render(v) for v in value)}]"
    if isinstance(value, slice):
        return f"slice({literal(value.start)}, {literal(value.stop)}, {literal(value.step)})"
    raise TypeError(f"no source for a constant of type {type(value).__name__}")


def index_source(index) -> str:
    """Source inside ``x[...]``: ``3``, ``:, 4:8``, ``rows, targets``."""
    parts = index if isinstance(index, tuple) else (index,)
    rendered = [_index_part(p) for p in parts]
    if not isinstance(index, tuple) or len(rendered) == 1:  # x[(k,)] is x[k]
        return rendered[0]
    return ", ".join(rendered) or "()"


def _index_part(part) -> str:
    if isinstance(part, slice):
        def bound(v):
            return "" if v is None else render(v)

        text = f"{bound(part.start)}:{bound(part.stop)}"
        return text + (f":{bound(part.step)}" if part.step is not None else "")
    if part is None:
        return "None"
    return render(part)


def assignment(target: str, sym: Sym) -> list[str]:
    """``target = <expr>`` and the in-place effects recorded on it (``np.add.at``)."""
    lines = [f"{target} = {render(sym)}"]
    for ufunc, index, value in sym.effects:
        lines.append(f"np.{ufunc.__name__}.at({target}, {literal_index(index)}, {render(value)})")
    return lines


def literal_index(index) -> str:
    """An index as a value (``(rows, targets)``, ``slice(0, 4, None)``), not inside ``[ ]``."""
    return render(index) if not isinstance(index, tuple) else literal(index)
