"""Graph export and visualisation: Graphviz DOT/SVG, networkx, analysis, plots.

>>> dot = ar.viz.to_dot(loss, detail="ops")          # graphviz.Digraph
>>> ar.viz.render(loss, "rnn.svg", detail="textbook")  # one column per timestep (needs `dot`)
>>> ar.viz.build_textbook(loss).params               # each weight's per-step contributions
>>> g = ar.viz.to_networkx(loss)                     # networkx.DiGraph
>>> ar.viz.hidden_state_grad_norms(loss)             # {t: ||dL/dh_t||}
>>> with ar.viz.trace() as tape: ...                  # step-through frames / HTML page
"""

from autograd_rnn.viz.analysis import (
    count_paths,
    depth_from_loss,
    hidden_state_grad_norms,
    sum_of_edge_contributions,
    vanishing_curves,
)
from autograd_rnn.viz.dot import to_dot
from autograd_rnn.viz.errors import (
    GraphTooLargeError,
    GraphvizNotFoundError,
    LayoutFailedError,
    VizError,
)
from autograd_rnn.viz.examples import build_example
from autograd_rnn.viz.gallery import gallery_graphs, write_gallery
from autograd_rnn.viz.graph_nx import to_networkx
from autograd_rnn.viz.nodecheck import NodeCheck, NodeCheckReport, check_nodes
from autograd_rnn.viz.plots import plot_gradient_norms, plot_training_curves
from autograd_rnn.viz.render import render, write_atomic
from autograd_rnn.viz.textbook import Textbook, build_textbook
from autograd_rnn.viz.trace import Frame, Tape, record_example, trace

__all__ = [
    "Frame",
    "Tape",
    "GraphTooLargeError",
    "GraphvizNotFoundError",
    "LayoutFailedError",
    "NodeCheck",
    "NodeCheckReport",
    "Textbook",
    "VizError",
    "build_example",
    "build_textbook",
    "check_nodes",
    "count_paths",
    "depth_from_loss",
    "gallery_graphs",
    "hidden_state_grad_norms",
    "plot_gradient_norms",
    "plot_training_curves",
    "record_example",
    "render",
    "sum_of_edge_contributions",
    "to_dot",
    "to_networkx",
    "trace",
    "vanishing_curves",
    "write_gallery",
    "write_atomic",
]
