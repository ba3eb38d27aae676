"""Memory estimates of the drawing commands (``autograd_rnn.limits``): ``export`` builds and
draws the example network of ``viz.examples``; ``trace`` records it and renders one picture
per frame into a step-through page. Constants measured with tracemalloc;
tests/reliability/test_rel_limits.py checks them against measured peaks."""

from __future__ import annotations

from autograd_rnn.limits import Estimate
from autograd_rnn.nn.footprint import NODE_BYTES, driving_option, unrolled_estimate
from autograd_rnn.viz.dot import DEFAULT_MAX_NODES

# nodes drawn per timestep (ops, inputs, targets) and engine events (one frame each)
NODES_PER_STEP = {"rnn": 10, "lstm": 23, "gru": 27}
EVENTS_PER_STEP = {"rnn": 20, "lstm": 48, "gru": 59}
FIXED_NODES = FIXED_EVENTS = 8  # parameters, initial state, the loss
PAGE_BYTES_PER_NODE_FRAME = 5_000  # an SVG node in one frame, while the page is built


def export_estimate(cell: str, steps: int, batch: int, hidden: int, layers: int = 1,
                    bidirectional: bool = False) -> Estimate:
    """``export``: the example network (D = 2, V = 1) with every edge's gradient recorded,
    and its DOT/SVG text; a reverse direction counts as one more layer."""
    directions = 2 if bidirectional else 1
    stacks = layers * directions
    estimate = unrolled_estimate("export", cell, steps=steps, batch=batch, input_size=2,
                                 hidden=hidden, output_size=1, layers=stacks,
                                 names={"input_size": None, "output_size": None})

    def drawing(steps, layers):
        return {"drawing": steps * layers * directions * NODE_BYTES[cell]}

    sizes = {"steps": steps, "layers": layers}
    return estimate.add("drawing", drawing(**sizes)["drawing"], driving_option(
        "drawing", drawing, sizes, {"steps": "--steps", "layers": "--layers"}))


def trace_estimate(cell: str, steps: int, batch: int, input_size: int, hidden: int,
                   every: int, max_frames: int | None) -> Estimate:
    """``trace``: the recorded network (V = 1) and the step-through page's frames."""
    estimate = unrolled_estimate("trace", cell, steps=steps, batch=batch,
                                 input_size=input_size, hidden=hidden, output_size=1,
                                 names={"output_size": None})
    # a larger graph is refused (GraphTooLargeError) before its first frame is drawn
    nodes = min(FIXED_NODES + NODES_PER_STEP[cell] * steps, DEFAULT_MAX_NODES)
    frames = -(-(FIXED_EVENTS + EVENTS_PER_STEP[cell] * steps) // every)
    if max_frames:
        frames = min(frames, max_frames)
    return estimate.add("step-through page", PAGE_BYTES_PER_NODE_FRAME * nodes * frames,
                        "--steps or --max-frames")
