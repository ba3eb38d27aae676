"""``compile(fn, example_inputs)``: trace once, generate NumPy source, run that instead.

The compiled function takes the same positional inputs as ``fn`` and returns
``(value, grads)``: ``value`` the output as a NumPy array and ``grads`` a dict
``{name: gradient array}`` for every tensor differentiated with respect to, in ``wrt``
order. Names are the tensors' ``.name`` (else the parameter name of ``fn``). No graph
objects exist at run time: the generated function is plain NumPy (``.source``). A ``fn``
returning a tuple ``(loss, *extras)`` (Tensors) compiles to ``(value, grads, extras)``:
the extras' values as a list of arrays (a final recurrent state to carry on, say); only
``loss`` is differentiated. ``compiled.zero_grads`` names the gradients the output does
not depend on (returned as zeros).

Inputs: ``Tensor`` positions are traced as graph leaves (their ops are recorded even when
they do not require grad, so new values flow through); ``numpy`` arrays (for example
integer targets) are passed to ``fn`` as they are and recognised where ``fn`` uses them
directly, as ``x[k]`` or as a reshape. Tensors that ``fn`` captures (model parameters)
become arguments read live from ``tensor.data`` on each call. ``t.detach()`` is ``t``'s
value without its gradient: recomputed, or read live for an input or a captured tensor
(truncated BPTT works). Any other array ``fn`` creates
(zeros, masks, values computed under ``no_grad``) is a constant frozen at trace time: its
value must not depend on the inputs (the max shift inside ``logsumexp`` is recognised and
recomputed).

The source is cached per input shapes and dtypes; a call with new shapes re-traces. The
pipeline from graph to source is ``codegen.pipeline`` (see ``autograd_rnn.codegen``).
"""

from __future__ import annotations

import builtins
import inspect
import itertools
import linecache
from collections.abc import Callable, Mapping, Sequence

import numpy as np

from autograd_rnn.codegen import pipeline
from autograd_rnn.codegen.lower import lower
from autograd_rnn.codegen.render import FUNCTION
from autograd_rnn.core.state import STATE, collector_paused, enable_grad, lean_graph
from autograd_rnn.core.tensor import Tensor, value_of

_counter = itertools.count()


class Entry:
    """One traced specialisation: the generated source and its loaded function."""

    def __init__(self, source: str, arguments: list, captured: list,
                 grad_keys: list[str], n_extra: int = 0,
                 zero_grads: frozenset = frozenset()) -> None:
        self.source = source
        self.arguments = arguments  # ir.Argument per parameter of the generated function
        self.captured = captured  # [(tensor, shape at trace time)]
        self.grad_keys = grad_keys
        self.n_extra = n_extra  # values fn returned after the loss (after the gradients)
        self.zero_grads = zero_grads  # keys of gradients the output does not depend on
        filename = f"<autograd_rnn.codegen #{next(_counter)}>"
        lines = source.splitlines(keepends=True)
        linecache.cache[filename] = (len(source), None, lines, filename)
        namespace: dict = {"__name__": "autograd_rnn_generated"}
        exec(builtins.compile(source, filename, "exec"), namespace)
        self.function = namespace[FUNCTION]
        self.consts = [a.source for a in arguments if a.kind == "const"]

    def bind(self, args: list) -> list | None:
        """``args`` followed by every captured tensor's current array (each read once) and
        the constants: the generated function's arguments; None when a captured tensor's
        shape is no longer the one traced (a re-trace is due)."""
        for tensor, shape in self.captured:
            array = tensor.data
            if array.shape != shape:
                return None
            args.append(array)
        if self.consts:
            args += self.consts
        return args


def _keep_nodes(made: list) -> Callable:
    """A listener appending every node made while it listens to ``made``."""
    def keep(event: str, *payload) -> None:
        if event == "node":
            made.append(payload[0])
    return keep


class CompiledFunction:
    """Callable returned by ``compile``; see the module docstring."""

    def __init__(self, fn: Callable, example_inputs: Sequence, wrt, loops: bool,
                 title: str, inplace: bool = True, allow_unused: bool = False) -> None:
        self.fn = fn
        self.loops = loops
        self.inplace = inplace
        self.allow_unused = allow_unused
        self.title = title
        self.kinds = ["tensor" if isinstance(x, Tensor) else "array" for x in example_inputs]
        # names of the example tensors, kept for re-traces called with plain arrays
        self.input_names = [x.name if isinstance(x, Tensor) else None for x in example_inputs]
        self.param_names = _parameter_names(fn, len(example_inputs))
        self.wrt_keys = list(wrt) if isinstance(wrt, Mapping) else None
        if isinstance(wrt, Mapping):
            wrt = list(wrt.values())
        self.wrt_spec = _split_wrt(wrt, example_inputs)
        self.cache: dict[tuple, Entry] = {}
        self.last: Entry | None = None
        self._trace(list(example_inputs))

    # ----- public -------------------------------------------------------------------------
    @property
    def source(self) -> str:
        """Source of the most recently used specialisation."""
        return self.last.source

    @property
    def grad_names(self) -> list[str]:
        return list(self.last.grad_keys)

    @property
    def zero_grads(self) -> frozenset:
        """Names of the gradients (of the last specialisation) that are zero because the
        output does not depend on those tensors."""
        return self.last.zero_grads

    def __call__(self, *inputs):
        value, grads, extras = self.call_flat(*inputs)
        named = dict(zip(self.last.grad_keys, grads, strict=True))
        return (value, named, extras) if self.last.n_extra else (value, named)

    def call_flat(self, *inputs) -> tuple:
        """``self(*inputs)`` without naming the gradients: (value, gradients in
        ``grad_names`` order (a tuple), extras (a list; empty when ``fn`` returned only the
        loss)). The per-call path stays short: it matters for tiny training steps."""
        if len(inputs) != len(self.kinds):
            raise TypeError(f"compiled function takes {len(self.kinds)} inputs, got {len(inputs)}")
        arrays = _arrays(inputs)
        entry = self.cache.get(tuple([(a.shape, a.dtype) for a in arrays]))
        args = None if entry is None else entry.bind(arrays)
        if args is None:
            entry = self._trace(list(inputs))
            args = entry.bind(_arrays(inputs))
        self.last = entry
        value, grads = entry.function(*args)
        if entry.n_extra:
            n = len(grads) - entry.n_extra
            return value, grads[:n], list(grads[n:])
        return value, grads, []

    # ----- tracing ------------------------------------------------------------------------
    def _trace(self, inputs: list) -> Entry:
        call_args, forced = [], []
        for x, kind, name in zip(inputs, self.kinds, self.input_names, strict=True):
            if kind == "tensor":
                t = x if isinstance(x, Tensor) else Tensor(x, name=name)
                if not t.requires_grad and t.dtype.kind == "f":
                    forced.append(t)
                    t.requires_grad = True  # record every op on it, also if not differentiated
                call_args.append(t)
            else:
                call_args.append(value_of(x) if isinstance(x, Tensor) else x)
        first_id = Tensor(0.0).id  # tensors made by fn during the trace come after
        made: list = []  # every node fn makes, alive until lowered: ``h.detach()`` refers to
        keep = _keep_nodes(made)  # h weakly, and an h read by nothing else must be recomputed
        # (the collector paused: its passes over the growing heap cost about a quarter of a
        # long unroll's compile time)
        with collector_paused():
            STATE.listeners.append(keep)
            try:
                with enable_grad(), lean_graph(False):  # every value: constants are emitted
                    out = self.fn(*call_args)
            finally:
                STATE.listeners.remove(keep)
                for t in forced:
                    t.requires_grad = False
            out, extras = _split_output(out)
            traced = [out]
            del out  # (the graph is freed once lowered: the passes need only statements)
            entry = self._build(traced, call_args, first_id, extras)
        self.cache[_key(inputs)] = entry
        self.last = entry
        return entry

    def _build(self, traced: list, call_args: list, first_id: int, extras: tuple) -> Entry:
        names = [(x.name if isinstance(x, Tensor) and x.name else None) or self.param_names[i]
                 for i, x in enumerate(call_args)]
        program, captured, wrt = lower(traced.pop(), call_args, names, first_id, self.wrt_spec,
                                       self.title, extras, self.allow_unused)
        skip = set() if self.loops else {"loops"}
        if not self.inplace:
            skip |= {"gates", "buffers", "reuse"}
        source = pipeline.run(program, skip=skip)
        n = len(program.wrt_vars) - program.n_extra
        wrt_vars = program.wrt_vars[:n]
        keys = self.wrt_keys or [w.name or v.name for w, v in zip(wrt, wrt_vars, strict=True)]
        if len(set(keys)) != len(keys):
            keys = [v.name for v in wrt_vars]
        zero = frozenset(k for k, g in zip(keys, program.grads[:n], strict=True) if g is None)
        return Entry(source, program.arguments, [(t, t.data.shape) for t in captured], keys,
                     program.n_extra, zero)


def _split_output(out) -> tuple[Tensor, tuple]:
    """(loss, extras) of what ``fn`` returned: a Tensor, or a tuple (loss, *extras)."""
    extras = ()
    if isinstance(out, tuple) and out:
        out, extras = out[0], tuple(out[1:])
        bad = [type(e).__name__ for e in extras if not isinstance(e, Tensor)]
        if bad:
            raise TypeError(f"compile: the values fn returns after the loss must be Tensors, "
                            f"got {bad}")
    if not isinstance(out, Tensor):
        raise TypeError(f"compile: fn must return a Tensor, got {type(out).__name__}")
    return out, extras


def _arrays(inputs) -> list[np.ndarray]:
    # (value_of: the compiled code only reads the arrays; not user code holding them)
    return [value_of(x) if isinstance(x, Tensor) else x if type(x) is np.ndarray else np.asarray(x)
            for x in inputs]


def _key(inputs) -> tuple:
    """Shapes and dtypes of the inputs: one specialisation per key."""
    return tuple((a.shape, a.dtype) for a in _arrays(inputs))


def _parameter_names(fn: Callable, n: int) -> list[str]:
    try:
        params = [p.name for p in inspect.signature(fn).parameters.values()
                  if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    except (TypeError, ValueError):
        params = []
    return [params[i] if i < len(params) else f"input{i}" for i in range(n)]


def _split_wrt(wrt, example_inputs) -> list[tuple[str, object]]:
    """What to differentiate, in order: ("position", i), ("tensor", t) or ("captured", None)
    (every captured tensor that requires grad)."""
    if wrt is None:
        spec = [("position", i) for i, x in enumerate(example_inputs)
                if isinstance(x, Tensor) and x.requires_grad]
        return spec + [("captured", None)]
    spec = []
    for w in wrt:
        if isinstance(w, (int, np.integer)):
            if not 0 <= w < len(example_inputs) or not isinstance(example_inputs[w], Tensor):
                raise ValueError(f"wrt: position {w} is not a Tensor input")
            spec.append(("position", int(w)))
        elif isinstance(w, Tensor):
            hits = [i for i, x in enumerate(example_inputs) if x is w]
            spec.append(("position", hits[0]) if hits else ("tensor", w))
        else:
            raise TypeError(f"wrt entries must be input positions or Tensors, got {type(w)}")
    return spec


def compile(  # noqa: A001 (mirrors torch.compile / jax.jit naming)
    fn: Callable,
    example_inputs: Sequence,
    *,
    wrt: Sequence | Mapping | None = None,
    loops: bool = True,
    title: str = "",
    inplace: bool = True,
    allow_unused: bool = False,
) -> CompiledFunction:
    """Trace ``fn(*example_inputs)`` once and compile its graph to NumPy source.

    Args:
        fn: builds a scalar Tensor (e.g. a loss) from its inputs with ``ar`` ops.
        example_inputs: Tensors (graph leaves; those with ``requires_grad`` get gradients)
            and NumPy arrays (e.g. integer targets, passed through unchanged).
        wrt: override what to differentiate: input positions and/or Tensors (inputs or
            tensors ``fn`` captures), or a dict {name: Tensor} (e.g.
            ``dict(model.named_parameters())``) whose keys name the gradients. Default:
            Tensor inputs requiring grad, then every captured tensor requiring grad.
        loops: emit repeated timesteps as ``for t in range(...)`` loops.
        title: first line of the generated module's docstring.
        inplace: loop bodies write into buffers allocated before the loop (``out=``
            ufunc calls, as hand-written BPTT does); False keeps one expression per op.
        allow_unused: a ``wrt`` tensor that ``fn`` does not use gets a zero gradient
            (listed in ``.zero_grads``) instead of a ValueError.

    Returns:
        A ``CompiledFunction``: ``compiled(*inputs) -> (value, {name: gradient})``, with
        ``.source`` (the generated module) and ``.grad_names``.
    """
    return CompiledFunction(fn, list(example_inputs), wrt, loops, title, inplace, allow_unused)

