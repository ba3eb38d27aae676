"""Measurement helpers for ``bench.run``: interleaved medians, peak memory, machine facts.

The machine is noisy (other processes share two cores), so every figure is a median over
several repetitions taken *interleaved*: each round runs every contender once, in a rotated
order, after one warm-up call each. The headline clock is the process's CPU time
(``time.process_time``): with single-threaded BLAS (``bench.run`` sets it) it counts the
work done, not the time spent waiting for a core while other processes run; wall-clock
medians are recorded next to it. Compare ratios between contenders of the same round, not
absolute times across runs.
"""
from __future__ import annotations

import datetime
import gc
import os
import platform
import statistics
import time
import tracemalloc
from collections.abc import Callable

import numpy as np

from autograd_rnn.train.allocator import keep_freed_memory


def interleaved_medians(
    contenders: dict[str, Callable[[], object]], repeats: int, warmup: int = 1,
    collect: bool = True,
) -> dict[str, dict]:
    """Time each zero-argument callable ``repeats`` times, interleaved and rotated.

    Returns {name: {"median_s", "min_s", "times_s": [...], "wall_median_s",
    "wall_times_s": [...]}}: CPU seconds of this process and wall-clock seconds.
    The garbage collector stays on (freeing a graph is part of a step's cost) but a full
    collection runs before every timed call so no call pays for its predecessor's garbage.
    ``collect=False`` skips it, for contenders that leave no cyclic garbage (compiled and
    hand-written steps): the collection evicts the caches, which a training loop does not
    do between steps (a 0.5 ms compiled step read 1.07 ms after one, 0.58 ms without).
    """
    if repeats < 1:
        raise ValueError(f"repeats must be >= 1, got {repeats}")
    names = list(contenders)
    for name in names:
        for _ in range(warmup):
            contenders[name]()
    cpu: dict[str, list[float]] = {name: [] for name in names}
    wall: dict[str, list[float]] = {name: [] for name in names}
    for r in range(repeats):
        shift = r % len(names)
        for name in names[shift:] + names[:shift]:
            if collect:
                gc.collect()
            start_wall, start_cpu = time.perf_counter(), time.process_time()
            contenders[name]()
            cpu[name].append(time.process_time() - start_cpu)
            wall[name].append(time.perf_counter() - start_wall)
    return {
        name: {"median_s": statistics.median(cpu[name]), "min_s": min(cpu[name]),
               "times_s": cpu[name], "wall_median_s": statistics.median(wall[name]),
               "wall_times_s": wall[name]}
        for name in names
    }


def peak_memory(fn: Callable[[], object]) -> int:
    """Peak bytes allocated (Python objects and NumPy buffers, via tracemalloc) while
    ``fn()`` runs, above what was allocated when it started. Inputs made before the call
    are not counted; whatever ``fn`` returns is dropped before the measurement ends."""
    gc.collect()
    was_tracing = tracemalloc.is_tracing()
    if not was_tracing:
        tracemalloc.start()
    tracemalloc.reset_peak()
    base = tracemalloc.get_traced_memory()[0]
    fn()
    peak = tracemalloc.get_traced_memory()[1]
    if not was_tracing:
        tracemalloc.stop()
    return max(0, peak - base)


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _blas() -> str:
    try:
        config = np.show_config(mode="dicts")
        blas = config["Build Dependencies"]["blas"]
        return f"{blas.get('name', '?')} {blas.get('version', '')}".strip()
    except Exception:  # noqa: BLE001 (older NumPy: the report is best effort)
        return "unknown"


THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


def machine_info(torch_version: str | None, torch_threads: int | None) -> dict:
    """Date, CPU, core count, library versions and thread settings of this run."""
    threads = {v: os.environ[v] for v in THREAD_VARS if v in os.environ}
    return {
        "date_utc": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M"),
        "nproc": os.cpu_count(),
        "cpu": _cpu_model(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "blas": _blas(),
        "blas_threads": threads or "library default (one per core)",
        "load_average_1min": round(os.getloadavg()[0], 2),
        "torch": torch_version or "not installed",
        "torch_threads": torch_threads,
    }


def tune_malloc() -> str:
    """Keep freed memory in the process for the whole run (``ar.train.keep_freed_memory``:
    glibc ``mallopt``). An engine that allocates a graph per step frees it all after
    backward; by default glibc hands that memory back to the OS and the next step
    page-faults it in again. This setting isolates that cost (every contender gets it).
    Returns a description of what was set, or why nothing was."""
    return keep_freed_memory()
