"""The main demo, the whole mission in about a minute:

1. unroll a vanilla RNN on the built-in sine-wave task and train it with BPTT;
2. gradient-check every parameter of the trained model against finite differences;
3. draw the unrolled network as in a textbook (one column per timestep, the weights on the
   arrows with each step's share of their gradient; SVG and PNG), then every op (SVG, DOT);
4. write the step-through page (construction op by op, then backprop edge by edge);
5. plot the training curve and the vanishing-gradient curves of RNN vs LSTM vs GRU;
6. write the BPTT of the unrolled network as plain NumPy source (``ar.compile``);
7. print where each file is.

The output folder belongs to the demo: it is replaced on each run. A folder the demo did not
make (no ``.autograd-rnn-demo`` marker in it) is never deleted: if it holds anything, the run
is refused, so ``demo --out .`` cannot wipe a project.
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import numpy as np

import autograd_rnn as ar
from autograd_rnn.check import check_model
from autograd_rnn.files import atomic_write_text
from autograd_rnn.train import TrainConfig, Trainer, evaluate


def _step(title: str) -> None:
    print(f"\n== {title}")


DEMO_SETTINGS = {"task": "sine", "cell": "rnn", "seq_len": 30, "hidden": 16, "batch": 16}
MARKER = ".autograd-rnn-demo"  # marks a folder the demo made, which it may replace


def _fresh_folder(out: Path) -> None:
    """Empty ``out`` for this run: delete it only when an earlier demo made it."""
    if out.is_symlink() or (out.exists() and not out.is_dir()):
        raise NotADirectoryError(f"{out} is not a folder; give --out a folder for the demo")
    if out.exists():
        if any(out.iterdir()) and not (out / MARKER).exists():
            raise FileExistsError(f"{out} exists and was not made by the demo; it is left as "
                                  "it is (give --out a new or empty folder)")
        shutil.rmtree(out)
    out.mkdir(parents=True)
    atomic_write_text(out / MARKER, "made by `autograd-rnn demo`, which replaces this folder "
                      "on each run\n")


def _train(seed: int, steps: int, progress: bool):
    config = TrainConfig(**DEMO_SETTINGS, seed=seed)
    trainer = Trainer(config)
    before = evaluate(trainer.model, trainer.task, seq_len=30)
    start = time.perf_counter()
    trainer.run(steps, progress=progress)
    seconds = time.perf_counter() - start
    after = evaluate(trainer.model, trainer.task, seq_len=30)
    print(f"task: {trainer.task.name}, cell: rnn (tanh), hidden 16, sequences of 30 steps")
    print(f"held-out MSE: {before:.4f} before, {after:.4f} after {steps} BPTT steps "
          f"({seconds:.1f} s; predicting the last value scores {trainer.task.baseline:.4f})")
    return trainer, after


def _unrolled_loss(model, task, steps: int, seed: int):
    batch = task.batch(np.random.default_rng(seed), 1, steps)
    y, _ = model(batch.x)
    return task.loss(y, batch.target, batch.mask), batch


def _compile_unrolled(model, task, seed: int):
    """``ar.compile`` the loss of ``model`` unrolled 4 steps; checks it against the engine."""
    batch = task.batch(np.random.default_rng(seed), 1, 4)
    params = dict(model.named_parameters())

    def loss_fn(x):
        y, _ = model(x)
        return task.loss(y, batch.target, batch.mask)

    x = ar.tensor(batch.x, name="x")
    compiled = ar.compile(loss_fn, [x], wrt=params)
    value, grads = compiled(batch.x)
    for p in params.values():
        p.zero_grad()
    loss_fn(x).backward()
    for name, p in params.items():
        np.testing.assert_allclose(grads[name], p.grad, rtol=1e-10, atol=1e-12)
    return compiled


def run_demo(out_dir: str = "out/demo", seed: int = 0, steps: int = 300,
             progress: bool = True) -> bool:
    """Run the demo, writing its files into ``out_dir``; True when the gradient check passes."""
    out = Path(out_dir)
    _fresh_folder(out)

    _step("1. Train a vanilla RNN with backpropagation through time")
    trainer, mse = _train(seed, steps, progress)
    model, task = trainer.model, trainer.task

    _step("2. Gradient-check every parameter against central finite differences")
    batch = task.batch(np.random.default_rng(seed + 1), 2, 6)
    report = check_model(model, batch.x, loss_fn=lambda out: task.loss(out[0], batch.target))
    print(report)

    _step("3. Draw the unrolled network: textbook view, then every op with its gradient")
    loss, _ = _unrolled_loss(model, task, steps=4, seed=seed + 2)
    loss.backward()
    files = {}
    textbook = "the trained RNN unrolled 4 steps, after loss.backward()"
    files["unrolled network, textbook view (SVG)"] = ar.viz.render(
        loss, out / "rnn_textbook.svg", detail="textbook", title=textbook)
    files["unrolled network, textbook view (PNG)"] = ar.viz.render(
        loss, out / "rnn_textbook.png", detail="textbook", title=textbook)
    book = ar.viz.build_textbook(loss)
    W_h = next(row for row in book.params if row.param.name == "W_h")
    print(f"dL/dW_h = sum of {len(W_h.contributions)} per-step contributions, "
          f"|dL/dW_h| = {np.linalg.norm(W_h.param.grad):.3g}")
    files["unrolled graph, every op (SVG)"] = ar.viz.render(
        loss, out / "rnn_unrolled.svg", detail="ops", title="vanilla RNN unrolled 4 steps")
    files["unrolled graph, every op (DOT)"] = ar.viz.render(
        loss, out / "rnn_unrolled.dot", detail="ops", title="vanilla RNN unrolled 4 steps")
    long_loss, _ = _unrolled_loss(model, task, steps=30, seed=seed + 3)
    long_loss.backward()
    files["30 steps, one node per cell (SVG)"] = ar.viz.render(
        long_loss, out / "rnn_30_steps_cells.svg", detail="cells",
        title="30 steps: gradient reaching each h_t")
    norms = ar.viz.hidden_state_grad_norms(long_loss)
    first, last = norms[min(norms)], norms[max(norms)]
    print(f"||dL/dh_t|| over 30 steps: {first:.2e} at t={min(norms)}, {last:.2e} at t={max(norms)}")

    _step("4. Step through graph construction and backprop")
    small = ar.nn.SequenceModel("rnn", 1, 2, 1, seed=seed)
    with ar.viz.trace() as tape:
        tiny_loss, _ = _unrolled_loss(small, task, steps=2, seed=seed + 4)
        tape.backward(tiny_loss)
    files["step-through page (HTML)"] = tape.to_html(
        out / "steps.html", title="A 2-step RNN: construction, then backprop")
    print(f"{tape.num_forward} construction frames, {tape.num_backward} backprop frames")

    _step("5. Plots: training curve, and ||dL/dh_t|| for RNN vs LSTM vs GRU")
    try:
        files["training curve (SVG)"] = ar.viz.plot_training_curves(
            {"loss": trainer.history["loss"]}, out / "training_loss.svg", log_y=True,
            title="vanilla RNN on the sine task: loss per BPTT step")
        curves = ar.viz.vanishing_curves(30)
        files["gradient norms per timestep (SVG)"] = ar.viz.plot_gradient_norms(
            curves, out / "gradient_norms.svg")
        for label, curve in curves.items():
            print(f"{label:<24} ||dL/dh_1|| / ||dL/dh_30|| = {curve[1] / curve[30]:.2e}")
    except ImportError:
        print("matplotlib is not installed: no plots (pip install 'autograd-rnn[plot]')")

    _step("6. BPTT as code: the unrolled graph compiled to NumPy")
    compiled = _compile_unrolled(model, task, seed=seed + 5)
    files["generated BPTT source (Python)"] = atomic_write_text(out / "rnn_bptt.py",
                                                                compiled.source)
    print(f"{len(compiled.source.splitlines())} lines of NumPy, same gradients as the engine")

    _step("Files")
    for label, path in files.items():
        print(f"{label:<36} {Path(path).resolve()}")
    ok = bool(report) and mse < task.baseline
    print("\ndemo " + ("succeeded" if ok else "FAILED"))
    return ok
