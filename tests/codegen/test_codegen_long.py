"""Long unrolls (generation is linear in T; no timing is asserted) stay exact: a 3,000-step
RNN and LSTM in loop form, a 1,000-step straight-line RNN, all against the engine
(1e-12); ``drop_unused`` keeps its meaning after the one-pass rewrite."""

from __future__ import annotations

import numpy as np
import pytest

from autograd_rnn.codegen import compile as compile_graph
from autograd_rnn.codegen.models import PARAMS, example_inputs, make_loss
from autograd_rnn.codegen.straight import drop_unused
from tests.codegen.codegen_engine import engine_loss_and_grads

TOL = 1e-12


def _assert_matchesengine_loss_and_grads(cell, compiled, inputs):
    value, grads = compiled(*inputs)
    expected, expected_grads = engine_loss_and_grads(cell, inputs)
    np.testing.assert_allclose(value, expected, rtol=TOL, atol=TOL)
    assert list(grads) == list(PARAMS[cell])
    for name, g in grads.items():
        assert np.all(np.isfinite(g)), name
        np.testing.assert_allclose(g, expected_grads[name], rtol=1e-10, atol=TOL,
                                   err_msg=name)


@pytest.mark.parametrize("cell", ["rnn", "lstm"])
def test_three_thousand_step_unroll_is_one_loop_and_matchesengine_loss_and_grads(cell):
    inputs = example_inputs(cell, 3000, input_size=2, hidden=3, batch=1, seed=3)
    compiled = compile_graph(make_loss(cell), inputs)
    src = compiled.source
    assert src.count("for t in range(") == 2  # one forward loop, one backward loop
    assert "for t in range(1, 3001)" in src and "for t in range(3000, 0, -1)" in src
    assert len(src.splitlines()) < 200
    _assert_matchesengine_loss_and_grads(cell, compiled, inputs)
    # new data of the same shape through the same compiled code
    rng = np.random.default_rng(7)
    inputs[0].data = rng.standard_normal(inputs[0].shape)
    _assert_matchesengine_loss_and_grads(cell, compiled, inputs)


def test_thousand_step_straight_line_matchesengine_loss_and_grads():
    inputs = example_inputs("rnn", 1000, input_size=2, hidden=3, batch=1, seed=5)
    compiled = compile_graph(make_loss("rnn"), inputs, loops=False)
    assert "for t in range(" not in compiled.source
    assert "h_1000" in compiled.source and "g_h_1" in compiled.source
    _assert_matchesengine_loss_and_grads("rnn", compiled, inputs)


def test_drop_unused_reads_whole_names_only_and_later_lines_only():
    fwd = ["    a = x + 1",          # read below as a whole name: kept
           "    ab = a * 2",         # 'ab' only inside 'abc' and as attribute '.ab': dropped
           "    abc = y.ab + a",     # returned: kept
           "    b = 3",              # never read: dropped
           "    c = 1",              # read by the next line: kept
           "    c = c + 1",          # read only on its own line: dropped
           "    d = np.zeros(3)",    # read below: kept
           "    e = np.add(d, 1, out=d)"]  # a statement with out= always stays
    bwd = ["    g = abc"]
    drop_unused(fwd, bwd, "abc g")
    assert fwd == ["    a = x + 1", "    abc = y.ab + a", "    c = 1",
                   "    d = np.zeros(3)", "    e = np.add(d, 1, out=d)"]
    assert bwd == ["    g = abc"]


def _drop_unused_reference(fwd, bwd, returned):
    """The former quadratic definition: search every later line for the name."""
    import re
    lines = fwd + bwd
    dead = set()
    for i, line in enumerate(lines):
        m = re.match(r"^    ([A-Za-z_]\w*) = ", line)
        if not m or "out=" in line:
            continue
        name = re.compile(rf"(?<![\w.]){m.group(1)}\b")
        if not any(name.search(later) for later in lines[i + 1:]) and not name.search(returned):
            dead.add(i)
    n = len(fwd)
    return ([x for i, x in enumerate(fwd) if i not in dead],
            [x for i, x in enumerate(bwd, n) if i not in dead])


def test_drop_unused_agrees_with_the_quadratic_definition():
    rng = np.random.default_rng(0)
    names = ["a", "ab", "a_1", "g_a", "x", "t", "ab1", "_q"]
    pieces = names + [".ab", ".T", "[t - 1]", " + ", "(", ")", "1", "2.5", "np.exp",
                      "out=", " ", "\u27e6", "\u27e7"]
    for _ in range(300):
        lines = []
        for _ in range(rng.integers(1, 12)):
            rhs = "".join(rng.choice(pieces) for _ in range(rng.integers(1, 6)))
            lines.append(f"    {rng.choice(names)} = {rhs}")
        split = int(rng.integers(0, len(lines) + 1))
        returned = " ".join(rng.choice(names, size=2))
        fwd, bwd = lines[:split], lines[split:]
        expected = _drop_unused_reference(list(fwd), list(bwd), returned)
        drop_unused(fwd, bwd, returned)
        assert (fwd, bwd) == expected, lines
