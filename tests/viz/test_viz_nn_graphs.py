"""The export works on graphs built by ar.nn layers, from their scopes and names only."""

import numpy as np
import pytest
from vizdot_parse import parse_dot

import autograd_rnn as ar
from autograd_rnn.viz import hidden_state_grad_norms, to_dot, to_networkx


def _model_loss(cell, layers=2, T=3):
    model = ar.nn.SequenceModel(cell=cell, input_size=2, hidden_size=3, output_size=2,
                                num_layers=layers)
    x = np.random.default_rng(0).normal(size=(T, 1, 2))
    y, _ = model(x)
    loss = (y * y).sum()
    loss.backward()
    return model, loss


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_nn_layers_get_a_box_per_timestep_holding_every_layer(cell):
    model, loss = _model_loss(cell)
    dot = parse_dot(to_dot(loss, detail="ops").source)
    boxes = {c["label"]: c for c in dot.clusters if c["parent"] is None}
    assert {"t=1", "t=2", "t=3"} <= set(boxes)
    for t in (1, 2, 3):  # the step's states of both layers and its output, stacked
        for head in (f"h_{t} = ", f"y_{t} = "):
            nodes = [k for k, a in dot.nodes.items() if a.get("label", "").startswith(head)]
            assert nodes and all(dot.cluster_of(k)["label"] == f"t={t}" for k in nodes)
        states = [k for k, a in dot.nodes.items() if a.get("label", "").startswith(f"h_{t} = ")]
        assert len(states) == 2  # layer0 and layer1
    # one node per parameter, told apart by layer when names repeat
    params = [a["label"] for a in dot.nodes.values() if "grad = sum of" in a.get("label", "")]
    assert len(params) == len(list(model.parameters()))
    assert len(set(params)) == len(params)


def test_nn_cells_view_and_hidden_gradients_match_direct_computation():
    model, loss = _model_loss("lstm", T=5)
    dot = parse_dot(to_dot(loss, detail="cells").source)
    cells = [a["label"] for a in dot.nodes.values()
             if a.get("label", "").startswith("lstm/layer1 t=")]
    assert len([c for c in cells if "ops)" in c and "(0 ops)" not in c]) == 5
    curve = hidden_state_grad_norms(loss, scope="lstm/layer1")
    assert sorted(curve) == [1, 2, 3, 4, 5]
    recorded = hidden_state_grad_norms(to_networkx(loss), scope="lstm/layer1")
    for t in curve:
        np.testing.assert_allclose(recorded[t], curve[t], rtol=1e-12)
