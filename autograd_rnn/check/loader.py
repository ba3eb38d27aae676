"""Load a user's functions and inputs for the ``check-backward`` and ``grade`` commands.

Function specs are ``module:function`` (the current directory is put on ``sys.path``) or
``path/to/file.py:function``. A file inside a package (its folder has ``__init__.py``, as
cs231n's ``cs231n/rnn_layers.py``) is imported as part of that package, so its relative
imports work. A missing file, module or function is a ``CheckUsageError`` (the grader named
it); an import that raises is a ``StudentCodeError`` (the student's code is wrong).
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import sys
from collections.abc import Callable

import numpy as np

from autograd_rnn.check.backward_report import CheckUsageError, StudentCodeError
from autograd_rnn.check.references import get_reference
from autograd_rnn.check.student_run import describe


def _package_name(path: str) -> tuple[str, str] | None:
    """(dotted module name, folder to put on sys.path) for a file inside a package."""
    folder, parts = os.path.dirname(os.path.abspath(path)), []
    while os.path.isfile(os.path.join(folder, "__init__.py")):
        parts.insert(0, os.path.basename(folder))
        folder = os.path.dirname(folder)
    if not parts:
        return None
    return ".".join([*parts, os.path.splitext(os.path.basename(path))[0]]), folder


def _import_file(path: str):
    if not os.path.isfile(path):
        raise CheckUsageError(f"no such file: {path}")
    packaged = _package_name(path)
    if packaged is not None:
        if packaged[1] not in sys.path:
            sys.path.insert(0, packaged[1])
        return importlib.import_module(packaged[0])
    name = "_checked_" + os.path.splitext(os.path.basename(path))[0]
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise CheckUsageError(f"cannot import {path} as a Python module")
    module = importlib.util.module_from_spec(spec)
    folder = os.path.dirname(os.path.abspath(path))
    if folder not in sys.path:
        sys.path.insert(0, folder)  # so the file can import its neighbours
    spec.loader.exec_module(module)
    return module


def load_function(spec: str) -> Callable:
    """The function named by ``module:function`` or ``file.py:function``."""
    module_name, sep, attr = spec.rpartition(":")
    if not sep or not module_name or not attr:
        raise CheckUsageError(f"expected MODULE:FUNCTION or FILE.py:FUNCTION, got {spec!r}")
    try:
        if module_name.endswith(".py") or os.sep in module_name:
            module = _import_file(module_name)
        else:
            if os.getcwd() not in sys.path:
                sys.path.insert(0, os.getcwd())
            module = importlib.import_module(module_name)
    except CheckUsageError:
        raise
    except ModuleNotFoundError as error:
        if error.name and module_name.split(".")[0] == error.name.split(".")[0]:
            raise CheckUsageError(f"cannot import {module_name!r}: {error}") from None
        raise StudentCodeError(f"importing {module_name!r} raised {describe(error)}",
                               "raised") from None
    except KeyboardInterrupt:
        raise
    except BaseException as error:  # noqa: BLE001 (the user's module may raise anything, exit too)
        line = f" (line {error.lineno})" if isinstance(error, SyntaxError) else ""
        raise StudentCodeError(f"importing {module_name!r} raised {describe(error)}{line}",
                               "raised") from None
    fn = getattr(module, attr, None)
    if fn is None:
        public = sorted(n for n in dir(module) if callable(getattr(module, n))
                        and not n.startswith("_"))
        raise CheckUsageError(f"{module_name!r} has no function {attr!r}; it defines: "
                              f"{', '.join(public) or 'nothing callable'}")
    if not callable(fn):
        raise CheckUsageError(f"{spec} is a {type(fn).__name__}, not a function")
    return fn


def load_inputs(path: str) -> dict[str, np.ndarray]:
    """Arrays of an ``.npz`` file, in the order they were saved."""
    if not os.path.isfile(path):
        raise CheckUsageError(f"no such file: {path}")
    try:
        with np.load(path, allow_pickle=False) as data:
            return {name: data[name] for name in data.files}
    except Exception as error:  # noqa: BLE001
        raise CheckUsageError(f"cannot read {path} as .npz arrays: {error}") from None


def layer_inputs(layer: str, seed: int = 0, *, mask_density: float | None = None,
                 repeats: int | None = None, **sizes: int) -> dict[str, np.ndarray]:
    """Random float64 inputs for reference ``layer``; sizes N, T, D, H, V, M (defaults
    3, 4, 5, 6, 7, V: all different, so a transposed weight shows up as a shape error), the
    density of True in masks and the number of repeated word indices (see ``inputs.py``)."""
    try:
        reference = get_reference(layer)
    except KeyError as error:
        raise CheckUsageError(error.args[0]) from None
    sizes = {name: n for name, n in sizes.items() if n is not None}
    for name, n in sizes.items():
        if n < 1:
            raise CheckUsageError(f"size {name} must be >= 1, got {n}")
    if mask_density is not None and not 0.0 <= mask_density <= 1.0:
        raise CheckUsageError(f"mask density must be between 0 and 1, got {mask_density}")
    extra = {k: v for k, v in (("mask_density", mask_density), ("repeats", repeats))
             if v is not None}
    return reference.make_inputs(np.random.default_rng(seed + 1), **sizes, **extra)
