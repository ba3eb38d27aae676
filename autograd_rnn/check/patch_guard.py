"""Notice code that replaces functions of NumPy, of the checker or of Python's builtins.

Taken before the student's module is imported, a ``PatchGuard`` remembers every attribute of
the watched modules (and the code object of every Python function among them); ``check``
raises ``StudentCodeError`` (status "monkeypatch") naming what was replaced or deleted since.
New attributes are not reported: modules legitimately add some lazily. Watched: NumPy's
public namespaces (``np.*``, ``np.linalg``, ...), the checker's modules that run in the
isolated process and ``builtins``, ``math``, ``operator`` (a scan is cheap next to the check
itself).
"""

from __future__ import annotations

import sys
import types

from autograd_rnn.check.backward_report import StudentCodeError

WATCHED = ("numpy", "numpy.linalg", "numpy.random", "numpy.fft", "numpy.lib",
           "autograd_rnn.check.student_run", "autograd_rnn.check.numeric",
           "autograd_rnn.check.wire", "autograd_rnn.check.loader",
           "autograd_rnn.check.sandbox_child", "autograd_rnn.check.patch_guard",
           "builtins", "math", "operator")
SHOWN = 3  # names listed in the message


def _state() -> dict[tuple[str, str], tuple[object, object]]:
    state = {}
    for name in WATCHED:
        module = sys.modules.get(name)
        if module is None:
            continue
        try:
            items = list(vars(module).items())
        except TypeError:
            continue
        for attr, value in items:
            if attr.startswith("__") and attr.endswith("__"):
                continue  # __warningregistry__, __loader__ ...: bookkeeping, not behaviour
            code = value.__code__ if isinstance(value, types.FunctionType) else None
            state[(name, attr)] = (value, code)  # kept alive, so identity stays meaningful
    return state


class PatchGuard:
    """Snapshot now; ``check(when)`` compares with it."""

    def __init__(self) -> None:
        self._before = _state()

    def changed(self) -> list[str]:
        """Dotted names replaced or deleted since the snapshot (sorted)."""
        now = _state()
        out = []
        for key, (value, code) in self._before.items():
            if key not in now:
                if key[0] in sys.modules:  # a module dropped from sys.modules is not a patch
                    out.append(f"{key[0]}.{key[1]} (deleted)")
                continue
            new_value, new_code = now[key]
            if new_value is not value or new_code is not code:
                out.append(f"{key[0]}.{key[1]}")
        return sorted(out)

    def check(self, when: str) -> None:
        changed = self.changed()
        if changed:
            more = f" and {len(changed) - SHOWN} more" if len(changed) > SHOWN else ""
            raise StudentCodeError(
                f"your code replaced {', '.join(changed[:SHOWN])}{more} (noticed after {when}): "
                "the check does not run with a patched NumPy or Python", "monkeypatch")
