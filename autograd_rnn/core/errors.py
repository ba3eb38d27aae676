"""Exceptions the engine raises; each message names the op, shapes and nodes involved."""


class AutogradError(RuntimeError):
    """Base class of every error the engine raises on purpose."""


class ShapeError(AutogradError, ValueError):
    """An op received operands whose shapes do not fit together."""


class GraphFreedError(AutogradError):
    """Backward reached a node whose saved buffers a previous backward freed."""


class AnomalyError(AutogradError, FloatingPointError):
    """``detect_anomaly`` found NaN/Inf produced by an op."""
