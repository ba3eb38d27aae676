"""Reverse-mode differentiation over the recorded graph, iteratively (no recursion).

Algorithm: collect every node reachable from the roots that requires grad (explicit stack),
visit them in decreasing creation id (a reverse topological order, since a node is always
created after its parents), and for each node call its op's VJPs with the gradient that
reached it, summing contributions per parent. Each gradient is dropped from the working
dict as soon as its node is processed, so memory follows the frontier of the sweep.
With gradient recording off (training), leaf gradients of reused weights and biases are
summed in bulk and slices add in place (``autograd_rnn.core.fastpaths``).
"""

from __future__ import annotations

import operator
from collections.abc import Sequence

import numpy as np

from autograd_rnn.core.errors import AnomalyError, AutogradError, GraphFreedError, ShapeError
from autograd_rnn.core.fastpaths import PendingSums, add_in_place, defer_outer
from autograd_rnn.core.state import STATE, enable_grad
from autograd_rnn.core.tensor import Tensor


def unbroadcast(g, shape: tuple[int, ...]):
    """Sum ``g`` (an array or a tensor) over the axes broadcasting added, back to ``shape``.

    The single place where broadcasting is undone for every op.
    """
    extra = g.ndim - len(shape)
    if extra > 0:
        axis = 0 if extra == 1 else tuple(range(extra))
        # ufunc reduce directly: skips ndarray.sum's Python wrapper (runs once per bias use)
        g = np.add.reduce(g, axis=axis) if type(g) is np.ndarray else g.sum(axis=axis)
        if g.shape == shape:
            return g
    axes = tuple(i for i, n in enumerate(shape) if n == 1 and g.shape[i] != 1)
    if axes:
        g = g.sum(axis=axes, keepdims=True)
    return g


def _fit(node: Tensor, index: int, c, shape: tuple[int, ...]):
    """``unbroadcast(c, shape)``, raising ``ShapeError`` when a VJP returned a gradient that
    no broadcasting explains (a bug in that op's VJP, e.g. a custom op)."""
    if c.ndim >= len(shape):
        fitted = unbroadcast(c, shape)
        if fitted.shape == shape:
            return fitted
    raise ShapeError(
        f"the VJP of op {node.op.name!r} for its input {index} "
        f"({node.parents[index].label!r}) returned a gradient of shape {tuple(c.shape)}, "
        f"which does not reduce to the input's shape {shape}"
    )


def reachable(roots: Sequence[Tensor], only_requires_grad: bool = True) -> list[Tensor]:
    """Every node reachable from ``roots`` through parents, in increasing creation id
    (a topological order: parents before children). Iterative."""
    seen: dict[int, Tensor] = {}
    stack = [r for r in roots if r.requires_grad or not only_requires_grad]
    push = stack.append
    while stack:
        node = stack.pop()
        key = id(node)
        if key in seen:
            continue
        seen[key] = node
        for parent in node.parents:
            if parent is not None and (parent.requires_grad or not only_requires_grad):
                if id(parent) not in seen:
                    push(parent)
    return sorted(seen.values(), key=_creation_id)


_creation_id = operator.attrgetter("id")


def _seed(root: Tensor, grad, create_graph: bool):
    if not isinstance(root, Tensor):
        raise TypeError(f"backward needs a Tensor, got {type(root).__name__}")
    if not root.requires_grad:
        raise AutogradError(
            f"{root.label!r} does not require grad and has no graph: create leaves with "
            "requires_grad=True (and do not compute it inside ar.no_grad())"
        )
    if grad is None:
        if root.data.size != 1:
            raise AutogradError(
                f"backward() on {root.label!r} of shape {root.shape} needs grad=: pass an "
                "upstream gradient of that shape, or reduce the output with .sum() first"
            )
        seed = np.ones_like(root.data)
    else:
        value = grad.data if isinstance(grad, Tensor) else grad
        seed = np.asarray(value, dtype=root.data.dtype)
        if seed.shape != root.shape:
            raise ShapeError(
                f"backward(grad=...) for {root.label!r}: grad has shape {seed.shape} but the "
                f"output has shape {root.shape}"
            )
        if create_graph and isinstance(grad, Tensor):
            return grad
    return Tensor(seed) if create_graph else seed


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
    seed = _seed(root, grad, create_graph)
    _run([_graph_node(root)], [seed], create_graph=create_graph, retain_graph=retain_graph,
         targets=None)
    if not retain_graph and root.node is not None:
        _free_handle(root)


def grad(outputs, inputs, grad_outputs=None, *, create_graph=False, retain_graph=True):
    """Gradients of ``outputs`` with respect to ``inputs`` as a tuple of tensors, without
    touching ``.grad``. With ``create_graph=True`` the returned tensors carry the graph of
    the backward pass, so they can be differentiated again (Hessian-vector products).
    Inputs that the outputs do not depend on get zero gradients."""
    outputs = [outputs] if isinstance(outputs, Tensor) else list(outputs)
    single = isinstance(inputs, Tensor)
    inputs = [inputs] if single else list(inputs)
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
    seeds = [_seed(o, g, create_graph) for o, g in zip(outputs, grad_outputs, strict=True)]
    found = _run([_graph_node(o) for o in outputs], seeds, create_graph=create_graph,
                 retain_graph=retain_graph, targets={id(_graph_node(x)) for x in inputs})
    if not retain_graph:
        for o in outputs:
            if o.node is not None:
                _free_handle(o)
    result = []
    for x in inputs:
        g = found.get(id(_graph_node(x)))
        if g is None:
            g = np.zeros_like(x.data)
        elif not isinstance(g, Tensor) and x.data.dtype.kind == "f":
            g = np.asarray(g, dtype=x.data.dtype)  # the input's dtype, as for .grad
        result.append(g if isinstance(g, Tensor) else Tensor(g))
    return tuple(result)


def _graph_node(x: Tensor) -> Tensor:
    """The node standing for ``x`` in the graph: ``x`` itself, or for an output made under
    ``ar.lean_graph()`` its lean node (``core/lean.py``)."""
    return x if x.node is None else x.node


def _free_handle(x: Tensor) -> None:
    """After backward(retain_graph=False): the caller's lean tensor lets go of the graph."""
    x.args = None
    x.parents = (None,) * len(x.parents)


def _with_value(parent: Tensor, value) -> Tensor:
    """``parent`` as a tensor whose value is ``value`` (for create_graph VJPs): a lean node
    that did not keep its own output gets a handle carrying the value its consumer saved."""
    if parent.data is value or parent.op is None:
        return parent
    handle = Tensor._node(value, parent.op, parent.parents, parent.args, parent.params,
                          parent.requires_grad)
    handle.id = parent.id
    handle.node = parent
    return handle


def _run(roots, seeds, *, create_graph, retain_graph, targets):
    if create_graph:
        with enable_grad():
            return _sweep(roots, seeds, True, retain_graph, targets)
    return _sweep(roots, seeds, False, retain_graph, targets)


def _sweep(roots, seeds, create_graph, retain_graph, targets):
    # The hot loop of backward: per node one dict pop, its VJPs, one accumulation per
    # parent. Everything optional (recording, listeners, anomaly checks) is a local flag.
    grads: dict[int, object] = {}
    owned: set[int] = set()  # gradients we allocated and may add into in place
    for root, seed in zip(roots, seeds, strict=True):
        _accumulate(grads, owned, root, seed, create_graph)
    record = STATE.record_gradients
    anomaly = STATE.anomaly
    listeners = STATE.listeners
    found: dict[int, object] = {}
    # leaf gradients summed lazily as stacked matmuls (see Primitive.defvjp_outer); only
    # when nothing observes the individual contributions
    batch = targets is None and not (create_graph or record or listeners or anomaly)
    pending = PendingSums()
    order = reachable(roots)
    pop = grads.pop
    while order:
        node = order.pop()  # dropping our reference lets retain_graph=False free as we go
        key = id(node)
        g = pop(key, None)
        if pending and key in pending:
            g = pending.pop(key).total(g)
            if g.dtype == node.data.dtype:
                owned.add(key)
        if g is None:
            continue
        if targets is not None and key in targets:
            found[key] = g
        if node.op is None:
            if targets is None and node.requires_grad:
                _into_leaf(node, g, key in owned, create_graph)
            continue
        if record:
            node.grad = g.data if create_graph else g
        if listeners:
            for listener in listeners:
                listener("backward", node, g)
        op = node.op
        skip = None
        if batch:
            if op.outer_vjps:
                skip = defer_outer(node, g, pending)
            elif op.inplace_vjps:
                skip = add_in_place(node, g, grads, owned)
        parents = node.parents
        vjps = op.vjps
        args = node.args
        if create_graph or vjps is None or args is None:
            # general path (graph of the backward, variadic VJPs, freed-graph error)
            contributions = _vjps(node, g, create_graph, skip)
            vjps = None
        else:
            # common path: call each needed VJP right in the loop below
            out = node.data
            params = node.params
            n_vjps = len(vjps)
            contributions = [None] * len(parents) if record else None
        for index in range(len(parents)):
            parent = parents[index]
            if parent is None or not parent.requires_grad:
                continue
            if vjps is None:
                c = contributions[index]
            else:
                if index >= n_vjps or (skip and index in skip):
                    continue
                vjp = vjps[index]
                if vjp is None:
                    continue
                c = vjp(g, out, *args, **params) if params else vjp(g, out, *args)
                if record:
                    contributions[index] = c
            if c is None:
                continue
            shape = parent.data.shape
            if c.shape != shape:
                if batch and parent.op is None and c.shape[1:] == shape:
                    # a bias broadcast over a leading axis: sum all its uses at once
                    pending.entry(id(parent)).add_rows(c)
                    continue
                c = _fit(node, index, c, shape)
                if record:
                    contributions[index] = c
            if anomaly:
                _check_backward_finite(node, parent, c)
            # _accumulate, inlined (it runs once per edge)
            pkey = id(parent)
            previous = grads.get(pkey)
            if previous is None:
                grads[pkey] = c
            elif create_graph:
                grads[pkey] = previous + c
            elif pkey in owned and previous.dtype == c.dtype:
                np.add(previous, c, out=previous)
            else:
                grads[pkey] = previous + c
                if previous.ndim:  # a 0-d sum is a NumPy scalar: never add into it in place
                    owned.add(pkey)
            if listeners:
                for listener in listeners:
                    listener("edge", node, index, c)
        if record:
            node.edge_grads = tuple(
                (c.data if create_graph else c) if c is not None else None for c in contributions
            )
        if not retain_graph:
            node.args = None
            node.parents = (None,) * len(parents)
    return found


def _vjps(node: Tensor, g, create_graph: bool, skip=None) -> list:
    op = node.op
    args = node.args
    if args is None:
        scope = f" in scope {node.scope!r}" if node.scope else ""
        raise GraphFreedError(
            f"backward reached op {op.name!r}{scope} whose saved buffers were freed by an "
            "earlier backward(retain_graph=False); keep the graph with retain_graph=True "
            "(the default) to backpropagate through it twice"
        )
    parents = node.parents
    if create_graph:
        args = tuple(a if p is None else _with_value(p, a)
                     for p, a in zip(parents, args, strict=True))
        out = node
    else:
        out = node.data
    params = node.params
    vjps = op.vjps
    if vjps is None:
        return list(op.vjp_all(g, out, *args, **params))
    result = []
    for vjp, p in zip(vjps, parents, strict=False):
        if vjp is None or p is None or not p.requires_grad:
            result.append(None)
        elif skip and len(result) in skip:  # deferred to a stacked matmul
            result.append(None)
        elif params:
            result.append(vjp(g, out, *args, **params))
        else:
            result.append(vjp(g, out, *args))
    return result


def _accumulate(grads, owned, node, c, create_graph):
    key = id(node)
    previous = grads.get(key)
    if previous is None:
        grads[key] = c
    elif create_graph:
        grads[key] = previous + c
    elif key in owned and previous.dtype == c.dtype:
        np.add(previous, c, out=previous)
    else:
        grads[key] = previous + c
        if previous.ndim:  # a 0-d sum is a NumPy scalar: never add into it in place
            owned.add(key)


def _into_leaf(leaf: Tensor, g, owned: bool, create_graph: bool) -> None:
    if create_graph:
        leaf.grad_tensor = g if leaf.grad_tensor is None else leaf.grad_tensor + g
        g = g.data
        owned = False
    dtype = leaf.data.dtype  # a float32 leaf keeps float32 gradients in mixed graphs
    if leaf.grad is None:
        leaf.grad = g if owned and g.dtype == dtype else np.array(g, dtype=dtype)
    else:
        leaf.grad = leaf.grad + np.asarray(g, dtype=dtype)


def _check_backward_finite(node: Tensor, parent: Tensor, c) -> None:
    value = c.data if isinstance(c, Tensor) else c
    if not np.all(np.isfinite(value)):
        scope = node.scope or "<top level>"
        raise AnomalyError(
            f"op {node.op.name!r} in scope {scope!r} produced NaN/Inf in backward, in the "
            f"gradient for its input {parent.label!r}"
        )
