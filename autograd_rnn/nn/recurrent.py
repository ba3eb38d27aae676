"""``RNN``, ``LSTM`` and ``GRU`` layers: a cell unrolled over a sequence, step by step.

Every op of layer l at timestep t (counted from 1) is recorded under the scope
``f"{name}/layer{l}/t={t}"`` (``layer{l}_reverse`` for the backward direction, ``t=0`` for the
initial state), and the state tensors are named ``h_{t}`` / ``c_{t}``, the layer-0 inputs
``x_{t}``: the unrolled graph is explicit and BPTT is plain backprop through it.

Parameter names (k = layer index): ``cells.{k}.W_x`` ... for the forward direction,
``cells_reverse.{k}.W_x`` ... for the backward one, and ``h_0`` (and ``c_0``) of shape
(num_layers * dirs, H) when ``learn_initial_state=True``. Row k*dirs + d of a state
(num_layers * dirs, B, H) belongs to layer k, direction d (0 forward, 1 backward), as in PyTorch.
"""

from __future__ import annotations

from autograd_rnn.nn.cells import GRUCell, LSTMCell, RNNCell
from autograd_rnn.nn.unroll import RecurrentBase


class RNN(RecurrentBase):
    """Vanilla RNN layer (``RNNCell`` unrolled). Extra option: ``nonlinearity="tanh"|"relu"``.

    >>> rnn = RNN(3, 8, num_layers=2, seed=0)
    >>> out, h_n = rnn(np.zeros((5, 2, 3)))      # out (5, 2, 8), h_n (2, 2, 8)
    """

    cell_class = RNNCell
    default_name = "rnn"

    @property
    def nonlinearity(self) -> str:
        return self.cells[0].nonlinearity


class LSTM(RecurrentBase):
    """LSTM layer (``LSTMCell`` unrolled); state and final state are pairs (h, c).

    ``forget_bias=`` (optional) initialises every cell's forget-gate bias block.
    """

    cell_class = LSTMCell
    state_names = ("h", "c")
    default_name = "lstm"

    def _step(self, cell, x_t, state: tuple) -> tuple:
        return cell(x_t, state)


class GRU(RecurrentBase):
    """GRU layer (``GRUCell`` unrolled, PyTorch's variant)."""

    cell_class = GRUCell
    default_name = "gru"


LAYERS = {"rnn": RNN, "lstm": LSTM, "gru": GRU}
