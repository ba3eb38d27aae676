"""Lowering: a traced graph becomes an IR ``Program`` (the only module that reads graph nodes).

1. The forward graph of the traced output (and of every ``t.detach()`` source, so detached
   values are recomputed), in topological order, becomes one statement per op node.
2. ``ar.grad(output, wrt, create_graph=True)`` records the backward pass as more op nodes
   (every VJP is written with primitives); a listener notes which forward node each
   backward node was made for (its scope and timestep become the statement's) and which
   gradient each edge contributed.
3. The engine sums the contributions reaching a node with ``add`` nodes as they arrive; here
   each such sum becomes one ``gsum`` statement placed where the node's backward starts (all
   its contributions are known there), so later passes can choose how to add them.

Leaves become function arguments (inputs, captured tensors read live) or constants that ``fn``
made itself (zeros are written inline, others become arguments frozen at trace time). Arrays
that are views of an array input become ``x[k]`` statements; the max shift inside
``logsumexp`` becomes a ``max`` statement (recomputed, never frozen).
"""

from __future__ import annotations

import warnings
from types import MappingProxyType

import numpy as np

from autograd_rnn.codegen import extra_ops as cops
from autograd_rnn.codegen.ir import Argument, Const, Program, Stmt, Var, explicit_index
from autograd_rnn.codegen.names import strip_step, timestep
from autograd_rnn.core.backward import reachable
from autograd_rnn.core.engine import grad as engine_grad
from autograd_rnn.core.node import dropped
from autograd_rnn.core.state import STATE, enable_grad, lean_graph, record_gradients
from autograd_rnn.core.tensor import Tensor, value_of

_NO_PARAMS = MappingProxyType({})  # shared by the many statements without static params


class Uncompilable(Exception):
    """The graph uses something generated code cannot recompute."""


def graph_with_detached_sources(out: Tensor, first_id: int,
                                extras: tuple = ()) -> tuple[list, dict]:
    """The graph of ``out`` and of the ``extras`` (further returned values) plus, for every
    ``t.detach()`` made during the trace, the graph of ``t`` (so the detached value is
    recomputed, or read live when ``t`` is an input or a captured tensor: never frozen).
    Returns (nodes in topological order, {id(detached leaf): source tensor})."""
    roots, detached = [out, *extras], {}
    while True:
        order = reachable(roots, only_requires_grad=False)
        new = []
        for node in order:
            source = node.detached_from() if node.detached_from is not None else None
            if source is not None and node.id > first_id and id(node) not in detached:
                detached[id(node)] = source
                new.append(source)
        if not new:
            return order, detached
        roots += new


def _node(x):
    """The graph node of a tensor (graph nodes as they are): the graph is made of nodes."""
    return x.node if isinstance(x, Tensor) else x


class _Recorder:
    """Listener on the engine during the recorded backward pass (keeps graph nodes: the
    gradient tensors themselves, and their arrays, can go)."""

    def __init__(self) -> None:
        self.events: list[tuple] = []  # ("bwd", node, node of g) | ("node", node)
        self.contributions: dict[int, list[tuple]] = {}  # id(parent) -> [(node, node of c)]

    def __call__(self, event: str, *payload) -> None:
        if event == "node":
            self.events.append(("node", payload[0]))
        elif event == "backward":
            self.events.append(("bwd", payload[0], _node(payload[1])))
        elif event == "edge":
            node, index, c = payload
            self.contributions.setdefault(id(node.parents[index]), []).append((node, _node(c)))


class Lowering:
    """Builds the ``Program``; see the module docstring."""

    def __init__(self, out: Tensor, call_args: list, names: list[str], first_id: int,
                 extras: tuple = ()) -> None:
        self.out = out
        self.out_node = out.node
        self.first_id = first_id
        self.order, self.detached = graph_with_detached_sources(out, first_id, extras)
        self.var: dict[int, Var] = {}  # id(tensor) -> Var
        self.keep: list = []  # objects whose id() keys the maps: kept alive while lowering
        self.arguments: list[Argument] = []
        self.body: list[Stmt] = []
        self.consts: dict[int, Var] = {}  # id(array) -> Var (arguments, recomputed shifts)
        self.array_inputs: list[tuple[np.ndarray, Var]] = []
        self.captured: list[Tensor] = []
        for i, (x, name) in enumerate(zip(call_args, names, strict=True)):
            data = value_of(x) if isinstance(x, Tensor) else np.asarray(x)  # (read only)
            v = self._argument(name, "input", i, data)
            if isinstance(x, Tensor):
                self.var.setdefault(id(x.node), v)
            elif isinstance(x, np.ndarray):
                self.array_inputs.append((x, v))
        self._leaves()

    # ----- leaves and constants -----------------------------------------------------------
    def _argument(self, name: str, kind: str, source, data) -> Var:
        v = Var(np.shape(data), np.asarray(data).dtype, name)
        self.arguments.append(Argument(v, kind, source))
        return v

    def _leaves(self) -> None:
        for node in self.order:
            if node.op is not None or id(node) in self.var:
                continue
            if id(node) in self.detached:
                continue  # x.detach() of a value computed here: the same value
            if node.id > self.first_id and not node.requires_grad:  # made by fn: a constant
                self.var[id(node)] = self._frozen(node)
            else:  # a tensor fn captured (a parameter): read live at every call
                self.var[id(node)] = self._argument(node.name or "captured", "tensor", node,
                                                    node.data)
                self.captured.append(node)

    def _frozen(self, node: Tensor) -> Var:
        data = node.data
        v = Var(data.shape, data.dtype, node.name or "const", timestep(node.scope))
        if data.dtype.kind == "f" and not data.any():
            self.body.append(Stmt(v, cops.ZEROS, (), {"shape": data.shape, "dtype": data.dtype},
                                  node.scope))
            return v
        self.arguments.append(Argument(v, "const", data))
        return v

    def constant(self, value, where: tuple, frozen: bool = True):
        """The operand for a non-tensor input of a node (``where``: its (scope, phase)): a
        number, a known array (an input, a view ``x[k]`` of one or its transpose, a
        recomputed shift), an array written inline; else (``frozen``) a new argument
        holding the trace-time value."""
        if not isinstance(value, np.ndarray):
            return Const(value)
        known = self._known(value, where)
        if known is not None or not frozen:
            return known
        for array, v in self.array_inputs:
            if np.shares_memory(value, array):
                warnings.warn(
                    f"codegen: a constant of shape {value.shape} is a view of input "
                    f"{v.hint!r} that cannot be written as x[k] or x.reshape(...); its "
                    "trace-time value is frozen into the compiled function", stacklevel=6)
        v = Var(value.shape, value.dtype, "const")
        self.arguments.append(Argument(v, "const", value))
        self.consts[_key(value)] = v
        self.keep.append(value)
        return v

    def _known(self, value: np.ndarray, where: tuple, transposed: bool = True):
        found = self._direct(value, where)
        if found is None and transposed and value.ndim == 2 and value.base is not None:
            source = self._known(value.T, where, False)  # a matmul VJP transposed it
            if isinstance(source, Var):
                return self._stmt(cops.TRANSPOSE, (source,), {"axes": (1, 0)}, where, value,
                                  source.hint)
        return found

    def _direct(self, value: np.ndarray, where: tuple):
        known = self.consts.get(_key(value))
        if known is not None:
            return known
        for array, v in self.array_inputs:
            if value is array:
                return v
            view = self._view_of(value, array, v, where)
            if view is not None:
                return view
        base = value.base
        if isinstance(base, np.ndarray) and _key(base) in self.consts and (
                base.size == value.size and value.flags.c_contiguous):
            return self._stmt(cops.RESHAPE, (self.consts[_key(base)],), {"shape": value.shape},
                              where, value, "shift")
        if cops.inline_array(value):
            return Const(value)
        return None

    def _stmt(self, op, args, params, where: tuple, value, hint) -> Var:
        v = Var(np.shape(value), np.asarray(value).dtype, hint, timestep(where[0]))
        self.body.append(Stmt(v, op, args, params, *where))
        self.consts[_key(value)] = v
        self.keep.append(value)
        return v

    def _view_of(self, value: np.ndarray, array: np.ndarray, v: Var, where: tuple):
        """``x[k]`` or ``x.reshape(shape)`` when ``value`` is that view of input ``array``."""
        if value.base is None or not (value.base is array or value.base is array.base):
            return None
        offset = value.__array_interface__["data"][0] - array.__array_interface__["data"][0]
        if (array.ndim >= 1 and value.shape == array.shape[1:]
                and value.strides == array.strides[1:] and array.strides[0]
                and offset % array.strides[0] == 0
                and 0 <= offset // array.strides[0] < array.shape[0]):
            return self._stmt(cops.GETITEM, (v,), {"index": offset // array.strides[0]},
                              where, value, v.hint)
        if (offset == 0 and value.size == array.size and value.flags.c_contiguous
                and array.flags.c_contiguous):
            return self._stmt(cops.RESHAPE, (v,), {"shape": value.shape}, where, value,
                              v.hint)
        return None

    # ----- forward -------------------------------------------------------------------------
    def value_of(self, tensor) -> Var:
        tensor = _node(tensor)
        while id(tensor) in self.detached:
            tensor = self.detached[id(tensor)]
        return self.var[id(tensor)]

    def forward(self) -> None:
        for node in self.order:
            if node.op is None:
                continue
            args = []
            for parent, value in zip(node.parents, node.args, strict=True):
                if parent is not None:
                    args.append(self.value_of(parent))
                else:
                    args.append(self._recomputed_shift(node, value)
                                or self.constant(value, (node.scope, "forward")))
            self.var[id(node)] = v = self._new_var(node, node.name)
            op, args = self.op_and_args(node.op, args)
            self.body.append(Stmt(v, op, args, self.params(node, (node.scope, "forward")),
                                  node.scope))

    def params(self, node: Tensor, where: tuple) -> dict:
        """The node's static parameters; arrays in them (index arrays) become operands."""
        def convert(value):
            if isinstance(value, np.ndarray):
                return self.constant(value, where)
            if isinstance(value, tuple):
                return tuple(convert(v) for v in value)
            return value

        if not node.params:
            return _NO_PARAMS
        params = {k: convert(v) for k, v in node.params.items()}
        if node.op.name in ("getitem", "scatter_add") and isinstance(params.get("index"), tuple):
            ndim = np.ndim(node.args[0]) if node.op.name == "getitem" else len(params["shape"])
            params["index"] = explicit_index(params["index"], ndim)
        return params

    def op_and_args(self, op, args: list) -> tuple:
        """A primitive without ``source=`` is called: ``<primitive>.forward(*args)``."""
        if op.source is not None:
            return op, tuple(args)
        if id(op) not in self.consts:
            v = Var((), np.dtype(object), op.name)
            self.arguments.append(Argument(v, "const", op))
            self.consts[id(op)] = v
            self.keep.append(op)
        return cops.FORWARD, (self.consts[id(op)], *args)

    def _new_var(self, node: Tensor, name: str | None, prefix: str = "") -> Var:
        t = timestep(node.scope)
        hint = strip_step(name, t) if name else node.op.name
        return Var(node.data.shape, node.data.dtype, prefix + hint, t)

    def _recomputed_shift(self, node: Tensor, shift):
        """``x - shift`` with ``shift == x.max(axis, keepdims=True)`` (the stabiliser of
        ``logsumexp``): a ``max`` statement, so new inputs get their own shift."""
        if node.op.name != "subtract" or node.parents[0] is None or node.parents[1] is not None:
            return None
        x = node.parents[0]
        if (not isinstance(shift, np.ndarray) or _key(shift) in self.consts
                or shift.ndim != x.data.ndim or shift.shape == x.data.shape):
            return None
        axes = [a for a in range(shift.ndim) if shift.shape[a] == 1 and x.data.shape[a] != 1]
        if len(axes) != 1 or not np.array_equal(shift, x.data.max(axis=axes[0], keepdims=True)):
            return None
        params = {"axis": axes[0] - shift.ndim, "keepdims": True}
        return self._stmt(cops.MAX, (self.value_of(x),), params, (node.scope, "forward"), shift,
                          "shift")

    def _initial_values(self) -> list[Tensor]:
        """Leaves that need no gradient but get one while the backward is recorded: every
        leaf an op reads directly (its VJPs then record what they compute from it, ``x.T``),
        and every one that starts a recurrence (``h_0``), so the first step's backward looks
        like the others'. Not a leaf only sliced (``x[t]``): its gradient would cost an array
        of its size per step."""
        direct: set[int] = set()
        for node in self.order:
            for parent in node.parents if node.op is not None else ():
                if parent is not None and parent.op is None and node.op.name != "getitem":
                    direct.add(id(parent))
        return [n for n in self.order if n.op is None and not n.requires_grad
                and n.data.dtype.kind == "f" and id(n) in direct]

    # ----- backward ------------------------------------------------------------------------
    def backward(self, wrt: list[Tensor]) -> list:
        """Record the backward pass and lower it; returns one gradient operand per ``wrt``
        tensor (None where the output does not depend on it)."""
        if not wrt or not self.out.requires_grad:
            return [None] * len(wrt)
        forced = self._initial_values()
        known = {id(leaf) for leaf in forced}
        wrt = [_node(w) for w in wrt]
        forced += [w for w in wrt if not w.requires_grad and id(w) not in known]  # asked for
        for leaf in forced:  # the last step sends its gradient back to it like the others
            leaf.requires_grad = True  # (a regular loop); unused, it is removed as dead code
        seed = Tensor(np.ones_like(self.out.data), requires_grad=True)  # (records what it feeds)
        recorder = _Recorder()
        targets = list({id(t): t for t in [*wrt, *(n for n in self.order if n.op is None
                                                    and n.data.dtype.kind == "f")]}.values())
        STATE.listeners.append(recorder)
        try:
            with enable_grad(), lean_graph(False), record_gradients(False):
                totals = [g.node for g in  # (nodes: the arrays are released below)
                          engine_grad(self.out, targets, seed, create_graph=True)]
        finally:
            STATE.listeners.remove(recorder)
            for leaf in forced:
                leaf.requires_grad = False
        self.keep += [recorder, totals, seed]
        _release_values(recorder.events)
        v = Var(self.out.data.shape, self.out.data.dtype, "g_" + self.value_of(self.out).hint,
                role="grad")
        self.body.append(Stmt(v, cops.ONES_LIKE, (self.value_of(self.out),), {}, "",
                              "backward"))
        self.var[id(seed.node)] = v
        return _Backward(self, recorder, seed).lower(wrt, targets, totals)


class _Backward:
    """Lowers the recorded backward events (see ``Lowering.backward``)."""

    def __init__(self, lowering: Lowering, recorder: _Recorder, seed: Tensor) -> None:
        self.low = lowering
        self.rec = recorder
        recorder.contributions[id(lowering.out_node)] = [(None, seed.node)]
        self.total: dict[int, Tensor] = {}  # id(node) -> the gradient that reached it
        self.gsum: dict[int, Var] = {}  # id(node) -> its gradient sum
        self.summing: set[int] = set()  # ids of the engine's accumulation adds
        self.receiver: dict[int, Tensor] = {}  # id(contribution) -> the node it is sent to
        tensors = {id(n): n for n in lowering.order}
        for parent_id, edges in recorder.contributions.items():
            for _, c in edges:
                if parent_id in tensors:
                    self.receiver.setdefault(id(c), tensors[parent_id])

    def lower(self, wrt: list[Tensor], leaves: list[Tensor], totals) -> list:
        """Statements for the recorded events, then one gradient sum per leaf (those nobody
        returns are removed as dead code later); returns the gradients of ``wrt``."""
        for event in self.rec.events:
            if event[0] == "bwd":
                self.total[id(event[1])] = event[2]
        for node_id, g in self.total.items():
            self._mark_sums(node_id, g)
        leaves = [_node(leaf) for leaf in leaves]
        for leaf, g in zip(leaves, totals, strict=True):
            if id(leaf) in self.rec.contributions:
                self._mark_sums(id(leaf), g)
        owner = None
        for event in self.rec.events:
            if event[0] == "bwd":
                owner = event[1]
                self._emit_sum(owner)
            elif id(event[1]) not in self.summing:
                self._emit_node(event[1], owner)
        for leaf in leaves:
            if id(leaf) in self.rec.contributions:
                self._emit_sum(leaf, leaf=True)
        return [self.gsum.get(id(_node(w))) for w in wrt]

    def _mark_sums(self, node_id: int, g: Tensor) -> None:
        """The engine added the contributions c_1..c_k as ((c_1 + c_2) + c_3) + ...: mark
        those adds (they become one gsum statement)."""
        contributions = self.rec.contributions.get(node_id, [])
        for _, c in reversed(contributions[1:]):
            if g.op is None or g.op.name != "add" or g.parents[1] is not c:
                raise Uncompilable("unexpected shape of a gradient sum in the recorded backward")
            self.summing.add(id(g))
            g = g.parents[0]

    def _operand(self, tensor: Tensor, owner) -> Var:
        if owner is not None and tensor is self.total.get(id(owner)):
            return self.gsum[id(owner)]  # the gradient that reached the owner
        return self.low.value_of(tensor)

    def _emit_sum(self, node: Tensor, leaf: bool = False) -> Var:
        contributions = self.rec.contributions.get(id(node), [])
        args = tuple(self._operand(c, consumer) for consumer, c in contributions)
        base = self.low.value_of(node)
        v = Var(base.shape, base.dtype, "g_" + base.hint, base.t, "grad", grad_of=base)
        self.low.body.append(Stmt(v, cops.GSUM, args, {}, "" if leaf else node.scope,
                                  "backward"))
        self.gsum[id(node)] = v
        return v

    def _emit_node(self, node: Tensor, owner) -> None:
        if node.op is None:
            raise Uncompilable("a leaf tensor was created inside a VJP")
        scope = owner.scope if owner is not None else ""
        args = []
        for parent, value in zip(node.parents, node.args, strict=True):
            if parent is not None:
                args.append(self._operand(parent, owner))
            else:
                operand = self.low.constant(value, (scope, "backward"), frozen=False)
                if operand is None:
                    name = owner.op.name if owner is not None else "?"
                    raise Uncompilable(
                        f"the VJP of op {name!r} computed an array outside the graph (from "
                        "values, e.g. with .data): compiled code could not recompute it for "
                        "new inputs; write that VJP with ar ops")
                args.append(operand)
        receiver = self.receiver.get(id(node), owner)  # a contribution: named after its parent
        hint = "g_" + (self.low.value_of(receiver).hint if receiver is not None
                       else node.op.name)
        t = timestep(scope)
        v = Var(node.data.shape, node.data.dtype, hint, t, "temp")
        self.low.var[id(node)] = v
        op, args = self.low.op_and_args(node.op, args)
        self.low.body.append(Stmt(v, op, args, self.low.params(node, (scope, "backward")),
                                  scope, "backward"))


def _release_values(events: list) -> None:
    """The recorded backward's values are not needed any more (statements need shapes and
    dtypes only): each node keeps the ``Dropped`` marker, so a long unroll's backward graph
    does not hold its arrays while it is lowered."""
    for event in events:
        if event[0] != "node":
            continue
        node = event[1]
        node.value = dropped(node.value)
        node.args = tuple(None if p is not None else a
                          for p, a in zip(node.parents, node.args, strict=True))


def _key(value):
    """Arrays are known by the memory they view (a transposed transpose is the same array);
    anything else by identity."""
    if isinstance(value, np.ndarray):
        return ("array", value.__array_interface__["data"][0], value.shape, value.strides,
                value.dtype.str)
    return id(value)


def lower(out: Tensor, call_args: list, names: list[str], first_id: int, wrt_spec,
          title: str, extras: tuple = (), allow_unused: bool = False,
          ) -> tuple[Program, list, list]:
    """Lower the trace of ``fn`` (its output ``out``) to a ``Program``: arguments ordered
    inputs, captured tensors, constants; ``program.wrt_vars`` the argument of each tensor
    differentiated with respect to. ``extras``: further tensors ``fn`` returned (values
    only, e.g. a recurrent state to carry on); they follow the gradients in
    ``program.grads`` (``program.n_extra`` of them). ``allow_unused``: a ``wrt`` tensor
    ``fn`` does not use gets a zero gradient (else ValueError).

    Returns (program, captured tensors in argument order, the tensors of ``wrt``)."""
    if out.op is None:
        raise ValueError("the traced function returned a leaf tensor: there is nothing to compile")
    low = Lowering(out, call_args, names, first_id, extras)
    wrt = _resolve_wrt(wrt_spec, call_args, low, allow_unused)
    if wrt and out.data.size != 1:
        raise ValueError(
            f"compile: the function returns shape {out.shape}; gradients need a scalar "
            "(size-1) output: reduce it with .sum() or .mean()")
    low.forward()
    used = [w for w in wrt if id(w) in low.var]
    found = dict(zip(map(id, used), low.backward(used), strict=True))
    grads = [found.get(id(w)) for w in wrt]
    order = {"input": 0, "tensor": 1, "const": 2}
    arguments = sorted(low.arguments, key=lambda a: order[a.kind])
    extra_vars = [low.value_of(e) for e in extras]
    wrt_vars = [low.value_of(w) if id(w) in low.var
                else Var(w.data.shape, w.data.dtype, w.name or "unused") for w in wrt]
    program = Program(arguments, low.body, low.value_of(out), grads + extra_vars, title,
                      wrt_vars=wrt_vars + extra_vars, n_extra=len(extras))
    return program, low.captured, wrt


def _resolve_wrt(spec, call_args: list, low: Lowering, allow_unused: bool) -> list[Tensor]:
    wrt = []
    for kind, value in spec:
        if kind == "position":
            wrt.append(call_args[value])
        elif kind == "captured":
            wrt += [t for t in low.captured if t.requires_grad]
        elif id(value.node) not in low.var and not allow_unused:
            raise ValueError(f"wrt: tensor {value.label!r} is neither an input nor used by fn")
        else:
            wrt.append(value)
    return [_node(w) for w in wrt]  # graph nodes: names, values and gradients
