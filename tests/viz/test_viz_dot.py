"""Structure of the DOT export: clusters, shared parameters, gradient labels and colours."""

import re

import numpy as np
import pytest
from vizdot_parse import parse_dot

import autograd_rnn as ar
from autograd_rnn.viz import GraphTooLargeError, build_example, to_dot
from autograd_rnn.viz.style import VIRIDIS

NUMBER = re.compile(r"-?\d+(\.\d+)?(e[-+]\d+)?")


BUS_POINT = re.compile(r"^(n\d+b\d+|bus_(bottom|top)\d+)$")


def _real_edges(dot):
    """Drawn edges, without the grey bus lines that carry shared parameters (the branches
    off a bus into the ops are kept)."""
    return [e for e in dot.edges if e[2].get("style") != "invis"
            and not (e[2].get("arrowhead") == "none"
                     and (BUS_POINT.match(e[0]) or BUS_POINT.match(e[1])))]


def _branch(attrs):
    """A branch off a bus is labelled with its weight's name first: drop that line."""
    lines = attrs.get("label", "").split("\\n")
    return lines[1:] if lines and re.fullmatch(r"[A-Za-z_]\w*", lines[0]) else lines


def _label_lines(attrs):
    return attrs.get("label", "").split("\\n")


def _params(dot, names):
    return {n: [k for k, a in dot.nodes.items() if a.get("label", "").startswith(n + " (")]
            for n in names}


@pytest.mark.parametrize("steps", [1, 3, 5])
def test_one_cluster_per_timestep_labelled_t_in_time_order(steps):
    ex = build_example("rnn", steps)
    dot = parse_dot(to_dot(ex.loss, detail="ops").source)
    boxes = [c for c in dot.clusters if c["parent"] is None]
    assert [c["label"] for c in boxes] == [f"t={t}" for t in range(1, steps + 1)]
    numbers = [int(c["name"].split("_")[1]) for c in boxes]
    assert numbers == sorted(numbers)
    # each timestep's box holds its cell (h_t) and its output and loss (y_t, L_t); h_0 is
    # drawn in the first
    for t in range(1, steps + 1):
        loss = f"L_{t} = sum" if steps > 1 else "loss = sum"
        for head in (f"h_{t} = tanh", f"y_{t} = add", loss, f"x_{t} ("):
            node = next(k for k, a in dot.nodes.items() if a["label"].startswith(head))
            assert dot.cluster_of(node)["label"] == f"t={t}", head
    h0 = next(k for k, a in dot.nodes.items() if a["label"].startswith("h_0 ("))
    assert dot.cluster_of(h0)["label"] == "t=1"


@pytest.mark.parametrize("bus", [True, False])
def test_each_shared_parameter_is_one_node_outside_clusters_with_an_edge_per_step(bus):
    ex = build_example("rnn", 4)
    dot = parse_dot(to_dot(ex.loss, detail="ops", bus=bus).source)
    found = _params(dot, ["W_x", "W_h", "b_h", "W_y", "b_y"])
    for name, nodes in found.items():
        assert len(nodes) == 1, (name, nodes)
        assert dot.cluster_of(nodes[0]) is None
        if bus:  # the parameter feeds its side's bus; a branch per timestep says its name
            side = "top" if name in ("W_y", "b_y") else "bottom"
            (feed,) = [e for e in dot.edges if nodes[0] in e[:2]]
            assert set(feed[:2]) == {nodes[0], f"bus_{side}1"}
            branches = [e for e in dot.edges if BUS_POINT.match(e[0] if side == "bottom"
                        else e[1]) and _label_lines(e[2])[0] == name]
            assert len(branches) == 4, name
            assert all(_label_lines(e[2])[1].startswith(("|g|", "g =")) for e in branches)
        else:
            uses = [e for e in _real_edges(dot) if nodes[0] in e[:2]]
            assert len(uses) == 4, name  # shared by all 4 timesteps
    if bus:  # one bus under the columns, one over them, a tap per timestep
        for side in ("bottom", "top"):
            line = [e for e in dot.edges if e[0] == f"bus_{side}{e[0][-1]}"
                    and e[1].startswith(f"bus_{side}")]
            assert [(a, b) for a, b, _ in line] == [(f"bus_{side}{t}", f"bus_{side}{t + 1}")
                                                  for t in range(1, 4)]


def test_every_gradient_edge_has_a_number_after_backward_and_none_before():
    ex = build_example("lstm", 2)
    dot = parse_dot(to_dot(ex.loss).source)
    edges = _real_edges(dot)
    grad_edges = [e for e in edges if e[2].get("style") != "dotted"]  # dotted: constant input
    assert len(grad_edges) > 40
    for _, _, attrs in grad_edges:
        lines = _branch(attrs)
        assert lines[0].startswith(("|g| = ", "g = [")), attrs
        assert NUMBER.search(lines[0]), attrs
        assert len(lines) == 1  # norms (or tiny vectors) only: no shapes by default
    shapes = parse_dot(to_dot(ex.loss, show_shapes=True).source)
    assert all(re.fullmatch(r"\([\d, ]*\)", _label_lines(a)[-1]) for _, _, a in
               _real_edges(shapes) if "label" in a and "detached" not in a["label"])
    ex2 = build_example("lstm", 2, backward=False)
    before = parse_dot(to_dot(ex2.loss).source)
    assert "gradients not computed yet" in before.graph["label"]
    assert not any("label" in a for _, _, a in _real_edges(before))  # nothing to show yet
    with_shapes = parse_dot(to_dot(ex2.loss, show_shapes=True).source)
    for _, _, attrs in _real_edges(with_shapes):
        assert re.fullmatch(r"\([\d, ]*\)", _branch(attrs)[-1]), attrs  # shape only


def test_edge_values_equal_the_recorded_gradients():
    x = ar.tensor([1.0, 2.0], requires_grad=True, name="x")
    y = (x * ar.tensor([3.0, -4.0], name="c")).sum()
    y.backward()
    dot = parse_dot(to_dot(y).source)
    x_node = next(k for k, a in dot.nodes.items() if a["label"].startswith("x (2,)"))
    (edge,) = [e for e in dot.edges if e[0] == x_node]
    assert _label_lines(edge[2])[0] == "g = [3, -4]"
    assert "|g| = 5" in dot.nodes[x_node]["label"]


def test_colours_are_monotone_in_magnitude():
    ex = build_example("rnn", 30, hidden_size=4, weight_scale=0.5, loss_at="last")
    dot = parse_dot(to_dot(ex.loss, detail="cells", max_nodes=None).source)
    pairs = []
    for _, _, attrs in _real_edges(dot):
        first = _label_lines(attrs)[0]
        if first.startswith("|g| = ") and attrs.get("color") in VIRIDIS:
            pairs.append((float(first[6:]), VIRIDIS.index(attrs["color"]),
                          float(attrs["penwidth"])))
    assert len(pairs) >= 30
    pairs.sort()
    magnitudes = [p[0] for p in pairs]
    assert magnitudes[-1] / magnitudes[0] > 1e6  # the vanishing range is really drawn
    # larger gradient -> darker palette entry (lower index) and thicker pen, never reversed
    assert all(a[1] >= b[1] for a, b in zip(pairs, pairs[1:], strict=False))
    assert all(a[2] <= b[2] for a, b in zip(pairs, pairs[1:], strict=False))
    assert pairs[0][1] == len(VIRIDIS) - 1 and pairs[-1][1] == 0


def test_parameter_node_shows_the_sum_of_its_edge_contributions():
    ex = build_example("gru", 3)
    dot = parse_dot(to_dot(ex.loss, detail="ops").source)
    node = _params(dot, ["W_h"])["W_h"][0]
    label = dot.nodes[node]["label"]
    assert "sum of 3 edges" in label
    shown = float(label.rsplit("|g| = ", 1)[1])
    np.testing.assert_allclose(shown, np.linalg.norm(ex.params["W_h"].grad), rtol=5e-3)
    np.testing.assert_allclose(ar.viz.sum_of_edge_contributions(ex.params["W_h"], ex.loss),
                               ex.params["W_h"].grad, rtol=1e-12, atol=1e-15)


def test_states_share_a_row_and_the_columns_are_chained_in_time_order():
    ex = build_example("rnn", 4)
    dot = parse_dot(to_dot(ex.loss, detail="ops").source)
    rows = [set(sub["nodes"]) for sub in dot.subgraphs if sub["attrs"].get("rank") == "same"]
    hs = [dot.first(f"h_{t} ") for t in range(5)]
    xs = [dot.first(f"x_{t} ") for t in range(1, 5)]
    assert any(set(hs) <= row for row in rows) and any(set(xs) <= row for row in rows)
    invis = {(a, b) for a, b, attrs in dot.edges if attrs.get("style") == "invis"}
    for row in (hs, xs):  # left to right in t
        assert all(pair in invis for pair in zip(row, row[1:], strict=False))
    cells = parse_dot(to_dot(ex.loss, detail="cells").source)
    names = [cells.first(f"rnn/layer0 t={t}") for t in range(1, 5)]
    rows = [set(sub["nodes"]) for sub in cells.subgraphs if sub["attrs"].get("rank") == "same"]
    assert any(set(names) <= row for row in rows)  # one straight row of cells
    recurrence = {(a, b) for a, b, _ in cells.edges}
    assert all(pair in recurrence for pair in zip(names, names[1:], strict=False))


def test_detached_state_is_a_dashed_truncated_edge():
    ex = build_example("rnn", 4, truncate=2)
    dot = parse_dot(to_dot(ex.losses, detail="ops").source)
    cuts = [e for e in dot.edges if e[2].get("style") == "dashed"]
    assert len(cuts) == 1
    tail, head, attrs = cuts[0]
    assert attrs["label"] == "detached: no gradient flows back"
    assert float(attrs["penwidth"]) >= 3 and attrs["arrowhead"] == "tee"
    assert dot.nodes[tail]["label"].startswith("h_2 = tanh")
    assert dot.nodes[head]["label"].startswith("h_2 (1, 3)")
    # drawing only the second chunk still marks the cut
    dot2 = parse_dot(to_dot(ex.losses[1], detail="ops").source)
    (cut,) = [e for e in dot2.edges if e[2].get("style") == "dashed"]
    assert "earlier chunk" in dot2.nodes[cut[0]]["label"]


def test_cells_mode_one_node_per_cell_per_timestep():
    ex = build_example("lstm", 100, hidden_size=2)
    dot = parse_dot(to_dot(ex.loss, detail="cells").source)
    cells = [a["label"] for a in dot.nodes.values()
             if a.get("label", "").startswith("lstm/layer0 t=")]
    assert sorted(cells, key=lambda s: int(s.split("t=")[1].split("\\n")[0])) == cells
    assert len(cells) == 100
    assert all("-> h_" in c for c in cells)
    # parameters are still single nodes
    assert all(len(v) == 1 for v in _params(dot, ["W_x", "W_h", "b"]).values())


def test_same_program_gives_byte_identical_dot_and_names_from_position():
    a = to_dot(build_example("gru", 2).loss).source
    b = to_dot(build_example("gru", 2).loss).source
    assert a == b
    names = [k for k in parse_dot(a).nodes if re.fullmatch(r"n\d+", k)]
    assert sorted(names, key=lambda n: int(n[1:])) == [f"n{k}" for k in range(len(names))]
    for detail in ("textbook", "cells"):
        assert to_dot(build_example("lstm", 4, truncate=2).losses, detail=detail).source == \
            to_dot(build_example("lstm", 4, truncate=2).losses, detail=detail).source


def test_backward_graph_with_create_graph_is_drawn():
    ex = build_example("rnn", 2, backward=False)
    with ar.scope("backward"):
        (g,) = ar.grad(ex.loss, [ex.params["W_h"]], create_graph=True)
    dot = parse_dot(to_dot(g).source)
    backward = next(c for c in dot.clusters if c["label"] == "backward")
    assert len(backward["nodes"]) > 10
    assert any(a["label"].startswith("h_2 = tanh") for a in dot.nodes.values())


def test_highlight_and_visible_nodes():
    ex = build_example("rnn", 2)
    h1 = ex.hidden[1]
    parent = h1.parents[0]
    full = parse_dot(to_dot(ex.loss).source)
    dot = parse_dot(to_dot(ex.loss, highlight_nodes=[h1.id],
                           highlight_edges=[(parent.id, h1.id)]).source)
    (h1_name,) = [k for k, a in dot.nodes.items() if a.get("label", "").startswith("h_1 =")]
    assert dot.nodes[h1_name]["penwidth"] == "4"
    assert [e for e in dot.edges if e[1] == h1_name and e[2].get("penwidth") == "4"]
    visible = {t.id for t in ar.reachable([h1], only_requires_grad=False)}
    part = parse_dot(to_dot(ex.loss, visible_nodes=visible).source)
    assert len(part.nodes) < len(full.nodes)
    assert set(part.nodes) - {"legend"} <= set(full.nodes)  # names stable across frames
    assert all(full.nodes[k]["label"] == a["label"] for k, a in part.nodes.items()
               if k != "legend" and "label" in a and "|" not in a["label"])


def test_options_rankdir_values_and_no_grads():
    ex = build_example("rnn", 1, hidden_size=2)
    dot = parse_dot(to_dot(ex.loss, rankdir="TB", show_values=True, show_grads=False,
                           group=False, title="hello").source)
    # the same columns, ops flowing down (TB) or up (LR, the default: dot's BT)
    assert dot.graph["rankdir"] == "TB" and dot.graph["label"] == "hello"
    assert parse_dot(to_dot(ex.loss).source).graph["rankdir"] == "BT"
    assert not dot.clusters
    assert all("|g|" not in e[2].get("label", "") for e in dot.edges)
    assert any("[" in a.get("label", "") for a in dot.nodes.values())  # tiny values shown


def test_errors_are_clear():
    ex = build_example("rnn", 30)
    with pytest.raises(GraphTooLargeError, match="detail='cells'"):
        to_dot(ex.loss, detail="ops", max_nodes=50)
    with pytest.raises(GraphTooLargeError, match="textbook view has 122 boxes"):
        to_dot(ex.loss, detail="textbook", max_nodes=50)
    with pytest.raises(ValueError, match="visible_nodes"):
        to_dot(ex.loss, detail="textbook", visible_nodes=[1])
    with pytest.raises(ValueError, match="detail"):
        to_dot(ex.loss, detail="layers")
    with pytest.raises(ValueError, match="rankdir"):
        to_dot(ex.loss, rankdir="XY")
    with pytest.raises(ValueError, match="ops flow down"):
        to_dot(ex.loss, rankdir="RL")
    with pytest.raises(TypeError, match="Tensor"):
        to_dot([1.0])
    with pytest.raises(ValueError, match="empty"):
        to_dot([])


def test_record_gradients_off_is_reported_not_drawn_as_zero():
    ex = build_example("rnn", 2, backward=False)
    with ar.record_gradients(False):
        ex.loss.backward()
    dot = parse_dot(to_dot(ex.loss).source)
    assert "not recorded" in dot.graph["label"]
    assert all("|g|" not in e[2].get("label", "") for e in dot.edges)


def test_long_graphs_export_without_recursion_and_fail_fast_when_too_large():
    ex = build_example("rnn", 1500, hidden_size=1)  # > the recursion limit
    with pytest.raises(GraphTooLargeError, match="even detail='cells' has 4506 nodes"):
        to_dot(ex.loss, detail="ops")
    with pytest.raises(GraphTooLargeError, match="draw fewer timesteps"):
        to_dot(ex.loss, detail="cells")
    dot = parse_dot(to_dot(ex.loss, detail="cells", max_nodes=None).source)
    steps = [a for a in dot.nodes.values() if a.get("label", "").startswith("rnn/layer0 t=")]
    assert len(steps) == 1500
    assert len(ar.viz.to_networkx(ex.loss)) == len(ar.reachable([ex.loss],
                                                                only_requires_grad=False))
