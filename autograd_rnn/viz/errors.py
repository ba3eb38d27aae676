"""Errors raised by the visualisation package (each message says what to do next)."""

from __future__ import annotations


class VizError(Exception):
    """Base class of visualisation errors."""


class GraphTooLargeError(VizError):
    """The graph has more nodes than Graphviz lays out in reasonable time."""


class LayoutFailedError(VizError, RuntimeError):
    """``dot`` ran and failed on every layout fallback (its first message is kept)."""


class GraphvizNotFoundError(VizError, RuntimeError):
    """The ``dot`` program is missing; the DOT source was saved instead."""


INSTALL_HINT = (
    "install Graphviz: `sudo apt-get install graphviz` (Debian/Ubuntu), "
    "`brew install graphviz` (macOS), `conda install graphviz`, or see "
    "https://graphviz.org/download/"
)
