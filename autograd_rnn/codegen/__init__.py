"""Compile a recorded graph into readable NumPy source for its forward and backward.

``compile(fn, example_inputs)`` traces ``fn`` once and returns a callable running generated
plain-NumPy code: ``compiled(*inputs) -> (value, {name: gradient})``; ``compiled.source``
shows the code (timesteps marked, shared-weight gradients accumulated with ``+=``).

Repeated timesteps become ``for t in range(...)`` loops written like hand-written BPTT:
input projections before the loop, weight gradients after it, per-step values in
preallocated ``(T, ...)`` arrays, and (``inplace=True``, the default) every op in the loop
writing into buffers made before it (``np.tanh(a, out=h[t])``). Modules: ``compiler``
(tracing, caching), ``source``/``emit``/``templates`` (statements), ``loops``/``loop_emit``
(loop form), ``loop_opt``/``loop_fuse`` (hoisting, deferral, sibling gates),
``inplace*``/``loop_buffers``/``straight`` (buffers), ``fuse`` (cross-entropy).
"""

from autograd_rnn.codegen.compiler import CompiledFunction, compile
from autograd_rnn.codegen.templates import TEMPLATES

__all__ = ["CompiledFunction", "TEMPLATES", "compile"]
