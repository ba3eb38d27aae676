"""Memory of an unrolled recurrent network from its sizes alone (nothing is allocated): what
commands compare with the machine's memory before they start (``autograd_rnn.limits``).

A ``SequenceModel(cell, D, H, V, num_layers)`` unrolled over T steps with batch B holds

- its parameters: per layer G*H*(D_l + H) weights plus the biases (G = 1, 4, 3 gates for
  RNN, LSTM, GRU; D_l = D for the first layer, H above), then W_y (H, V) and b_y (V,);
- per layer and timestep, the graph's node objects and the arrays the nodes keep: a lean
  training graph (``ar.lean_graph``) keeps only what the VJPs read, a full graph every value,
  and, when gradients are recorded on every edge (diagrams, checks), each step's share of
  the weight gradients too; "compile" is the graph ``ar.compile`` traces plus its statements;
- per timestep, the output layer's nodes and arrays (B, V) and the input (B, D).

The constants were measured with tracemalloc on this engine (float64);
tests/reliability/test_rel_limits.py checks the estimates against measured peaks (they are
meant to err high, never low, by less than a factor of 3).
"""

from __future__ import annotations

from autograd_rnn.limits import Estimate

GATES = {"rnn": 1, "lstm": 4, "gru": 3}
BIAS_VECTORS = {"rnn": 1, "lstm": 4, "gru": 6}  # bias vectors of size H per layer
FLOAT = 8  # bytes (float64)

NODE_BYTES = {"rnn": 4_000, "lstm": 11_000, "gru": 13_000}  # per layer-step, Python objects
KEPT_FLOATS = {  # per B*H per layer-step
    "lean": {"rnn": 6, "lstm": 18, "gru": 23},
    "full": {"rnn": 10, "lstm": 60, "gru": 60},
    "compile": {"rnn": 20, "lstm": 110, "gru": 100},  # forward and recorded backward
}
STEP_WEIGHT_GRADS = {"lean": 0.0, "full": 1.5, "compile": 0.3}  # copies of the weights per step
NODE_FACTOR = {"lean": 1.0, "full": 1.0, "compile": 12.0}  # + backward nodes, statements
OUTPUT_NODE_BYTES = 3_000  # per timestep: output layer and loss nodes
OUTPUT_FLOATS = 5  # per B*V per timestep
INPUT_FLOATS = 2  # per B*D per timestep
WORKING_BYTES = 1 << 20  # caches, small temporaries, Python objects of the run itself


def parameter_count(cell: str, input_size: int, hidden: int, output_size: int,
                    layers: int = 1) -> int:
    """Number of parameters of ``SequenceModel(cell, D, H, V, num_layers=layers)``."""
    G, H, bias = GATES[cell], hidden, BIAS_VECTORS[cell] * hidden
    first = G * H * (input_size + H) + bias
    upper = G * H * (H + H) + bias  # every layer above the first reads h of the one below
    count = first + (layers - 1) * upper
    return count + H * output_size + output_size


def step_bytes(cell: str, input_size: int, hidden: int, output_size: int, *, batch: int,
               layers: int = 1, graph: str = "lean") -> int:
    """Bytes one timestep adds to the graph (all layers, the output layer and the input)."""
    B, H, G = batch, hidden, GATES[cell]
    weights = G * H * (input_size + H) + (layers - 1) * G * H * (H + H) + H * output_size
    per_layer = NODE_FACTOR[graph] * NODE_BYTES[cell] + FLOAT * KEPT_FLOATS[graph][cell] * B * H
    return (layers * per_layer + OUTPUT_NODE_BYTES
            + FLOAT * B * (OUTPUT_FLOATS * output_size + INPUT_FLOATS * input_size)
            + FLOAT * STEP_WEIGHT_GRADS[graph] * weights)


SIZE_KEYS = ("steps", "batch", "input_size", "hidden", "output_size", "layers")
# sizes of an everyday run: a refusal blames the option whose value, brought back to this,
# shrinks the largest part the most
TYPICAL = {"steps": 50, "batch": 16, "input_size": 8, "hidden": 32, "output_size": 8,
           "layers": 1}


def unrolled_estimate(what: str, cell: str, *, steps: int, batch: int, input_size: int,
                      hidden: int, output_size: int, layers: int = 1, graph: str = "full",
                      parameter_copies: float = 4, names: dict[str, str | None] | None = None,
                      ) -> Estimate:
    """The ``Estimate`` of building (and backpropagating) the unrolled network once.

    ``parameter_copies``: parameters, gradients, optimizer state and temporaries, in units
    of the parameter arrays. ``names`` maps the sizes ("steps", "batch", "input_size",
    "hidden", "output_size", "layers") to the command's options (default ``--<size>``;
    None for a size no option sets); each part names the option that drives it most.
    """
    sizes = dict(steps=steps, batch=batch, input_size=input_size, hidden=hidden,
                 output_size=output_size, layers=layers)
    n = {key: f"--{key.replace('_size', '')}" for key in SIZE_KEYS}
    n.update(names or {})

    def parts(steps, batch, input_size, hidden, output_size, layers) -> dict[str, float]:
        one_step = step_bytes(cell, input_size, hidden, output_size, batch=batch,
                              layers=layers, graph=graph)
        params = parameter_count(cell, input_size, hidden, output_size, layers)
        return {"parameters": FLOAT * parameter_copies * params,
                "activations of one step": one_step,
                "graph of one sequence": max(steps - 1, 0) * one_step}

    now = parts(**sizes)
    estimate = Estimate(what).add("working memory", WORKING_BYTES)
    for label, nbytes in now.items():
        estimate.add(label, nbytes, driving_option(label, parts, sizes, n))
    return estimate


def driving_option(label: str, parts, sizes: dict[str, int],
                   names: dict[str, str | None]) -> str:
    """The option whose value, brought back to ``TYPICAL``, shrinks part ``label`` most."""
    now = parts(**sizes)[label]
    best, drop = "", 0.0
    for key, option in names.items():
        if option is None or key not in sizes or sizes[key] <= TYPICAL[key]:
            continue
        smaller = parts(**{**sizes, key: TYPICAL[key]})[label]
        if now - smaller > drop:
            best, drop = option, now - smaller
    return best
