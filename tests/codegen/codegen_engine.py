"""Helpers for the codegen tests: the engine's loss and gradients for the hand-built unrolls
in ``codegen.models`` (the reference compiled code is compared with), the IR of a function
before the passes, and running a generated module."""

from __future__ import annotations

import numpy as np

import autograd_rnn as ar
from autograd_rnn.codegen.lower import lower
from autograd_rnn.codegen.models import make_loss


def engine_loss_and_grads(cell, inputs):
    """(loss value, {parameter name: gradient}) of ``make_loss(cell)(*inputs)``."""
    for x in inputs[2:]:
        x.grad = None
    loss = make_loss(cell)(*inputs)
    loss.backward()
    return loss.data, {x.name: x.grad for x in inputs[2:]}


def program_of(fn, inputs, wrt_positions):
    """The IR ``Program`` of ``fn(*inputs)`` right after lowering (no pass run yet), with
    gradients for the inputs at ``wrt_positions``; traced as ``ar.compile`` traces."""
    names = [x.name if isinstance(x, ar.Tensor) and x.name else f"input{i}"
             for i, x in enumerate(inputs)]
    forced = [x for x in inputs if isinstance(x, ar.Tensor) and not x.requires_grad]
    for x in forced:  # every op on an input is recorded
        x.requires_grad = True
    try:
        with ar.enable_grad():
            first = ar.tensor(0.0).id
            out = fn(*inputs)
    finally:
        for x in forced:
            x.requires_grad = False
    spec = [("position", i) for i in wrt_positions]
    return lower(out, list(inputs), names, first, spec, "")[0]


def generate(fn, inputs, wrt_positions, skip=frozenset()):
    """(source, constants) of ``fn`` compiled with the passes ``skip`` switched off."""
    from autograd_rnn.codegen import pipeline

    program = program_of(fn, inputs, wrt_positions)
    source = pipeline.run(program, skip=skip)
    captured = [a.source.data for a in program.arguments if a.kind == "tensor"]
    return source, captured + [a.source for a in program.arguments if a.kind == "const"]


def run_source(source: str, inputs, extra=()):
    """Execute a generated module and call its function on the inputs' arrays (and the
    captured tensors' and constants' values ``extra``)."""
    namespace: dict = {}
    exec(source, namespace)  # noqa: S102 (the generated module under test)
    arrays = [x.data if isinstance(x, ar.Tensor) else x for x in inputs]
    return namespace["forward_backward"](*arrays, *extra)


def assert_same_results(a, b, atol: float = 1e-12) -> None:
    (va, ga), (vb, gb) = a, b
    np.testing.assert_allclose(va, vb, rtol=1e-13, atol=atol)
    for x, y in zip(ga, gb, strict=True):
        np.testing.assert_allclose(x, y, rtol=0, atol=atol)
