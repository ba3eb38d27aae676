"""Compile a recorded graph into readable NumPy source for its forward and backward.

``compile(fn, example_inputs)`` traces ``fn`` once and returns a callable running generated
plain-NumPy code: ``compiled(*inputs) -> (value, {name: gradient})``; ``compiled.source``
shows the code. Each primitive declares only how generated code writes its forward
(``defsource``); the backward code comes from the graph ``backward(create_graph=True)``
records, whose nodes are primitives too.

How data flows (each step and its modules)::

    fn(*inputs) traced           compiler.py    the API, tracing, one cache entry per shape
      -> graph + recorded backward  lower.py    the only reader of graph nodes: one ir.Stmt
                                                per node, a gsum per gradient sum (ir.py;
                                                the compiler's own ops: extra_ops.py)
      -> fused cross-entropy     xent.py        softmax - onehot for the summed loss
      -> loops                   loops.py       periods per timestep scope with equal
                                 loop_keys.py   structural keys become ir.Loop
                                 loop_ends.py   (the first and last steps made alike,
                                 loop_build.py  then the loop body built)
      -> dead code removed       dce.py
      -> gradient sums written   sums.py        g = c1 (+= c2 ...), g[i] += c, aliases
      -> work out of the loops   hoist.py       W_h.T once, x @ W_x (+ b) for all steps,
                                                weight gradients after the loop
      -> sibling gates           gates.py       sigmoid(a[:, 0:2H]) once for i and f
      -> off the recurrence      vectorize.py   work no carry depends on runs for all
                                 carries.py     steps at once (the output layer, the
                                                loss); sums over steps leave the loop
      -> buffers                 split.py, buffers.py   one ufunc per statement, out=
      -> straight-line reuse     reuse.py       dying arrays reused outside the loops
      -> names                   names.py
      -> text, once              render.py, render_loop.py, render_stmt.py, symbolic.py

``pipeline.py`` runs them in that order; every pass after ``lower`` is optional (switched off
by name in tests). ``models.py`` unrolls the ``nn`` cells for the CLI and the benchmark;
``cli_source.py`` is ``autograd-rnn codegen``'s source.

A training step is the same program with more statements: after ``lower`` a trainer appends
an in-place update of each differentiated argument (``W_h -= g_W_h * lr``: ``ir.Stmt`` with
an effect op of ``extra_ops``, reading ``program.grads`` and ``program.wrt_vars``) and runs
the pipeline; dead-code removal keeps changes of arguments (see
``tests/codegen/test_codegen_training_step.py``).
"""

from autograd_rnn.codegen.compiler import CompiledFunction, compile

__all__ = ["CompiledFunction", "compile"]
