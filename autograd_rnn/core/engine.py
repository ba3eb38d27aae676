"""``ar.backward`` (``Tensor.backward``) and ``ar.grad``: seed the roots, run the sweep.

The algorithm is the reference loop of ``core/backward.py``; the engine runs it as
``core/sweep.py`` (same results, faster, with gradient recording and listeners).
"""

from __future__ import annotations

import numpy as np

from autograd_rnn.core.backward import seed_gradient
from autograd_rnn.core.node import Node
from autograd_rnn.core.state import enable_grad
from autograd_rnn.core.sweep import Sweep
from autograd_rnn.core.tensor import Tensor


def backward(root: Tensor, grad=None, *, create_graph: bool = False, retain_graph: bool = True):
    """Accumulate d(root)/d(leaf) into ``leaf.grad`` for every leaf requiring grad.

    Args:
        root: the tensor to differentiate; of size 1 unless ``grad`` is given.
        grad: upstream gradient, an array of ``root.shape`` (defaults to 1 for size 1).
        create_graph: record the backward pass as a graph (gradients of gradients);
            leaves then also get ``leaf.grad_tensor``, a tensor with that graph.
        retain_graph: keep saved buffers so backward can run again (default True: the
            graph stays inspectable); False frees them as the sweep passes.
    """
    seed = seed_gradient(root, grad, create_graph)
    _run([root.node], [seed], create_graph, retain_graph, None)


def grad(outputs, inputs, grad_outputs=None, *, create_graph=False, retain_graph=True):
    """Gradients of ``outputs`` with respect to ``inputs`` as a tuple of tensors, without
    touching ``.grad``. With ``create_graph=True`` the returned tensors carry the graph of
    the backward pass, so they can be differentiated again (Hessian-vector products).
    ``inputs``: tensors, or graph nodes (from ``ar.reachable``). Inputs that the outputs do
    not depend on get zero gradients."""
    outputs = [outputs] if isinstance(outputs, Tensor) else list(outputs)
    inputs = [inputs] if isinstance(inputs, (Tensor, Node)) else list(inputs)
    nodes = [x.node if isinstance(x, Tensor) else x for x in inputs]
    if grad_outputs is None:
        grad_outputs = [None] * len(outputs)
    elif isinstance(grad_outputs, (list, tuple)):
        grad_outputs = list(grad_outputs)
    else:  # one array, tensor or number for a single output
        grad_outputs = [grad_outputs]
    if len(grad_outputs) != len(outputs):
        raise ValueError(
            f"grad: {len(outputs)} outputs but {len(grad_outputs)} grad_outputs; pass one "
            "upstream gradient per output (None for a size-1 output)"
        )
    seeds = [seed_gradient(o, g, create_graph) for o, g in zip(outputs, grad_outputs, strict=True)]
    found = _run([o.node for o in outputs], seeds, create_graph, retain_graph, set(nodes))
    result = []
    for node in nodes:
        g = found.get(node)
        shape, dtype = node.value.shape, node.value.dtype
        if g is None:
            g = np.zeros(shape, dtype=dtype)
        elif not isinstance(g, Tensor) and dtype.kind == "f":
            g = np.asarray(g, dtype=dtype)  # the input's dtype, as for .grad
        result.append(g if isinstance(g, Tensor) else Tensor(g))
    return tuple(result)


def _run(roots, seeds, create_graph: bool, retain_graph: bool, targets) -> dict:
    sweep = Sweep(create_graph, retain_graph, targets)
    if create_graph:
        with enable_grad():
            return sweep.run(roots, seeds)
    return sweep.run(roots, seeds)
