"""Operations the compiler adds to the primitives (an ``Op`` each, with its ``source``).

``GSUM`` is the gradient reaching a value: the sum of the contributions of its consumers.
``FORWARD`` calls a primitive without ``source=`` (the generated module then takes that
primitive as an argument). ``ZEROS``/``ONES_LIKE``/``EMPTY`` make arrays (``h_0``, the seed
of backpropagation, buffers). Effect ops change their first argument in place: ``IADD``
(``a[i] += b``), ``ISUB``, ``IMUL``, ``SETITEM`` (``a[i] = b``), ``ADD_AT`` (``np.add.at(a,
i, b)``: repeated positions add up). The primitives the compiler itself emits (a view
``x[k]`` of an input, the recomputed softmax shift, a transpose) come from the registry.
"""

from __future__ import annotations

import functools
import operator

import numpy as np

from autograd_rnn.codegen.ir import Op
from autograd_rnn.codegen.symbolic import Sym
from autograd_rnn.core.primitive import REGISTRY


def _zeros(*, shape, dtype):
    kwargs = {} if np.dtype(dtype) == np.float64 else {"dtype": np.dtype(dtype)}
    return Sym("call", np.zeros, (tuple(shape),), kwargs)


FORWARD = Op("forward", lambda f, *xs, **params: Sym("method", "forward", (f, *xs), params))
EMPTY = Op("empty", lambda *, shape, dtype: Sym("call", np.empty, (tuple(shape),),
                                                {"dtype": np.dtype(dtype)}))
GSUM = Op("gsum", lambda *xs: functools.reduce(operator.add, xs))
ZEROS = Op("zeros", _zeros)
ONES_LIKE = Op("ones_like", lambda x: np.ones_like(x))
IADD = Op("iadd", effect="+=")
ISUB = Op("isub", effect="-=")
IMUL = Op("imul", effect="*=")
SETITEM = Op("setitem", effect="=")
ADD_AT = Op("add_at", effect="add.at")

DIVIDE = REGISTRY["divide"]
GETITEM = REGISTRY["getitem"]
RESHAPE = REGISTRY["reshape"]
SUM = REGISTRY["sum"]
TRANSPOSE = REGISTRY["transpose"]
MAX = REGISTRY["max"]


def inline_array(value: np.ndarray) -> bool:
    """Arrays written inline in generated code: zeros (``np.zeros(shape)``) and ``arange``."""
    if value.size > 10**7:
        return False
    if value.dtype.kind == "f" and not value.any():
        return True
    return (value.dtype.kind in "iu" and value.ndim == 1
            and bool(np.array_equal(value, np.arange(value.size))))


def inline_source(value: np.ndarray) -> str:
    """The source of an ``inline_array``."""
    if value.dtype.kind == "f":
        dtype = "" if value.dtype == np.float64 else f", dtype=np.{value.dtype.name}"
        return f"np.zeros({tuple(value.shape)!r}{dtype})"
    return f"np.arange({value.size})"
