"""The engine's loss and gradients for the hand-built unrolls in ``codegen.models``: the
reference that compiled code is compared with."""

from autograd_rnn.codegen.models import make_loss


def engine_loss_and_grads(cell, inputs):
    """(loss value, {parameter name: gradient}) of ``make_loss(cell)(*inputs)``."""
    for x in inputs[2:]:
        x.grad = None
    loss = make_loss(cell)(*inputs)
    loss.backward()
    return loss.data, {x.name: x.grad for x in inputs[2:]}
