"""Neural-network modules: the Module base, Linear/Embedding, RNN/LSTM/GRU cells and the
layers that unroll them over time (each timestep under scope "<layer>/layer<l>/t=<t>"),
a SequenceModel with an output layer, one-to-many generation and PyTorch converters."""

from autograd_rnn.nn.cells import CELLS, GRUCell, LSTMCell, RNNCell
from autograd_rnn.nn.embedding import Embedding, one_hot
from autograd_rnn.nn.linear import Linear
from autograd_rnn.nn.models import SequenceModel, generate, last_valid
from autograd_rnn.nn.module import LoadResult, Module, ModuleList, Parameter
from autograd_rnn.nn.recurrent import GRU, LAYERS, LSTM, RNN
from autograd_rnn.nn.torch_convert import from_torch_state_dict, to_torch_state_dict

__all__ = [
    "CELLS",
    "Embedding",
    "GRU",
    "GRUCell",
    "LAYERS",
    "LSTM",
    "LSTMCell",
    "Linear",
    "LoadResult",
    "Module",
    "ModuleList",
    "Parameter",
    "RNN",
    "RNNCell",
    "SequenceModel",
    "from_torch_state_dict",
    "generate",
    "last_valid",
    "one_hot",
    "to_torch_state_dict",
]
