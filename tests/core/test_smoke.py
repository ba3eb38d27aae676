"""First end-to-end checks of the engine: a tiny RNN graph backpropagates correctly."""

import numpy as np

import autograd_rnn as ar
from autograd_rnn.demo import run_demo


def test_square_sum_gradient():
    x = ar.tensor([1.0, -2.0, 3.0], requires_grad=True)
    (x * x).sum().backward()
    np.testing.assert_allclose(x.grad, [2.0, -4.0, 6.0])


def test_demo_gradients_pass_check(tmp_path, capsys):
    assert run_demo(out_dir=str(tmp_path / "demo"), seed=1)
    assert "PASSED" in capsys.readouterr().out
