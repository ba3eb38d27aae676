"""Graph export and visualisation: Graphviz DOT/SVG, networkx, analysis, step-through."""

from autograd_rnn.viz.dot import to_dot
from autograd_rnn.viz.errors import GraphTooLargeError, GraphvizNotFoundError, VizError
from autograd_rnn.viz.render import render, write_atomic

__all__ = [
    "GraphTooLargeError",
    "GraphvizNotFoundError",
    "VizError",
    "render",
    "to_dot",
    "write_atomic",
]
