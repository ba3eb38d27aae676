"""Training speed: ``autograd-rnn train`` (compiled and interpreted) against hand-written loops.

    python -m bench.train_compare [--parts classic,step,heldout] [--repeats 7]
                                  [--iterations 50] [--rows tiny,small,large,long]
                                  [--json FILE]

Three parts, every contender timed interleaved in one process (``bench.timing``), one BLAS
thread, float64:

- ``classic``: the min-char-rnn setting (hidden 100, seq 25, batch 1, Adagrad 0.1, clip
  entries to [-5, 5], the state carried from one chunk to the next) on two generated texts
  (``bench.texts``: 100 kB over 97 characters, 3 kB over 22). Contenders: the classic
  hand-written loop (``bench.min_char_rnn``), ``Trainer.run`` with ``compile=True`` and with
  ``compile=False`` (what ``autograd-rnn train --task chars --stream --batch 1 --hidden 100
  --seq-len 25 --optimizer adagrad --lr 0.1 --clip 0 --clip-value 5 --quiet`` runs per
  step, the divergence guard's snapshot included). Per-iteration time, ratios to the loop.
- ``step``: one full training step including the optimizer (Adam, global-norm clip 1.0)
  on the rows of ``bench.run`` (a char model with vocabulary V = D): the trainer's compiled
  step (``Trainer.train_step`` on a fixed batch) against a hand-written NumPy step
  (``bench.handwritten`` forward/backward, then clipping and Adam in place); steps run back
  to back as in a training loop (no forced garbage collection before each).
- ``heldout``: the classic setting trained the same number of steps compiled and
  interpreted from the same seeds; the held-out loss of each (``train.evaluate``, 256 fresh
  windows, as the CLI prints it). Adagrad 0.1 here amplifies round-off (a one-ulp change of
  one weight moves the interpreter's own losses by 1e-9 within ~10 steps), so after 2000
  steps the two runs are different trajectories: several seeds say whether one is worse.
"""

from __future__ import annotations

import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import json  # noqa: E402
import sys  # noqa: E402

import numpy as np  # noqa: E402

from autograd_rnn.train import CharTask, TrainConfig, Trainer, evaluate  # noqa: E402
from autograd_rnn.train.tasks import Batch  # noqa: E402
from bench import handwritten as hw  # noqa: E402
from bench.min_char_rnn import MinCharRNN  # noqa: E402
from bench.run import ROWS  # noqa: E402
from bench.texts import LARGE, SMALL, make_text  # noqa: E402
from bench.timing import interleaved_medians  # noqa: E402

CLASSIC = dict(task="chars", stream=True, batch=1, hidden=100, seq_len=25,
               optimizer="adagrad", lr=0.1, clip=None, clip_value=5.0)
TEXTS = {"100kB-97chars": LARGE, "3kB-22chars": SMALL}


# ----- classic: the min-char-rnn loop against `autograd-rnn train` ---------------------------
def classic(repeats: int, iterations: int) -> list[dict]:
    rows = []
    for label, spec in TEXTS.items():
        text = make_text(**spec)
        loop = MinCharRNN(text)
        trainers = {kind: Trainer(TrainConfig(compile=kind == "compiled", **CLASSIC),
                                  task=CharTask(text)) for kind in ("compiled", "interpreted")}

        def run_trainer(trainer=None):
            trainer.run(trainer.step + iterations, progress=False)

        contenders = {
            "min-char-rnn": lambda loop=loop: [loop.iteration() for _ in range(iterations)],
            "train --compile": lambda t=trainers["compiled"]: run_trainer(t),
            "train --no-compile": lambda t=trainers["interpreted"]: run_trainer(t),
        }
        times = interleaved_medians(contenders, repeats)
        per = {k: v["median_s"] / iterations for k, v in times.items()}
        base = per["min-char-rnn"]
        rows.append({"text": label, "vocab": len(set(text)),
                     "ms_per_iteration": {k: 1e3 * v for k, v in per.items()},
                     "ratio_to_loop": {k: v / base for k, v in per.items()},
                     "step_kind": trainers["compiled"].step_kind})
    return rows


# ----- step: compiled training step with its optimizer against a hand-written one ------------
class _FixedBatch(CharTask):
    """A char task over V symbols whose batch is always the same (no data cost timed)."""

    def __init__(self, V: int, x: np.ndarray, targets: np.ndarray) -> None:
        super().__init__("".join(chr(0x100 + i) for i in range(V)))
        self.fixed = Batch(x, targets)

    def batch(self, rng, batch_size, seq_len):
        return self.fixed


def _handwritten_adam(kind: str, params: dict, x, targets, lr=1e-3, clip=1.0):
    """A hand-written step: forward/backward, global-norm clip and Adam, in place."""
    loss_and_grads = hw.rnn_loss_and_grads if kind == "rnn" else hw.lstm_loss_and_grads
    m = {k: np.zeros_like(v) for k, v in params.items()}
    v = {k: np.zeros_like(p) for k, p in params.items()}
    tmp = {k: np.empty_like(p) for k, p in params.items()}
    state = {"t": 0}
    b1, b2, eps = 0.9, 0.999, 1e-8

    def step():
        _, grads = loss_and_grads(params, x, targets)
        norm = np.sqrt(sum(float(np.dot(g.ravel(), g.ravel())) for g in grads.values()))
        if norm > clip:
            for g in grads.values():
                g *= clip / norm
        state["t"] += 1
        t = state["t"]
        for k, p in params.items():
            g, mk, vk, s = grads[k], m[k], v[k], tmp[k]
            mk *= b1
            mk += (1 - b1) * g
            vk *= b2
            np.multiply(g, g, out=s)
            s *= 1 - b2
            vk += s
            np.divide(vk, 1 - b2**t, out=s)
            np.sqrt(s, out=s)
            s += eps
            p -= lr / (1 - b1**t) * mk / s
    return step


def step_contenders(kind: str, row: str) -> tuple[dict, Trainer]:
    """{"hand-written": step, "compiled step": step} for one cell and ``bench.run`` row
    (the same fixed batch for both), and the trainer (its ``step_kind``)."""
    T, B, D, H, V = ROWS[row]
    rng = np.random.default_rng(0)
    targets = rng.integers(0, V, size=(T, B))
    x = np.eye(V)[rng.integers(0, V, size=(T, B))]
    config = TrainConfig(task="chars", cell=kind, hidden=H, seq_len=T, batch=B,
                         optimizer="adam", lr=1e-3, clip=1.0)
    trainer = Trainer(config, task=_FixedBatch(V, x, targets))
    params = (hw.rnn_params if kind == "rnn" else hw.lstm_params)(D, H, V)
    return {"hand-written": _handwritten_adam(kind, params, x, targets),
            "compiled step": trainer.train_step}, trainer


def training_step(rows: list[str], repeats: int) -> list[dict]:
    out = []
    for row in rows:
        for kind in ("rnn", "lstm"):
            contenders, trainer = step_contenders(kind, row)
            # no collection before each call: neither step leaves cyclic garbage, and a
            # training loop does not evict its caches between steps (bench.timing)
            times = interleaved_medians(contenders, repeats, warmup=2, collect=False)
            ms = {k: 1e3 * v["median_s"] for k, v in times.items()}
            out.append({"row": row, "cell": kind, "ms": ms,
                        "ratio": ms["compiled step"] / ms["hand-written"],
                        "step_kind": trainer.step_kind})
    return out


# ----- heldout ---------------------------------------------------------------------------------
def heldout(steps: int, seeds: int) -> list[dict]:
    out = []
    for label, spec in TEXTS.items():
        text = make_text(**spec)
        losses: dict[str, list[float]] = {"compiled": [], "interpreted": []}
        for seed in range(seeds):
            for kind in losses:
                trainer = Trainer(TrainConfig(compile=kind == "compiled", seed=seed, **CLASSIC),
                                  task=CharTask(text))
                trainer.run(steps, progress=False)
                losses[kind].append(evaluate(trainer.model, trainer.task, CLASSIC["seq_len"]))
        out.append({"text": label, "steps": steps, "heldout": losses})
    return out


def _print(results: dict) -> None:
    for r in results.get("classic", []):
        ms, ratio = r["ms_per_iteration"], r["ratio_to_loop"]
        print(f"classic {r['text']}: " + ", ".join(
            f"{k} {ms[k]:.2f} ms ({ratio[k]:.2f}x)" for k in ms) + f" [{r['step_kind']}]")
    for r in results.get("step", []):
        print(f"step {r['row']:5s} {r['cell']:4s}: hand-written {r['ms']['hand-written']:.2f} "
              f"ms, compiled {r['ms']['compiled step']:.2f} ms ({r['ratio']:.2f}x) "
              f"[{r['step_kind']}]")
    for r in results.get("heldout", []):
        h = r["heldout"]
        print(f"held-out {r['text']} after {r['steps']} steps, seeds 0..{len(h['compiled']) - 1}: "
              + "; ".join(f"{k} " + " ".join(f"{v:.3f}" for v in h[k])
                          + f" (mean {np.mean(h[k]):.3f})" for k in h))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--parts", default="classic,step,heldout")
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--iterations", type=int, default=50)
    parser.add_argument("--rows", default="tiny,small,large,long")
    parser.add_argument("--heldout-steps", type=int, default=2000)
    parser.add_argument("--heldout-seeds", type=int, default=3)
    parser.add_argument("--json", default=None, metavar="FILE")
    args = parser.parse_args(argv)
    parts = args.parts.split(",")
    results: dict = {}
    if "classic" in parts:
        results["classic"] = classic(args.repeats, args.iterations)
    if "step" in parts:
        results["step"] = training_step(args.rows.split(","), args.repeats)
    if "heldout" in parts:
        results["heldout"] = heldout(args.heldout_steps, args.heldout_seeds)
    _print(results)
    if args.json:
        with open(args.json, "w") as handle:
            json.dump(results, handle, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
