"""Compile a recorded graph into readable NumPy source for its forward and backward.

``compile(fn, example_inputs)`` traces ``fn`` once and returns a callable running generated
plain-NumPy code: ``compiled(*inputs) -> (value, {name: gradient})``; ``compiled.source``
shows the code (timesteps marked, shared-weight gradients accumulated with ``+=``).
"""

from autograd_rnn.codegen.compiler import CompiledFunction, compile
from autograd_rnn.codegen.templates import TEMPLATES

__all__ = ["CompiledFunction", "TEMPLATES", "compile"]
