"""Exceptions the engine raises; each message names the op, shapes and nodes involved."""

import numpy as np


class AutogradError(RuntimeError):
    """Base class of every error the engine raises on purpose."""


class ShapeError(AutogradError, ValueError):
    """An op received operands whose shapes do not fit together."""


class GraphFreedError(AutogradError):
    """Backward reached a node whose saved buffers a previous backward freed."""


class AnomalyError(AutogradError, FloatingPointError):
    """``detect_anomaly`` found NaN/Inf produced by an op."""


class InPlaceError(AutogradError):
    """A value saved for backward was modified in place before backward used it."""


def describe_value(value) -> str:
    """A short description of a wrong value for an error message: its type and repr."""
    if isinstance(value, np.ndarray):
        return f"an array of dtype {value.dtype} and shape {value.shape}"
    text = repr(value)
    text = text if len(text) <= 60 else text[:57] + "..."
    return f"a {type(value).__name__} ({text})"
