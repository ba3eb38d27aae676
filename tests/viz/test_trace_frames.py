"""Step-through recording: one frame per created node and per backpropagated edge, captions,
highlights, and the graph/gradients shown as they were at each step."""

import numpy as np
import pytest

import autograd_rnn as ar
import autograd_rnn.viz as viz
from autograd_rnn.core.state import STATE
from autograd_rnn.viz.examples import build_example
from autograd_rnn.viz.trace import Tape, trace
from autograd_rnn.viz.trace_example import record_example


def _small():
    """x * w summed, then backward: 2 nodes, 3 edges (sum->z, mul->x, mul->w)."""
    x = ar.tensor([1.0, 2.0, 3.0], requires_grad=True, name="x")
    w = ar.tensor([0.5, -1.0, 2.0], requires_grad=True, name="w")
    with trace() as tape:
        with ar.scope("layer"):
            z = x * w
        loss = z.sum()
        loss.name = "L"
        loss.backward()
    return tape, x, w, z, loss


def test_frames_are_nodes_created_plus_edges_backpropagated():
    tape, *_ = _small()
    frames = list(tape.frames())
    assert (tape.num_forward, tape.num_backward) == (2, 3)
    assert len(frames) == len(tape) == 5
    assert [f.kind for f in frames] == ["forward"] * 2 + ["backward"] * 3
    assert [f.index for f in frames] == list(range(5))


def test_captions_name_op_shape_scope_edge_and_norm():
    tape, x, w, z, loss = _small()
    frames = list(tape.frames())
    assert frames[0].caption == "forward: multiply (3,) in scope layer; first use of x, w"
    assert frames[1].caption.startswith("forward: sum () at top level, named L")
    first_back = frames[2].caption
    assert first_back.startswith("backward: dL/d[multiply (3,)] += dL/dL through sum's VJP")
    assert "along edge sum -> [multiply (3,)]" in first_back
    assert "norm 1.73" in first_back  # |ones(3)| = sqrt(3)
    to_x, to_w = frames[3].caption, frames[4].caption
    assert "along edge multiply -> x in scope layer" in to_x
    assert f"norm {np.linalg.norm(w.data):.3g}" in to_x  # dL/dx = w
    assert f"norm {np.linalg.norm(x.data):.3g}" in to_w  # dL/dw = x
    assert to_w.endswith("(contribution 1 of 1)")


def test_highlights_point_at_the_newest_node_or_edge():
    tape, x, w, z, loss = _small()
    frames = list(tape.frames())
    assert frames[0].highlight_nodes == (z.id,)
    assert set(frames[0].highlight_edges) == {(x.id, z.id), (w.id, z.id)}
    assert frames[1].highlight_edges == ((z.id, loss.id),)
    assert frames[2].highlight_edges == ((z.id, loss.id),)
    assert frames[3].highlight_edges == ((x.id, z.id),)
    assert frames[4].highlight_nodes == (w.id,)


def test_highlight_is_drawn_in_every_frames_dot():
    tape, *_ = _small()
    for frame in tape.frames():
        plain = _dot_without_highlight(tape, frame.index)
        assert frame.source != plain, f"frame {frame.index} has no visible highlight"


def _dot_without_highlight(tape, index):
    original = viz.to_dot

    def no_highlight(roots, **kwargs):
        kwargs["highlight_nodes"], kwargs["highlight_edges"] = (), ()
        return original(roots, **kwargs)

    viz.to_dot = no_highlight
    try:
        return [f for f in tape.frames() if f.index == index][0].source
    finally:
        viz.to_dot = original


def test_repeated_parent_gets_two_contributions():
    a = ar.tensor([3.0], requires_grad=True, name="a")
    with trace() as tape:
        (a * a).sum().backward()
    captions = [f.caption for f in tape.frames() if f.kind == "backward"]
    assert captions[-2].endswith("(contribution 1 of 2)")
    assert captions[-1].endswith("(contribution 2 of 2)")


class _Spy:
    """Wraps ar.viz.to_dot and records what each call could see."""

    def __init__(self, watch):
        self.watch = watch
        self.calls = []
        self.original = viz.to_dot

    def __call__(self, roots, **kwargs):
        visible = set(kwargs["visible_nodes"])
        seen = {
            name: (None if t.grad is None else np.array(t.grad))
            for name, t in self.watch
            if t.id in visible
        }
        self.calls.append((visible, seen))
        return self.original(roots, **kwargs)


@pytest.fixture
def spy(monkeypatch):
    def install(watch):
        s = _Spy(watch)
        monkeypatch.setattr(viz, "to_dot", s)
        return s

    return install


def test_forward_frames_show_only_nodes_created_so_far(spy):
    x = ar.tensor([1.0, 2.0], requires_grad=True, name="x")
    late = ar.tensor([3.0, 4.0], requires_grad=True, name="late")
    with trace() as tape:
        y = x.tanh()
        z = y * late
    s = spy([])
    list(tape.frames())
    first, second = s.calls[0][0], s.calls[1][0]
    assert first == {x.id, y.id}  # late is not used yet: not drawn
    assert second == {x.id, y.id, late.id, z.id}


def test_backward_frames_show_only_gradients_known_so_far(spy):
    tape, x, w, z, loss = _small()
    s = spy([("x", x), ("w", w), ("z", z), ("L", loss)])
    list(tape.frames())
    forward, back = [c[1] for c in s.calls[:2]], [c[1] for c in s.calls[2:]]
    assert forward[0].keys() == {"x", "w", "z"} and forward[1].keys() == {"x", "w", "z", "L"}
    assert all(v is None for seen in forward for v in seen.values())  # no gradients yet
    assert back[0]["L"] is not None and back[0]["z"] is None  # z's gradient not final yet
    assert back[0]["x"] is None and back[0]["w"] is None
    np.testing.assert_allclose(back[1]["z"], np.ones(3))
    np.testing.assert_allclose(back[1]["x"], w.data)  # x's edge done, w's not yet
    assert back[1]["w"] is None
    np.testing.assert_allclose(back[2]["w"], x.data)
    # the tensors' real gradients are restored after every frame
    np.testing.assert_allclose(x.grad, w.data)
    np.testing.assert_allclose(w.grad, x.data)


def test_listener_is_removed_and_tape_backward_records_later():
    before = list(STATE.listeners)
    x = ar.tensor([1.0, -2.0], requires_grad=True, name="x")
    with trace() as tape:
        loss = (x.relu() * 2.0).sum()
    assert STATE.listeners == before
    assert (tape.num_forward, tape.num_backward) == (3, 0)
    tape.backward(loss)
    assert STATE.listeners == before
    assert (tape.num_forward, tape.num_backward) == (3, 3)
    np.testing.assert_allclose(x.grad, [2.0, 0.0])


def test_backward_of_a_graph_built_before_recording_shows_the_whole_graph(spy):
    x = ar.tensor([1.0, 2.0], requires_grad=True, name="x")
    loss = (x * x).sum()
    tape = Tape()
    tape.backward(loss)
    s = spy([])
    frames = list(tape.frames())
    assert len(frames) == tape.num_backward == 3
    assert s.calls[0][0] >= {x.id, loss.id}


def test_every_and_max_frames_subsample_keeping_first_and_last():
    tape, *_ = _small()
    assert [f.index for f in tape.frames(every=2)] == [0, 2, 4]
    assert [f.index for f in tape.frames(every=3)] == [0, 3, 4]
    assert [f.index for f in tape.frames(max_frames=3)] == [0, 2, 4]
    assert [f.index for f in tape.frames(max_frames=1)] == [4]
    assert tape.count_frames(every=2) == 3
    with pytest.raises(ValueError, match="every must be a positive integer"):
        list(tape.frames(every=0))
    with pytest.raises(ValueError, match="max_frames"):
        trace(max_frames=0)


def test_unrolled_rnn_frames_follow_timesteps_and_reverse_topological_order():
    with trace() as tape:
        example = build_example("rnn", 3, hidden_size=3)
    nodes = ar.reachable(example.losses, only_requires_grad=True)
    n_nodes = sum(1 for n in nodes if n.op is not None)
    n_edges = sum(
        1 for n in nodes if n.op is not None for p in n.parents if p is not None and p.requires_grad
    )
    assert (tape.num_forward, tape.num_backward) == (n_nodes, n_edges)
    frames = list(tape.frames())
    assert any("in scope rnn/layer0/t=2" in f.caption for f in frames)
    assert any("first use of x_3" in f.caption for f in frames)
    children = [f.highlight_edges[0][1] for f in frames if f.kind == "backward"]
    assert children == sorted(children, reverse=True)  # edges leave nodes by decreasing id
    assert sum("-> W_h " in f.caption for f in frames) == 3  # one contribution per step


def test_lstm_with_hundreds_of_nodes_gives_every_frame():
    tape = record_example("lstm", 12, hidden_size=2, every=1)
    assert tape.num_forward > 200
    frames = list(tape.frames(max_frames=60))
    assert len(frames) == 60
    assert frames[-1].index == len(tape) - 1
    assert all(f.source.startswith(("digraph", "strict digraph")) for f in frames)


def test_create_graph_backward_records_the_backward_graph_as_it_is_built():
    x = ar.tensor([1.0, 2.0], requires_grad=True, name="x")
    with trace() as tape:
        y = (x.tanh() * x).sum()
        (g,) = ar.grad(y, x, create_graph=True)
        g.sum().backward()
    frames = list(tape.frames())
    assert len(frames) == tape.num_forward + tape.num_backward
    assert tape.num_forward > 3  # tanh, multiply, sum + the nodes of the backward graph
    kinds = [f.kind for f in frames]
    first_back = kinds.index("backward")
    assert "forward" in kinds[first_back:]  # nodes recorded during the backward pass
    second_pass = [f for f in frames if f.kind == "backward"][-1]
    assert second_pass.caption.startswith("backward: dL/dx += ")
