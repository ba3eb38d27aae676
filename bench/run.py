"""The benchmark: ``python -m bench.run [--quick] [--rows tiny,small,...] [--repeats N]``.

For each model (vanilla tanh RNN, LSTM) and workload row (T, B, D, H, V) it
1. checks that the engine's gradients (recording on and off) equal the hand-written NumPy
   BPTT's, and PyTorch's / the compiled function's when present: a mismatch in the engine
   aborts the run (exit 1), so a fast wrong engine cannot score;
2. times one training step (forward + backward, no optimizer) of: the engine with gradient
   recording off (headline) and on, hand-written NumPy, PyTorch eager from the same
   primitive ops, PyTorch fused nn.RNN/nn.LSTM, and ``ar.compile``'d code when available;
   medians of interleaved repetitions after a warm-up (see ``bench.timing``);
3. measures peak memory of one step (tracemalloc) and graph construction time per node.
Then it times exporting a 10,000-node graph to DOT and to networkx, writes everything to
``bench/results.json`` (and the tables to ``bench/results.md``) and prints the tables.
"""
from __future__ import annotations

import os

# One BLAS thread unless told otherwise (BENCH_THREADS=n): on a shared 2-core machine
# spinning BLAS threads of NumPy and PyTorch fight each other and other processes, which
# makes the figures meaningless. Takes effect only if NumPy is not imported yet.
THREADS = int(os.environ.get("BENCH_THREADS", "1"))
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, str(THREADS))

import argparse  # noqa: E402
import importlib  # noqa: E402
import json  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402

import numpy as np  # noqa: E402

import autograd_rnn as ar  # noqa: E402
from bench import engine_models as em  # noqa: E402
from bench import handwritten as hw  # noqa: E402
from bench import report  # noqa: E402
from bench import torch_reference as tr  # noqa: E402
from bench.graph_costs import construction_cost, export_costs  # noqa: E402
from bench.isolate import row_in_subprocess  # noqa: E402
from bench.timing import (  # noqa: E402
    interleaved_medians,
    machine_info,
    peak_memory,
    tune_malloc,
)

ROWS = {  # name: (T, B, D, H, V)
    "tiny": (25, 1, 65, 100, 65),
    "small": (50, 32, 64, 128, 64),
    "large": (50, 32, 128, 256, 128),
    "long": (1000, 4, 32, 64, 32),
    "micro": (4, 2, 3, 5, 4),  # not in the default set: for tests and smoke runs
}
DEFAULT_ROWS = ("tiny", "small", "large", "long")
KINDS = ("rnn", "lstm")
REFERENCE = {"rnn": (hw.rnn_params, hw.rnn_loss_and_grads),
             "lstm": (hw.lstm_params, hw.lstm_loss_and_grads)}
# Same sums in a different order: agreement to round-off, relative to each gradient's scale.
GRAD_RTOL = 1e-9


class GradientMismatch(AssertionError):
    """The engine (or a reference) disagrees with the hand-written gradients."""


def problem(kind: str, shape: tuple, seed: int = 0):
    """(params, x (T,B,D), targets (T,B)) for one row, deterministic."""
    T, B, D, H, V = shape
    params = REFERENCE[kind][0](D, H, V, seed=seed)
    rng = np.random.default_rng(seed + 1)
    return params, rng.standard_normal((T, B, D)), rng.integers(0, V, size=(T, B))


def max_rel_error(got: dict, ref: dict) -> float:
    """max over parameters of max|got - ref| / max|ref| (1.0 for a missing gradient)."""
    worst = 0.0
    for k, r in ref.items():
        g = got.get(k)
        if g is None or np.shape(g) != r.shape:
            return 1.0
        worst = max(worst, float(np.max(np.abs(g - r)) / max(np.max(np.abs(r)), 1e-300)))
    return worst


def _check(label: str, result, ref_loss: float, ref: dict, fatal: bool) -> float:
    loss, grads = result
    err = max(max_rel_error(grads, ref), abs(loss - ref_loss) / max(abs(ref_loss), 1e-300))
    if err > GRAD_RTOL and fatal:
        raise GradientMismatch(f"{label}: gradients differ from the hand-written BPTT "
                               f"(max relative error {err:.3g} > {GRAD_RTOL:g})")
    return err


def _compiler():
    fn = getattr(ar, "compile", None)
    if fn is None:
        try:
            fn = importlib.import_module("autograd_rnn.codegen").compile
        except (ImportError, AttributeError):
            return None
    return fn


def _compiled_step(kind, leaves, x, targets):
    """A zero-argument callable running the ``ar.compile``d step, or an error string."""
    compile_fn = _compiler()
    if compile_fn is None:
        return "not available"
    try:
        xt = ar.tensor(x)
        compiled = compile_fn(lambda xs, tg: em.forward(kind, leaves, xs, tg), [xt, targets],
                              wrt=list(leaves.values()))
    except Exception as error:  # noqa: BLE001 (reported in the results, never fatal)
        return f"compile failed: {type(error).__name__}: {error}"[:200]

    def run():
        value, grads = compiled(xt, targets)
        return float(np.asarray(value)), grads
    return run


def bench_row(kind: str, row: str, repeats: int, use_torch: bool, use_compile: bool) -> dict:
    """Check, time and measure one (model, row). Raises GradientMismatch on a wrong engine."""
    shape = ROWS[row]
    params, x, targets = problem(kind, shape)
    reference = REFERENCE[kind][1]
    leaves = em.make_leaves(kind, params)
    contenders = {
        "handwritten": lambda: reference(params, x, targets),
        "engine": lambda: em.step(kind, leaves, x, targets, record_gradients=False),
        "engine_record": lambda: em.step(kind, leaves, x, targets, record_gradients=True),
    }
    if use_torch:
        contenders["torch_primitive"] = lambda: tr.torch_primitive_step(kind, params, x, targets)
        contenders["torch_fused"] = lambda: tr.torch_fused_step(kind, params, x, targets)
    notes = {}
    if use_compile:
        compiled = _compiled_step(kind, leaves, x, targets)
        if callable(compiled):
            contenders["compiled"] = compiled
        else:
            notes["compiled"] = compiled

    ref_loss, ref = reference(params, x, targets)
    errors = {}
    for label in list(contenders):
        if label == "handwritten":
            continue
        fatal = label.startswith("engine")
        errors[label] = _check(f"{kind}/{row} {label}", contenders[label](), ref_loss, ref, fatal)
        if errors[label] > GRAD_RTOL:  # a wrong reference is reported, not timed
            notes[label] = f"gradients differ (max rel error {errors[label]:.3g}): not timed"
            del contenders[label]

    timings = interleaved_medians(contenders, repeats)
    memory = {k: peak_memory(contenders[k]) for k in ("handwritten", "engine", "engine_record")}
    graph = construction_cost(kind, leaves, x, targets, repeats=min(repeats, 3))
    return {
        "kind": kind, "row": row, "shape": dict(zip("TBDHV", shape, strict=True)),
        "grad_max_rel_error": errors, "grad_check": "passed", "notes": notes,
        "times": timings, "peak_bytes": memory, "graph": graph,
    }


def _write_atomic(path: str, text: str) -> None:
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".tmp-", suffix=os.path.basename(path))
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)
    os.chmod(tmp, 0o644)  # mkstemp makes it private; results are for everyone to read
    os.replace(tmp, path)


def run_benchmark(rows, kinds=KINDS, repeats: int = 7, use_torch: bool | None = None,
                  use_compile: bool = True, graph_nodes: int = 10_000, out: str | None = None,
                  log=print, allocator: str = "default", isolate: bool = False) -> dict:
    """Run the whole benchmark and return (and optionally write) the results dict.
    ``isolate``: each (model, row) in a fresh interpreter (``bench.isolate``)."""
    if use_torch is None:
        use_torch = tr.torch_available()
    torch_version = torch_threads = previous_threads = None
    if use_torch:
        import torch
        previous_threads = torch.get_num_threads()
        torch.set_num_threads(THREADS)
        torch_version, torch_threads = torch.__version__, torch.get_num_threads()
    try:
        return _run_all(rows, kinds, repeats, use_torch, use_compile, graph_nodes, out, log,
                        allocator, torch_version, torch_threads, isolate)
    finally:
        if previous_threads is not None:  # leave the caller's process as it was
            torch.set_num_threads(previous_threads)


def _run_all(rows, kinds, repeats, use_torch, use_compile, graph_nodes, out, log, allocator,
             torch_version, torch_threads, isolate) -> dict:
    results = {"machine": machine_info(torch_version, torch_threads), "repeats": repeats,
               "torch": "used" if use_torch else "not installed (torch rows skipped)",
               "allocator": allocator,
               "protocol": "each row in its own process" if isolate else "one process",
               "rows": []}
    for kind in kinds:
        for row in rows:
            log(f"[bench] {kind} {row} {ROWS[row]}{' (own process)' if isolate else ''} ...")
            if isolate:
                results["rows"].append(row_in_subprocess(
                    kind, row, repeats, use_torch, use_compile, allocator != "default",
                    GradientMismatch))
            else:
                results["rows"].append(bench_row(kind, row, repeats, use_torch, use_compile))
    log(f"[bench] exporting a {graph_nodes}-node graph ...")
    results["export"] = export_costs(graph_nodes)
    results["targets"] = report.evaluate_targets(results)
    results["machine"]["load_average_1min_end"] = round(os.getloadavg()[0], 2)
    if out:
        _write_atomic(out, json.dumps(results, indent=1, default=float) + "\n")
        _write_atomic(os.path.splitext(out)[0] + ".md", report.markdown(results))
    return results


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="3 repetitions (default 7)")
    parser.add_argument("--rows", default=",".join(DEFAULT_ROWS),
                        help=f"comma-separated subset of {', '.join(ROWS)}")
    parser.add_argument("--kinds", default=",".join(KINDS), help="rnn,lstm or one of them")
    parser.add_argument("--repeats", type=int, default=None, help="timed repetitions per contender")
    parser.add_argument("--graph-nodes", type=int, default=10_000, help="size of the export graph")
    parser.add_argument("--no-torch", action="store_true", help="skip PyTorch even if installed")
    parser.add_argument("--no-compile", action="store_true", help="skip the ar.compile row")
    parser.add_argument("--tuned-malloc", action="store_true",
                        help="keep freed memory in the process (glibc mallopt) for the whole run")
    parser.add_argument("--in-process", action="store_true",
                        help="run every row in this process (default: each row in its own "
                        "process, see bench/isolate.py)")
    parser.add_argument("--one-row", default=None, help=argparse.SUPPRESS)  # kind:row, child
    parser.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "results.json"))
    args = parser.parse_args(argv)
    if args.one_row:
        return _one_row(args)
    rows = [r.strip() for r in args.rows.split(",") if r.strip()]
    kinds = [k.strip() for k in args.kinds.split(",") if k.strip()]
    bad = [r for r in rows if r not in ROWS] + [k for k in kinds if k not in KINDS]
    if bad or not rows or not kinds:
        parser.error(f"unknown or empty rows/kinds {bad}: rows from {list(ROWS)}, kinds {KINDS}")
    repeats = args.repeats or (3 if args.quick else 7)
    if repeats < 1:
        parser.error(f"--repeats must be >= 1, got {repeats}")
    use_torch = False if args.no_torch else None
    if not args.no_torch and not tr.torch_available():
        print("[bench] PyTorch is not installed: torch rows are skipped")
    allocator = tune_malloc() if args.tuned_malloc else "default"
    try:
        results = run_benchmark(rows, kinds, repeats, use_torch, not args.no_compile,
                                args.graph_nodes, args.out, allocator=allocator,
                                isolate=not args.in_process)
    except GradientMismatch as error:
        print(f"[bench] ABORTED: {error}", file=sys.stderr)
        return 1
    print(report.markdown(results))
    print(f"[bench] wrote {args.out}")
    return 0


def _one_row(args) -> int:
    """Child process of an isolated run: one row, its result dict as JSON on stdout."""
    kind, row = args.one_row.split(":")
    use_torch = not args.no_torch and tr.torch_available()
    if args.tuned_malloc:
        tune_malloc()
    previous = None
    if use_torch:
        import torch
        previous = torch.get_num_threads()
        torch.set_num_threads(THREADS)
    try:
        result = bench_row(kind, row, args.repeats or 7, use_torch, not args.no_compile)
    except GradientMismatch as error:
        print(f"[bench] ABORTED: {error}", file=sys.stderr)
        return 1
    finally:
        if previous is not None:
            torch.set_num_threads(previous)
    json.dump(result, sys.stdout, default=float)
    return 0


if __name__ == "__main__":
    sys.exit(main())
