"""Compiled training steps: each TBPTT window's forward and backward as generated NumPy code.

``CompiledSteps(model, loss_fn, params)`` traces one window with ``ar.compile`` (the model
over the window's chunks, the loss, and the state at every chunk end returned as extra
outputs) and runs the generated function instead of interpreting the graph. One trace per
*window kind*: the input shapes, the chunk layout and loss offset, whether a state is given
and its shapes, the dropout masks' shapes, and the mask's total weight (the only number a
built-in loss reads from the mask: ``mean`` divides by it, so it is a constant of the
generated code). A shorter last chunk or batch traces again; at most ``max_entries`` traces
are kept (least recently used dropped).

Safety: the first time a trace runs, the engine runs the same window too (the same dropout
masks, drawn once from the layer's generator and given to both) and the loss, every
gradient and every carried state must agree to ``TOLERANCE`` (relative). A trace that
fails, freezes an array the inputs could change, or disagrees switches compiled steps off
for the rest of the run with one line saying why (``report``); that window's update uses
the engine's gradients, so no update is ever made from a wrong compiled step.

Dropout: the masks are inputs of the compiled function, drawn by
``RecurrentBase.dropout_draws`` from the layer's own generator in the order the engine draws
them, so a compiled run and an interpreted run of the same seed see the same masks.
"""

from __future__ import annotations

import math
import sys
from collections import OrderedDict
from collections.abc import Callable
from contextlib import ExitStack
from typing import Any

import numpy as np

import autograd_rnn as ar
from autograd_rnn.codegen import compile as compile_graph
from autograd_rnn.core.tensor import Tensor, value_of
from autograd_rnn.nn.unroll import RecurrentBase
from autograd_rnn.train.window import NonFiniteLossError, WindowRun, engine_window, run_chunks

TOLERANCE = 1e-10  # max relative difference of the first compiled step from the engine's
MAX_ENTRIES = 8


class CompiledSteps:
    """Compiled windows of one model, loss and parameter list (see the module docstring).

    ``run(window, steps)`` returns a ``WindowRun`` with the gradients as arrays (None:
    compiled steps are off: ``engine(window, steps)`` interprets it instead). Every window
    the engine runs here runs in training mode (``ar.lean_graph``, no recorded gradients).
    ``status`` is "compiled" until a fallback, then the reason; ``traces`` counts traces
    made."""

    def __init__(self, model: Callable, loss_fn: Callable, params: list[Tensor], *,
                 max_entries: int = MAX_ENTRIES, optimizer: Any = None,
                 report: Callable[[str], None] | None = None) -> None:
        self.model, self.loss_fn, self.params = model, loss_fn, list(params)
        self.optimizer = optimizer  # zero_grad before the engine's check run
        self.max_entries = max_entries
        self.report = report or _stderr
        self.entries: OrderedDict[tuple, _Entry] = OrderedDict()
        self.layers = [m for m in _modules(model) if isinstance(m, RecurrentBase)]
        self.status = "compiled"
        self.traces = 0

    @property
    def enabled(self) -> bool:
        return self.status == "compiled"

    def run(self, window: tuple, steps: str = "") -> WindowRun | None:
        """Forward and backward of ``window`` = (x (T_w, B, D), target, mask or None, state,
        chunks, offset) by compiled code; None when compiled steps are off."""
        if not self.enabled:
            return None
        x, target, mask, state, chunks, offset = window
        parts = _arrays(_flatten(state))
        dropout = self._draw_dropout(chunks, x.shape[1])
        key = _key(x, target, mask, parts, chunks, offset, dropout)
        entry = self.entries.get(key)
        if entry is None:
            entry = self._trace(key, window, parts, dropout)
            if entry is None:  # (switched off; the engine runs with the drawn masks)
                return self._engine(window, dropout, steps)
        else:
            self.entries.move_to_end(key)
        scales = [s for _, drawn in dropout for s in drawn]
        if self.optimizer is not None:  # the last step's gradients go before new ones are
            self.optimizer.zero_grad()  # made: their memory is reused (a smaller working set)
        try:
            value, grads, extras = entry.call(x, target, mask, parts, scales)
        except Exception as error:  # noqa: BLE001 (only before the first check passed)
            if entry.checked:
                raise
            self._off(f"the compiled step failed ({type(error).__name__}: {error})")
            return self._engine(window, dropout, steps)
        if not math.isfinite(value):  # as the engine: no gradients, no update
            raise NonFiniteLossError(f"loss is {value} on steps {steps}")
        run = WindowRun(value, grads, _states(extras, entry.state_layout, len(chunks)))
        if entry.checked:
            return run
        reference = self._engine(window, dropout, steps)
        why = _disagreement(run, reference, self.params)
        if why is None:
            entry.checked = True
            return run
        if why != "not finite":
            self._off(f"its first step differs from the engine's ({why})")
        return reference

    # ----- internals ----------------------------------------------------------------------
    def _draw_dropout(self, chunks: list, B: int) -> list[tuple[RecurrentBase, list]]:
        drawn = []
        for layer in self.layers:
            scales = [s for a, b in chunks for s in layer.dropout_draws(b - a, B)]
            if scales:
                drawn.append((layer, scales))
        return drawn

    def engine(self, window: tuple, steps: str = "") -> WindowRun:
        """The window interpreted (what ``tbptt`` runs once compiled steps are off)."""
        return self._engine(window, (), steps)

    def _engine(self, window: tuple, dropout: list, steps: str) -> WindowRun:
        # in training mode (a lean graph, no per-edge gradients): nothing keeps this graph,
        # and the trainer enters that mode only for interpreted runs (it costs per step)
        with ar.record_gradients(False), ar.lean_graph():
            return engine_window(self.model, self.loss_fn, *window, train=True, steps=steps,
                                 optimizer=self.optimizer, dropout=dropout)

    def _trace(self, key: tuple, window: tuple, parts: list, dropout: list) -> _Entry | None:
        try:
            entry = _Entry(self, window, parts, dropout)
        except Exception as error:  # noqa: BLE001 (any failure means: interpret instead)
            self._off(f"the step cannot be compiled ({type(error).__name__}: {error})")
            return None
        self.traces += 1
        self.entries[key] = entry
        while len(self.entries) > self.max_entries:
            self.entries.popitem(last=False)
        return entry

    def _off(self, why: str) -> None:
        self.status = why
        self.entries.clear()
        self.report(f"compiled training step off: {why}; training with the interpreter")


class _Entry:
    """One trace: the compiled function, the names of its gradients, whether checked."""

    def __init__(self, steps: CompiledSteps, window: tuple, parts: list, dropout: list):
        x, target, mask, _, chunks, offset = window
        model, loss_fn = steps.model, steps.loss_fn
        n_state, n_masks = len(parts), [len(s) for _, s in dropout]
        layout = _layout(window[3])
        self.state_layout = None  # of the states the model returns (set while tracing)

        def window_loss(x, target, *rest):
            rest = list(rest)
            m = rest.pop(0) if mask is not None else None
            state = _unflatten(layout, rest[:n_state])
            given, k = [], n_state
            for (layer, _), n in zip(dropout, n_masks, strict=True):
                given.append((layer, rest[k:k + n]))
                k += n
            with ExitStack() as stack:
                for layer, scales in given:
                    stack.enter_context(layer.given_dropout(scales))
                y, states = run_chunks(model, x, chunks, state)
            loss = loss_fn(y[offset:] if offset else y, target, m)
            self.state_layout = _layout(states[0])
            return (loss, *[p for s in states for p in _flatten(s)])

        example = [Tensor(x, name="x"), target] + ([mask] if mask is not None else [])
        example += [Tensor(p, name=f"state{i}") for i, p in enumerate(parts)]
        example += [Tensor(s, name="dropout") for _, drawn in dropout for s in drawn]
        self.keys = [f"{i}:{p.name}" for i, p in enumerate(steps.params)]
        self.function = compile_graph(window_loss, example,
                                      wrt=dict(zip(self.keys, steps.params, strict=True)),
                                      title="Training step (TBPTT window): forward, backward",
                                      allow_unused=True)
        frozen = [a.var.hint for a in self.function.last.arguments
                  if a.kind == "const" and isinstance(a.source, np.ndarray)]
        if frozen:  # its value was read at trace time: later inputs could need another
            raise ValueError(f"the model reads {len(frozen)} value(s) out of the graph (.data "
                             "or NumPy on a tensor), which generated code would freeze")
        if self.function.grad_names != self.keys:  # (call relies on that order)
            raise ValueError(f"gradients named {self.function.grad_names}, not {self.keys}")
        self.missing = self.function.zero_grads
        self.checked = False

    def call(self, x, target, mask, parts: list, scales: list):
        args = [x, target] + ([mask] if mask is not None else []) + parts + scales
        value, grads, extras = self.function.call_flat(*args)  # (grads in self.keys order)
        if self.missing:
            out = [None if k in self.missing else g
                   for k, g in zip(self.keys, grads, strict=True)]
        else:
            out = list(grads)
        if len(set(map(id, out))) < len(out):  # (None, or one array returned twice)
            seen: set[int] = set()
            for i, g in enumerate(out):  # each gradient its own array: clipping is in place
                if g is not None:
                    if id(g) in seen:
                        out[i] = g = g.copy()
                    seen.add(id(g))
        return float(value), out, extras


# ----- keys, states and the first-step comparison -------------------------------------------
def _key(x, target, mask, parts, chunks, offset, dropout) -> tuple:
    if type(target) is not np.ndarray:
        target = np.asarray(target)
    return (x.shape, x.dtype, target.shape, target.dtype,
            None if mask is None else (mask.shape, float(mask.sum())),
            tuple([(p.shape, p.dtype) for p in parts]), tuple(chunks), offset,
            tuple([(id(layer), len(s)) for layer, s in dropout]))


def _layout(state) -> Any:
    """The structure of a state: None, "tensor" or the number of parts of a tuple."""
    if state is None:
        return None
    if isinstance(state, (tuple, list)):
        return len(state)
    return "tensor"


def _flatten(state) -> list:
    """The parts of a state (None: [], a Tensor/array: [it], a tuple: its parts); Tensors
    stay Tensors (a traced state's parts must), arrays of ``_arrays``."""
    if state is None:
        return []
    return list(state) if isinstance(state, (tuple, list)) else [state]


def _arrays(parts: list) -> list[np.ndarray]:
    return [value_of(p) if isinstance(p, Tensor) else np.asarray(p) for p in parts]


def _unflatten(layout, parts: list):
    if layout is None:
        return None
    return parts[0] if layout == "tensor" else tuple(parts)


def _states(extras: list, layout, n_chunks: int) -> list:
    """Regroup the compiled function's extra outputs into one state per chunk end (Tensors
    cut from any graph, like the engine's detached states)."""
    n = len(extras) // n_chunks
    return [_unflatten(layout, [Tensor(a) for a in extras[c * n:(c + 1) * n]])
            for c in range(n_chunks)]


def _disagreement(run: WindowRun, reference: WindowRun, params: list) -> str | None:
    """Why the compiled window differs from the engine's (None: it agrees), or
    "not finite" when the engine's numbers are not finite (nothing to compare)."""
    engine = [p.grad for p in params]
    if not math.isfinite(reference.value) or not all(
            g is None or np.all(np.isfinite(g)) for g in engine):
        return "not finite"
    worst = _relative(run.value, reference.value)
    for p, got, want in zip(params, run.grads, engine, strict=True):
        if (got is None) != (want is None):
            return f"gradient of {p.name!r} {'missing' if got is None else 'unexpected'}"
        if got is not None:
            worst = max(worst, _relative(got, want))
    for got, want in zip(run.states, reference.states, strict=True):
        for a, b in zip(_arrays(_flatten(got)), _arrays(_flatten(want)), strict=True):
            worst = max(worst, _relative(a, b))
    return None if worst <= TOLERANCE else f"max relative difference {worst:.2g}"


def _relative(got, want) -> float:
    got, want = np.asarray(got, dtype=np.float64), np.asarray(want, dtype=np.float64)
    if got.shape != want.shape:
        return math.inf
    scale = float(np.max(np.abs(want))) if want.size else 0.0
    return float(np.max(np.abs(got - want))) / max(scale, 1e-300) if want.size else 0.0


def _modules(model) -> list:
    modules = getattr(model, "modules", None)
    return list(modules()) if callable(modules) else []


def _stderr(line: str) -> None:
    print(f"autograd-rnn: {line}", file=sys.stderr)
